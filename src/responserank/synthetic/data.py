"""One synthetic dataset per trial: items, true utilities, responses, strata, train/test split.

Comparison i pairs item i with item N + i. The first ``num_train_samples`` comparisons are the
training set, the remaining ``num_test_samples`` the test set; dataset sizes are nested prefixes of
the training set, and the test set is the same for every size and learner of a trial.

Every comparison gets a uniform stratum id. With ``partition_rt_variability`` > 0, each stratum p
draws a multiplier m_p = |N(1, variability)| that scales all its response times (train and test):
a confound between strata that ranking *within* strata removes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from responserank.synthetic.generators import Responses
from responserank.synthetic.seeding import numpy_rng, torch_generator
from responserank.synthetic.strength import HyperbolicStrength


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
    num_partitions: int = 5
    partition_rt_variability: float = 3.0
    utility_sd: float = 1.0

    def __post_init__(self) -> None:
        problems = []
        if self.num_train_samples < 1:
            problems.append(f"num_train_samples={self.num_train_samples} (expected >= 1)")
        if self.num_test_samples < 2:
            problems.append(f"num_test_samples={self.num_test_samples} (expected >= 2)")
        if self.num_partitions < 1:
            problems.append(f"num_partitions={self.num_partitions} (expected >= 1)")
        if self.partition_rt_variability < 0:
            problems.append(
                f"partition_rt_variability={self.partition_rt_variability} (expected >= 0)"
            )
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
    stratum = numpy_rng(master_seed, "trial", trial, "strata").integers(
        0, spec.num_partitions, size=n
    )
    scale_rng = numpy_rng(master_seed, "trial", trial, "stratum_rt_scale")
    scale = np.abs(
        1.0 + spec.partition_rt_variability * scale_rng.standard_normal(spec.num_partitions)
    )
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


def build_dataset_spec(cfg: Any) -> DatasetSpec:
    """A ``DatasetSpec`` from the ``dataset`` config node (instantiating its ``_target_`` parts)."""
    node = OmegaConf.create(cfg) if not OmegaConf.is_config(cfg) else cfg
    known = {
        "name",
        "items",
        "utility",
        "generator",
        "strength",
        "num_train_samples",
        "num_test_samples",
        "num_partitions",
        "partition_rt_variability",
        "utility_sd",
    }
    unknown = sorted(set(node.keys()) - known)
    if unknown:
        raise ValueError(f"dataset config: unknown key(s) {unknown}; valid keys: {sorted(known)}")
    missing = sorted(k for k in ("name", "items", "utility", "generator") if k not in node)
    if missing:
        raise ValueError(f"dataset config: missing key(s) {missing}")
    strength_cfg = node.get("strength") or {}
    return DatasetSpec(
        name=str(node.name),
        items=instantiate(node["items"]),
        utility=instantiate(node.utility),
        responses=instantiate(node.generator),
        strength=HyperbolicStrength(**OmegaConf.to_container(OmegaConf.create(strength_cfg))),
        num_train_samples=int(node.get("num_train_samples", 50)),
        num_test_samples=int(node.get("num_test_samples", 200)),
        num_partitions=int(node.get("num_partitions", 5)),
        partition_rt_variability=float(node.get("partition_rt_variability", 3.0)),
        utility_sd=float(node.get("utility_sd", 1.0)),
    )
