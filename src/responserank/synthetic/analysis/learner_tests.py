"""The paper's paired learner comparisons: which pairs, on which metrics, Holm over the table.

Trials are the pairing unit: every learner of a trial sees the same train prefix and test set, so
per-trial differences remove the between-trial variation of the generated datasets. The test is the
shared ``responserank.stats.paired_wilcoxon``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from responserank.stats import Comparison, holm_adjust, paired_wilcoxon
from responserank.synthetic.analysis.dataset_results import METRICS, DatasetResults, Metric

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
class SkippedTest:
    """A paired test that could not run: a learner has no results (``absent``), or a present
    learner lacks ``metric`` at the full size."""

    dataset: str
    baseline: str
    other: str
    absent: tuple[str, ...] = ()
    metric: str | None = None
    size: str | None = None

    def describe(self) -> str:
        pair = f"{self.dataset}: skipped ({self.baseline}, {self.other})"
        if self.absent:
            return f"{pair}, no results for {', '.join(self.absent)}"
        return f"{pair} on {self.metric}, not recorded for both at size {self.size}"


@dataclass(frozen=True)
class LearnerComparison:
    """One paired test of the statistics table, with its Holm-adjusted p-value."""

    dataset: str
    metric: str
    baseline: str
    other: str
    size: str
    test: Comparison
    p_holm: float


def compare_learners(
    datasets: Sequence[DatasetResults],
    pairs: Sequence[tuple[str, str]] = COMPARED_PAIRS,
    metrics: Sequence[Metric] = METRICS,
) -> tuple[list[LearnerComparison], list[SkippedTest]]:
    """Test every pair on every dataset and metric at the dataset's full size, Holm over all of them.

    Returns the comparisons and each test that was skipped because a learner (or its metric at the
    full size) is absent.
    """
    pending: list[tuple[str, str, str, str, str, Comparison]] = []
    skipped: list[SkippedTest] = []
    for results in datasets:
        size = results.full_size
        usable = []
        for baseline, other in pairs:
            absent = [name for name in (baseline, other) if name not in results.learners]
            if absent:
                skipped.append(SkippedTest(results.dataset, baseline, other, tuple(absent)))
            else:
                usable.append((baseline, other))
        for metric in metrics:
            for baseline, other in usable:
                keys = [(name, size, metric.key) for name in (baseline, other)]
                if not all(key in results.metrics for key in keys):
                    skipped.append(
                        SkippedTest(results.dataset, baseline, other, (), metric.key, size)
                    )
                    continue
                test = paired_wilcoxon(
                    results.values(baseline, size, metric.key),
                    results.values(other, size, metric.key),
                )
                pending.append((results.dataset, metric.key, baseline, other, size, test))
    adjusted = holm_adjust([item[-1].p_value for item in pending])
    comparisons = [
        LearnerComparison(dataset, metric, baseline, other, size, test, p_holm)
        for (dataset, metric, baseline, other, size, test), p_holm in zip(
            pending, adjusted, strict=True
        )
    ]
    return comparisons, skipped
