#!/usr/bin/env bash
# Sweep of the reliability_mix dataset over the share of unreliable annotators and the proxy's
# quality (a Hydra multirun, 100 trials at the full training set, learners rr, rapl_beta and
# rr_rapl), then the gain figure and its summary:
#   results/synthetic/reliability_sweep.json, paper/figures/synthetic_reliability_sweep.{pdf,png}
# Usage: bash scripts/reliability_sweep.sh [SWEEP_DIR]   (default multirun/reliability_sweep)
set -euo pipefail
cd "$(dirname "$0")/.."
sweep_dir="${1:-multirun/reliability_sweep}"
python -m responserank.synthetic.experiment_runner -m \
    dataset=reliability_mix \
    'dataset.generator.unreliable_share=0.2,0.4,0.6' \
    'dataset.generator.proxy_quality=0.0,0.33,0.67,1.0' \
    'dataset_sizes=[1.0]' \
    '~learners.bt' '~learners.rr_pooled' '~learners.rr_perm' \
    '~learners.rt_regression' '~learners.rt_regression_perm' \
    '+learner@learners.rapl_beta=rapl_beta' '+learner@learners.rr_rapl=rr_rapl' \
    execution_backend.progress=false \
    "hydra.sweep.dir=${sweep_dir}" 'hydra.sweep.subdir=${hydra.job.num}'
python -m responserank.synthetic.analysis.reliability_sweep collect "${sweep_dir}" \
    results/synthetic/reliability_sweep.json
python -m responserank.synthetic.analysis.reliability_sweep plot \
    results/synthetic/reliability_sweep.json paper/figures
