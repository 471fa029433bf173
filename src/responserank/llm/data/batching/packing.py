"""Partition-aware batching: keep each partition inside one micro-batch.

The ResponseRank loss only ranks comparisons that share a micro-batch, so a random batch sampler
would scatter every partition and reduce the loss to Bradley-Terry. This sampler packs whole
partitions into micro-batches of at most ``batch_size`` comparisons (best fit, largest partition
first) and splits a partition only when it cannot fit even into an empty batch. Every epoch it
re-packs with a fresh tie order and reshuffles the batch order (seeded by ``seed + epoch``), so the
model does not see the same batches in the same order each epoch.

Under several processes every rank receives whole micro-batches (never a slice of one), so a
partition is never divided between ranks, and every rank receives the same number of batches, so
distributed training stays in lockstep.

Two packings (``packing``):

- ``capacity`` (default): no micro-batch holds more than ``batch_size`` comparisons. Partitions of
  equal size s leave holes (s = 3 in batches of 8 fills 6 of 8 slots), so a step needs more
  micro-batches than Bradley-Terry's.
- ``balanced``: exactly as many micro-batches as a Bradley-Terry run, ceil(n / batch_size)
  (rounded up to a multiple of the processes), so they carry on average as many comparisons;
  partitions go largest first to the least-loaded micro-batch (LPT, Graham 1969), and a
  micro-batch may exceed ``batch_size`` by less than the size of its largest partition (3 of 3
  in batches of 8 gives micro-batches of 9, 9 and 6). Partitions that fit a batch stay whole.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from torch.utils.data import Sampler

PACKINGS = ("capacity", "balanced")


@dataclass(frozen=True)
class CohesionStats:
    """How well one epoch's packing kept partitions together."""

    num_items: int
    num_partitions: int
    num_batches: int
    batch_size: int
    share_partitions_intact: float
    mean_fragments_per_partition: float
    max_fragments_per_partition: int
    mean_batch_fill: float
    largest_batch: int

    def as_dict(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{key}": value for key, value in asdict(self).items()}


def _partition_members(partitions: np.ndarray) -> list[np.ndarray]:
    """Item indices of each distinct partition id, in order of first appearance."""
    _, first_seen, inverse = np.unique(partitions, return_index=True, return_inverse=True)
    order = np.argsort(first_seen, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(order.size)
    labels = relabel[inverse]
    by_label = np.argsort(labels, kind="stable")
    bounds = np.cumsum(np.bincount(labels, minlength=order.size))[:-1]
    return np.split(by_label, bounds)


def _best_fit_decreasing(
    members: list[np.ndarray], batch_size: int, rng: np.random.Generator
) -> list[list[int]]:
    """Pack partitions (item index arrays) into bins of capacity ``batch_size``.

    Partitions are taken largest first, ties in random order; each goes into the open bin with
    the least room that still holds it whole, else into a new bin. A partition larger than a bin
    first fills whole bins of its own, and its remainder is packed like any other partition.
    The bin layout (the sizes) depends only on the partition sizes, so every epoch yields the same
    number of bins; only which partitions share a bin, and the item order, change.
    """
    shuffled = [m[rng.permutation(m.size)] for m in members]
    sizes = np.array([m.size for m in shuffled])
    order = np.lexsort((rng.random(sizes.size), -sizes))

    bins: list[list[int]] = []
    free: list[int] = []
    # bins_with_free[f] holds the ids of open bins with exactly f free slots (oldest first).
    bins_with_free: list[list[int]] = [[] for _ in range(batch_size + 1)]

    def place(items: np.ndarray) -> None:
        size = items.size
        for room in range(size, batch_size + 1):
            if bins_with_free[room]:
                target = bins_with_free[room].pop(0)
                break
        else:
            target = len(bins)
            bins.append([])
            free.append(batch_size)
        bins[target].extend(items.tolist())
        free[target] -= size
        if free[target] > 0:
            bins_with_free[free[target]].append(target)

    for index in order:
        items = shuffled[index]
        while items.size > batch_size:
            bins.append(items[:batch_size].tolist())
            free.append(0)
            items = items[batch_size:]
        if items.size:
            place(items)
    return bins


def _balanced(
    members: list[np.ndarray], batch_size: int, num_replicas: int, rng: np.random.Generator
) -> list[list[int]]:
    """Spread partitions over Bradley-Terry's number of micro-batches, evening their loads.

    A partition larger than ``batch_size`` first fills whole bins of its own, as in
    :func:`_best_fit_decreasing`. The remaining pieces go largest first (ties in random order) to
    the bin with the fewest comparisons so far (ties: the oldest bin). The bin count depends only
    on the partition sizes, so it is the same every epoch.
    """
    shuffled = [m[rng.permutation(m.size)] for m in members]
    total = sum(m.size for m in shuffled)
    num_bins = -(-total // batch_size)
    num_bins = -(-num_bins // num_replicas) * num_replicas
    full: list[list[int]] = []
    pieces: list[np.ndarray] = []
    for items in shuffled:
        while items.size > batch_size:
            full.append(items[:batch_size].tolist())
            items = items[batch_size:]
        if items.size:
            pieces.append(items)
    sizes = np.array([p.size for p in pieces])
    order = np.lexsort((rng.random(sizes.size), -sizes))
    open_bins = max(num_bins - len(full), 1)
    bins: list[list[int]] = [[] for _ in range(open_bins)]
    loads = [(0, b) for b in range(open_bins)]
    for index in order:
        load, target = heapq.heappop(loads)
        bins[target].extend(pieces[index].tolist())
        heapq.heappush(loads, (load + int(sizes[index]), target))
    return full + [b for b in bins if b]


def _split_bin(batch: list[int], partitions: np.ndarray) -> tuple[list[int], list[int]]:
    """Cut a batch in two near its middle, at a partition boundary when there is one."""
    labels = partitions[batch]
    boundaries = [i for i in range(1, len(batch)) if labels[i] != labels[i - 1]]
    half = len(batch) / 2
    cut = min(boundaries, key=lambda i: abs(i - half)) if boundaries else len(batch) // 2
    return batch[:cut], batch[cut:]


def _make_divisible(
    bins: list[list[int]], num_replicas: int, partitions: np.ndarray
) -> list[list[int]]:
    """Split bins until every rank can get the same number of batches.

    The largest bin holding several partitions is cut at a partition boundary; a single partition
    is cut only when every bin holds just one.
    """
    bins = list(bins)
    while len(bins) % num_replicas:
        mixed = [i for i, b in enumerate(bins) if len(set(partitions[b].tolist())) > 1]
        largest = max(mixed or range(len(bins)), key=lambda i: len(bins[i]))
        if len(bins[largest]) < 2:
            raise ValueError(
                f"cannot give {num_replicas} processes the same number of batches: only "
                f"{sum(len(b) for b in bins)} comparisons"
            )
        first, second = _split_bin(bins[largest], partitions)
        bins[largest] = first
        bins.append(second)
    return bins


def cohesion_stats(
    batches: Sequence[Sequence[int]], partitions: np.ndarray, batch_size: int
) -> CohesionStats:
    """Share of partitions kept in one batch and the number of fragments per partition."""
    batch_of_item = np.empty(partitions.size, dtype=np.int64)
    for batch_index, batch in enumerate(batches):
        batch_of_item[np.asarray(batch, dtype=np.int64)] = batch_index
    pairs = np.unique(np.stack([partitions, batch_of_item]), axis=1)
    _, fragments = np.unique(pairs[0], return_counts=True)
    filled = sum(len(b) for b in batches)
    return CohesionStats(
        num_items=int(partitions.size),
        num_partitions=int(fragments.size),
        num_batches=len(batches),
        batch_size=batch_size,
        share_partitions_intact=float(np.mean(fragments == 1)) if fragments.size else 1.0,
        mean_fragments_per_partition=float(fragments.mean()) if fragments.size else 0.0,
        max_fragments_per_partition=int(fragments.max()) if fragments.size else 0,
        mean_batch_fill=filled / (len(batches) * batch_size) if batches else 0.0,
        largest_batch=max((len(b) for b in batches), default=0),
    )


class PartitionBatchSampler(Sampler[list[int]]):
    """Yields this rank's micro-batches (lists of dataset indices) for the current epoch.

    ``partitions[i]`` is the partition id of item i. Call ``set_epoch`` before iterating (the
    Trainer does); the same (seed, epoch) always gives the same batches on every rank.
    """

    def __init__(
        self,
        partitions: Sequence[int] | np.ndarray,
        batch_size: int,
        seed: int,
        num_replicas: int = 1,
        rank: int = 0,
        packing: str = "capacity",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if packing not in PACKINGS:
            raise ValueError(f"packing must be one of {list(PACKINGS)}, got {packing!r}")
        self.packing = packing
        if not 0 <= rank < num_replicas:
            raise ValueError(f"rank must lie in [0, {num_replicas}), got {rank}")
        self.partitions = np.asarray(partitions)
        if self.partitions.ndim != 1 or self.partitions.size == 0:
            raise ValueError("partitions must be a non-empty 1-D sequence of partition ids")
        self.batch_size = batch_size
        self.seed = seed
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self._members = _partition_members(self.partitions)
        self._num_batches = len(self.global_batches(0))

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def global_batches(self, epoch: int) -> list[list[int]]:
        """All ranks' batches of ``epoch`` in the order they are dealt out."""
        rng = np.random.default_rng([self.seed, epoch])
        if self.packing == "balanced":
            bins = _balanced(self._members, self.batch_size, self.num_replicas, rng)
        else:
            bins = _best_fit_decreasing(self._members, self.batch_size, rng)
        bins = _make_divisible(bins, self.num_replicas, self.partitions)
        return [bins[i] for i in rng.permutation(len(bins))]

    def cohesion(self, epoch: int | None = None) -> CohesionStats:
        batches = self.global_batches(self.epoch if epoch is None else epoch)
        return cohesion_stats(batches, self.partitions, self.batch_size)

    def __iter__(self) -> Iterator[list[int]]:
        batches = self.global_batches(self.epoch)
        if len(batches) != self._num_batches:
            raise RuntimeError(
                f"epoch {self.epoch} packed {len(batches)} batches, expected {self._num_batches}"
            )
        yield from batches[self.rank :: self.num_replicas]

    def __len__(self) -> int:
        return self._num_batches // self.num_replicas
