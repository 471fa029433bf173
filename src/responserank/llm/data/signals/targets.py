"""Soft labels P(chosen wins) for soft-target Bradley-Terry presets.

Each class is built from the Hydra group ``target`` (``experiment.train_target``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from responserank.errors import require_columns


class HardTarget:
    """Target 1.0: the chosen response wins."""

    def values(self, table: pd.DataFrame) -> np.ndarray:
        return np.ones(len(table))


class StrengthTarget:
    """Target 0.5 + 0.5 * column ``field`` for a strength on [-1, 1] (``agreement_score`` as
    published, ``agreement_directional``, or ``consensus`` for the mean-preference variant)."""

    def __init__(self, field: str) -> None:
        self.field = field

    def values(self, table: pd.DataFrame) -> np.ndarray:
        require_columns(f"target from '{self.field}'", table.columns, [self.field])
        strength = table[self.field].to_numpy(dtype=np.float64)
        return np.clip(0.5 + 0.5 * strength, 0.0, 1.0)
