"""Statistics shared by every analysis CLI (synthetic, LLM, RL control): the only home of tests.

One place for the numbers that figures and tables report, so every family computes a confidence
interval, a test, an effect size or a multiple-comparison correction the same way: Student's t
interval of a mean; the paired t-test with Cohen's d_z, the Wilcoxon signed-rank test with the
rank-biserial correlation and Welch's unpaired t-test, all returning one ``Comparison``; Levene's
test of equal variances; Holm's step-down correction; and the interpolated point at which a mean
curve reaches a level.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: Fewest samples a confidence interval is reported (table) or drawn (figure band) for. With two,
#: Student's t (12.7 standard errors at 95%) gives an interval that only says "two values" and
#: stretches far outside the data; below it the mean is shown with its n.
MIN_BAND_SAMPLES = 3


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


PAIRED_T = "paired t-test"
WILCOXON = "Wilcoxon signed-rank test"
WELCH_T = "Welch t-test (unpaired)"
TOO_FEW = "not enough runs"


@dataclass(frozen=True)
class Comparison:
    """A two-sided test of ``other`` against ``baseline``: every location test returns this.

    ``test`` names the test (``PAIRED_T``, ``WILCOXON``, ``WELCH_T``, or ``TOO_FEW`` when a sample
    is too small to test). ``n`` counts the complete pairs a paired test used (0 for an unpaired
    test); ``n_baseline``/``n_other`` count the values of each sample that entered the means (for a
    paired test, the paired ones). ``mean_difference`` and ``median_difference`` are of
    ``other - baseline``; ``ci_low``/``ci_high`` bound the mean difference (t interval; NaN for the
    rank test). ``effect_size`` is Cohen's d_z (paired t), Cohen's d with the pooled sd (Welch) or
    the matched-pairs rank-biserial correlation (Wilcoxon); ``n_nonzero`` counts non-zero paired
    differences (the values the rank test ranks).
    """

    test: str
    n: int
    n_baseline: int
    n_other: int
    mean_baseline: float
    mean_other: float
    sd_baseline: float
    sd_other: float
    mean_difference: float
    median_difference: float
    sd_difference: float
    ci_low: float
    ci_high: float
    effect_size: float
    statistic: float
    p_value: float
    n_nonzero: int


def _sd(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if values.size >= 2 else math.nan


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else math.nan


def _paired_arrays(baseline: Sequence[float], other: Sequence[float]) -> tuple[np.ndarray, ...]:
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired samples must be 1-D of equal length, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    return a[keep], b[keep]


def _sample_fields(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Size, mean and sd of the baseline sample ``a`` and the other sample ``b``."""
    return {
        "n_baseline": int(a.size),
        "n_other": int(b.size),
        "mean_baseline": _mean(a),
        "mean_other": _mean(b),
        "sd_baseline": _sd(a),
        "sd_other": _sd(b),
    }


def _paired_comparison(test: str, a: np.ndarray, b: np.ndarray, **fields: float) -> Comparison:
    """The descriptive fields of paired samples ``a`` (baseline) and ``b``; ``fields`` the rest."""
    diff = b - a
    nan = math.nan
    described = {
        "n": int(diff.size),
        **_sample_fields(a, b),
        "mean_difference": _mean(diff),
        "median_difference": float(np.median(diff)) if diff.size else nan,
        "sd_difference": _sd(diff),
        "n_nonzero": int(np.count_nonzero(diff)),
        "ci_low": nan,
        "ci_high": nan,
        "effect_size": nan,
        "statistic": nan,
        "p_value": nan,
    }
    return Comparison(test=test, **{**described, **fields})


def paired_t_test(
    baseline: Sequence[float], other: Sequence[float], confidence: float = 0.95
) -> Comparison:
    """Paired two-sided t-test of ``other`` against ``baseline`` (paired by index).

    Pairs with a non-finite value are left out; means and sds describe the complete pairs only,
    so they match the tested difference. With fewer than two pairs the test, interval and effect
    size are NaN. Statistic and p-value are scipy's ``ttest_rel`` as it reports them (for
    differences without spread: NaN when all are zero, infinite t and p = 0 otherwise); the effect
    size is Cohen's d_z (mean difference over the sd of the differences), NaN when the differences
    do not vary. Raises ``ValueError`` for samples of unequal length.
    """
    a, b = _paired_arrays(baseline, other)
    n = int(a.size)
    if n < 2:
        return _paired_comparison(PAIRED_T, a, b)
    diff = b - a
    mean, sd = float(diff.mean()), _sd(diff)
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's precision-loss note at sd = 0
        result = stats.ttest_rel(b, a)
    return _paired_comparison(
        PAIRED_T,
        a,
        b,
        ci_low=mean - half,
        ci_high=mean + half,
        effect_size=mean / sd if sd > 0 else math.nan,
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
    )


def paired_wilcoxon(baseline: Sequence[float], other: Sequence[float]) -> Comparison:
    """Wilcoxon signed-rank test of ``other`` against ``baseline`` (paired by index).

    ``statistic`` and ``p_value`` are scipy's two-sided ``wilcoxon`` result (zero differences
    dropped, ``zero_method="wilcox"``). The effect size is the matched-pairs rank-biserial
    correlation (W+ - W-) / (W+ + W-), positive when ``other`` tends to be larger. Pairs with a
    non-finite value (an undefined correlation) are left out; ``n`` counts the rest. When every
    difference is zero there is nothing to rank: p is 1 and the effect is 0; without any finite
    pair the test fields are NaN. Raises ``ValueError`` for samples of unequal length.
    """
    a, b = _paired_arrays(baseline, other)
    diff = b - a
    nonzero = diff[diff != 0]
    if diff.size == 0:
        return _paired_comparison(WILCOXON, a, b)
    if nonzero.size == 0:
        return _paired_comparison(WILCOXON, a, b, statistic=0.0, p_value=1.0, effect_size=0.0)
    result = stats.wilcoxon(diff, zero_method="wilcox", alternative="two-sided")
    ranks = stats.rankdata(np.abs(nonzero))
    w_plus = float(ranks[nonzero > 0].sum())
    w_minus = float(ranks[nonzero < 0].sum())
    return _paired_comparison(
        WILCOXON,
        a,
        b,
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        effect_size=(w_plus - w_minus) / (w_plus + w_minus),
    )


def welch_t_test(
    baseline: Sequence[float], other: Sequence[float], confidence: float = 0.95
) -> Comparison:
    """Welch's unpaired two-sided t-test of ``other`` against ``baseline`` (unequal variances).

    Non-finite values are left out. The interval is scipy's Welch interval of the difference of
    means; the effect size is Cohen's d with the pooled sd sqrt((s_b^2 + s_o^2) / 2), NaN when
    neither sample varies. With fewer than two values in a sample the test is ``TOO_FEW`` and
    only the means and sds are filled in.
    """
    a = np.asarray(baseline, dtype=float)
    b = np.asarray(other, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    nan = math.nan
    common = {
        "n": 0,
        **_sample_fields(a, b),
        "mean_difference": _mean(b) - _mean(a),
        "median_difference": nan,
        "sd_difference": nan,
        "n_nonzero": 0,
    }
    if a.size < 2 or b.size < 2:
        return Comparison(
            test=TOO_FEW, ci_low=nan, ci_high=nan, effect_size=nan, statistic=nan, p_value=nan,
            **common,
        )  # fmt: skip
    result = stats.ttest_ind(b, a, equal_var=False)
    ci = result.confidence_interval(confidence)
    pooled = math.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    mean = float(b.mean() - a.mean())
    return Comparison(
        test=WELCH_T,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        effect_size=mean / pooled if pooled > 0 else nan,
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        **{**common, "mean_difference": mean},
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
