"""Balanced packing: as many micro-batches as Bradley-Terry, whole partitions, bounded overflow."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responserank.llm.data.batching.packing import PartitionBatchSampler


def _partitions(sizes):
    return np.repeat(np.arange(len(sizes)), sizes)


def _epoch(sampler, epoch):
    sampler.set_epoch(epoch)
    return list(sampler)


def _mean_items(batches):
    return sum(len(b) for b in batches) / len(batches)


def test_equal_partitions_leave_holes_under_capacity_but_not_when_balanced():
    # 200 partitions of 3 in batches of 8: whole partitions fill at most 6 of 8 slots.
    partitions = _partitions([3] * 200)
    bt = PartitionBatchSampler(np.arange(600), batch_size=8, seed=0)
    capacity = PartitionBatchSampler(partitions, batch_size=8, seed=0)
    balanced = PartitionBatchSampler(partitions, batch_size=8, seed=0, packing="balanced")
    bt_mean = _mean_items(_epoch(bt, 0))
    assert _mean_items(_epoch(capacity, 0)) == pytest.approx(6.0)
    assert _mean_items(_epoch(balanced, 0)) >= 0.95 * bt_mean
    assert len(balanced) == len(bt) == 75
    stats = balanced.cohesion(0)
    assert stats.share_partitions_intact == 1.0
    assert stats.largest_batch <= 8 + 3 - 1


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=40),
    batch_size=st.integers(2, 10),
    world=st.integers(1, 3),
    epoch=st.integers(0, 3),
)
def test_balanced_packing_invariants(sizes, batch_size, world, epoch):
    partitions = _partitions(sizes)
    if partitions.size < world:
        return
    ranks = [
        PartitionBatchSampler(
            partitions, batch_size, seed=1, num_replicas=world, rank=r, packing="balanced"
        )
        for r in range(world)
    ]
    per_rank = [_epoch(s, epoch) for s in ranks]
    # Every rank the same number of batches, every item exactly once.
    assert len({len(b) for b in per_rank}) == 1
    assert all(len(b) == len(ranks[0]) for b in per_rank)
    items = sorted(i for batches in per_rank for batch in batches for i in batch)
    assert items == list(range(partitions.size))
    batches = [batch for batches in per_rank for batch in batches]
    assert all(batch for batch in batches)
    # Never more micro-batches than a Bradley-Terry run of the same comparisons.
    bt_batches = -(-partitions.size // batch_size)
    assert len(batches) <= -(-bt_batches // world) * world
    # Partitions that fit a batch stay whole, unless there are too few of them to give every
    # process a batch (then one is split, as under capacity packing).
    batch_of = {i: b for b, batch in enumerate(batches) for i in batch}
    if max(sizes) <= batch_size and len(sizes) >= len(batches):
        for label in range(len(sizes)):
            members = np.flatnonzero(partitions == label)
            assert len({batch_of[int(i)] for i in members}) == 1
    # No batch overflows by a whole partition or more.
    assert max(len(b) for b in batches) < batch_size + max(min(s, batch_size) for s in sizes)


def test_unknown_packing_is_refused():
    with pytest.raises(ValueError, match="packing must be one of"):
        PartitionBatchSampler([0, 1], batch_size=2, seed=0, packing="tight")
