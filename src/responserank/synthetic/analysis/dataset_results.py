"""Collected synthetic results as arrays: what the figures, tables and tests of the analysis read.

A results file (schema: ``responserank.synthetic.results``; both layouts are read through
``results.read_results``) stores one list of per-trial entries per learner, size and metric.
``parse_results`` turns it into per-trial arrays: a value outside its metric's range fails with the
file name and key path; what the file lacks (a learner, a size, a metric) is listed in ``missing``
and NaN trials are counted in ``nan_trials``, so readers render the rest and report both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from responserank.errors import ResultsFormatError
from responserank.plotting import register_method
from responserank.synthetic.results_layout import ABLATION_SUFFIX, DATASET_DISPLAY_NAMES
from responserank.synthetic.seeding import size_key

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
    low: float  # the metric's range: values outside [low, high] are refused
    high: float


METRICS: tuple[Metric, ...] = (
    Metric("choice_accuracy", "Choice accuracy", "Accuracy", "accuracy", 0.0, 1.0),
    Metric("pearson_distance_correlation", "Pearson distance correlation", "PDC", "pdc", -1.0, 1.0),
)
KENDALL_RANGE = (-1.0, 1.0)


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

# Datasets outside the paper's three; shown beside their ablation in one group, so the
# ablation keeps a label of its own.
_OTHER_DATASET_LABELS = {
    "reliability_mix": "Reliability mix",
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
    if name in _OTHER_DATASET_LABELS:
        return _OTHER_DATASET_LABELS[name]
    base = name.removesuffix(ABLATION_SUFFIX)
    return DATASET_DISPLAY_NAMES.get(base, base.replace("_", " "))


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
    missing: tuple[str, ...] = ()
    nan_trials: Mapping[str, int] = field(default_factory=dict)

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


def _check_range(values: np.ndarray, low: float, high: float, source: Path, key_path: str) -> None:
    """Refuse a value outside [low, high] (NaN is an undefined value, counted elsewhere)."""
    outside = np.flatnonzero(np.isfinite(values) & ((values < low) | (values > high)))
    infinite = np.flatnonzero(np.isinf(values))
    bad = np.union1d(outside, infinite)
    if bad.size:
        trial = int(bad[0])
        raise ResultsFormatError.at(
            source,
            f"{key_path}[{trial}].value",
            f"expected a value in [{low:g}, {high:g}], got {float(values[trial])!r} "
            f"({bad.size} of {len(values)} trials outside)",
        )


def _count_nan(values: np.ndarray, key_path: str, counts: dict[str, int]) -> None:
    nan = int(np.isnan(values).sum())
    if nan:
        counts[key_path] = nan


def _learner_order(names: list[str]) -> tuple[str, ...]:
    known = [name for name in LEARNER_ORDER if name in names]
    return tuple(known + sorted(set(names) - set(known)))


def _listed(metadata: Mapping[str, Any], key: str) -> list[str]:
    value = metadata.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def parse_results(results: Mapping[str, Any], source: Path) -> DatasetResults:
    """Convert one dataset's results (schema-checked by ``results.read_results``) into arrays.

    Checks what the schema leaves open but the analysis needs: one entry per trial everywhere
    (results are paired by trial), metric values within range, 2x2 confusion matrices of counts.
    Learners of ``metadata.learners``, sizes of ``metadata.dataset_sizes``, paper metrics, the
    confusion matrices and Kendall's tau that the file lacks are listed in ``missing``.
    Raises ``ResultsFormatError`` naming ``source`` and the key path.
    """
    metadata = results["metadata"]
    num_trials = int(metadata["num_trials"])
    learners = [key for key in results if key not in RESERVED_KEYS]
    missing = [
        f"{name} (in metadata.learners, no results)"
        for name in _listed(metadata, "learners")
        if name not in learners
    ]
    listed_sizes = [size_key(float(size)) for size in metadata.get("dataset_sizes", [])]
    metrics: dict[tuple[str, str, str], np.ndarray] = {}
    nan_trials: dict[str, int] = {}
    sizes: set[str] = set()
    for learner in learners:
        recorded = results[learner]["sizes"]
        missing += [
            f"{learner}.sizes.{size} (in metadata.dataset_sizes, no results)"
            for size in listed_sizes
            if size not in recorded
        ]
        for size, size_entry in recorded.items():
            sizes.add(size)
            where = f"{learner}.sizes.{size}.summary_metrics"
            summary = size_entry["summary_metrics"]
            for metric in METRICS:
                if metric.key not in summary:
                    missing.append(f"{where}.{metric.key}")
                    continue
                values = _per_trial(summary, metric.key, num_trials, source, where)
                _check_range(values, metric.low, metric.high, source, f"{where}.{metric.key}")
                _count_nan(values, f"{where}.{metric.key}", nan_trials)
                metrics[(learner, size, metric.key)] = values

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
        _check_range(confusion, 0.0, np.inf, source, f"dataset_metrics.{CONFUSION_KEY}")
    else:
        missing.append(f"dataset_metrics.{CONFUSION_KEY}")
    if KENDALL_KEY in dataset_metrics:
        kendall = _per_trial(dataset_metrics, KENDALL_KEY, num_trials, source, "dataset_metrics")
        _check_range(kendall, *KENDALL_RANGE, source, f"dataset_metrics.{KENDALL_KEY}")
        _count_nan(kendall, f"dataset_metrics.{KENDALL_KEY}", nan_trials)
    else:
        missing.append(f"dataset_metrics.{KENDALL_KEY}")

    return DatasetResults(
        dataset=metadata["dataset"],
        source=source,
        sizes=tuple(sorted(sizes, key=float)),
        learners=_learner_order(learners),
        metrics=metrics,
        confusion=confusion,
        kendall_tau=kendall,
        missing=tuple(missing),
        nan_trials=nan_trials,
    )
