"""Rank filters (ablations): remove the rank of some rows, which then train as singletons.

Each class is built from the Hydra group ``filter`` (``experiment.train_filter``); ``apply`` returns
a new rank array and never drops rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from responserank.errors import DataValidationError, require_columns


class NoFilter:
    """Keep every rank."""

    def apply(self, table: pd.DataFrame, rank: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rank.copy()


ROUNDING = {"round": round, "floor": math.floor}


class RandomFilter:
    """Remove the ranks of ``rounding(fraction * n)`` randomly chosen ranked rows.

    ``rounding="floor"`` removes exactly floor(fraction * n), as the published runs did; the
    default rounds to the nearest count (the two differ by at most one row).
    """

    def __init__(self, fraction: float, rounding: str = "round") -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"filter fraction must be in [0, 1], got {fraction}")
        if rounding not in ROUNDING:
            raise ValueError(f"filter rounding must be one of {sorted(ROUNDING)}, got {rounding!r}")
        self.fraction = fraction
        self.rounding = rounding

    def apply(self, table: pd.DataFrame, rank: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        ranked = np.flatnonzero(~np.isnan(rank))
        count = int(ROUNDING[self.rounding](self.fraction * ranked.size))
        removed = rng.choice(ranked, size=count, replace=False)
        result = rank.copy()
        result[removed] = np.nan
        return result


class FieldEquals:
    """Keep ranks only where column ``field`` equals ``value`` (or is one of a list of values)."""

    def __init__(self, field: str, value: Any) -> None:
        self.field = field
        self.values = (
            list(value) if isinstance(value, Sequence) and not isinstance(value, str) else [value]
        )

    def apply(self, table: pd.DataFrame, rank: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        require_columns(f"filter on field '{self.field}'", table.columns, [self.field])
        keep = table[self.field].isin(self.values).to_numpy()
        if not keep.any():
            present = sorted(map(str, table[self.field].dropna().unique()))
            raise DataValidationError(
                f"filter on field '{self.field}' keeps no rank: no row has a value in "
                f"{self.values}; values present: {present}"
            )
        return np.where(keep, rank, np.nan)
