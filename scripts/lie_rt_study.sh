#!/usr/bin/env bash
# LIE response-time study (docs/lie_rt_study.md): 12 learners x 5 LIE folds x seeds on CPU, then
# the paired analysis into results/lie_rt_study/ (tables) and paper/figures/llm/ (figure).
#
#   scripts/lie_rt_study.sh            # train what is missing, then analyse
#   scripts/lie_rt_study.sh train      # only train;  scripts/lie_rt_study.sh analyse: only analyse
#
# Learners: the presets conf/llm/experiment/lie_rt_*.yaml (each says what it trains). Model:
# all-MiniLM-L6-v2 with a frozen encoder (model=minilm_frozen: the pooler and score head train,
# every distinct sequence is encoded once per process), lr 1e-3 cosine, 2 epochs, batch 16,
# 192 tokens (the longest LIE sequence has 187 MiniLM tokens, so no pair is dropped).
# Resumable: run records land in $LIE_RT_RUNS (default runs/lie_rt_study); a finished run is
# skipped, so running the script again continues where it stopped. Seeds are split over
# $LIE_RT_JOBS processes (default 1), each a Hydra multirun ordered seed > fold > learner, so an
# interrupted study holds whole seeds. RR_DATA_DIR must hold lie/ (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then . scripts/ensure_venv.sh; fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_MODE=offline TOKENIZERS_PARALLELISM=false
export RR_DATA_DIR="${RR_DATA_DIR:-../shared/data}"
ROOT="${LIE_RT_RUNS:-runs/lie_rt_study}"
SEEDS="${LIE_RT_SEEDS:-1 2 3 4 5}"
JOBS="${LIE_RT_JOBS:-1}"
STEP="${1:-all}"
LEARNERS=lie_rt_bt,lie_rt_rr,lie_rt_rr_perm,lie_rt_rr_rapl
LEARNERS+=,lie_rt_beta_conf,lie_rt_beta_conf_true,lie_rt_beta_dt,lie_rt_beta_dt_true
LEARNERS+=,lie_rt_eps_conf,lie_rt_eps_conf_true,lie_rt_eps_dt,lie_rt_eps_dt_true
COMMON=(
    model=minilm_frozen
    training.max_length=192
    training.per_device_batch_size=16
    training.gradient_accumulation_steps=1
    training.learning_rate=1e-3
    training.num_epochs=2
    training.pad_to_multiple_of=null
    runtime.checkpoint=no
    runtime.progress_bar=false
    runtime.logging_steps=50
    tracking.wandb.mode=disabled
    save_model=false
    "tracking.output_root=$ROOT"
)

train_seeds() {  # one process: a multirun over its seeds x folds x learners
    local seeds="$1" name="$2"
    OMP_NUM_THREADS=1 python -m responserank.llm.train -m "seed=$seeds" dataset=lie \
        dataset.fold=0,1,2,3,4 "experiment=$LEARNERS" "${COMMON[@]}" \
        "hydra.sweep.dir=$ROOT/sweeps/$name"
}

if [ "$STEP" = all ] || [ "$STEP" = train ]; then
    read -r -a seed_list <<< "$SEEDS"
    mkdir -p "$ROOT"
    pids=()
    for ((job = 0; job < JOBS; job++)); do
        mine=()
        for ((i = job; i < ${#seed_list[@]}; i += JOBS)); do mine+=("${seed_list[i]}"); done
        [ ${#mine[@]} -eq 0 ] && continue
        joined=$(IFS=,; echo "${mine[*]}")
        train_seeds "$joined" "seeds_${joined//,/_}" > "$ROOT/job$job.log" 2>&1 &
        pids+=($!)
    done
    status=0
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    [ "$status" -eq 0 ] || echo "a training process failed; see $ROOT/job*.log" >&2
fi
if [ "$STEP" = all ] || [ "$STEP" = analyse ]; then
    read -r -a learner_list <<< "${LEARNERS//,/ }"
    python -m responserank.llm.analysis.cli paired "$ROOT" --out-dir results/lie_rt_study \
        --fig-dir paper/figures/llm --name lie_rt_study --baseline lie_rt_bt \
        --pair lie_rt_rr_perm:lie_rt_rr --pair lie_rt_rr:lie_rt_rr_rapl \
        --pair lie_rt_beta_conf:lie_rt_rr_rapl --learners "${learner_list[@]}"
fi
