"""RM-Bench: does the reward model prefer the right content regardless of style?

For every id and every (chosen style i, rejected style j) among concise, detailed, markdown, the
model is right when r(chosen_i) > r(rejected_j). Averaging over ids gives a 3x3 matrix M[i][j].
Above the diagonal the rejected answer is more elaborately styled than the chosen one (hard),
on it the styles match (normal), below it the chosen answer has the styling advantage (easy).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from responserank.llm.data.sources.rm_bench import STYLES, load_rm_bench
from responserank.llm.evaluation.base import Scorer, score_pairs, screen_pairs


def style_matrix(table: pd.DataFrame, chosen: np.ndarray, rejected: np.ndarray) -> np.ndarray:
    """M[i][j] = share of ids (having both styles) whose chosen_i outscores rejected_j."""
    frame = table[["id", "type"]].assign(chosen=chosen, rejected=rejected)
    chosen_wide = frame.pivot(index="id", columns="type", values="chosen")
    rejected_wide = frame.pivot(index="id", columns="type", values="rejected")
    matrix = np.full((len(STYLES), len(STYLES)), np.nan)
    for i, chosen_style in enumerate(STYLES):
        for j, rejected_style in enumerate(STYLES):
            if chosen_style not in chosen_wide or rejected_style not in rejected_wide:
                continue
            c, r = chosen_wide[chosen_style], rejected_wide[rejected_style]
            both = c.notna() & r.notna()
            if both.any():
                matrix[i, j] = float(np.mean(c[both] > r[both]))
    return matrix


def summarise_matrix(matrix: np.ndarray) -> dict[str, float]:
    upper = matrix[np.triu_indices(len(STYLES), k=1)]
    lower = matrix[np.tril_indices(len(STYLES), k=-1)]
    metrics = {
        "hard": float(np.nanmean(upper)) if np.isfinite(upper).any() else float("nan"),
        "normal": float(np.nanmean(np.diag(matrix))) if np.isfinite(matrix).any() else float("nan"),
        "easy": float(np.nanmean(lower)) if np.isfinite(lower).any() else float("nan"),
    }
    for i, chosen_style in enumerate(STYLES):
        for j, rejected_style in enumerate(STYLES):
            metrics[f"matrix/{chosen_style}_vs_{rejected_style}"] = float(matrix[i, j])
    return metrics


class RMBenchSuite:
    """EvalSuite over RM-Bench (local file or hub id)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        hub_id: str | None = None,
        split: str = "train",
        max_ids: int | None = None,
        name: str = "rm_bench",
    ) -> None:
        self.name = name
        self.location = {"path": path, "hub_id": hub_id, "split": split}
        self.max_ids = max_ids
        self._table: pd.DataFrame | None = None

    def load_data(self) -> pd.DataFrame:
        """The checked flat table (read once; call early to fail before loading a model)."""
        if self._table is None:
            table = load_rm_bench(**self.location)
            if self.max_ids:
                keep = table["id"].drop_duplicates().iloc[: self.max_ids]
                table = table[table["id"].isin(keep)].reset_index(drop=True)
            self._table = table
        return self._table

    def evaluate(self, scorer: Scorer) -> dict[str, float]:
        """A skipped (identical) or dropped (over-long) row leaves its cells of the matrix out."""
        table = self.load_data()
        screening = screen_pairs(
            scorer, self.name, table["prompt"], table["chosen"], table["rejected"]
        )
        kept = table[screening.keep]
        chosen = np.full(len(table), np.nan)
        rejected = np.full(len(table), np.nan)
        chosen[screening.keep], rejected[screening.keep] = score_pairs(
            scorer, kept["prompt"], kept["chosen"], kept["rejected"], self.name
        )
        matrix = style_matrix(table, chosen, rejected)
        metrics = {f"{self.name}/{k}": v for k, v in summarise_matrix(matrix).items()}
        return {**metrics, **screening.metrics(self.name)}
