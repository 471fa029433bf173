"""Paired Wilcoxon tests and rank-biserial effect sizes of the synthetic analysis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from responserank.stats import paired_wilcoxon


def test_wilcoxon_matches_scipy_and_rank_biserial_by_hand():
    baseline = np.array([0.50, 0.60, 0.70, 0.80])
    other = baseline + np.array([0.01, -0.02, 0.03, 0.04])
    result = paired_wilcoxon(baseline, other)
    reference = stats.wilcoxon(other, baseline)
    assert result.statistic == reference.statistic
    assert result.p_value == pytest.approx(reference.pvalue)
    # |d| ranks 1, 2, 3, 4; W+ = 1 + 3 + 4 = 8, W- = 2 -> (8 - 2) / 10.
    assert result.effect_size == pytest.approx(0.6)
    assert result.median_difference == pytest.approx(0.02)
    assert (result.n, result.n_nonzero) == (4, 4)


def test_wilcoxon_drops_zero_differences_and_undefined_values():
    baseline = np.array([0.1, 0.2, 0.3, 0.4, math.nan, 0.6, 0.7])
    other = np.array([0.1, 0.25, 0.2, 0.6, 0.5, 0.9, 0.75])
    result = paired_wilcoxon(baseline, other)
    keep = np.isfinite(baseline)
    reference = stats.wilcoxon(other[keep], baseline[keep], zero_method="wilcox")
    assert result.p_value == pytest.approx(reference.pvalue)
    assert result.statistic == reference.statistic
    assert (result.n, result.n_nonzero) == (6, 5)


def test_identical_learners_give_no_effect():
    result = paired_wilcoxon([0.3, 0.4], [0.3, 0.4])
    assert (result.p_value, result.effect_size, result.statistic) == (1.0, 0.0, 0.0)


def test_unequal_pairs_are_rejected():
    with pytest.raises(ValueError, match="equal length"):
        paired_wilcoxon([0.1, 0.2], [0.1])
