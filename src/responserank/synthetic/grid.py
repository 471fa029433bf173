"""The experiment grid: one dataset, its trials, the dataset sizes and the learners.

``Experiment.from_config`` validates everything a run needs before any work starts, so a typo
fails in a second with the key path and the valid choices, not hours into a run.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from responserank.configs import config_dir
from responserank.errors import ConfigError
from responserank.synthetic.learner_spec import LearnerSpec
from responserank.synthetic.rundir import size_key, trial_blocks
from responserank.synthetic.trial_data import (
    DatasetSpec,
    build_dataset_spec,
    resolve_stratum_aliases,
)

RESERVED_LEARNER_NAMES = ("metadata", "dataset_metrics")
LEARNER_PRESETS = config_dir("synthetic", "learner")
_LEARNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _check_int(value: Any, key: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key}: expected an integer >= {minimum}, got {value!r}")
    return value


def _check_sizes(value: Any) -> tuple[float, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError(
            f"dataset_sizes: expected a non-empty list of fractions in (0, 1], got {value!r}"
        )
    sizes = []
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, int | float) or not 0 < item <= 1:
            raise ConfigError(
                f"dataset_sizes[{index}]: expected a fraction in (0, 1], got {item!r}"
            )
        sizes.append(float(item))
    keys = [size_key(s) for s in sizes]
    if len(set(keys)) != len(keys):
        raise ConfigError(f"dataset_sizes: duplicate fractions in {value!r}")
    return tuple(sizes)


def _check_learners(value: Any) -> tuple[LearnerSpec, ...]:
    presets = ", ".join(sorted(p.stem for p in LEARNER_PRESETS.glob("*.yaml")))
    hint = (
        f"add one with +learner@learners.NAME=PRESET, presets in conf/synthetic/learner/ "
        f"({presets})"
    )
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(f"learners: no learner configured; {hint}")
    specs = []
    for name, node in value.items():
        if not _LEARNER_NAME.match(str(name)) or name in RESERVED_LEARNER_NAMES:
            raise ConfigError(
                f"learners.{name}: invalid learner name (letters, digits, '_', '-', '.'; "
                f"not one of {', '.join(RESERVED_LEARNER_NAMES)})"
            )
        if not isinstance(node, Mapping):
            raise ConfigError(f"learners.{name}: expected a mapping, got {node!r}; {hint}")
        try:
            specs.append(LearnerSpec.from_config(str(name), node))
        except (TypeError, ValueError) as err:
            raise ConfigError(str(err)) from err
    return tuple(specs)


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: what is computed (not how many processes compute it)."""

    dataset_config: dict[str, Any]
    dataset: DatasetSpec
    learners: tuple[LearnerSpec, ...]
    num_trials: int
    dataset_sizes: tuple[float, ...]
    master_seed: int
    trials_per_chunk: int

    @classmethod
    def from_config(cls, plain: Mapping[str, Any]) -> Experiment:
        """Validate the run config as plain data (Hydra's composed config, resolved by the entry
        point, or a stored ``run_config.yaml``)."""
        dataset_cfg = plain.get("dataset")
        if not isinstance(dataset_cfg, Mapping):
            raise ConfigError("dataset: missing; choose one with dataset=NAME")
        try:
            dataset = build_dataset_spec(dataset_cfg)
        except Exception as err:
            raise ConfigError(f"dataset {dataset_cfg.get('name')!r}: {err}") from err
        backend = plain.get("execution_backend") or {}
        experiment = cls(
            dataset_config=resolve_stratum_aliases(dict(dataset_cfg)),
            dataset=dataset,
            learners=_check_learners(plain.get("learners")),
            num_trials=_check_int(plain.get("num_trials"), "num_trials", 1),
            dataset_sizes=_check_sizes(plain.get("dataset_sizes")),
            master_seed=_check_int(plain.get("master_seed"), "master_seed", 0),
            trials_per_chunk=_check_int(
                plain.get("trials_per_chunk", backend.get("trials_per_chunk", 100)),
                "execution_backend.trials_per_chunk",
                1,
            ),
        )
        if not getattr(dataset.responses, "provides_reliability_proxy", False):
            needing = [s.name for s in experiment.learners if s.uses_reliability]
            if needing:
                raise ConfigError(
                    f"learners {needing}: reliability={{proxy, permuted_proxy}} needs a dataset "
                    f"with a reliability proxy (e.g. dataset=reliability_mix); {dataset.name!r} "
                    "has none"
                )
        for fraction in experiment.dataset_sizes:
            if dataset.train_size(fraction) < 1:
                raise ConfigError(f"dataset_sizes: {fraction} keeps no training comparison")
        return experiment

    @property
    def size_keys(self) -> tuple[str, ...]:
        return tuple(size_key(s) for s in self.dataset_sizes)

    def to_record(self) -> dict[str, Any]:
        """The stored definition (run_config.yaml); ``from_config`` reads it back."""
        return {
            "dataset": self.dataset_config,
            "learners": {spec.name: spec.to_config() for spec in self.learners},
            "num_trials": self.num_trials,
            "dataset_sizes": list(self.dataset_sizes),
            "master_seed": self.master_seed,
            "trials_per_chunk": self.trials_per_chunk,
        }

    def trial_blocks(self) -> list[tuple[int, ...]]:
        """Trials split into fixed blocks: the grid's unit of work, whatever the worker count."""
        return trial_blocks(self.num_trials, self.trials_per_chunk)
