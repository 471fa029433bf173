"""Anthropic attributes: which of 25 response qualities does the reward model pay for?

For each pair the reward difference r(A) - r(B) (the chosen side is A or B per ``chosen_choice``)
is regressed by OLS (with intercept) on the 25 attribute labels coded A -> +1, C -> 0, B -> -1.
A positive coefficient means the model rewards having more of that attribute.
"""

from __future__ import annotations

import os

import numpy as np
from sklearn.linear_model import LinearRegression

from responserank.llm.data.sources.anthropic_attributes import (
    ATTRIBUTES,
    load_anthropic_attributes,
)
from responserank.llm.evaluation.base import Scorer

ATTRIBUTE_CODES = {"A": 1.0, "C": 0.0, "B": -1.0}


class AnthropicAttributesSuite:
    """EvalSuite over the attribute set (local file or hub id; read at construction)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        hub_id: str | None = None,
        split: str = "train",
        max_rows: int | None = None,
        name: str = "anthropic_attributes",
    ) -> None:
        self.name = name
        table = load_anthropic_attributes(path, hub_id, split)
        self.table = table.iloc[:max_rows] if max_rows else table

    def evaluate(self, scorer: Scorer) -> dict[str, float]:
        n = len(self.table)
        prompts = list(self.table["prompt"]) * 2
        responses = list(self.table["chosen"]) + list(self.table["rejected"])
        scores = np.asarray(scorer.score(prompts, responses), dtype=float)
        chosen_minus_rejected = scores[:n] - scores[n:]
        sign = np.where(self.table["chosen_choice"].to_numpy() == "A", 1.0, -1.0)
        a_minus_b = sign * chosen_minus_rejected
        coded = self.table[list(ATTRIBUTES)].apply(lambda column: column.map(ATTRIBUTE_CODES))
        features = coded.to_numpy(dtype=float)
        fit = LinearRegression().fit(features, a_minus_b)
        return {
            f"{self.name}/{attribute}": float(coef)
            for attribute, coef in zip(ATTRIBUTES, fit.coef_, strict=True)
        }
