"""One synthetic dataset per trial: items, true utilities, responses, strata, train/test split.

Comparison i pairs item i with item N + i. The first ``num_train_samples`` comparisons are the
training set, the remaining ``num_test_samples`` the test set; dataset sizes are nested prefixes of
the training set, and the test set is the same for every size and learner of a trial.

Every comparison gets a uniform stratum id. With ``stratum_rt_variability`` > 0, each stratum p
draws a multiplier m_p = |N(1, variability)| that scales all its response times (train and test):
a confound between strata that ranking *within* strata removes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from hydra.utils import instantiate

from responserank.errors import unknown_key
from responserank.seeding import numpy_rng, torch_generator
from responserank.synthetic.generators import Responses
from responserank.synthetic.strength import HyperbolicStrength

log = logging.getLogger(__name__)


class ItemDistribution(Protocol):
    dim: int

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray: ...


class UtilityFunction(Protocol):
    def __call__(self, items: np.ndarray, generator: torch.Generator) -> np.ndarray: ...


class ResponseModel(Protocol):
    def __call__(
        self,
        u1: np.ndarray,
        u2: np.ndarray,
        strength: HyperbolicStrength,
        rng: np.random.Generator,
    ) -> Responses: ...


@dataclass(frozen=True)
class DatasetSpec:
    """Everything that defines how one trial's data are generated."""

    name: str
    items: ItemDistribution
    utility: UtilityFunction
    responses: ResponseModel
    strength: HyperbolicStrength
    num_train_samples: int = 50
    num_test_samples: int = 200
    num_strata: int = 5
    stratum_rt_variability: float = 3.0
    utility_sd: float = 1.0

    def __post_init__(self) -> None:
        problems = []
        if self.num_train_samples < 1:
            problems.append(f"num_train_samples={self.num_train_samples} (expected >= 1)")
        if self.num_test_samples < 2:
            problems.append(f"num_test_samples={self.num_test_samples} (expected >= 2)")
        if self.num_strata < 1:
            problems.append(f"num_strata={self.num_strata} (expected >= 1)")
        if self.stratum_rt_variability < 0:
            problems.append(f"stratum_rt_variability={self.stratum_rt_variability} (expected >= 0)")
        if not self.utility_sd > 0:
            problems.append(f"utility_sd={self.utility_sd} (expected > 0)")
        if problems:
            raise ValueError(f"dataset {self.name!r}: " + "; ".join(problems))

    @property
    def num_comparisons(self) -> int:
        return self.num_train_samples + self.num_test_samples

    def train_size(self, fraction: float) -> int:
        """Number of training comparisons kept for a size fraction in (0, 1]."""
        return max(1, math.floor(fraction * self.num_train_samples + 0.5))


@dataclass(frozen=True)
class TrialData:
    """All comparisons of one trial; arrays are indexed by comparison (train first)."""

    trial: int
    x1: np.ndarray
    x2: np.ndarray
    u1: np.ndarray
    u2: np.ndarray
    choice: np.ndarray
    rt: np.ndarray
    stratum: np.ndarray
    capped: np.ndarray
    stratum_rt_scale: np.ndarray
    num_train: int
    proxy: np.ndarray | None = None
    reliable: np.ndarray | None = None

    def part(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Per-comparison arrays of comparisons [start, stop) (with ``proxy`` and ``reliable``
        when the response model has annotators of differing reliability)."""
        keys = ("x1", "x2", "u1", "u2", "choice", "rt", "stratum", "capped")
        keys += tuple(k for k in ("proxy", "reliable") if getattr(self, k) is not None)
        return {k: getattr(self, k)[start:stop] for k in keys}

    def train(self, size: int | None = None) -> dict[str, np.ndarray]:
        """The first ``size`` training comparisons (all of them by default)."""
        return self.part(0, self.num_train if size is None else size)

    def test(self) -> dict[str, np.ndarray]:
        return self.part(self.num_train, self.u1.size)


def generate_trial(spec: DatasetSpec, master_seed: int, trial: int) -> TrialData:
    """Generate trial ``trial``'s data; every stream is seeded from (master seed, trial).

    The streams do not depend on the dataset's name, so trial t of two datasets that share item
    and utility settings shares items, utilities and strata: paired across datasets too.
    """
    n = spec.num_comparisons
    items = spec.items.sample(2 * n, numpy_rng(master_seed, "trial", trial, "items"))
    raw = spec.utility(items, torch_generator(master_seed, "trial", trial, "utility"))
    raw_sd = float(np.std(raw))
    if raw_sd == 0:
        raise ValueError(
            f"dataset {spec.name!r}, trial {trial}: the true utility is constant over all items; "
            "cannot rescale it to utility_sd"
        )
    utilities = raw * (spec.utility_sd / raw_sd)
    u1, u2 = utilities[:n], utilities[n:]

    responses = spec.responses(
        u1, u2, spec.strength, numpy_rng(master_seed, "trial", trial, "responses")
    )
    stratum = numpy_rng(master_seed, "trial", trial, "strata").integers(0, spec.num_strata, size=n)
    scale_rng = numpy_rng(master_seed, "trial", trial, "stratum_rt_scale")
    scale = np.abs(1.0 + spec.stratum_rt_variability * scale_rng.standard_normal(spec.num_strata))
    return TrialData(
        trial=trial,
        x1=items[:n],
        x2=items[n:],
        u1=u1,
        u2=u2,
        choice=np.asarray(responses.choice, dtype=bool),
        rt=responses.rt * scale[stratum],
        stratum=stratum.astype(np.int64),
        capped=np.asarray(responses.capped, dtype=bool),
        stratum_rt_scale=scale,
        num_train=spec.num_train_samples,
        proxy=responses.reliability_proxy,
        reliable=responses.reliable,
    )


# Former names of stratum settings (the reference's configs and run records): alias -> key. A
# stratum is a group of comparisons sharing one RT scale; a partition (README) is what a ranking
# loss ranks within, which the synthetic learners take to be the strata.
STRATUM_KEY_ALIASES = {
    "num_partitions": "num_strata",
    "partition_rt_variability": "stratum_rt_variability",
}


def resolve_stratum_aliases(values: dict[str, Any]) -> dict[str, Any]:
    """Replace a set alias by its key; an alias that is null (the YAML default) is dropped."""
    for alias, key in STRATUM_KEY_ALIASES.items():
        if alias not in values:
            continue
        value = values.pop(alias)
        if value is not None:
            log.info("dataset.%s is the former name of dataset.%s; using %s", alias, key, value)
            values[key] = value
    return values


#: The ``_target_`` parts of a dataset node and the DatasetSpec field each builds.
BUILT_PARTS = {"items": "items", "utility": "utility", "generator": "responses"}
#: What the dataset keys that are not DatasetSpec fields hold (for the nearest-key hint).
PART_HELP = {
    "items": "_target_ node: the item distribution",
    "utility": "_target_ node: the true utility",
    "generator": "_target_ node: the response model",
    "strength": "min_rt / max_rt of the hyperbolic strength",
}


def build_dataset_spec(values: Mapping[str, Any]) -> DatasetSpec:
    """A ``DatasetSpec`` from the ``dataset`` node as plain data (its ``_target_`` parts built).

    ``num_partitions`` and ``partition_rt_variability`` are accepted as the former names of
    ``num_strata`` and ``stratum_rt_variability``; when set (not null) they take precedence. Keys
    left out take the defaults of :class:`DatasetSpec`.

    Raises:
        ConfigError: an unknown key (naming the nearest valid one).
        ValueError: a missing required key or a value out of range.
    """
    node = resolve_stratum_aliases(dict(values))
    types = typing.get_type_hints(DatasetSpec)
    scalars = [
        f.name for f in dataclasses.fields(DatasetSpec) if f.name not in BUILT_PARTS.values()
    ]
    known = {**PART_HELP, **{k: types[k].__name__ for k in scalars if k != "strength"}}
    for key in node:
        if key not in known:
            raise unknown_key(f"dataset.{key}", known, "the dataset config")
    missing = sorted(k for k in ("name", *BUILT_PARTS) if k not in node)
    if missing:
        raise ValueError(f"dataset config: missing key(s) {missing}")
    settings = {
        k: types[k](node[k]) for k in scalars if k in node and k not in ("name", "strength")
    }
    return DatasetSpec(
        name=str(node["name"]),
        **{field: instantiate(node[key], _convert_="all") for key, field in BUILT_PARTS.items()},
        strength=HyperbolicStrength(**(node.get("strength") or {})),
        **settings,
    )
