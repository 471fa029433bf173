"""Soft targets for soft-label Bradley-Terry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from responserank.errors import DataValidationError
from responserank.llm.data.signals.targets import HardTarget, StrengthTarget

TABLE = pd.DataFrame(
    {
        "agreement_score": [1.0, 0.5, 0.0],
        "agreement_directional": [1.0, -0.5, 0.0],
        "consensus": [0.75, -0.25, 0.0],
    }
)


def test_hard_target_is_one():
    np.testing.assert_array_equal(HardTarget().values(TABLE), [1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("agreement_score", [1.0, 0.75, 0.5]),
        ("agreement_directional", [1.0, 0.25, 0.5]),
        ("consensus", [0.875, 0.375, 0.5]),
    ],
)
def test_strength_targets(field, expected):
    np.testing.assert_allclose(StrengthTarget(field).values(TABLE), expected)


def test_strength_target_names_a_missing_column():
    with pytest.raises(DataValidationError, match="agreement_score"):
        StrengthTarget("agreement_score").values(TABLE.drop(columns="agreement_score"))
