"""The ranking side of the anchored Plackett-Luce loss: what depends only on ranks and groups.

``ranking_layout`` sorts comparisons by (group, rank, input position) once and precomputes the
segment blocks the segmented suffix log-sum-exp runs on, so a learner whose rankings do not change
between epochs (the synthetic ensembles) builds it once and passes it to
:func:`responserank.losses.responserank_loss` every step. Pure tensor code; one sort, no Python
loop over groups or positions.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


def _group_rank_order(rank: torch.Tensor, group: torch.Tensor) -> torch.Tensor:
    """Permutation sorting by (group, rank, input position); two stable sorts, no Python loop."""
    by_rank = torch.sort(rank, stable=True).indices
    by_group = torch.sort(group[by_rank], stable=True).indices
    return by_rank[by_group]


def _size_buckets(seg_lengths: torch.Tensor) -> list[torch.Tensor | None]:
    """Which segments share a dense matrix: all of them (``None``) unless padding would exceed 4x.

    Mixed sizes (one long group beside many singletons) are split into power-of-two size classes,
    which bounds the padding at twice the input whatever the mix.
    """
    n_items = int(seg_lengths.sum())
    if seg_lengths.numel() * int(seg_lengths.max()) <= 4 * n_items:
        return [None]
    size_class = torch.ceil(torch.log2(seg_lengths.to(torch.float64))).long()
    return [size_class == cls for cls in torch.unique(size_class).tolist()]


@dataclass(frozen=True)
class _DenseBlock:
    """Segments laid out as rows of a (num_rows, width) matrix, positions from the segment end.

    ``item_mask`` (bool, N) selects the sorted items in this block (None: every item).
    """

    num_rows: int
    width: int
    rows: torch.Tensor
    cols: torch.Tensor
    item_mask: torch.Tensor | None


def _segment_blocks(seg_id: torch.Tensor) -> list[_DenseBlock]:
    """The dense layout of contiguous segments of ``seg_id`` (N,): one block per size bucket."""
    n = seg_id.numel()
    device = seg_id.device
    starts_mask = torch.ones(n, dtype=torch.bool, device=device)
    starts_mask[1:] = seg_id[1:] != seg_id[:-1]
    seg_index = torch.cumsum(starts_mask, 0) - 1
    seg_starts = torch.nonzero(starts_mask).squeeze(1)
    seg_lengths = torch.diff(seg_starts, append=seg_starts.new_tensor([n]))
    pos_from_end = (
        seg_starts[seg_index] + seg_lengths[seg_index] - 1 - torch.arange(n, device=device)
    )

    buckets = _size_buckets(seg_lengths)
    if buckets == [None]:
        width = int(seg_lengths.max())
        return [_DenseBlock(seg_lengths.numel(), width, seg_index, pos_from_end, None)]
    blocks = []
    for in_bucket in buckets:
        row_of_seg = torch.cumsum(in_bucket, 0) - 1
        item_mask = in_bucket[seg_index]
        blocks.append(
            _DenseBlock(
                num_rows=int(in_bucket.sum()),
                width=int(seg_lengths[in_bucket].max()),
                rows=row_of_seg[seg_index[item_mask]],
                cols=pos_from_end[item_mask],
                item_mask=item_mask,
            )
        )
    return blocks


def segmented_suffix_logsumexp(values: torch.Tensor, blocks: list[_DenseBlock]) -> torch.Tensor:
    """log(sum_{j >= k, same segment} exp(values_j)) for the contiguous segments of ``blocks``.

    Segments become rows of a dense matrix, positions counted from the segment's end, so that
    torch's stable forward ``logcumsumexp`` gives the suffix sums. The loop below runs over at most
    log2(N) size buckets (usually one), never over segments or positions.
    """
    if len(blocks) == 1 and blocks[0].item_mask is None:
        (block,) = blocks
        dense = values.new_full((block.num_rows, block.width), float("-inf"))
        dense = dense.index_put((block.rows, block.cols), values)
        return torch.logcumsumexp(dense, dim=1)[block.rows, block.cols]

    out = torch.empty_like(values)
    for block in blocks:
        dense = values.new_full((block.num_rows, block.width), float("-inf"))
        dense = dense.index_put((block.rows, block.cols), values[block.item_mask])
        out = out.masked_scatter(
            block.item_mask, torch.logcumsumexp(dense, dim=1)[block.rows, block.cols]
        )
    return out


@dataclass(frozen=True)
class RankingLayout:
    """The Plackett-Luce rankings of ``responserank_loss`` for fixed ranks and groups.

    Everything the loss derives from ``rank`` and ``group`` alone (the sort order, the segment
    boundaries, the dense gather indices) is integer work that does not depend on the margins;
    build it once with :func:`ranking_layout` and pass it as ``layout=`` to evaluate the loss for
    many margins (a training loop's epochs) with exactly the float operations of a call without
    it. ``num_items`` is N; ``order`` (int64, N) sorts by (group, rank, input position).
    """

    num_items: int
    order: torch.Tensor
    blocks: list[_DenseBlock]


def ranking_layout(
    rank: torch.Tensor, group: torch.Tensor, allow_ties: bool = True
) -> RankingLayout:
    """The rankings of ``responserank_loss`` for ``rank`` (N,) and integer ``group`` (N,).

    Raises ValueError for NaN ranks, shape mismatches or (with ``allow_ties=False``) tied ranks
    inside a group, TypeError for a non-integer group: the checks of ``responserank_loss``.
    """
    rank = torch.as_tensor(rank)
    group = torch.as_tensor(group, device=rank.device)
    if rank.dim() != 1 or group.shape != rank.shape:
        raise ValueError(
            f"rank and group must be 1-D of the same shape, got {tuple(rank.shape)} and "
            f"{tuple(group.shape)}"
        )
    if group.is_floating_point() or group.dtype == torch.bool:
        raise TypeError("group must be an integer tensor")
    n = rank.numel()
    if n == 0:
        return RankingLayout(0, torch.zeros(0, dtype=torch.int64, device=rank.device), [])
    if rank.is_floating_point() and bool(torch.isnan(rank).any()):
        raise ValueError("rank contains NaN")

    order = _group_rank_order(rank, group)
    sorted_group = group[order]
    if not allow_ties:
        sorted_rank = rank[order]
        tied = (sorted_group[1:] == sorted_group[:-1]) & (sorted_rank[1:] == sorted_rank[:-1])
        if bool(tied.any()):
            bad = torch.unique(sorted_group[1:][tied]).tolist()
            shown = ", ".join(str(g) for g in bad[:10]) + (" ..." if len(bad) > 10 else "")
            raise ValueError(
                f"tied ranks within group(s) {shown}; pass allow_ties=True or make the ranks "
                "unique inside each group (e.g. a round_robin_auto partitioner)"
            )
    return RankingLayout(n, order, _segment_blocks(sorted_group))
