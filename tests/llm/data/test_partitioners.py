"""Partitioners: hand-computed cases and properties (tie-free, full cover, within strata)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from responserank.llm.data.prepare import assign_partitions
from responserank.llm.data.strata.partitioners import (
    AutoRoundRobinPartitioner,
    NoopPartitioner,
    RandomSizePartitioner,
    RoundRobinPartitioner,
)


def _partitions(partitioner, rank, stratum, seed=0):
    rank = np.asarray(rank, dtype=np.float64)
    stratum = np.asarray(stratum, dtype=object)
    return assign_partitions(partitioner, rank, stratum, np.random.default_rng(seed)).tolist()


def test_noop_is_one_partition_per_stratum():
    assert _partitions(NoopPartitioner(), [3, 1, 2, 5], ["a", "b", "a", "b"]) == [0, 1, 0, 1]


def test_unranked_rows_become_unique_singletons():
    nan = np.nan
    assert _partitions(NoopPartitioner(), [1, nan, 2, nan], ["g"] * 4) == [0, 1, 0, 2]


def test_round_robin_deals_rank_sorted_items():
    # Stratum s: ranks 5, 1, 4, 2, 3 -> K = ceil(5 / 2) = 3; sorted rows 1, 3, 4, 2, 0 are dealt
    # to sub-partitions 0, 1, 2, 0, 1: {1, 2} (ranks 1, 4), {3, 0} (ranks 2, 5), {4} (rank 3).
    # Stratum t (rows 5, 6) fits one partition. Ids are numbered by first appearance.
    rank = [5, 1, 4, 2, 3, 7, 6]
    stratum = ["s"] * 5 + ["t"] * 2
    assert _partitions(RoundRobinPartitioner(2), rank, stratum) == [0, 1, 1, 0, 2, 3, 3]


def test_round_robin_auto_separates_every_tie_group():
    # Largest tie group has 3 members (rank 1) -> K = 3: {0, 3}, {1, 4}, {2, 5}.
    rank = [1, 1, 1, 2, 2, 3]
    assert _partitions(AutoRoundRobinPartitioner(), rank, ["g"] * 6) == [0, 1, 2, 0, 1, 2]


def test_round_robin_auto_without_ties_is_one_partition_per_stratum():
    assert _partitions(AutoRoundRobinPartitioner(), [4, 2, 3, 1], ["a", "a", "b", "b"]) == [
        0,
        0,
        1,
        1,
    ]


def test_round_robin_auto_with_target_size_makes_more_partitions():
    # Largest tie group 2, n = 6, target_size 2 -> K = max(2, 3) = 3; sorted rows 0..5 dealt
    # 0, 1, 2, 0, 1, 2: {0, 3} ranks (1, 2), {1, 4} ranks (1, 3), {2, 5} ranks (2, 4).
    rank = [1, 1, 2, 2, 3, 4]
    assert _partitions(AutoRoundRobinPartitioner(2), rank, ["g"] * 6) == [0, 1, 2, 0, 1, 2]
    # A larger target never undercuts the tie-free K.
    assert _partitions(AutoRoundRobinPartitioner(10), rank, ["g"] * 6) == [0, 1, 0, 1, 0, 1]


def test_random_size_cuts_shuffled_rows_into_groups_ignoring_strata():
    rank = np.arange(7.0)
    stratum = ["a", "b"] * 3 + ["a"]
    partition = np.array(_partitions(RandomSizePartitioner(2), rank, stratum, seed=1))
    assert sorted(np.bincount(partition).tolist()) == [1, 2, 2, 2]
    assert _partitions(RandomSizePartitioner(2), rank, stratum, seed=1) == partition.tolist()
    groupings = {
        tuple(_partitions(RandomSizePartitioner(2), rank, stratum, seed=s)) for s in range(5)
    }
    assert len(groupings) > 1


def test_empty_input_gives_no_partitions():
    for partitioner in (RoundRobinPartitioner(2), AutoRoundRobinPartitioner(), NoopPartitioner()):
        assert _partitions(partitioner, [], []) == []


rows = st.lists(
    st.tuples(st.sampled_from("abc"), st.integers(0, 5) | st.just(None)), min_size=1, max_size=60
)


def _unpack(items):
    rank = np.array([np.nan if r is None else float(r) for _, r in items])
    stratum = np.array([s for s, _ in items], dtype=object)
    return rank, stratum


def _check_common(rank, stratum, partition):
    assert partition.shape == rank.shape  # every row gets exactly one partition
    ranked = ~np.isnan(rank)
    for p in np.unique(partition):
        members = partition == p
        if not ranked[members].all():
            assert members.sum() == 1  # unranked rows are singletons
        assert len(set(stratum[members])) == 1  # partitions never cross strata
    assert np.array_equal(np.unique(partition), np.arange(partition.max() + 1))


@settings(max_examples=150, deadline=None)
@given(rows, st.none() | st.integers(1, 6))
def test_round_robin_auto_partitions_are_tie_free_and_within_strata(items, target_size):
    rank, stratum = _unpack(items)
    partition = assign_partitions(AutoRoundRobinPartitioner(target_size), rank, stratum, None)
    _check_common(rank, stratum, partition)
    ranked = ~np.isnan(rank)
    for p in np.unique(partition[ranked]):
        values = rank[partition == p]
        assert len(set(values)) == values.size  # tie-free
    for s in set(stratum[ranked]):
        in_stratum = ranked & (stratum == s)
        expected = max(np.unique(rank[in_stratum], return_counts=True)[1])
        if target_size is not None:
            expected = max(expected, -(-in_stratum.sum() // target_size))
        assert np.unique(partition[in_stratum]).size == expected


@settings(max_examples=150, deadline=None)
@given(rows, st.integers(1, 6))
def test_round_robin_sizes_stay_within_one_of_each_other(items, target_size):
    rank, stratum = _unpack(items)
    partition = assign_partitions(RoundRobinPartitioner(target_size), rank, stratum, None)
    _check_common(rank, stratum, partition)
    ranked = ~np.isnan(rank)
    for s in set(stratum[ranked]):
        in_stratum = ranked & (stratum == s)
        sizes = np.unique(partition[in_stratum], return_counts=True)[1]
        assert sizes.size == -(-in_stratum.sum() // target_size)
        assert sizes.max() - sizes.min() <= 1


@settings(max_examples=100, deadline=None)
@given(rows)
def test_noop_is_one_partition_per_stratum_property(items):
    rank, stratum = _unpack(items)
    partition = assign_partitions(NoopPartitioner(), rank, stratum, None)
    _check_common(rank, stratum, partition)
    ranked = ~np.isnan(rank)
    assert np.unique(partition[ranked]).size == len(set(stratum[ranked]))
