"""Shared pieces of the training tests: config composition, the MultiPref fixture, tiny pairs.

The pytest fixtures are re-exported by this folder's conftest.py."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from responserank.llm.data.batching.pair_dataset import TokenizedPairs
from responserank.llm.train import CONFIG_DIR
from responserank.testing.fixtures import write_multipref_fixture

FIXTURE_COMPARISONS = 120
FIXTURE_TEST_SIZE = 30

#: Fast settings for end-to-end runs on the fixture (tiny model, small batches, no wandb).
FAST = [
    "model=tiny_llama",
    "training.per_device_batch_size=8",
    "training.gradient_accumulation_steps=1",
    "training.learning_rate=1e-3",
    "training.warmup_ratio=0.0",
    "training.max_length=512",
    "runtime.progress_bar=false",
    "tracking.wandb.mode=disabled",
]


def run_torchrun_cpu(target: Sequence[str], extra_path: Sequence[str] = ()) -> None:
    """Run ``target`` (a script and its arguments, or ``-m module ...``) under torchrun with two
    CPU processes (gloo on the loopback interface, a free port); fails on a non-zero exit."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([*extra_path, *sys.path]),
        "OMP_NUM_THREADS": "1",
        "GLOO_SOCKET_IFNAME": "lo",
    }
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    command += ["--master_addr=127.0.0.1", f"--master_port={port}", *target]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]


def compose_config(overrides: Sequence[str]) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose("config", overrides=list(overrides))


@pytest.fixture(scope="session")
def multipref_fixture(tmp_path_factory) -> Path:
    return write_multipref_fixture(
        tmp_path_factory.mktemp("multipref"), FIXTURE_COMPARISONS, seed=0
    )


@pytest.fixture
def fixture_overrides(multipref_fixture, tmp_path) -> list[str]:
    """Dataset = the fixture, records under tmp_path."""
    return [
        f"dataset.path={multipref_fixture}",
        f"dataset.test_size={FIXTURE_TEST_SIZE}",
        f"tracking.output_root={tmp_path / 'runs'}",
    ]


def tiny_model_config() -> DictConfig:
    return OmegaConf.load(CONFIG_DIR / "model" / "tiny_llama.yaml")


def random_pairs(partition_sizes: Sequence[int], vocab_size: int, seed: int = 0) -> TokenizedPairs:
    """Comparisons with random token ids (varied lengths) and distinct ranks per partition."""
    rng = np.random.default_rng(seed)
    n = int(sum(partition_sizes))

    def sequence() -> list[int]:
        return rng.integers(1000, vocab_size, size=int(rng.integers(5, 20))).tolist()

    return TokenizedPairs(
        chosen_ids=[sequence() for _ in range(n)],
        rejected_ids=[sequence() for _ in range(n)],
        rank=rng.permutation(n).astype(np.float64),
        partition=np.repeat(np.arange(len(partition_sizes)), partition_sizes),
        target=np.ones(n, dtype=np.float32),
        reliability=np.full(n, np.nan, dtype=np.float32),
    )


class ProbeSuite:
    """A minimal evaluation suite (contract D): does the model prefer the helpful answer?"""

    def __init__(self, name: str = "probe") -> None:
        self.name = name

    def evaluate(self, scorer) -> dict[str, float]:
        prompts = ["Can you explain how vaccines work?"] * 2
        rewards = scorer.score(
            prompts,
            [
                "Here is a clear answer with the key steps laid out in order.",
                "Anyway, whatever works for you is fine.",
            ],
        )
        return {
            f"{self.name}/prefers_helpful": float(rewards[0] > rewards[1]),
            f"{self.name}/mean_reward": float(np.mean(rewards)),
        }
