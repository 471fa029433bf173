"""Every strength signal on a small explicit table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responserank.errors import DataValidationError
from responserank.llm.data.signals.strength import (
    Agreement,
    ColumnRank,
    Consensus,
    DirectionalAgreement,
    NoSignal,
    RealResponseTime,
    StatedStrength,
)

TABLE = pd.DataFrame(
    {
        "response_time": [12.0, 3.0, 40.0],
        "agreement_score": [1.0, 0.5, 0.25],
        "agreement_directional": [1.0, -0.5, 0.25],
        "consensus": [0.75, -0.25, 0.0],
        "stated_strength": ["clearly", "slightly", "clearly"],
    }
)


@pytest.mark.parametrize(
    ("signal", "expected"),
    [
        (RealResponseTime(), [12.0, 3.0, 40.0]),
        (Agreement(), [-1.0, -0.5, -0.25]),
        (DirectionalAgreement(), [-1.0, 0.5, -0.25]),
        (Consensus(), [-0.75, 0.25, 0.0]),
        (StatedStrength(), [0.0, 1.0, 0.0]),
    ],
)
def test_ranks(signal, expected):
    np.testing.assert_array_equal(signal.ranks(TABLE), expected)


def test_no_signal_leaves_every_row_unranked():
    assert np.isnan(NoSignal().ranks(TABLE)).all()


def test_directional_agreement_ranks_a_contrarian_label_weak():
    # Row 1 picked the minority side: the published agreement calls it fairly strong (-0.5),
    # the directional variant puts it behind both other rows.
    ranks = DirectionalAgreement().ranks(TABLE)
    assert ranks[1] == ranks.max()
    assert Agreement().ranks(TABLE)[1] < Agreement().ranks(TABLE)[2]


def test_missing_field_names_the_signal_and_the_column():
    with pytest.raises(
        DataValidationError, match=r"signal real_rt needs column\(s\) \['response_time'\]"
    ):
        RealResponseTime().ranks(TABLE.drop(columns="response_time"))


def test_unknown_stated_strength_is_an_error():
    table = TABLE.assign(stated_strength=["clearly", "somewhat", "clearly"])
    with pytest.raises(DataValidationError, match=r"row 1 has stated_strength 'somewhat'"):
        StatedStrength().ranks(table)


def test_column_rank_leaves_listed_values_unranked():
    table = pd.DataFrame({"seconds": [0.0, 3.0, 12.0, 0.0, np.nan]})
    ranks = ColumnRank("seconds", unranked_values=[0]).ranks(table)
    np.testing.assert_array_equal(ranks, [np.nan, 3.0, 12.0, np.nan, np.nan])
    np.testing.assert_array_equal(
        ColumnRank("seconds", descending=True).ranks(table), [-0.0, -3.0, -12.0, -0.0, np.nan]
    )
    assert table["seconds"].iloc[0] == 0.0  # the table is not changed


@given(
    st.lists(st.floats(0.0, 100.0, allow_nan=False), min_size=1, max_size=40),
    st.integers(0, 2**31),
)
@settings(max_examples=50, deadline=None)
def test_column_rank_permutation_keeps_the_ranked_rows_and_values(values, seed):
    table = pd.DataFrame({"seconds": values})
    plain = ColumnRank("seconds", unranked_values=[0]).ranks(table)
    permuted = ColumnRank("seconds", unranked_values=[0], permute_seed=seed).ranks(table)
    np.testing.assert_array_equal(np.isnan(plain), np.isnan(permuted))
    ranked = ~np.isnan(plain)
    np.testing.assert_array_equal(np.sort(plain[ranked]), np.sort(permuted[ranked]))
    again = ColumnRank("seconds", unranked_values=[0], permute_seed=seed).ranks(table)
    np.testing.assert_array_equal(permuted, again)


def test_column_rank_permutation_breaks_the_link_to_the_rows():
    table = pd.DataFrame({"seconds": np.arange(1.0, 201.0)})
    ranks = {s: ColumnRank("seconds", permute_seed=s).ranks(table) for s in (1, 2)}
    assert not np.array_equal(ranks[1], table["seconds"].to_numpy())
    assert not np.array_equal(ranks[1], ranks[2])
