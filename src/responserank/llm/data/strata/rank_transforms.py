"""Rank transforms (ablations): permute ranks inside partitions to destroy part of the signal.

``apply(rank, partition, rng)`` receives only ranked rows; the multiset of ranks in each partition
is unchanged, so a tie-free partition stays tie-free. Each class is built from the Hydra group
``rank_transform`` (``experiment.train_rank_transform``).
"""

from __future__ import annotations

import numpy as np


def permute_within(
    rank: np.ndarray, partition: np.ndarray, selected: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Randomly permute the ranks of the ``selected`` rows among themselves, per partition."""
    rows = np.flatnonzero(selected)
    groups = partition[rows]
    in_place = np.lexsort((np.arange(rows.size), groups))
    shuffled = np.lexsort((rng.random(rows.size), groups))
    result = rank.copy()
    result[rows[in_place]] = rank[rows[shuffled]]
    return result


class NoTransform:
    """Leave the ranks as they are."""

    def apply(
        self, rank: np.ndarray, partition: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return rank.copy()


class PartialShuffle:
    """Pick round(fraction * n) ranked rows at random and permute their ranks within partitions."""

    def __init__(self, fraction: float) -> None:
        if not 0.0 <= fraction <= 1.0:
            raise ValueError(f"partial_shuffle fraction must be in [0, 1], got {fraction}")
        self.fraction = fraction

    def apply(
        self, rank: np.ndarray, partition: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        selected = np.zeros(rank.size, dtype=bool)
        selected[rng.choice(rank.size, size=round(self.fraction * rank.size), replace=False)] = True
        return permute_within(rank, partition, selected, rng)


class RandomRank:
    """A random permutation of the ranks inside every partition."""

    def apply(
        self, rank: np.ndarray, partition: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        return permute_within(rank, partition, np.ones(rank.size, dtype=bool), rng)
