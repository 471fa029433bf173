"""The segmented suffix log-sum-exp: the CPU max-shift + cumsum path against torch.logcumsumexp."""

from __future__ import annotations

import math
from unittest import mock

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import responserank.ranking_layout as rl
from responserank.losses import responserank_loss
from responserank.ranking_layout import ranking_layout, segmented_suffix_logsumexp

F32_EPS = torch.finfo(torch.float32).eps


def _layout_of_sizes(sizes: list[int]) -> rl.RankingLayout:
    """Segments of the given sizes, in input order (the sort order is the identity)."""
    group = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
    return ranking_layout(torch.arange(len(group), dtype=torch.float64), group)


def _value_and_grad(values, blocks, weight):
    v = values.clone().requires_grad_(True)
    out = segmented_suffix_logsumexp(v, blocks)
    (out * weight).sum().backward()
    return out.detach(), v.grad


def _logcumsumexp_everywhere():
    return mock.patch.object(rl, "suffix_logsumexp_block", rl.logcumsumexp_block)


def _count_fallbacks():
    return mock.patch.object(rl, "logcumsumexp_block", wraps=rl.logcumsumexp_block)


@st.composite
def segmented_values(draw):
    """Segment sizes (many singletons beside long segments give several size buckets), values
    of moderate to large magnitude, positive upstream gradients, a dtype."""
    sizes = draw(st.lists(st.integers(1, 40), min_size=1, max_size=10))
    sizes += [1] * draw(st.sampled_from([0, 40]))
    sizes = draw(st.permutations(sizes))
    n = sum(sizes)
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    scale = draw(st.sampled_from([0.1, 1.0, 10.0, 100.0, 400.0]))
    offset = draw(st.sampled_from([0.0, 1e3, -1e3]))
    dtype = draw(st.sampled_from([torch.float32, torch.float64]))
    values = (offset + scale * torch.randn(n, generator=gen, dtype=torch.float64)).to(dtype)
    weight = torch.rand(n, generator=gen, dtype=torch.float64).to(dtype)
    return sizes, values, weight


def _unsafe_items(sizes: list[int], values: torch.Tensor) -> torch.Tensor:
    """Items of segments (in input order) whose shifted sums underflow: the segment's last
    value lies more than -log(tiny / eps) below its maximum (T_0 = exp(s_last - max))."""
    limit = math.log(rl.smallest_safe_suffix_sum(torch.float64))
    flags = []
    for segment in torch.split(values.double(), sizes):
        flags.append(torch.full((len(segment),), bool(segment[-1] - segment.max() < limit)))
    return torch.cat(flags)


@settings(max_examples=120, deadline=None)
@given(segmented_values())
def test_matches_logcumsumexp_to_rounding(case):
    """Per segment: the fast path agrees with float64 logcumsumexp (float32 inputs: the float64
    result rounded once), or the segment's sums underflow and it is logcumsumexp's bit for bit,
    that segment alone."""
    sizes, values, weight = case
    layout = _layout_of_sizes(sizes)
    fast = _value_and_grad(values, layout.blocks, weight)
    with _logcumsumexp_everywhere():
        same_dtype = _value_and_grad(values, layout.blocks, weight)
        exact = _value_and_grad(values.double(), layout.blocks, weight.double())

    unsafe = _unsafe_items(sizes, values)
    for got, want in zip(fast, same_dtype, strict=True):
        assert torch.equal(got[unsafe], want[unsafe])
    rtol = 1e-12 if values.dtype == torch.float64 else F32_EPS
    for segment in torch.split(torch.arange(len(values)), sizes):
        if unsafe[segment[0]]:
            continue
        value_scale = 1.0 + float(values[segment].abs().max())
        grad_scale = float(weight[segment].max())
        for got, want, scale in zip(fast, exact, (value_scale, grad_scale), strict=True):
            assert torch.isfinite(got[segment]).all()
            torch.testing.assert_close(
                got[segment].double(), want[segment], rtol=rtol, atol=1e-12 * scale
            )


def test_moderate_values_take_the_fast_path():
    """500 segments of ~10 with margins of a few units (the synthetic grid's shape): no block
    falls back, and the float32 loss agrees with the logcumsumexp path to float32 rounding."""
    gen = torch.Generator().manual_seed(0)
    n = 5000
    rank = torch.rand(n, generator=gen)
    group = torch.randint(0, 500, (n,), generator=gen)
    layout = ranking_layout(rank, group)
    margin = 3.0 * torch.randn(n, generator=gen)

    def loss_and_grad():
        u = margin.clone().requires_grad_(True)
        terms = responserank_loss(u, None, None, reduction="none", layout=layout)
        terms.sum().backward()
        return terms.detach(), u.grad

    with _count_fallbacks() as fallback:
        fast = loss_and_grad()
    assert fallback.call_count == 0
    with _logcumsumexp_everywhere():
        reference = loss_and_grad()
    for got, want in zip(fast, reference, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6 * float(want.abs().max()))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_extreme_values_fall_back_per_segment_and_stay_finite(dtype):
    """Margins of +1e4 and -1e4 in one segment underflow the shifted sums: that segment alone
    takes logcumsumexp (bit for bit); the segments beside it, in its block and in the
    singletons' block, keep the fast path and give the bits they give on their own."""
    sizes = [6, 5] + [1] * 30
    layout = _layout_of_sizes(sizes)
    assert len(layout.blocks) == 2
    values = torch.zeros(sum(sizes), dtype=dtype)
    values[:6] = torch.tensor([1e4, -1e4, 5e3, -3.0, 0.0, -1e4], dtype=dtype)
    values[6:11] = torch.tensor([0.5, -1.0, 2.0, 0.0, 1.5], dtype=dtype)
    values[11:] = torch.linspace(-1e4, 1e4, 30, dtype=dtype)
    weight = torch.ones_like(values)
    with _count_fallbacks() as fallback:
        fast = _value_and_grad(values, layout.blocks, weight)
    assert fallback.call_count == 1
    with _logcumsumexp_everywhere():
        reference = _value_and_grad(values, layout.blocks, weight)
    alone = _value_and_grad(values[6:11], _layout_of_sizes([5]).blocks, weight[6:11])
    for got, want, own in zip(fast, reference, alone, strict=True):
        assert torch.isfinite(got).all()
        assert torch.equal(got[:6], want[:6])
        assert torch.equal(got[6:11], own)
    # The -1e4 at the segment's end is its own suffix; 5e3 above it adds nothing measurable.
    assert fast[0][5] == -1e4 and fast[0][2] == 5e3


def test_a_nan_stays_in_its_segment():
    values = torch.tensor([0.3, float("nan"), -0.2, 1.0, 0.5], dtype=torch.float64)
    out, grad = _value_and_grad(values, _layout_of_sizes([3, 2]).blocks, torch.ones(5))
    assert torch.isnan(out[:3]).any() and torch.isfinite(out[3:]).all()
    assert torch.isfinite(grad[3:]).all()


def test_gradcheck_and_gradgradcheck_on_the_fast_path():
    torch.manual_seed(0)
    layout = _layout_of_sizes([9, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2])
    assert len(layout.blocks) > 1
    values = 4.0 * torch.randn(layout.num_items, dtype=torch.float64, requires_grad=True)
    with _count_fallbacks() as fallback:
        assert torch.autograd.gradcheck(
            lambda v: segmented_suffix_logsumexp(v, layout.blocks), (values,)
        )
        assert torch.autograd.gradgradcheck(
            lambda v: segmented_suffix_logsumexp(v, layout.blocks), (values,)
        )
    assert fallback.call_count == 0


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 30),
    st.lists(st.integers(1, 60), min_size=1, max_size=20),
    st.sampled_from([torch.float32, torch.float64]),
    st.integers(0, 2**31 - 1),
)
def test_padding_never_leaks(size, others, dtype, seed):
    """A segment's values and gradients are the same bits alone and beside segments of other
    sizes (a wider matrix, other size buckets): the padding takes no part in them."""
    gen = torch.Generator().manual_seed(seed)
    values = (10.0 * torch.randn(size + sum(others), generator=gen, dtype=torch.float64)).to(dtype)
    weight = torch.rand(size, generator=gen, dtype=torch.float64).to(dtype)
    alone = _value_and_grad(values[:size], _layout_of_sizes([size]).blocks, weight)
    beside = _value_and_grad(
        values,
        _layout_of_sizes([size, *others]).blocks,
        torch.cat([weight, torch.zeros(sum(others), dtype=dtype)]),
    )
    for got, want in zip(beside, alone, strict=True):
        assert torch.equal(got[:size], want)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_singletons_and_empty_input(dtype):
    values = torch.tensor([2.5, -7.0, 1e3, 0.0], dtype=dtype)
    weight = torch.tensor([1.0, 0.5, 2.0, 3.0], dtype=dtype)
    out, grad = _value_and_grad(values, _layout_of_sizes([1, 1, 1, 1]).blocks, weight)
    assert torch.equal(out, values) and torch.equal(grad, weight)
    empty = ranking_layout(torch.zeros(0), torch.zeros(0, dtype=torch.long))
    assert segmented_suffix_logsumexp(torch.zeros(0, dtype=dtype), empty.blocks).numel() == 0


def test_other_devices_take_logcumsumexp_without_a_host_sync():
    """The meta device stands in for an accelerator: it holds no values, so the fast path's
    host-side underflow check would raise there."""
    layout = _layout_of_sizes([3, 2, 4])
    (block,) = layout.blocks
    on_meta = rl._DenseBlock(
        block.num_rows,
        block.width,
        *(t.to("meta") for t in (block.rows, block.cols, block.flat)),
        None,
    )
    values = torch.zeros(layout.num_items, device="meta", requires_grad=True)
    with _count_fallbacks() as fallback:
        out = segmented_suffix_logsumexp(values, [on_meta])
    assert out.device.type == "meta" and fallback.call_count == 1
