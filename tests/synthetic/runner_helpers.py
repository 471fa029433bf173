"""Helpers for the synthetic runner tests: compose the runner's Hydra config in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import responserank.synthetic.experiment_runner  # noqa: F401 -- registers the config resolver

REPO_ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = REPO_ROOT / "conf" / "synthetic"

# A grid small enough for a test: 2 trials x 2 sizes, few epochs.
TINY = [
    "num_trials=2",
    "dataset_sizes=[0.5,1.0]",
    "execution_backend.trials_per_chunk=1",
    "execution_backend.progress=false",
]


def compose_config(overrides: list[str]) -> dict:
    """The runner's config for ``overrides``, resolved to plain data as its entry point does."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return OmegaConf.to_container(
            compose(config_name="config", overrides=overrides), resolve=True
        )


@pytest.fixture(autouse=True)
def single_torch_thread():
    """One torch thread, as in the runner's workers: tiny tensors on a shared 2-core machine
    run much faster without OpenMP hand-offs."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
