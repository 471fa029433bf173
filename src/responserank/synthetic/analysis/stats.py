"""Paired comparisons of learners: Wilcoxon signed-rank test, rank-biserial effect, Holm correction.

Trials are the pairing unit: every learner of a trial sees the same train prefix and test set, so
per-trial differences remove the between-trial variation of the generated datasets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from responserank.stats import holm_adjust
from responserank.synthetic.analysis.data import METRICS, DatasetResults, Metric

# (baseline, other): the paper's comparisons; the effect is reported as other - baseline.
PAPER_PAIRS: tuple[tuple[str, str], ...] = (
    ("bt", "rr"),
    ("rr_perm", "rr"),
    ("rt_regression", "rr"),
    ("bt", "rt_regression"),
    ("rt_regression_perm", "rt_regression"),
    ("rr_pooled", "rr"),
)
# The reliability study's comparisons: the combination against each parent and its control.
RELIABILITY_PAIRS: tuple[tuple[str, str], ...] = (
    ("bt", "rapl_beta"),
    ("rr", "rr_rapl"),
    ("rapl_beta", "rr_rapl"),
    ("rr_rapl_proxyperm", "rr_rapl"),
)
# Every group tests the pairs whose learners it has (the others are listed as skipped).
COMPARED_PAIRS = PAPER_PAIRS + RELIABILITY_PAIRS


@dataclass(frozen=True)
class PairedTest:
    """Two-sided Wilcoxon signed-rank test of ``other - baseline`` over paired trials."""

    n: int
    n_nonzero: int
    statistic: float
    p_value: float
    rank_biserial: float
    median_difference: float
    mean_difference: float


def paired_wilcoxon(baseline: Sequence[float], other: Sequence[float]) -> PairedTest:
    """Test whether ``other`` differs from ``baseline`` (paired by index; zero differences dropped).

    ``statistic`` and ``p_value`` are scipy's two-sided ``wilcoxon`` result. The matched-pairs
    rank-biserial correlation (W+ - W-) / (W+ + W-) is positive when ``other`` tends to be larger.
    Pairs with a non-finite value (an undefined correlation) are left out; ``n`` counts the rest.
    When every difference is zero there is nothing to rank: p is 1 and the effect is 0; without any
    finite pair every field is NaN.
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples must be 1-D of equal length, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    diff = b[keep] - a[keep]
    nonzero = diff[diff != 0]
    if diff.size == 0:
        return PairedTest(0, 0, math.nan, math.nan, math.nan, math.nan, math.nan)
    if nonzero.size == 0:
        statistic, p_value, effect = 0.0, 1.0, 0.0
    else:
        result = stats.wilcoxon(diff, zero_method="wilcox", alternative="two-sided")
        statistic, p_value = float(result.statistic), float(result.pvalue)
        ranks = stats.rankdata(np.abs(nonzero))
        w_plus = float(ranks[nonzero > 0].sum())
        w_minus = float(ranks[nonzero < 0].sum())
        effect = (w_plus - w_minus) / (w_plus + w_minus)
    return PairedTest(
        n=int(diff.size),
        n_nonzero=int(nonzero.size),
        statistic=statistic,
        p_value=p_value,
        rank_biserial=effect,
        median_difference=float(np.median(diff)),
        mean_difference=float(np.mean(diff)),
    )


@dataclass(frozen=True)
class Comparison:
    """One paired test of the statistics table, with its Holm-adjusted p-value."""

    dataset: str
    metric: str
    baseline: str
    other: str
    size: str
    test: PairedTest
    p_holm: float


def compare_learners(
    datasets: Sequence[DatasetResults],
    pairs: Sequence[tuple[str, str]] = COMPARED_PAIRS,
    metrics: Sequence[Metric] = METRICS,
) -> tuple[list[Comparison], list[str]]:
    """Test every pair on every dataset and metric at the dataset's full size, Holm over all of them.

    Returns the comparisons and a note for each pair that was skipped because a learner is absent.
    """
    pending: list[tuple[str, str, str, str, str, PairedTest]] = []
    skipped: list[str] = []
    for results in datasets:
        size = results.full_size
        usable = []
        for baseline, other in pairs:
            absent = [name for name in (baseline, other) if name not in results.learners]
            if absent:
                skipped.append(
                    f"{results.dataset}: skipped ({baseline}, {other}), no results for {', '.join(absent)}"
                )
            else:
                usable.append((baseline, other))
        for metric in metrics:
            for baseline, other in usable:
                test = paired_wilcoxon(
                    results.values(baseline, size, metric.key),
                    results.values(other, size, metric.key),
                )
                pending.append((results.dataset, metric.key, baseline, other, size, test))
    adjusted = holm_adjust([item[-1].p_value for item in pending])
    comparisons = [
        Comparison(dataset, metric, baseline, other, size, test, p_holm)
        for (dataset, metric, baseline, other, size, test), p_holm in zip(
            pending, adjusted, strict=True
        )
    ]
    return comparisons, skipped
