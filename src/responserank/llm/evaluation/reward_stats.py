"""Reward statistics of a saved reward model: mean, std and count of its rewards on a reference set.

A Bradley-Terry reward is defined up to an additive constant, and its spread depends on the loss:
ResponseRank's anchored Plackett-Luce loss pins margins against an anchor of log-worth 0 and pushes
stronger comparisons further from it, and beta-RAPL fits beta * margin, so labels with a small beta
leave larger raw margins. An RL consumer (PPO, GRPO, best-of-n with a threshold) tunes its KL
coefficient or threshold to one scale; the statistics let it put every model on the same one:
``normalised = (reward - mean) / std``.

Where they are stored, inside the model folder:

- ``config.json`` (full weights): ``mean`` and ``std`` at the top level (the keys OpenRLHF's reward
  models read for ``--normalize_reward``) and ``reward_statistics`` = ``{"mean", "std", "count",
  "reference"}``;
- ``reward_statistics.json`` (a LoRA adapter, whose folder has no ``config.json``): the same
  object; ``python -m responserank.llm.export merge`` moves it into the merged ``config.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from responserank.atomic_io import write_json_atomic
from responserank.errors import ConfigError

CONFIG_KEY = "reward_statistics"
SIDECAR = "reward_statistics.json"
REWARD_MODES = ("raw", "normalized")


@dataclass(frozen=True)
class RewardStatistics:
    """Mean and population standard deviation (ddof=0) of ``count`` rewards on ``reference``."""

    mean: float
    std: float
    count: int
    reference: str

    @classmethod
    def of(cls, rewards: Sequence[float] | np.ndarray, reference: str) -> RewardStatistics:
        """Statistics of a float array (n,) of rewards; ValueError when it is empty or not finite."""
        values = np.asarray(rewards, dtype=np.float64).reshape(-1)
        if values.size == 0 or not np.isfinite(values).all():
            raise ValueError(
                f"reward statistics on {reference!r} need finite rewards, got {values.size} "
                f"values of which {int((~np.isfinite(values)).sum())} are not finite"
            )
        return cls(float(values.mean()), float(values.std()), int(values.size), reference)

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RewardStatistics:
        """Parse ``{"mean", "std", "count", "reference"}``; ValueError naming ``where`` if malformed."""
        try:
            stats = cls(
                float(data["mean"]), float(data["std"]), int(data["count"]), str(data["reference"])
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{where}: '{CONFIG_KEY}' must be an object with mean, std, count and reference, "
                f"got {data!r}"
            ) from error
        if not (math.isfinite(stats.mean) and math.isfinite(stats.std) and stats.std >= 0):
            raise ValueError(f"{where}: '{CONFIG_KEY}' has a non-finite mean or std: {data!r}")
        return stats

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def normalise(self, rewards: np.ndarray) -> np.ndarray:
        """(rewards - mean) / std, float64 of the input's shape; ValueError when std is 0."""
        if self.std <= 0:
            raise ValueError(
                f"the reward statistics on {self.reference!r} have std 0 ({self.count} rewards): "
                "normalised rewards are undefined"
            )
        return (np.asarray(rewards, dtype=np.float64) - self.mean) / self.std


def write_reward_statistics(model_dir: str | Path, stats: RewardStatistics) -> Path:
    """Store ``stats`` in the model folder (see the module docstring); returns the file written."""
    model_dir = Path(model_dir)
    config_path = model_dir / "config.json"
    if not config_path.is_file():
        return write_json_atomic(model_dir / SIDECAR, stats.as_dict())
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.update({"mean": stats.mean, "std": stats.std, CONFIG_KEY: stats.as_dict()})
    return write_json_atomic(config_path, config)


def read_reward_statistics(model_dir: str | Path) -> RewardStatistics | None:
    """The statistics stored in ``model_dir`` (``config.json``, else the sidecar), or None."""
    model_dir = Path(model_dir)
    config_path, sidecar = model_dir / "config.json", model_dir / SIDECAR
    if config_path.is_file():
        config = json.loads(config_path.read_text(encoding="utf-8"))
        if CONFIG_KEY in config:
            return RewardStatistics.from_dict(config[CONFIG_KEY], str(config_path))
    if sidecar.is_file():
        return RewardStatistics.from_dict(json.loads(sidecar.read_text("utf-8")), str(sidecar))
    return None


def reward_transform(model_dir: str | Path, mode: str) -> RewardStatistics | None:
    """The statistics to normalise with for ``mode`` (``raw``: None).

    Raises ConfigError for an unknown mode, or ``normalized`` on a folder without statistics.
    """
    if mode not in REWARD_MODES:
        raise ConfigError(f"rewards: expected one of {list(REWARD_MODES)}, got {mode!r}")
    if mode == "raw":
        return None
    stats = read_reward_statistics(model_dir)
    if stats is None:
        raise ConfigError(
            f"rewards=normalized: {model_dir} holds no reward statistics (config.json "
            f"'{CONFIG_KEY}' or {SIDECAR}); train with export.reward_stats set, or use rewards=raw"
        )
    return stats
