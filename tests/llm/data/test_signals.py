"""Every strength signal on a small explicit table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from responserank.errors import DataValidationError
from responserank.llm.data.signals.strength import (
    Agreement,
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
