"""Look-ups on the cached results table: values per configuration, fraction and metric, by seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Results:
    """The tidy results table of a cache (``cache.COLUMNS``)."""

    frame: pd.DataFrame

    def has_metric(self, metric: str) -> bool:
        return bool((self.frame["metric"] == metric).any())

    def configs(self) -> list[str]:
        return sorted(self.frame["config"].unique())

    def fractions(self, config: str, metric: str) -> list[float]:
        rows = self.frame[(self.frame["config"] == config) & (self.frame["metric"] == metric)]
        return sorted(float(f) for f in rows["fraction"].unique())

    def all_fractions(self) -> list[float]:
        return sorted(float(f) for f in self.frame["fraction"].unique())

    def by_seed(self, config: str, fraction: float, metric: str) -> pd.Series:
        """Values indexed by seed (empty when the cell has no runs)."""
        rows = self.frame[
            (self.frame["config"] == config)
            & np.isclose(self.frame["fraction"], fraction)
            & (self.frame["metric"] == metric)
        ]
        return rows.set_index("seed")["value"].sort_index()

    def values(self, config: str, fraction: float, metric: str) -> np.ndarray:
        return self.by_seed(config, fraction, metric).to_numpy(dtype=float)

    def paired(
        self, baseline: str, other: str, fraction: float, metric: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """Values of both configurations on the seeds they share, in seed order."""
        a = self.by_seed(baseline, fraction, metric)
        b = self.by_seed(other, fraction, metric)
        shared = a.index.intersection(b.index)
        return a.loc[shared].to_numpy(dtype=float), b.loc[shared].to_numpy(dtype=float)
