"""Statistics shared by every analysis CLI (synthetic, LLM, RL control).

One place for the numbers that figures and tables report, so every family computes a confidence
interval, a paired test, an effect size or a multiple-comparison correction the same way: Student's
t interval of a mean, the paired t-test with Cohen's d_z, Levene's test of equal variances, Holm's
step-down correction, and the interpolated point at which a mean curve reaches a level.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Summary:
    """Mean, sample standard deviation and half-width of the t confidence interval of the mean."""

    mean: float
    sd: float
    ci_half_width: float
    n: int

    @property
    def ci_low(self) -> float:
        return self.mean - self.ci_half_width

    @property
    def ci_high(self) -> float:
        return self.mean + self.ci_half_width


def summarize(values: Sequence[float] | np.ndarray, confidence: float = 0.95) -> Summary:
    """Summarise finite ``values``; NaN values (e.g. an undefined correlation) are left out.

    The interval is Student's t interval of the mean; with fewer than two values sd and interval are
    NaN rather than a misleading zero.
    """
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    n = int(data.size)
    if n == 0:
        return Summary(math.nan, math.nan, math.nan, 0)
    mean = float(data.mean())
    if n < 2:
        return Summary(mean, math.nan, math.nan, n)
    sd = float(data.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1) * sd / math.sqrt(n))
    return Summary(mean, sd, half, n)


def holm_adjust(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in input order (NaN entries stay NaN).

    The i-th smallest of m p-values becomes max_{j <= i} min(1, (m - j + 1) p_(j)), which controls
    the family-wise error rate over all tests passed together.
    """
    values = [float(p) for p in p_values]
    finite = [i for i, p in enumerate(values) if not math.isnan(p)]
    order = sorted(finite, key=lambda i: values[i])
    m = len(order)
    adjusted = [math.nan] * len(values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * values[index]))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class PairedTTest:
    """Two-sided paired t-test of ``other - baseline``.

    Means and sds describe the ``n`` complete pairs only, so they match the tested difference;
    ``ci_low``/``ci_high`` bound the mean difference (t interval); ``cohens_dz`` is the mean
    difference over the sd of the differences.
    """

    n: int
    mean_baseline: float
    mean_other: float
    sd_baseline: float
    sd_other: float
    mean_difference: float
    sd_difference: float
    ci_low: float
    ci_high: float
    cohens_dz: float
    statistic: float
    p_value: float


def _sd(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if values.size >= 2 else math.nan


def _paired_arrays(baseline: Sequence[float], other: Sequence[float]) -> tuple[np.ndarray, ...]:
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples must be 1-D of equal length, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def paired_t_test(
    baseline: Sequence[float], other: Sequence[float], confidence: float = 0.95
) -> PairedTTest:
    """Test whether ``other`` differs from ``baseline`` (paired by index).

    Pairs with a non-finite value are left out. With fewer than two pairs the test, interval and
    effect size are NaN. Statistic and p-value are scipy's ``ttest_rel`` as it reports them (for
    differences without spread: NaN when all are zero, infinite t and p = 0 otherwise); d_z is
    NaN when the differences do not vary.
    """
    a, b = _paired_arrays(baseline, other)
    diff = b - a
    n = int(diff.size)
    nan = math.nan
    mean_a = float(a.mean()) if n else nan
    mean_b = float(b.mean()) if n else nan
    mean = float(diff.mean()) if n else nan
    sd = _sd(diff)
    if n < 2:
        return PairedTTest(n, mean_a, mean_b, nan, nan, mean, nan, nan, nan, nan, nan, nan)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's precision-loss note at sd = 0
        result = stats.ttest_rel(b, a)
    return PairedTTest(
        n=n,
        mean_baseline=mean_a,
        mean_other=mean_b,
        sd_baseline=_sd(a),
        sd_other=_sd(b),
        mean_difference=mean,
        sd_difference=sd,
        ci_low=mean - half,
        ci_high=mean + half,
        cohens_dz=mean / sd if sd > 0 else nan,
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
    )


LEVENE_MIN_SIZE = 3


@dataclass(frozen=True)
class LeveneTest:
    """Levene's test of equal variances of two samples (``center="median"``: Brown-Forsythe)."""

    n_baseline: int
    n_other: int
    sd_baseline: float
    sd_other: float
    statistic: float
    p_value: float


def levene_test(
    baseline: Sequence[float], other: Sequence[float], center: str = "median"
) -> LeveneTest:
    """scipy's ``levene`` on the finite values of each sample.

    NaN with fewer than three values in a sample (with two, the absolute deviations from the
    centre are equal, so the test divides by zero and would report p = 0) or when neither sample
    varies.
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    statistic = p_value = math.nan
    if a.size >= LEVENE_MIN_SIZE and b.size >= LEVENE_MIN_SIZE and (np.ptp(a) > 0 or np.ptp(b) > 0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # deviations without spread
            result = stats.levene(a, b, center=center)
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return LeveneTest(int(a.size), int(b.size), _sd(a), _sd(b), statistic, p_value)


@dataclass(frozen=True)
class LevelReach:
    """Where a mean curve first reaches a reference level (e.g. the baseline's full-data mean)."""

    level: float
    size: float | None
    at_smallest: bool

    def describe(self) -> str:
        """``"at 0.68"``, ``"at or below 0.50"`` or ``"not reached"``."""
        if self.size is None:
            return "not reached"
        if self.at_smallest:
            return f"at or below {self.size:.2f}"
        return f"at {self.size:.2f}"


def level_reach(sizes: Sequence[float], means: Sequence[float], level: float) -> LevelReach:
    """Linearly interpolate the first size at which ``means`` (ordered by size) reaches ``level``.

    If the curve is already at the level at the smallest size, the true crossing lies below the
    measured range: ``at_smallest`` says so. If it never reaches it, ``size`` is None.
    """
    previous: tuple[float, float] | None = None
    for size, mean in zip(sizes, means, strict=True):
        if math.isnan(mean):
            previous = None
            continue
        if mean >= level:
            if previous is None:
                return LevelReach(level, float(size), at_smallest=float(size) == float(sizes[0]))
            low_size, low_mean = previous
            fraction = (level - low_mean) / (mean - low_mean)
            return LevelReach(level, low_size + fraction * (size - low_size), at_smallest=False)
        previous = (float(size), float(mean))
    return LevelReach(level, None, at_smallest=False)
