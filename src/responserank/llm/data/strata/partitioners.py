"""Partitioners: split the ranked rows of each stratum into the groups the ResponseRank loss ranks.

``assign(rank, stratum, rng)`` receives only ranked rows and returns an integer group label per row
(labels are renumbered afterwards). Each class is built from the Hydra group ``partitioner``
(``experiment.train_partitioner``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _stratum_codes(stratum: np.ndarray) -> np.ndarray:
    return pd.factorize(pd.Series(stratum, dtype=object), sort=True)[0].astype(np.int64)


def _positions_by_rank(rank: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row order sorted by (stratum, rank, row), and each row's position inside its stratum."""
    order = np.lexsort((np.arange(rank.size), rank, codes))
    sorted_codes = codes[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_codes)) + 1]
    sizes = np.diff(np.r_[starts, sorted_codes.size])
    position = np.empty(rank.size, dtype=np.int64)
    position[order] = np.arange(rank.size) - np.repeat(starts, sizes)
    return order, position


def _deal(
    codes: np.ndarray, position: np.ndarray, partitions_per_stratum: np.ndarray
) -> np.ndarray:
    """Deal the rank-sorted rows of each stratum round-robin over its K sub-partitions."""
    sub = position % partitions_per_stratum[codes]
    return codes * int(partitions_per_stratum.max(initial=1)) + sub


class NoopPartitioner:
    """One partition per stratum."""

    def assign(self, rank: np.ndarray, stratum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _stratum_codes(stratum)


class RoundRobinPartitioner:
    """Sort each stratum by rank and deal it over K = ceil(n / target_size) sub-partitions, so each
    holds about ``target_size`` rows spread over the whole rank range of the stratum."""

    def __init__(self, target_size: int) -> None:
        if target_size < 1:
            raise ValueError(f"target_size must be >= 1, got {target_size}")
        self.target_size = target_size

    def assign(self, rank: np.ndarray, stratum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rank.size == 0:
            return np.zeros(0, dtype=np.int64)
        codes = _stratum_codes(stratum)
        _, position = _positions_by_rank(rank, codes)
        sizes = np.bincount(codes)
        return _deal(codes, position, -(-sizes // self.target_size))


class AutoRoundRobinPartitioner:
    """Round robin with K = size of the stratum's largest group of equal ranks, which puts the
    members of every tie group into different sub-partitions: each sub-partition is tie-free.

    With ``target_size`` set, K = max(largest tie group, ceil(n / target_size)): partitions of about
    ``target_size`` rows (or fewer) that are still tie-free, since any K at least as large as every
    tie group deals the members of a tie group to different sub-partitions.
    """

    def __init__(self, target_size: int | None = None) -> None:
        if target_size is not None and target_size < 1:
            raise ValueError(f"target_size must be >= 1 or null, got {target_size}")
        self.target_size = target_size

    def assign(self, rank: np.ndarray, stratum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rank.size == 0:
            return np.zeros(0, dtype=np.int64)
        codes = _stratum_codes(stratum)
        _, position = _positions_by_rank(rank, codes)
        tie_sizes = pd.DataFrame({"stratum": codes, "rank": rank}).value_counts()
        largest_tie = tie_sizes.groupby(level="stratum").max()
        per_stratum = largest_tie.reindex(np.arange(codes.max() + 1)).to_numpy(dtype=np.int64)
        if self.target_size is not None:
            per_stratum = np.maximum(per_stratum, -(-np.bincount(codes) // self.target_size))
        return _deal(codes, position, per_stratum)


class RandomSizePartitioner:
    """Ignore strata: shuffle all ranked rows and cut them into groups of ``target_size`` (the last
    group may be smaller). The control for round robin: same group sizes, no rank structure."""

    def __init__(self, target_size: int) -> None:
        if target_size < 1:
            raise ValueError(f"target_size must be >= 1, got {target_size}")
        self.target_size = target_size

    def assign(self, rank: np.ndarray, stratum: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        labels = np.empty(rank.size, dtype=np.int64)
        labels[rng.permutation(rank.size)] = np.arange(rank.size) // self.target_size
        return labels
