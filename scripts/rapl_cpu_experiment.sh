#!/usr/bin/env bash
# CPU demonstration of RAPL on LIE fold 0 with all-MiniLM-L6-v2 (offline): BT vs beta-RAPL vs
# eps-RAPL, ARMs TRUE_probability_correct (probability, is_prob=true) and confidence_scores (raw),
# seeds 1-3, LIE test evaluated after training; then the summary tables under results/rapl/.
# Sized for 2 shared CPU cores: 1 epoch, batch 8, lr 2e-5, max_length 192 (keeps every LIE pair:
# the longest has 187 MiniLM tokens), no padding to multiples of 64. RR_DATA_DIR must hold lie/.
set -euo pipefail
cd "$(dirname "$0")/.."
# An already active environment is used as is; otherwise set up .venv like run_tests does.
if [ -z "${VIRTUAL_ENV:-}" ]; then . scripts/ensure_venv.sh; fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_MODE=offline TOKENIZERS_PARALLELISM=false
ROOT="${RAPL_CPU_RUNS:-runs/rapl_cpu}"
COMMON=(
    model=minilm
    training.max_length=192
    training.per_device_batch_size=8
    training.gradient_accumulation_steps=1
    training.learning_rate=2e-5
    training.num_epochs=1
    training.pad_to_multiple_of=null
    runtime.checkpoint=no
    runtime.progress_bar=false
    tracking.wandb.mode=disabled
    save_model=false
    "tracking.output_root=$ROOT"
    seed=1,2,3
)
train() { nice -n 10 python -m responserank.llm.train -m "${COMMON[@]}" "$@"; }
# One sweep per preset: Hydra builds a sweep's base config without the swept keys, so a preset
# cannot be swept together with overrides of keys that only that preset defines.
train experiment=rapl_lie_bt
for preset in rapl_lie_beta rapl_lie_eps; do
    train "experiment=$preset" \
        experiment.train_signal.column=TRUE_probability_correct experiment.train_signal.is_prob=true
    train "experiment=$preset" experiment.train_signal.column=confidence_scores
done
python -m responserank.llm.rapl_summary "$ROOT" \
    --runs-csv results/rapl/lie_fold0_minilm_cpu_runs.csv \
    --summary-csv results/rapl/lie_fold0_minilm_cpu_summary.csv \
    --markdown results/rapl/lie_fold0_minilm_cpu_summary.md
