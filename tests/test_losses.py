"""Properties of the loss library, checked against plain-loop oracles written here."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from responserank.errors import LossParameterError
from responserank.loss_parameters import (
    beta_from_correctness,
    margin_from_correctness,
    p_from_correctness,
)
from responserank.losses import (
    bt_loss,
    margin_loss,
    rapl_beta_loss,
    rapl_eps_loss,
    responserank_loss,
    rt_regression_loss,
)
from responserank.ranking_layout import ranking_layout

# ----------------------------------------------------------------------------------------------
# Oracles: the definitions, one comparison at a time.
# ----------------------------------------------------------------------------------------------


def oracle_responserank_terms(
    margin: list[float], rank: list[float], group: list[int]
) -> list[float]:
    """-log P(ranking) term per comparison: order by (rank, input position), anchor 0 last."""
    terms = [0.0] * len(margin)
    for g in sorted(set(group)):
        members = sorted(
            (i for i in range(len(margin)) if group[i] == g), key=lambda i: (rank[i], i)
        )
        for k, i in enumerate(members):
            denominator = math.fsum(math.exp(margin[j]) for j in members[k:]) + 1.0
            terms[i] = -(margin[i] - math.log(denominator))
    return terms


def oracle_bt(u: float, t: float = 1.0) -> float:
    p = 1.0 / (1.0 + math.exp(-u))
    return -(t * math.log(p) + (1.0 - t) * math.log(1.0 - p))


# ----------------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------------

margins = st.floats(min_value=-6.0, max_value=6.0, allow_nan=False, allow_infinity=False)


@st.composite
def ranked_comparisons(draw, min_size=1, max_size=24, max_groups=5, unique_ranks=False):
    n = draw(st.integers(min_value=min_size, max_value=max_size))
    margin = draw(st.lists(margins, min_size=n, max_size=n))
    group = draw(st.lists(st.integers(0, max_groups - 1), min_size=n, max_size=n))
    if unique_ranks:
        rank = draw(st.permutations(list(range(n))))
        rank = [float(r) for r in rank]
    else:
        rank = draw(st.lists(st.integers(0, 4).map(float), min_size=n, max_size=n))
    return margin, rank, group


def _t(values, dtype=torch.float64):
    return torch.tensor(values, dtype=dtype)


# ----------------------------------------------------------------------------------------------
# ResponseRank
# ----------------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(ranked_comparisons())
def test_responserank_matches_loop_oracle(case):
    margin, rank, group = case
    got = responserank_loss(_t(margin), _t(rank), torch.tensor(group), reduction="none")
    expected = oracle_responserank_terms(margin, rank, group)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-10)


@settings(max_examples=100, deadline=None)
@given(ranked_comparisons())
def test_reductions_are_consistent(case):
    margin, rank, group = case
    args = (_t(margin), _t(rank), torch.tensor(group))
    per_item = responserank_loss(*args, reduction="none")
    assert torch.allclose(responserank_loss(*args, reduction="sum"), per_item.sum())
    assert torch.allclose(responserank_loss(*args, reduction="mean"), per_item.sum() / len(margin))


@settings(max_examples=100, deadline=None)
@given(st.lists(margins, min_size=1, max_size=30))
def test_groups_of_one_equal_bradley_terry(margin):
    u = _t(margin)
    singletons = torch.arange(len(margin))
    got = responserank_loss(u, torch.zeros(len(margin)), singletons, reduction="none")
    assert torch.allclose(got, bt_loss(u, reduction="none"), rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(ranked_comparisons(unique_ranks=True), st.randoms(use_true_random=False))
def test_invariant_to_input_order(case, rnd):
    margin, rank, group = case
    perm = list(range(len(margin)))
    rnd.shuffle(perm)
    base = responserank_loss(_t(margin), _t(rank), torch.tensor(group), reduction="none")
    shuffled = responserank_loss(
        _t([margin[i] for i in perm]),
        _t([rank[i] for i in perm]),
        torch.tensor([group[i] for i in perm]),
        reduction="none",
    )
    assert torch.allclose(shuffled, base[perm], rtol=1e-12, atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(margins, min_size=2, max_size=8, unique=True),
    st.randoms(use_true_random=False),
)
def test_rankings_consistent_with_margins_score_best(margin, rnd):
    """Plackett-Luce's most likely order sorts by decreasing worth: strongest margin first."""
    n = len(margin)
    group = torch.zeros(n, dtype=torch.long)
    consistent_rank = _t(np.argsort(np.argsort(-np.asarray(margin))).tolist())
    other = list(range(n))
    rnd.shuffle(other)
    best = responserank_loss(_t(margin), consistent_rank, group)
    assert best <= responserank_loss(_t(margin), _t(other), group) + 1e-12


def test_ties_keep_input_order_and_can_be_forbidden():
    u = _t([0.5, -1.0, 2.0])
    rank = _t([1.0, 1.0, 0.0])
    group = torch.tensor([7, 7, 7])
    got = responserank_loss(u, rank, group, reduction="none")
    expected = oracle_responserank_terms(u.tolist(), rank.tolist(), group.tolist())
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    swapped = responserank_loss(u[[1, 0, 2]], rank, group, reduction="none")
    assert not torch.allclose(swapped, got[[1, 0, 2]]), "the tie order should follow the input"
    with pytest.raises(ValueError, match="group"):
        responserank_loss(u, rank, group, allow_ties=False)
    with pytest.raises(ValueError, match=r"\b7\b"):
        responserank_loss(u, rank, group, allow_ties=False)
    responserank_loss(u, _t([0.0, 1.0, 2.0]), group, allow_ties=False)


def test_gradcheck_float64():
    torch.manual_seed(0)
    n = 13
    u = torch.randn(n, dtype=torch.float64, requires_grad=True)
    rank = torch.randperm(n).to(torch.float64)
    group = torch.tensor([0, 0, 0, 0, 1, 1, 2, 3, 3, 3, 3, 3, 3])
    assert torch.autograd.gradcheck(lambda x: responserank_loss(x, rank, group), (u,))
    assert torch.autograd.gradgradcheck(lambda x: responserank_loss(x, rank, group), (u,))


def test_unbalanced_groups_match_oracle():
    """One long group beside many singletons: the size-class bucketing must not mix them up."""
    rng = np.random.default_rng(3)
    n_long, n_single = 300, 500
    margin = rng.normal(size=n_long + n_single).tolist()
    rank = rng.permutation(n_long + n_single).astype(float).tolist()
    group = [0] * n_long + list(range(1, n_single + 1))
    order = rng.permutation(len(margin))
    margin, rank, group = ([x[i] for i in order] for x in (margin, rank, group))
    got = responserank_loss(_t(margin), _t(rank), torch.tensor(group), reduction="none")
    np.testing.assert_allclose(
        got.numpy(), oracle_responserank_terms(margin, rank, group), rtol=1e-9
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_extreme_margins_stay_finite(dtype):
    u = torch.tensor([1e4, -1e4, 5e3, -3.0, 0.0, 1e4, -1e4], dtype=dtype, requires_grad=True)
    rank = torch.tensor([0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 0.0])
    group = torch.tensor([0, 0, 0, 0, 1, 1, 2])
    loss = responserank_loss(u, rank, group)
    loss.backward()
    assert loss.dtype == dtype and u.grad.dtype == dtype
    assert torch.isfinite(loss) and torch.isfinite(u.grad).all()
    # By hand: group 0 ranks (1e4, -1e4, 5e3, -3): the -1e4 item sits above 5e3 and costs 1.5e4,
    # the last costs 3 + log(1 + e^-3); group 1 puts 0 above 1e4 (cost 1e4); group 2 is BT at -1e4.
    expected = 1.5e4 + 3.0 + math.log1p(math.exp(-3.0)) + 1e4 + 1e4
    assert float(loss.detach()) == pytest.approx(
        expected, rel=1e-2 if dtype == torch.bfloat16 else 1e-6
    )
    for fn, extra in [
        (bt_loss, ()),
        (rapl_beta_loss, (2.0,)),
        (rapl_eps_loss, (0.9,)),
        (margin_loss, (0.5,)),
    ]:
        u.grad = None
        out = fn(u, *extra)
        out.backward()
        assert torch.isfinite(out) and torch.isfinite(u.grad).all(), fn.__name__


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_low_precision_agrees_with_float64(dtype):
    torch.manual_seed(1)
    u = torch.randn(64) * 3
    rank = torch.randn(64)
    group = torch.randint(0, 6, (64,))
    ref = responserank_loss(u.double(), rank, group)
    got = responserank_loss(u.to(dtype), rank, group)
    tol = 1e-5 if dtype == torch.float32 else 2e-2
    assert float(got) == pytest.approx(float(ref), rel=tol)


def test_empty_and_bad_inputs():
    empty = torch.zeros(0)
    assert float(responserank_loss(empty, empty, torch.zeros(0, dtype=torch.long))) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        responserank_loss(torch.zeros(3), torch.zeros(2), torch.zeros(3, dtype=torch.long))
    with pytest.raises(TypeError, match="integer"):
        responserank_loss(torch.zeros(3), torch.zeros(3), torch.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        responserank_loss(torch.zeros(2), torch.tensor([0.0, float("nan")]), torch.zeros(2).long())
    with pytest.raises(ValueError, match="reduction"):
        bt_loss(torch.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="1-D"):
        bt_loss(torch.zeros(2, 2))


def _loss_and_grad(margin, beta, reduction, **rankings):
    u = margin.clone().requires_grad_(True)
    out = responserank_loss(u, reduction=reduction, beta=beta, **rankings)
    (out if out.dim() == 0 else out.sum()).backward()
    return out.detach(), u.grad


@settings(max_examples=100, deadline=None)
@given(
    ranked_comparisons(),
    st.sampled_from(["none", "sum", "mean"]),
    st.booleans(),
    st.integers(0, 2**31 - 1),
)
def test_precomputed_layout_is_bit_identical(case, reduction, with_beta, seed):
    """One layout reused for several margins gives the bits (value and gradient) of a plain call."""
    _, rank, group = case
    rank, group = _t(rank, torch.float32), torch.tensor(group)
    layout = ranking_layout(rank, group)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(3):
        margin = torch.randn(len(group), generator=gen) * 4
        beta = torch.rand(len(group), generator=gen) * 2 if with_beta else None
        plain = _loss_and_grad(margin, beta, reduction, rank=rank, group=group)
        reused = _loss_and_grad(margin, beta, reduction, rank=None, group=None, layout=layout)
        for want, got in zip(plain, reused, strict=True):
            assert torch.equal(want, got)
            assert want.numpy().tobytes() == got.numpy().tobytes()


def test_precomputed_layout_with_size_buckets_is_bit_identical():
    """One long group beside many singletons takes the bucketed path; the layout keeps it."""
    rng = np.random.default_rng(4)
    n_long, n_single = 300, 500
    rank = _t(rng.permutation(n_long + n_single).tolist(), torch.float32)
    group = torch.tensor([0] * n_long + list(range(1, n_single + 1)))[rng.permutation(800)]
    layout = ranking_layout(rank, group)
    assert len(layout.blocks) > 1
    margin = _t(rng.normal(size=800).tolist(), torch.float32)
    plain = _loss_and_grad(margin, None, "none", rank=rank, group=group)
    reused = _loss_and_grad(margin, None, "none", rank=None, group=None, layout=layout)
    for want, got in zip(plain, reused, strict=True):
        assert want.numpy().tobytes() == got.numpy().tobytes()


def test_layout_checks_its_inputs():
    rank, group = _t([0.0, 1.0, 1.0]), torch.tensor([3, 3, 3])
    with pytest.raises(ValueError, match=r"group\(s\) 3"):
        ranking_layout(rank, group, allow_ties=False)
    with pytest.raises(ValueError, match="NaN"):
        ranking_layout(_t([0.0, float("nan")]), torch.tensor([0, 0]))
    with pytest.raises(TypeError, match="integer"):
        ranking_layout(rank, _t([0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="same shape"):
        ranking_layout(rank, torch.tensor([0, 0]))
    layout = ranking_layout(rank, group)
    with pytest.raises(ValueError, match="layout 3"):
        responserank_loss(torch.zeros(2), None, None, layout=layout)
    with pytest.raises(ValueError, match="rank and group, or a layout"):
        responserank_loss(torch.zeros(3), None, group)
    empty = ranking_layout(torch.zeros(0), torch.zeros(0, dtype=torch.long))
    assert float(responserank_loss(torch.zeros(0), None, None, layout=empty)) == 0.0


# ----------------------------------------------------------------------------------------------
# Bradley-Terry, RAPL, margin, RT regression
# ----------------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(margins, st.floats(0.0, 1.0))
def test_bt_with_soft_target_is_binary_cross_entropy(u, t):
    got = float(bt_loss(_t([u]), _t([t])))
    assert got == pytest.approx(oracle_bt(u, t), rel=1e-9, abs=1e-12)
    assert float(bt_loss(_t([u]))) == pytest.approx(oracle_bt(u), rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(margins, st.floats(0.0, 5.0))
def test_rapl_beta_formula(u, beta):
    expected = math.log1p(math.exp(-beta * u))
    assert float(rapl_beta_loss(_t([u]), _t([beta]))) == pytest.approx(
        expected, rel=1e-9, abs=1e-12
    )


@settings(max_examples=100, deadline=None)
@given(margins, st.floats(0.0, 1.0))
def test_rapl_eps_formula(u, p):
    expected = -math.log(p / (1.0 + math.exp(-u)) + (1.0 - p) / 2.0)
    assert float(rapl_eps_loss(_t([u]), _t([p]))) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_rapl_special_cases():
    u = _t([-3.0, 0.0, 2.0])
    assert torch.allclose(rapl_beta_loss(u, 1.0, "none"), bt_loss(u, reduction="none"))
    assert torch.allclose(rapl_eps_loss(u, 1.0, "none"), bt_loss(u, reduction="none"))
    assert torch.allclose(
        rapl_beta_loss(u, 0.0, "none"), torch.full((3,), math.log(2.0), dtype=u.dtype)
    )
    assert torch.allclose(
        rapl_eps_loss(u, 0.0, "none"), torch.full((3,), math.log(2.0), dtype=u.dtype)
    )
    # eps-RAPL is bounded for very wrong margins: at most -log((1 - p) / 2).
    assert float(rapl_eps_loss(_t([-1e4]), 0.8)) == pytest.approx(-math.log(0.1), rel=1e-9)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        rapl_eps_loss(u, 1.5)
    assert float(margin_loss(_t([1.5]), 0.5)) == pytest.approx(oracle_bt(1.0), rel=1e-9)


def test_correctness_mappings_match_the_spec_values():
    q = torch.tensor([0.731, 0.9, 0.5, 0.2, 1.0, 0.0], dtype=torch.float64)
    beta = beta_from_correctness(q)
    assert beta[0].item() == pytest.approx(1.0, abs=1e-3)
    assert beta[1].item() == pytest.approx(2.197, abs=1e-3)
    assert beta[2].item() == 0.0 and beta[3].item() == 0.0 and beta[5].item() == 0.0
    assert math.isfinite(beta[4].item()) and beta[4].item() == pytest.approx(
        math.log((1 - 1e-7) / 1e-7)
    )
    assert torch.allclose(
        p_from_correctness(q), torch.tensor([0.462, 0.8, 0, 0, 1, 0], dtype=q.dtype)
    )
    m = margin_from_correctness(q)
    assert m[2].item() == 1.0 and m[3].item() == 1.0 and m[5].item() == 1.0
    assert m[0].item() == pytest.approx(1.0 - math.log(0.731 / 0.269), abs=1e-9)
    assert m[1].item() == 0.0  # logit(0.9) = 2.197 > 1


@settings(max_examples=100, deadline=None)
@given(margins, st.floats(0.05, 20.0), st.integers(0, 1))
def test_rt_regression_formula(u, rt, choice):
    min_rt, max_rt = 0.0, 10.0
    target = (1 if choice == 1 else -1) * ((max_rt - min_rt) / (rt - min_rt) - 1.0)
    got = float(rt_regression_loss(_t([u]), _t([rt]), _t([float(choice)]), min_rt, max_rt))
    assert got == pytest.approx((u - target) ** 2, rel=1e-9, abs=1e-12)


def test_rt_regression_rejects_times_at_or_below_min_rt():
    with pytest.raises(ValueError, match="min_rt"):
        rt_regression_loss(_t([0.1]), _t([0.5]), _t([1.0]), min_rt=0.5, max_rt=10.0)


# ----------------------------------------------------------------------------------------------
# ResponseRank with reliabilities (beta)
# ----------------------------------------------------------------------------------------------

betas = st.floats(min_value=0.0, max_value=4.0, allow_nan=False, allow_infinity=False)


@st.composite
def reliable_comparisons(draw):
    margin, rank, group = draw(ranked_comparisons())
    beta = draw(st.lists(betas, min_size=len(margin), max_size=len(margin)))
    return margin, rank, group, beta


@settings(max_examples=150, deadline=None)
@given(reliable_comparisons())
def test_beta_responserank_matches_scaled_worth_oracle(case):
    margin, rank, group, beta = case
    got = responserank_loss(
        _t(margin), _t(rank), torch.tensor(group), reduction="none", beta=_t(beta)
    )
    scaled = [b * u for b, u in zip(beta, margin, strict=True)]
    expected = oracle_responserank_terms(scaled, rank, group)
    # Log-worths reach 24 here; torch's softplus returns x above 20, an absolute error below
    # exp(-20) = 2e-9 (kept: it is today's arithmetic, and committed results depend on it).
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-8)


@settings(max_examples=100, deadline=None)
@given(ranked_comparisons(), st.sampled_from(["none", "sum", "mean"]))
def test_beta_none_and_beta_one_are_todays_loss_bit_for_bit(case, reduction):
    margin, rank, group = case
    args = (_t(margin), _t(rank), torch.tensor(group))
    today = responserank_loss(*args, reduction=reduction)
    assert torch.equal(responserank_loss(*args, reduction=reduction, beta=None), today)
    assert torch.equal(responserank_loss(*args, reduction=reduction, beta=1.0), today)
    ones = torch.ones(len(margin), dtype=torch.float64)
    assert torch.equal(responserank_loss(*args, reduction=reduction, beta=ones), today)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(margins, betas), min_size=1, max_size=30))
def test_beta_groups_of_one_equal_rapl_beta(pairs):
    u = _t([m for m, _ in pairs])
    beta = _t([b for _, b in pairs])
    got = responserank_loss(
        u, torch.zeros(len(pairs)), torch.arange(len(pairs)), reduction="none", beta=beta
    )
    expected = rapl_beta_loss(u, beta, reduction="none")
    # softplus(s) - s against softplus(-s): equal up to softplus's cut-over above s = 20 (< 2e-9).
    assert torch.allclose(got, expected, rtol=1e-12, atol=1e-8)


@settings(max_examples=100, deadline=None)
@given(reliable_comparisons(), st.data())
def test_beta_zero_removes_the_pull_of_that_margin(case, data):
    margin, rank, group, beta = case
    silenced = data.draw(st.integers(0, len(margin) - 1))
    beta[silenced] = 0.0
    u = _t(margin).requires_grad_(True)
    responserank_loss(u, _t(rank), torch.tensor(group), beta=_t(beta)).backward()
    assert u.grad[silenced].item() == 0.0
    # Its margin may be anything: the loss does not move.
    moved = list(margin)
    moved[silenced] = margin[silenced] + 100.0
    args = (_t(rank), torch.tensor(group))
    assert float(responserank_loss(_t(moved), *args, beta=_t(beta))) == pytest.approx(
        float(responserank_loss(_t(margin), *args, beta=_t(beta))), rel=1e-12, abs=1e-12
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_beta_responserank_finite_at_extreme_margins(dtype):
    u = torch.tensor([1e4, -1e4, 5e3, -3.0, 0.0, 1e4, -1e4], dtype=dtype, requires_grad=True)
    rank = torch.tensor([0.0, 1.0, 2.0, 3.0, 0.0, 1.0, 0.0])
    group = torch.tensor([0, 0, 0, 0, 1, 1, 2])
    beta = torch.tensor([2.0, 0.5, 0.0, 1.0, 3.0, 0.25, 4.0])
    loss = responserank_loss(u, rank, group, beta=beta)
    loss.backward()
    assert loss.dtype == dtype
    assert torch.isfinite(loss) and torch.isfinite(u.grad).all()
    # By hand (log-worths 2e4, -5e3, 0, -3 | 0, 2.5e3 | -4e4): in group 0 the -5e3 item ranked
    # above the worth-1 item costs 5e3 + log(2 + e^-3), the worth-1 item log(2 + e^-3) (itself,
    # the anchor and e^-3 left), the last 3 + log(1 + e^-3); in group 1 the 0 item ranked above
    # 2.5e3 costs 2.5e3; group 2 is beta-RAPL at -4e4.
    expected = (
        5e3 + 2.0 * math.log(2.0 + math.exp(-3.0)) + 3.0 + math.log1p(math.exp(-3.0)) + 2.5e3 + 4e4
    )
    assert float(loss.detach()) == pytest.approx(
        expected, rel=1e-2 if dtype == torch.bfloat16 else 1e-6
    )


def test_beta_gradcheck_float64():
    torch.manual_seed(3)
    u = torch.randn(12, dtype=torch.float64, requires_grad=True)
    beta = torch.rand(12, dtype=torch.float64) * 3
    rank = torch.randperm(12).double()
    group = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4])
    assert torch.autograd.gradcheck(
        lambda m: responserank_loss(m, rank, group, reduction="sum", beta=beta), (u,)
    )


class _CountCalls(torch.overrides.TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("with_beta", [False, True])
def test_op_count_does_not_grow_with_groups(with_beta):
    """No Python loop over groups or positions: 3 groups of 4 and 300 groups of 4 run the same
    tensor operations (and sort twice, the lexicographic (group, rank) order)."""

    def ops(num_groups: int) -> list[str]:
        n = 4 * num_groups
        u = torch.randn(n, dtype=torch.float64)
        rank = torch.rand(n, dtype=torch.float64)
        group = torch.arange(num_groups).repeat_interleave(4)
        beta = torch.rand(n, dtype=torch.float64) if with_beta else None
        with _CountCalls() as counter:
            responserank_loss(u, rank, group, beta=beta)
        return counter.calls

    small, large = ops(3), ops(300)
    assert small == large
    assert sum(name == "sort" for name in small) == 2


# ----------------------------------------------------------------------------------------------
# Parameter validation and NaN margins
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda u: rapl_beta_loss(u, -1.0), r"beta = -1.0: expected >= 0"),
        (lambda u: rapl_beta_loss(u, _t([1.0, -0.5, 2.0])), r"beta\[1\] = -0.5: expected >= 0"),
        (lambda u: rapl_beta_loss(u, float("nan")), r"beta = nan: expected >= 0"),
        (lambda u: rapl_eps_loss(u, _t([0.5, 0.5, float("nan")])), r"p\[2\] = nan"),
        (lambda u: rapl_eps_loss(u, 1.5), r"p = 1.5: expected in \[0, 1\]"),
        (lambda u: rapl_eps_loss(u, -0.1), r"p = -0.1: expected in \[0, 1\]"),
        (lambda u: margin_loss(u, float("nan")), r"offset = nan: expected a number"),
        (lambda u: bt_loss(u, _t([0.5, 1.2, 0.0])), r"target\[1\] = 1.2"),
        (
            lambda u: responserank_loss(u, _t([0.0, 1, 2]), torch.zeros(3).long(), beta=-2.0),
            r"beta = -2.0: expected >= 0",
        ),
        (lambda u: p_from_correctness(torch.tensor([0.2, 1.5])), r"\[1\] = 1.5: expected in"),
        (lambda u: beta_from_correctness(torch.tensor(float("nan"))), r"= nan: expected in"),
        (lambda u: margin_from_correctness(torch.tensor([-0.5])), r"\[0\] = -0.5: expected"),
    ],
)
def test_bad_loss_parameters_raise_naming_the_parameter(call, message):
    with pytest.raises(LossParameterError, match=message):
        call(_t([0.5, -1.0, 2.0]))


def test_correctness_mappings_stay_in_range_at_the_edges():
    q = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    assert p_from_correctness(q).tolist() == [0.0, 0.0, 1.0]
    assert beta_from_correctness(q).tolist()[:2] == [0.0, 0.0]
    assert margin_from_correctness(q).tolist() == [1.0, 1.0, 0.0]


def test_parameters_on_accelerators_are_not_inspected():
    """No host synchronisation: a tensor parameter off the CPU is not checked (the meta device
    stands in for an accelerator; it holds no values at all)."""
    u = torch.zeros(3, device="meta")
    bad = torch.full((3,), -1.0, device="meta")
    assert rapl_beta_loss(u, bad).device.type == "meta"
    assert rapl_eps_loss(u, bad).device.type == "meta"


def test_nan_margin_propagates_as_documented():
    nan = float("nan")
    assert math.isnan(float(bt_loss(_t([0.3, nan]))))
    assert math.isnan(float(rapl_beta_loss(_t([0.3, nan]), 0.5)))
    # ResponseRank: the NaN enters the denominators of its own term and of the terms ranked above
    # it in its group; other groups and the comparisons ranked below it stay finite.
    u = _t([1.0, nan, 0.5, 2.0, -1.0])
    rank = _t([0.0, 1.0, 2.0, 0.0, 1.0])
    group = torch.tensor([0, 0, 0, 1, 1])
    terms = responserank_loss(u, rank, group, reduction="none")
    assert torch.isnan(terms[:2]).all()
    assert torch.isfinite(terms[2:]).all()
    assert math.isnan(float(responserank_loss(u, rank, group)))
