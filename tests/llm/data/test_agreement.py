"""Agreement statistics against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from responserank.llm.data.signals.agreement import agreement_statistics, directional_agreement
from responserank.llm.data.signals.labels import (
    A_CLEARLY,
    A_SLIGHTLY,
    B_CLEARLY,
    B_SLIGHTLY,
    TIE,
    ordinal,
)

# Comparison 0: A clearly, A slightly, Tie, B slightly.  Comparison 1: two ties.
# Comparison 2: B clearly x3, A clearly x1.
COMPARISON = pd.Series([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
LABEL = pd.Series(
    [A_CLEARLY, A_SLIGHTLY, TIE, B_SLIGHTLY, TIE, TIE, B_CLEARLY, B_CLEARLY, B_CLEARLY, A_CLEARLY]
)


def test_counts_and_scores_without_ties_in_total():
    stats = agreement_statistics(COMPARISON, LABEL, 0.5, ties_in_total=False)
    assert stats.loc[0, ["clearly_a_count", "slightly_a_count", "tie_count"]].tolist() == [1, 1, 1]
    assert stats.loc[0, ["slightly_b_count", "clearly_b_count"]].tolist() == [1, 0]
    # w_A = 1 + 0.5, w_B = 0.5, three non-tie annotations.
    assert stats.loc[0, "agreement_score"] == pytest.approx(1.0 / 3.0)
    # Only ties: nothing to agree on -> 0.
    assert stats.loc[1, "agreement_score"] == 0.0
    # w_A = 1, w_B = 3, four annotations.
    assert stats.loc[2, "agreement_score"] == pytest.approx(0.5)


def test_ties_in_total_dilute_agreement():
    stats = agreement_statistics(COMPARISON, LABEL, 0.5, ties_in_total=True)
    assert stats.loc[0, "agreement_score"] == pytest.approx(1.0 / 4.0)
    assert stats.loc[1, "agreement_score"] == 0.0
    assert stats.loc[2, "agreement_score"] == pytest.approx(0.5)


def test_slight_preference_value_weights_slight_labels():
    stats = agreement_statistics(COMPARISON, LABEL, 0.25, ties_in_total=True)
    # w_A = 1.25, w_B = 0.25 -> |1.0| / 4
    assert stats.loc[0, "agreement_score"] == pytest.approx(0.25)
    assert stats.loc[0, "mean_preference"] == pytest.approx((1.0 + 0.25 + 0.0 - 0.25) / 4)


def test_mean_preference_is_mean_ordinal_including_ties():
    stats = agreement_statistics(COMPARISON, LABEL, 0.5, ties_in_total=False)
    for key in (0, 1, 2):
        expected = np.mean([ordinal(label, 0.5) for label in LABEL[key == COMPARISON]])
        assert stats.loc[key, "mean_preference"] == pytest.approx(expected)
    assert stats.loc[2, "mean_preference"] == pytest.approx(-0.5)


def test_directional_agreement_is_negative_against_the_majority():
    stats = agreement_statistics(COMPARISON, LABEL, 0.5, ties_in_total=False)
    rows = stats.loc[[0, 0, 2, 2]]
    chosen_is_a = np.array([True, False, True, False])
    expected = [1.0 / 3.0, -1.0 / 3.0, -0.5, 0.5]
    np.testing.assert_allclose(directional_agreement(rows, chosen_is_a), expected)
    # The published score is the absolute value, whatever side was chosen.
    np.testing.assert_allclose(rows["agreement_score"], np.abs(expected))
