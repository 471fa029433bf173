#!/usr/bin/env bash
# The whole synthetic pipeline on a reduced grid (2 trials, sizes 0.5 and 1.0): run the six paper
# datasets, find and collect the runs, render the figures and tables to outputs/mini/figures.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/ensure_venv.sh

python -m responserank.synthetic.experiment_runner -m \
    dataset=deterministic_all,stochastic,drift_diffusion,deterministic_all_no_variability,stochastic_no_variability,drift_diffusion_no_variability \
    num_trials=2 'dataset_sizes=[0.5,1.0]'

python -m responserank.synthetic.analysis.cli find outputs/experiment_runner outputs/mini/results
python -m responserank.synthetic.analysis.cli collect outputs/mini/results --paths-file outputs/mini/results/experiment_paths.json
python -m responserank.synthetic.analysis.cli generate outputs/mini/results outputs/mini/figures
echo "figures and tables: outputs/mini/figures (2 trials per point: means without intervals)"
