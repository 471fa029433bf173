#!/usr/bin/env bash
# GPU check of reward-model training (see benchmarks/gpu_check.py): a random ~1B Llama, bf16 +
# gradient checkpointing, bt vs rr_agree vs TRL's RewardTrainer, full / LoRA / QLoRA, batch layouts
# (padding_free, prefix_shared; flash-attention 2 / flex attention where they import); tokens/s,
# step time, peak memory -> results/benchmarks/gpu_check.json. No network; extra wheels:
# benchmarks/gpu_check_requirements.txt. Under 8 minutes on one H100/H200 (hard limit 7m50s).
#   benchmarks/gpu_check.sh            # on the GPU machine
#   benchmarks/gpu_check.sh --toy      # toy size on CPU (or RR_GPU_CHECK_TOY=1)
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 WANDB_MODE=disabled
export TOKENIZERS_PARALLELISM=false PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
exec timeout 470 "${PYTHON:-python}" benchmarks/gpu_check.py "$@"
