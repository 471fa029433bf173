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

    ``rows`` and ``cols`` (int64, one per item of the block) place each item and ``flat`` is the
    same place in the flattened matrix (row * width + col). ``item_mask`` (bool, N) selects the
    sorted items in this block (None: every item).
    """

    num_rows: int
    width: int
    rows: torch.Tensor
    cols: torch.Tensor
    flat: torch.Tensor
    item_mask: torch.Tensor | None


def _dense_block(
    num_rows: int,
    width: int,
    rows: torch.Tensor,
    cols: torch.Tensor,
    item_mask: torch.Tensor | None,
) -> _DenseBlock:
    return _DenseBlock(num_rows, width, rows, cols, rows * width + cols, item_mask)


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
        return [_dense_block(seg_lengths.numel(), width, seg_index, pos_from_end, None)]
    blocks = []
    for in_bucket in buckets:
        row_of_seg = torch.cumsum(in_bucket, 0) - 1
        item_mask = in_bucket[seg_index]
        blocks.append(
            _dense_block(
                num_rows=int(in_bucket.sum()),
                width=int(seg_lengths[in_bucket].max()),
                rows=row_of_seg[seg_index[item_mask]],
                cols=pos_from_end[item_mask],
                item_mask=item_mask,
            )
        )
    return blocks


def smallest_safe_suffix_sum(dtype: torch.dtype) -> float:
    """tiny / eps of ``dtype`` (2**-970 in float64): the underflow guard of the shifted sums.

    Every shifted suffix sum T_k of :func:`shifted_suffix_logsumexp` must be at least this, or
    its row falls back to ``torch.logcumsumexp``; in float64 that allows a spread of up to
    -log(tiny / eps) = 672 nats between a segment's maximum and the log-sum-exp of one of its
    suffixes. Why this value: a term exp(s_j - m) in the normal range carries a relative
    rounding error of eps / 2, and one below tiny (subnormal, or flushed to zero) an absolute
    error under tiny = eps * (tiny / eps); with T_k >= tiny / eps every term is therefore off by
    at most eps * T_k, and the sum of W terms by at most W * eps * T_k, the order of the
    summation's own error bound ((W - 1) * eps / 2): underflow costs no accuracy beyond it. In
    the backward each g_k / T_k is at most |g_k| * eps / tiny (2**970 |g_k|), so their reversed
    cumsum stays finite while a segment's sum of |g_k| is below 2**54, and a gradient
    exp(s_j - m) * sum_{k >= j} g_k / T_k whose first factor underflowed is off by at most
    eps * sum_k |g_k|, one rounding unit of the segment's gradient scale.
    """
    info = torch.finfo(dtype)
    return info.tiny / info.eps


def _shifted_sums(wide: torch.Tensor, block: _DenseBlock, neutral: torch.Tensor | None) -> tuple:
    """Per-item shift m_r (no gradient) and the (num_rows, width) cumsums T of exp(s - m_r).

    Items where ``neutral`` is True enter as s - m_r = 0 (the cumsum then stays >= 1 and finite
    there), so that rows computed another way put no inf or NaN into this path's backward.
    """
    with torch.no_grad():
        row_max = wide.new_full((block.num_rows,), float("-inf"))
        row_max.scatter_reduce_(0, block.rows, wide, "amax")
        shift = row_max.index_select(0, block.rows)
        if neutral is not None:
            shift = torch.where(neutral, 0.0, shift)
    shifted = wide - shift
    if neutral is not None:
        shifted = torch.where(neutral, 0.0, shifted)
    dense = wide.new_zeros(block.num_rows * block.width)
    dense.index_copy_(0, block.flat, torch.exp(shifted))
    return shift, torch.cumsum(dense.view(block.num_rows, block.width), dim=1)


def shifted_suffix_logsumexp(values: torch.Tensor, block: _DenseBlock) -> torch.Tensor:
    """Suffix log-sum-exp of one block by a per-row shift and one cumsum, in float64.

    Row r (one segment; positions k counted from its end) with values s and maximum m_r:

        T_k = sum_{j <= k} exp(s_j - m_r)         (a cumsum along the row)
        S_k = m_r + log(T_k)

    The shift is a constant to autograd (S does not depend on it), so the gradient autograd
    derives is the analytic one, dL/ds_j = exp(s_j - m_r) * sum_{k >= j} g_k / T_k with
    g = dL/dS (the backward of the cumsum is the reversed cumsum), and second derivatives are
    exact too. Returned in the dtype of ``values``.

    A row whose smallest T_k (column 0: a cumsum of non-negative terms only grows) is below
    :func:`smallest_safe_suffix_sum` or NaN (a NaN or infinite value in the row) takes
    ``torch.logcumsumexp`` instead, that row alone: every row's result depends on its own
    values only, whatever else the block holds. The check reads one number on the host.
    """
    wide = values.double()
    shift, suffix_sum = _shifted_sums(wide, block, None)
    unsafe = ~(suffix_sum[:, 0].detach() >= smallest_safe_suffix_sum(wide.dtype))
    if bool(unsafe.any()):
        unsafe_item = unsafe.index_select(0, block.rows)
        shift, suffix_sum = _shifted_sums(wide, block, unsafe_item)
        fast = torch.log(suffix_sum.view(-1).index_select(0, block.flat)) + shift
        return torch.where(unsafe_item, logcumsumexp_block(values, block), fast.to(values.dtype))
    out = torch.log(suffix_sum.view(-1).index_select(0, block.flat)) + shift
    return out.to(values.dtype)


def logcumsumexp_block(values: torch.Tensor, block: _DenseBlock) -> torch.Tensor:
    """Suffix log-sum-exp of one block's ``values`` by ``torch.logcumsumexp`` on padded rows."""
    dense = values.new_full((block.num_rows, block.width), float("-inf"))
    dense = dense.index_put((block.rows, block.cols), values)
    return torch.logcumsumexp(dense, dim=1)[block.rows, block.cols]


def suffix_logsumexp_block(values: torch.Tensor, block: _DenseBlock) -> torch.Tensor:
    """Suffix log-sum-exp of one block: shifted cumsum on the CPU (rows that would underflow by
    ``torch.logcumsumexp``), ``torch.logcumsumexp`` elsewhere."""
    if values.device.type == "cpu":
        return shifted_suffix_logsumexp(values, block)
    return logcumsumexp_block(values, block)


def segmented_suffix_logsumexp(values: torch.Tensor, blocks: list[_DenseBlock]) -> torch.Tensor:
    """log(sum_{j >= k, same segment} exp(values_j)) for the contiguous segments of ``blocks``.

    ``values`` (N,) float, sorted so that every segment is contiguous; returns (N,), same dtype.
    Segments become rows of a dense matrix, positions counted from the segment's end.

    On the CPU each row is shifted by its maximum and summed by one cumsum, in float64 whatever
    the input dtype (:func:`shifted_suffix_logsumexp`): torch's ``logcumsumexp`` is a scalar
    scan there (an exp and a log1p per element, and two more such scans in its backward) and
    several times slower at the synthetic grid's shape (``benchmarks/bench_losses.py``).
    Accuracy: the shift costs a rounding error of about eps * |s_j - m_r| in each exp and
    eps * |log T_k| in each log, in float64 at most 672 eps = 1.5e-13 (absolute in a value S_k,
    relative in a gradient term; measured gradients land closer to the exact ones than
    ``logcumsumexp``'s). Float32 inputs get the float64 results rounded once: values as close to
    the exact ones as ``logcumsumexp`` in float32, gradients closer. A segment whose
    shifted sums would underflow (:func:`smallest_safe_suffix_sum`: more than 672 nats between
    its maximum and the log-sum-exp of one of its suffixes, e.g. margins +1e4 and -1e4 in one
    segment) or that holds a NaN or infinite value is computed by ``torch.logcumsumexp``
    instead, which stays finite for any finite values and keeps the NaN semantics of the loss;
    the other segments keep the fast path, so a segment's result never depends on the others.

    That check reads one number on the host. On other devices, where ``logcumsumexp`` is a
    parallel scan and a host synchronisation every step would stall the device, the blocks always
    take ``torch.logcumsumexp``. The loop below runs over at most log2(N) size buckets (usually
    one), never over segments or positions.
    """
    if len(blocks) == 1 and blocks[0].item_mask is None:
        return suffix_logsumexp_block(values, blocks[0])
    out = torch.empty_like(values)
    for block in blocks:
        out = out.masked_scatter(
            block.item_mask, suffix_logsumexp_block(values[block.item_mask], block)
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
