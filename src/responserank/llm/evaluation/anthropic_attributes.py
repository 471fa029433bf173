"""Anthropic attributes: which of 25 response qualities does the reward model pay for?

For each pair the reward difference r(A) - r(B) (the chosen side is A or B per ``chosen_choice``)
is regressed by OLS (with intercept) on the 25 attribute labels coded A -> +1, C -> 0, B -> -1.
A positive coefficient means the model rewards having more of that attribute.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from responserank.llm.data.sources.anthropic_attributes import (
    ATTRIBUTES,
    load_anthropic_attributes,
)
from responserank.llm.evaluation.base import Scorer, score_pairs, screen_pairs

ATTRIBUTE_CODES = {"A": 1.0, "C": 0.0, "B": -1.0}


class AnthropicAttributesSuite:
    """EvalSuite over the attribute set (local file or hub id)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        hub_id: str | None = None,
        split: str = "train",
        max_rows: int | None = None,
        name: str = "anthropic_attributes",
    ) -> None:
        self.name = name
        self.location = {"path": path, "hub_id": hub_id, "split": split}
        self.max_rows = max_rows
        self._table: pd.DataFrame | None = None

    def load_data(self) -> pd.DataFrame:
        """The checked rows (read once; call early to fail before loading a model)."""
        if self._table is None:
            table = load_anthropic_attributes(**self.location)
            self._table = table.iloc[: self.max_rows] if self.max_rows else table
        return self._table

    def evaluate(self, scorer: Scorer) -> dict[str, float]:
        table = self.load_data()
        screening = screen_pairs(
            scorer, self.name, table["prompt"], table["chosen"], table["rejected"]
        )
        table = table[screening.keep]
        chosen, rejected = score_pairs(
            scorer, table["prompt"], table["chosen"], table["rejected"], self.name
        )
        chosen_minus_rejected = chosen - rejected
        sign = np.where(table["chosen_choice"].to_numpy() == "A", 1.0, -1.0)
        a_minus_b = sign * chosen_minus_rejected
        coded = table[list(ATTRIBUTES)].apply(lambda column: column.map(ATTRIBUTE_CODES))
        features = coded.to_numpy(dtype=float)
        fit = LinearRegression().fit(features, a_minus_b)
        metrics = {
            f"{self.name}/{attribute}": float(coef)
            for attribute, coef in zip(ATTRIBUTES, fit.coef_, strict=True)
        }
        return {**metrics, **screening.metrics(self.name)}
