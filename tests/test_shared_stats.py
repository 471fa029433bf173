"""The shared statistics: t intervals, paired t-test with Cohen's d_z, Levene, Holm, level reach."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from responserank.stats import (
    holm_adjust,
    level_reach,
    levene_test,
    paired_t_test,
    summarize,
)


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=40))
def test_summary_matches_t_interval(values):
    summary = summarize(values)
    data = np.asarray(values)
    assert summary.n == len(values)
    assert summary.mean == pytest.approx(data.mean(), abs=1e-9)
    assert summary.sd == pytest.approx(np.std(data, ddof=1), abs=1e-9)
    if summary.sd > 0:
        low, high = stats.t.interval(0.95, len(data) - 1, loc=data.mean(), scale=stats.sem(data))
        assert summary.ci_low == pytest.approx(low, rel=1e-9, abs=1e-9)
        assert summary.ci_high == pytest.approx(high, rel=1e-9, abs=1e-9)


def test_summary_drops_nan_and_needs_two_values_for_spread():
    summary = summarize([0.5, math.nan])
    assert (summary.mean, summary.n) == (0.5, 1)
    assert math.isnan(summary.sd) and math.isnan(summary.ci_half_width)
    assert summarize([]).n == 0


def test_paired_t_test_by_hand_and_against_scipy():
    baseline = np.array([0.60, 0.62, 0.58, 0.61])
    other = np.array([0.63, 0.66, 0.59, 0.65])
    # differences 0.03, 0.04, 0.01, 0.04: mean 0.03, sd = sqrt(0.0006 / 3)
    sd = math.sqrt((0.0 + 0.0001 + 0.0004 + 0.0001) / 3)
    result = paired_t_test(baseline, other)
    assert result.n == 4
    assert result.mean_difference == pytest.approx(0.03)
    assert result.sd_difference == pytest.approx(sd)
    assert result.effect_size == pytest.approx(0.03 / sd)
    assert result.statistic == pytest.approx(0.03 / (sd / 2))
    reference = stats.ttest_rel(other, baseline)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    ci = reference.confidence_interval(0.95)
    assert (result.ci_low, result.ci_high) == pytest.approx((ci.low, ci.high))
    assert (result.mean_baseline, result.mean_other) == pytest.approx((0.6025, 0.6325))


def test_paired_t_test_drops_incomplete_pairs_and_needs_two():
    result = paired_t_test([0.1, math.nan, 0.3, 0.2], [0.2, 0.5, 0.35, 0.4])
    reference = stats.ttest_rel([0.2, 0.35, 0.4], [0.1, 0.3, 0.2])
    assert result.n == 3
    assert result.p_value == pytest.approx(reference.pvalue)
    single = paired_t_test([0.1], [0.2])
    assert single.n == 1 and math.isnan(single.p_value) and math.isnan(single.effect_size)
    constant = paired_t_test([1.0, 2.0], [1.5, 2.5])
    assert math.isnan(constant.effect_size) and constant.p_value == 0.0
    with pytest.raises(ValueError, match="equal length"):
        paired_t_test([0.1, 0.2], [0.1])


def test_levene_matches_scipy():
    a = [0.61, 0.64, 0.60, 0.66, 0.63]
    b = [0.62, 0.70, 0.55, 0.71, 0.58]
    result = levene_test(a, b)
    reference = stats.levene(a, b)
    assert result.statistic == pytest.approx(reference.statistic)
    assert result.p_value == pytest.approx(reference.pvalue)
    # Brown-Forsythe by hand: one-way ANOVA on absolute deviations from each sample's median
    deviations = [np.abs(np.asarray(x) - np.median(x)) for x in (a, b)]
    assert result.p_value == pytest.approx(stats.f_oneway(*deviations).pvalue)
    assert math.isnan(levene_test([0.5, 0.5], [0.5, 0.5]).p_value)
    assert math.isnan(levene_test([0.5, 0.7], [0.4, 0.6, 0.9]).p_value), "two values: degenerate"


def test_holm_hand_computed():
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> running max 0.06.
    assert holm_adjust([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = holm_adjust([math.nan, 0.2, 0.6])
    assert math.isnan(adjusted[0])
    assert adjusted[1:] == pytest.approx([0.4, 0.6])
    assert holm_adjust([0.5, 0.9]) == [1.0, 1.0]


@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=30))
def test_holm_is_bounded_and_preserves_order(p_values):
    adjusted = holm_adjust(p_values)
    for raw, adj in zip(p_values, adjusted, strict=True):
        assert raw <= adj <= 1.0
    order = np.argsort(p_values, kind="stable")
    assert np.all(np.diff(np.asarray(adjusted)[order]) >= 0)
    assert min(adjusted) == pytest.approx(min(1.0, len(p_values) * min(p_values)))


def test_level_reach_interpolates_linearly():
    reach = level_reach([0.5, 0.75, 1.0], [0.6, 0.7, 0.8], 0.68)
    assert reach.size == pytest.approx(0.7)  # 0.5 + (0.68 - 0.6) / 0.1 * 0.25
    assert reach.describe() == "at 0.70"


def test_level_reach_at_smallest_and_never():
    at_start = level_reach([0.5, 1.0], [0.9, 0.95], 0.8)
    assert (at_start.size, at_start.at_smallest) == (0.5, True)
    assert at_start.describe() == "at or below 0.50"
    never = level_reach([0.5, 1.0], [0.6, 0.7], 0.8)
    assert never.size is None
    assert never.describe() == "not reached"
