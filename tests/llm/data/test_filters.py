"""Rank filters on small explicit tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from responserank.errors import DataValidationError
from responserank.llm.data.strata.filters import FieldEquals, NoFilter, RandomFilter

nan = np.nan
TABLE = pd.DataFrame({"category": ["Open QA", "Brainstorm", "Open QA", "Chat", "Brainstorm"]})
RANK = np.array([1.0, 2.0, nan, 4.0, 5.0])


def test_no_filter_keeps_ranks():
    np.testing.assert_array_equal(NoFilter().apply(TABLE, RANK, None), RANK)


def test_random_filter_removes_ranks_of_chosen_ranked_rows(preset_rng):
    # Ranked rows are 0, 1, 3, 4; round(0.5 * 4) = 2 of them lose their rank: here 3 and 0.
    rng = preset_rng(choice_order=[2, 0, 1, 3])
    result = RandomFilter(0.5).apply(TABLE, RANK, rng)
    np.testing.assert_array_equal(result, [nan, 2.0, nan, nan, 5.0])


def test_random_filter_count_is_exact_and_rows_are_kept():
    rank = np.arange(200.0)
    rank[::10] = nan
    result = RandomFilter(0.25).apply(
        pd.DataFrame(index=range(200)), rank, np.random.default_rng(0)
    )
    assert result.size == 200
    assert np.isnan(result).sum() - np.isnan(rank).sum() == round(0.25 * 180)
    kept = ~np.isnan(result)
    np.testing.assert_array_equal(result[kept], rank[kept])


def test_field_filter_keeps_ranks_of_matching_rows_only():
    result = FieldEquals("category", "Brainstorm").apply(TABLE, RANK, None)
    np.testing.assert_array_equal(result, [nan, 2.0, nan, nan, 5.0])


def test_field_filter_accepts_a_list_of_values():
    result = FieldEquals("category", ["Open QA", "Chat"]).apply(TABLE, RANK, None)
    np.testing.assert_array_equal(result, [1.0, nan, nan, 4.0, nan])


def test_field_filter_that_keeps_nothing_lists_the_values_present():
    with pytest.raises(
        DataValidationError, match=r"keeps no rank.*'Brainstorm', 'Chat', 'Open QA'"
    ):
        FieldEquals("category", "Coding").apply(TABLE, RANK, None)


def test_field_filter_names_a_missing_column():
    with pytest.raises(DataValidationError, match=r"needs column\(s\) \['subject'\]"):
        FieldEquals("subject", "x").apply(TABLE, RANK, None)
