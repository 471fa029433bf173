"""Strength signals: each maps a comparison table to a rank per row (lower = stronger preference).

NaN means "no rank": the row trains as its own singleton partition (a plain Bradley-Terry term).
Each class is built from the Hydra group ``signal`` (``experiment.train_signal``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pandas as pd

from responserank.errors import DataValidationError, require_columns
from responserank.llm.data.signals.labels import CLEARLY, SLIGHTLY
from responserank.seeding import step_rng


class RealResponseTime:
    """Rank = the annotator's response time in seconds: a faster decision is a stronger one."""

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        require_columns("signal real_rt", table.columns, ["response_time"])
        return table["response_time"].to_numpy(dtype=np.float64)


class Agreement:
    """Rank = -agreement_score, the published variant: it ignores which side the majority took,
    so an annotation contradicting a strong majority still counts as a strong preference."""

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        require_columns("signal agreement", table.columns, ["agreement_score"])
        return -table["agreement_score"].to_numpy(dtype=np.float64)


class DirectionalAgreement:
    """Rank = -agreement signed towards the chosen side, so a label that contradicts the majority
    gets a weak (positive) rank instead of a strong one."""

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        require_columns("signal agreement_directional", table.columns, ["agreement_directional"])
        return -table["agreement_directional"].to_numpy(dtype=np.float64)


class Consensus:
    """Rank = -(mean preference of all annotators, oriented to the chosen side)."""

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        require_columns("signal consensus", table.columns, ["consensus"])
        return -table["consensus"].to_numpy(dtype=np.float64)


class StatedStrength:
    """Rank from the annotator's own words: clearly better -> 0, slightly better -> 1."""

    RANKS: ClassVar[dict[str, float]] = {CLEARLY: 0.0, SLIGHTLY: 1.0}

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        require_columns("signal stated_strength", table.columns, ["stated_strength"])
        ranks = table["stated_strength"].map(self.RANKS).to_numpy(dtype=np.float64)
        unknown = np.flatnonzero(np.isnan(ranks))
        if unknown.size:
            value = table["stated_strength"].iloc[unknown[0]]
            raise DataValidationError(
                f"signal stated_strength: row {unknown[0]} has stated_strength {value!r}; "
                f"expected one of {sorted(self.RANKS)}"
            )
        return ranks


class StrengthRank:
    """Rank = the data's own ``strength_rank`` column (lower = stronger), e.g. a rank column of a
    ``dataset=hf_preference`` table."""

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        require_columns("signal rank_column", table.columns, ["strength_rank"])
        return table["strength_rank"].to_numpy(dtype=np.float64)


class NoSignal:
    """No strength information: every row is unranked (plain Bradley-Terry training)."""

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        return np.full(len(table), np.nan)


class ColumnRank:
    """Rank = the value of a numeric ``column`` (e.g. LIE's ``raw_decision_time``: a faster
    decision is a stronger one); ``descending=True`` ranks larger values as stronger. A missing
    value, or one listed in ``unranked_values`` (e.g. ``[0]`` for LIE decision times that were
    never measured), leaves its row unranked.

    ``permute_seed`` (control): the values of the ranked rows are randomly permuted among those
    rows (stream ``step_rng(permute_seed, "column_rank_permutation")``), so the same rows are
    ranked with the same multiset of values but no link to their own comparison.
    """

    def __init__(
        self,
        column: str,
        descending: bool = False,
        unranked_values: Sequence[float] = (),
        permute_seed: int | None = None,
    ) -> None:
        self.column = column
        self.descending = descending
        self.unranked_values = [float(v) for v in unranked_values]
        self.permute_seed = permute_seed

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        require_columns(f"signal column_rank ({self.column})", table.columns, [self.column])
        values = pd.to_numeric(table[self.column], errors="coerce").to_numpy(dtype=np.float64)
        text = table[self.column].notna() & np.isnan(values)
        if text.any():
            row = int(np.flatnonzero(text.to_numpy())[0])
            raise DataValidationError(
                f"signal column_rank: row {row} has {self.column}={table[self.column].iloc[row]!r}; "
                "expected a number"
            )
        values = values.copy()
        values[np.isin(values, self.unranked_values)] = np.nan
        if self.permute_seed is not None:
            ranked = np.flatnonzero(~np.isnan(values))
            rng = step_rng(int(self.permute_seed), "column_rank_permutation")
            values[ranked] = values[rng.permutation(ranked)]
        return -values if self.descending else values
