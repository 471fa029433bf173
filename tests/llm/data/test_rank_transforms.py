"""Rank transforms: hand-computed permutations with preset draws, and their invariants."""

from __future__ import annotations

import numpy as np
import pytest

from responserank.llm.data.strata.rank_transforms import (
    NoTransform,
    PartialShuffle,
    RandomRank,
    permute_within,
)

RANK = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
PARTITION = np.array([0, 0, 1, 1, 1])


def test_no_transform_keeps_ranks():
    np.testing.assert_array_equal(NoTransform().apply(RANK, PARTITION, None), RANK)


def test_random_rank_sorts_each_partition_by_the_random_keys(preset_rng):
    # Partition 0: keys 0.9, 0.1 -> rows in random order 1, 0 -> ranks swap.
    # Partition 1: keys 0.5, 0.2, 0.8 -> rows 3, 2, 4 -> ranks 4, 3, 5.
    rng = preset_rng(random=[0.9, 0.1, 0.5, 0.2, 0.8])
    np.testing.assert_array_equal(RandomRank().apply(RANK, PARTITION, rng), [2, 1, 4, 3, 5])


def test_partial_shuffle_only_moves_selected_rows(preset_rng):
    # round(0.6 * 5) = 3 rows selected: 0, 2, 3. Row 0 is alone in partition 0 -> unchanged;
    # rows 2, 3 get keys 0.7, 0.3 -> their ranks swap; rows 1, 4 are not selected.
    rng = preset_rng(random=[0.2, 0.7, 0.3], choice_order=[0, 2, 3, 1, 4])
    np.testing.assert_array_equal(PartialShuffle(0.6).apply(RANK, PARTITION, rng), [1, 2, 4, 3, 5])


@pytest.mark.parametrize("transform", [PartialShuffle(0.5), PartialShuffle(1.0), RandomRank()])
def test_ranks_move_only_within_partitions(transform):
    rng = np.random.default_rng(0)
    partition = np.repeat(np.arange(20), 5)
    rank = rng.permutation(100).astype(np.float64)
    result = transform.apply(rank, partition, np.random.default_rng(1))
    for p in range(20):
        members = partition == p
        assert sorted(result[members]) == sorted(rank[members])
    assert not np.array_equal(result, rank)


def test_partial_shuffle_changes_at_most_the_selected_fraction():
    partition = np.repeat(np.arange(50), 4)
    rank = np.arange(200.0)
    result = PartialShuffle(0.25).apply(rank, partition, np.random.default_rng(2))
    assert 0 < (result != rank).sum() <= 50


def test_partial_shuffle_zero_is_identity_and_seeded():
    rank = np.arange(10.0)
    partition = np.zeros(10, dtype=np.int64)
    np.testing.assert_array_equal(
        PartialShuffle(0.0).apply(rank, partition, np.random.default_rng(0)), rank
    )
    first = PartialShuffle(0.5).apply(rank, partition, np.random.default_rng(7))
    again = PartialShuffle(0.5).apply(rank, partition, np.random.default_rng(7))
    np.testing.assert_array_equal(first, again)


def test_permute_within_without_selection_is_identity(preset_rng):
    selected = np.zeros(5, dtype=bool)
    np.testing.assert_array_equal(
        permute_within(RANK, PARTITION, selected, preset_rng(random=[])), RANK
    )


def test_fraction_out_of_range_is_rejected():
    with pytest.raises(ValueError, match="fraction"):
        PartialShuffle(1.5)
