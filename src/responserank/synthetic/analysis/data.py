"""Collected synthetic results as arrays: what the figures, tables and tests of the analysis read.

A results file (contract: ``responserank.synthetic.results``) stores one list of per-trial entries
per learner, size and metric. ``parse_results`` turns it into per-trial arrays, checking every key
the analysis relies on so that a malformed file fails with its name and the key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from responserank.errors import ResultsFormatError
from responserank.plotting import register_method

RESERVED_KEYS = ("metadata", "dataset_metrics")
CONFUSION_KEY = "test_confusion_matrix"
KENDALL_KEY = "test_abs_logit_diff_rt_kendall_tau"


@dataclass(frozen=True)
class Metric:
    """A per-trial summary metric the analysis reports; all are higher-is-better."""

    key: str
    label: str
    abbreviation: str
    short: str


METRICS: tuple[Metric, ...] = (
    Metric("choice_accuracy", "Choice accuracy", "Accuracy", "accuracy"),
    Metric("pearson_distance_correlation", "Pearson distance correlation", "PDC", "pdc"),
)


@dataclass(frozen=True)
class DatasetGroup:
    """Datasets shown side by side in one set of figures and tables."""

    name: str
    title: str
    datasets: tuple[str, ...]


GROUPS: tuple[DatasetGroup, ...] = (
    DatasetGroup(
        "with_variability",
        "with stratum variability",
        ("deterministic_all", "stochastic", "drift_diffusion"),
    ),
    DatasetGroup(
        "no_variability",
        "without stratum variability",
        (
            "deterministic_all_no_variability",
            "stochastic_no_variability",
            "drift_diffusion_no_variability",
        ),
    ),
    DatasetGroup(
        "reliability",
        "annotators of differing reliability",
        ("reliability_mix", "reliability_mix_no_variability"),
    ),
)

_DATASET_LABELS = {
    "deterministic_all": "Deterministic",
    "stochastic": "Stochastic",
    "drift_diffusion": "Drift-diffusion",
    "reliability_mix": "Reliability mix",
    # Shown beside reliability_mix in one group, so the ablation keeps its own label.
    "reliability_mix_no_variability": "Reliability mix (no var.)",
}

LEARNER_ORDER = (
    "bt",
    "rr",
    "rr_pooled",
    "rr_perm",
    "rt_regression",
    "rt_regression_perm",
    "rapl_beta",
    "rr_rapl",
    "rr_rapl_proxyperm",
)

register_method("rr_pooled", "RR (pooled)", "#E69F00", marker="^")
register_method("rr_perm", "RR (perm.)", "#CC79A7", marker="v", linestyle="--")
register_method("rt_regression", "RT regr.", "#009E73", marker="D")
register_method("rt_regression_perm", "RT regr. (perm.)", "#56B4E9", marker="P", linestyle="--")
register_method("rapl_beta", "$\\beta$-RAPL", "#009E73", marker="h", linestyle="-.")
register_method("rr_rapl", "RR + $\\beta$-RAPL", "#000000", marker="*")
register_method(
    "rr_rapl_proxyperm", "RR + $\\beta$-RAPL (perm. proxy)", "#999999", marker="X", linestyle="--"
)


def dataset_label(name: str) -> str:
    """Display name of a dataset; the ablation suffix is dropped (the group title says it)."""
    if name in _DATASET_LABELS:
        return _DATASET_LABELS[name]
    base = name.removesuffix("_no_variability")
    return _DATASET_LABELS.get(base, base.replace("_", " "))


@dataclass(frozen=True)
class DatasetResults:
    """Per-trial arrays of one dataset's collected results (trial order preserved everywhere)."""

    dataset: str
    source: Path
    sizes: tuple[str, ...]
    learners: tuple[str, ...]
    metrics: Mapping[tuple[str, str, str], np.ndarray]
    confusion: np.ndarray | None
    kendall_tau: np.ndarray | None

    @property
    def full_size(self) -> str:
        """The largest training fraction (the paper's "full data")."""
        return self.sizes[-1]

    def values(self, learner: str, size: str, metric: str) -> np.ndarray:
        """Per-trial values of ``metric`` for ``learner`` at size key ``size``."""
        try:
            return self.metrics[(learner, size, metric)]
        except KeyError:
            raise KeyError(
                f"{self.source}: no {metric!r} for learner {learner!r} at size {size!r} "
                f"(learners: {', '.join(self.learners)}; sizes: {', '.join(self.sizes)})"
            ) from None


def _per_trial(
    container: Mapping[str, Any], key: str, num_trials: int, source: Path, key_path: str
) -> np.ndarray:
    if key not in container:
        present = ", ".join(map(str, container)) or "none"
        raise ResultsFormatError.at(source, f"{key_path}.{key}", f"missing (present: {present})")
    try:  # None (an undefined value) becomes NaN
        values = np.array([entry["value"] for entry in container[key]], dtype=float)
    except ValueError:
        raise ResultsFormatError.at(
            source, f"{key_path}.{key}", "per-trial values of unequal shape"
        ) from None
    if len(values) != num_trials:
        raise ResultsFormatError.at(
            source,
            f"{key_path}.{key}",
            f"expected {num_trials} per-trial entries (metadata.num_trials), got {len(values)}",
        )
    return values


def _learner_order(names: list[str]) -> tuple[str, ...]:
    known = [name for name in LEARNER_ORDER if name in names]
    return tuple(known + sorted(set(names) - set(known)))


def parse_results(results: Mapping[str, Any], source: Path) -> DatasetResults:
    """Convert one dataset's results (schema-checked by ``results.load_results``) into arrays.

    Checks what the schema leaves open but the analysis needs: both paper metrics at every learner
    and size, one entry per trial everywhere (results are paired by trial), 2x2 confusion matrices.
    """
    metadata = results["metadata"]
    num_trials = int(metadata["num_trials"])
    learners = [key for key in results if key not in RESERVED_KEYS]
    metrics: dict[tuple[str, str, str], np.ndarray] = {}
    sizes: set[str] = set()
    for learner in learners:
        for size, size_entry in results[learner]["sizes"].items():
            sizes.add(size)
            for metric in METRICS:
                metrics[(learner, size, metric.key)] = _per_trial(
                    size_entry["summary_metrics"],
                    metric.key,
                    num_trials,
                    source,
                    f"{learner}.sizes.{size}.summary_metrics",
                )

    dataset_metrics = results.get("dataset_metrics", {})
    confusion = kendall = None
    if CONFUSION_KEY in dataset_metrics:
        confusion = _per_trial(
            dataset_metrics, CONFUSION_KEY, num_trials, source, "dataset_metrics"
        )
        if confusion.shape[1:] != (2, 2):
            raise ResultsFormatError.at(
                source,
                f"dataset_metrics.{CONFUSION_KEY}",
                "expected 2x2 matrices [[tn, fp], [fn, tp]]",
            )
    if KENDALL_KEY in dataset_metrics:
        kendall = _per_trial(dataset_metrics, KENDALL_KEY, num_trials, source, "dataset_metrics")

    return DatasetResults(
        dataset=metadata["dataset"],
        source=source,
        sizes=tuple(sorted(sizes, key=float)),
        learners=_learner_order(learners),
        metrics=metrics,
        confusion=confusion,
        kendall_tau=kendall,
    )
