"""Properties of the partition-aware batch sampler."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responserank.llm.data.batching.packing import PartitionBatchSampler, cohesion_stats


def _partitions(sizes: list[int]) -> np.ndarray:
    """Partition ids for items laid out partition by partition, then shuffled."""
    ids = np.repeat(np.arange(len(sizes)), sizes)
    return np.random.default_rng(0).permutation(ids)


sizes_strategy = st.lists(st.integers(1, 12), min_size=1, max_size=40)


def _epoch(sampler: PartitionBatchSampler, epoch: int) -> list[list[int]]:
    sampler.set_epoch(epoch)
    return list(sampler)


@settings(max_examples=60, deadline=None)
@given(sizes=sizes_strategy, batch_size=st.integers(1, 16), epoch=st.integers(0, 5))
def test_every_item_exactly_once_per_epoch(sizes, batch_size, epoch):
    partitions = _partitions(sizes)
    sampler = PartitionBatchSampler(partitions, batch_size=batch_size, seed=3)
    batches = _epoch(sampler, epoch)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(partitions.size))
    assert all(1 <= len(b) <= batch_size for b in batches)
    assert len(batches) == len(sampler)


@settings(max_examples=60, deadline=None)
@given(sizes=sizes_strategy, batch_size=st.integers(1, 16))
def test_partitions_that_fit_stay_whole(sizes, batch_size):
    partitions = _partitions(sizes)
    batches = _epoch(PartitionBatchSampler(partitions, batch_size=batch_size, seed=1), 0)
    batches_of = {
        p: {k for k, b in enumerate(batches) if p in set(partitions[b])}
        for p in set(partitions.tolist())
    }
    for pid, size in enumerate(sizes):
        if size <= batch_size:
            assert len(batches_of[pid]) == 1, f"partition {pid} of size {size} was split"
        else:
            # split only into full batches plus one remainder fragment
            assert len(batches_of[pid]) == -(-size // batch_size)


def test_best_fit_fills_gaps_with_smaller_partitions():
    # 10 + 6 and 9 + 7 fit exactly into batches of 16; a first-fit order by index would not.
    partitions = _partitions([10, 9, 7, 6])
    batches = _epoch(PartitionBatchSampler(partitions, batch_size=16, seed=0), 0)
    assert sorted(len(b) for b in batches) == [16, 16]


def test_reshuffles_every_epoch_and_is_reproducible():
    partitions = _partitions([3] * 30 + [1] * 20)
    sampler = PartitionBatchSampler(partitions, batch_size=8, seed=7)
    first, second = _epoch(sampler, 0), _epoch(sampler, 1)
    assert first != second
    assert {frozenset(b) for b in first} != {frozenset(b) for b in second}, "same batches re-used"
    assert _epoch(PartitionBatchSampler(partitions, batch_size=8, seed=7), 1) == second
    assert _epoch(PartitionBatchSampler(partitions, batch_size=8, seed=8), 1) != second


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 8), min_size=4, max_size=40),
    batch_size=st.integers(2, 12),
    world=st.integers(2, 4),
    epoch=st.integers(0, 3),
)
def test_rank_shards_are_disjoint_equal_and_keep_partitions(sizes, batch_size, world, epoch):
    partitions = _partitions(sizes)
    shards = [
        _epoch(
            PartitionBatchSampler(partitions, batch_size, seed=5, num_replicas=world, rank=r), epoch
        )
        for r in range(world)
    ]
    assert len({len(s) for s in shards}) == 1, "ranks must step in lockstep"
    flat = [i for s in shards for b in s for i in b]
    assert sorted(flat) == list(range(partitions.size))
    rank_of_partition: dict[int, set[int]] = {}
    for r, shard in enumerate(shards):
        for b in shard:
            for p in set(partitions[b].tolist()):
                rank_of_partition.setdefault(p, set()).add(r)
    # Equal batch counts may force at most world - 1 extra cuts; they go between partitions when
    # any batch holds more than one, so a partition that fits is rarely cut at all.
    split = [
        p for p, size in enumerate(sizes) if size <= batch_size and len(rank_of_partition[p]) > 1
    ]
    assert len(split) <= world - 1


def test_equalising_batch_counts_cuts_between_partitions_first():
    # Best fit gives [2], [1, 1], [1]; two ranks need four batches: cut [1, 1], not [2].
    partitions = _partitions([1, 1, 1, 2])
    shards = [
        _epoch(PartitionBatchSampler(partitions, 2, seed=0, num_replicas=2, rank=r), 0)
        for r in range(2)
    ]
    pair = set(np.flatnonzero(partitions == 3).tolist())
    assert any(set(b) == pair for shard in shards for b in shard)


def test_too_few_items_for_processes_is_an_error():
    with pytest.raises(ValueError, match="same number of batches"):
        PartitionBatchSampler([0], batch_size=4, seed=0, num_replicas=2)


def test_cohesion_stats_count_fragments():
    partitions = np.array([0, 0, 0, 1, 1, 2])
    stats = cohesion_stats([[0, 1], [2, 3, 4], [5]], partitions, batch_size=3)
    assert stats.num_partitions == 3
    assert stats.share_partitions_intact == pytest.approx(2 / 3)
    assert stats.mean_fragments_per_partition == pytest.approx(4 / 3)
    assert stats.max_fragments_per_partition == 2
    assert stats.mean_batch_fill == pytest.approx(6 / 9)


def test_packing_counts_are_stable_across_epochs():
    partitions = _partitions([5, 5, 4, 3, 3, 2, 1, 1, 1, 9, 17])
    sampler = PartitionBatchSampler(partitions, batch_size=6, seed=2, num_replicas=3, rank=1)
    lengths = Counter(len(_epoch(sampler, e)) for e in range(6))
    assert list(lengths) == [len(sampler)]
