"""LIE test: how much a reward model pays for length versus correctness.

Each of the 160 test rows holds four full-transcript responses to one question (correct/incorrect
x concise/detailed). All 640 rewards are regressed by ordinary least squares on [is_detailed,
is_correct] with an intercept; the coefficients are the length and correctness weights and their
ratio (correctness / length) is what RAPL aims to raise over BT.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from responserank.llm.data.sources.lie import RESPONSE_TYPES, load_lie_test
from responserank.llm.evaluation.base import Scorer, score_texts, screen_rows

# (is_detailed, is_correct) of each response column.
_FEATURES = {
    "correct_concise": (0.0, 1.0),
    "correct_detailed": (1.0, 1.0),
    "incorrect_concise": (0.0, 0.0),
    "incorrect_detailed": (1.0, 0.0),
}


def length_correctness_weights(rewards: dict[str, np.ndarray]) -> dict[str, float]:
    """OLS of reward on [is_detailed, is_correct] (+ intercept) over the four response types."""
    x = np.concatenate([np.tile(_FEATURES[t], (len(rewards[t]), 1)) for t in RESPONSE_TYPES])
    y = np.concatenate([np.asarray(rewards[t], dtype=float) for t in RESPONSE_TYPES])
    fit = LinearRegression().fit(x, y)
    length_weight, correctness_weight = (float(c) for c in fit.coef_)
    ratio = correctness_weight / length_weight if length_weight != 0 else float("nan")
    return {
        "length_weight": length_weight,
        "correctness_weight": correctness_weight,
        "ratio": ratio,
        "intercept": float(fit.intercept_),
    }


def correct_over_incorrect(rewards: dict[str, np.ndarray]) -> dict[str, float]:
    """How often a question's correct response out-rewards its incorrect one (ties count as wrong).

    ``accuracy``: over the four (correct, incorrect) pairings of each question (4n pairs);
    ``accuracy_same_length``: over the two pairings of equal length (concise vs concise, detailed
    vs detailed; 2n pairs), where a length preference cannot decide the order.
    """
    wins = {
        (good, bad): np.asarray(rewards[f"correct_{good}"])
        > np.asarray(rewards[f"incorrect_{bad}"])
        for good in ("concise", "detailed")
        for bad in ("concise", "detailed")
    }
    same = [wins[("concise", "concise")], wins[("detailed", "detailed")]]
    return {
        "accuracy": float(np.mean(np.concatenate(list(wins.values())))),
        "accuracy_same_length": float(np.mean(np.concatenate(same))),
    }


class LieTestSuite:
    """EvalSuite over ``LIE_dataset_test.csv`` (path null: ``$RR_DATA_DIR/lie``)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        max_rows: int | None = None,
        name: str = "lie_test",
    ) -> None:
        self.name = name
        self.path = path
        self.max_rows = max_rows
        self._table: pd.DataFrame | None = None

    def load_data(self) -> pd.DataFrame:
        """The checked test rows (read once; call early to fail before loading a model)."""
        if self._table is None:
            table = load_lie_test(self.path)
            self._table = table.iloc[: self.max_rows] if self.max_rows else table
        return self._table

    def evaluate(self, scorer: Scorer) -> dict[str, float]:
        """A row with an over-long response is scored truncated and counted, or dropped whole."""
        table = self.load_data()
        texts = [text for t in RESPONSE_TYPES for text in table[t]]
        row_of = np.tile(np.arange(len(table)), len(RESPONSE_TYPES))
        screening = screen_rows(scorer, self.name, [""] * len(texts), texts, row_of, len(table))
        table = table[screening.keep]
        n = len(table)
        texts = [text for t in RESPONSE_TYPES for text in table[t]]
        scores = score_texts(scorer, [""] * len(texts), texts, self.name)
        rewards = {t: scores[i * n : (i + 1) * n] for i, t in enumerate(RESPONSE_TYPES)}
        metrics = {**length_correctness_weights(rewards), **correct_over_incorrect(rewards)}
        metrics.update({f"mean_reward/{t}": float(np.mean(rewards[t])) for t in RESPONSE_TYPES})
        metrics = {f"{self.name}/{key}": value for key, value in metrics.items()}
        return {**metrics, **screening.metrics(self.name)}
