"""Preference losses shared by every experiment family.

All functions take ``margin`` = r(chosen) - r(rejected) (the synthetic family uses
f(x1) - f(x2) oriented by the choice) as a 1-D tensor and are pure tensor code: no I/O, no Python
loops over comparisons, groups or ranking positions. They accept float32, float64 and bfloat16
(half precision is computed in float32 and returned in the input dtype) on any device, and stay
finite for |margin| up to 1e4.

Parameters (beta, p, offsets, soft targets) are validated without ever waiting on an accelerator:
a Python number or a CPU tensor is checked here and a NaN or out-of-domain value raises
:class:`~responserank.errors.LossParameterError`; a tensor on an accelerator is not inspected (that
would synchronise the device every step), so the code that builds it checks it (the ARM signal
and the LLM objectives' ``check_table`` do, before training). Margins are never checked: a NaN
margin gives a NaN term (for ``responserank_loss`` also the terms ranked above it in its group,
whose denominators include it) and so a NaN sum or mean, and a NaN gradient. Stopping on that is
the caller's job, at a point where the value is on the host anyway.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F

from responserank.loss_parameters import check_parameter
from responserank.ranking_layout import RankingLayout, ranking_layout, segmented_suffix_logsumexp

Reduction = Literal["mean", "sum", "none"]

_LOW_PRECISION = (torch.float16, torch.bfloat16)


def _compute_dtype(t: torch.Tensor) -> torch.dtype:
    return torch.float32 if t.dtype in _LOW_PRECISION else t.dtype


def _reduce(per_item: torch.Tensor, reduction: Reduction, out_dtype: torch.dtype) -> torch.Tensor:
    if reduction == "none":
        out = per_item
    elif reduction == "sum":
        out = per_item.sum()
    elif reduction == "mean":
        out = per_item.mean() if per_item.numel() else per_item.sum()
    else:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return out.to(out_dtype)


def _as_float(x: torch.Tensor | float, like: torch.Tensor, name: str) -> torch.Tensor:
    dtype = _compute_dtype(like)
    t = (
        x.to(like.device, dtype)
        if torch.is_tensor(x)
        else torch.tensor(x, dtype=dtype, device=like.device)
    )
    if t.dim() > 0 and t.shape != like.shape:
        raise ValueError(f"{name} has shape {tuple(t.shape)}, expected {tuple(like.shape)}")
    return t


def _check_margin(margin: torch.Tensor) -> torch.Tensor:
    if not torch.is_tensor(margin) or not margin.is_floating_point():
        raise TypeError("margin must be a floating-point tensor")
    if margin.dim() != 1:
        raise ValueError(
            f"margin must be 1-D (one entry per comparison), got {tuple(margin.shape)}"
        )
    return margin.to(_compute_dtype(margin))


# --------------------------------------------------------------------------------------------
# Bradley-Terry and reliability-aware variants
# --------------------------------------------------------------------------------------------


def bt_loss(
    margin: torch.Tensor,
    target: torch.Tensor | float | None = None,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Bradley-Terry negative log-likelihood; ``target`` is a soft label P(chosen wins).

    With the default target 1 this is -log sigmoid(margin). Soft targets (agreement or mean
    preference) give binary cross-entropy with logits, which keeps their information instead of
    rounding it away.
    """
    u = _check_margin(margin)
    if target is None:
        per_item = F.softplus(-u)
    else:
        check_parameter(target, "target", 0.0, 1.0)
        t = _as_float(target, u, "target").expand_as(u)
        per_item = F.binary_cross_entropy_with_logits(u, t, reduction="none")
    return _reduce(per_item, reduction, margin.dtype)


def rapl_beta_loss(
    margin: torch.Tensor, beta: torch.Tensor | float, reduction: Reduction = "mean"
) -> torch.Tensor:
    """beta-RAPL: -log sigmoid(beta * margin). beta = 0 ignores a label, beta = 1 is BT.

    beta: scalar or shape (N,), >= 0 (a negative beta would flip the label). Source: RAPL,
    "beta" method (annotator reliability as an inverse temperature).
    Raises LossParameterError for a NaN or negative beta (see the module docstring for devices).
    """
    u = _check_margin(margin)
    check_parameter(beta, "beta", 0.0)
    b = _as_float(beta, u, "beta")
    return _reduce(F.softplus(-b * u), reduction, margin.dtype)


def rapl_eps_loss(
    margin: torch.Tensor, p: torch.Tensor | float, reduction: Reduction = "mean"
) -> torch.Tensor:
    """eps-RAPL: -log(p * sigmoid(margin) + (1 - p) / 2).

    With probability p the annotator follows the reward, otherwise picks at random; the loss is
    bounded as margin -> -inf whenever p < 1. Computed in log space for stability.

    p: scalar or shape (N,), in [0, 1]. Source: RAPL, "p" method (a Boltzmann-rational annotator
    mixed with a uniformly random one). Raises LossParameterError for a NaN p or one outside [0, 1].
    """
    u = _check_margin(margin)
    check_parameter(p, "p", 0.0, 1.0)
    pp = _as_float(p, u, "p").expand_as(u)
    follows = torch.log(pp) + F.logsigmoid(u)
    random_pick = torch.log1p(-pp) - math.log(2.0)
    return _reduce(-torch.logaddexp(follows, random_pick), reduction, margin.dtype)


def margin_loss(
    margin: torch.Tensor, offset: torch.Tensor | float, reduction: Reduction = "mean"
) -> torch.Tensor:
    """Bradley-Terry with an offset: -log sigmoid(margin - offset).

    ``offset`` (scalar or shape (N,), any real number) is subtracted from the margin u, as the
    ``margin`` column of TRL's ``RewardTrainer`` is: a positive offset asks the chosen reward to
    lead by at least that much, a negative one asks for less. RAPL's experimental margin variant
    feeds m = margin_from_correctness(q) here (1 for a label no better than a coin flip, 0 for a
    label with logit(q) >= 1).
    Raises LossParameterError for a NaN offset.
    """
    u = _check_margin(margin)
    check_parameter(offset, "offset")
    shift = _as_float(offset, u, "offset")
    return _reduce(F.softplus(-(u - shift)), reduction, margin.dtype)


# --------------------------------------------------------------------------------------------
# Response-time regression (synthetic baseline)
# --------------------------------------------------------------------------------------------


def rt_regression_loss(
    margin: torch.Tensor,
    rt: torch.Tensor,
    choice: torch.Tensor,
    min_rt: float,
    max_rt: float,
    reduction: Reduction = "mean",
) -> torch.Tensor:
    """Squared error between margin and the utility difference implied by the response time.

    The hyperbolic relation RT(d) = min_rt + (max_rt - min_rt) / (d + 1) is inverted to
    d(rt) = (max_rt - min_rt) / (rt - min_rt) - 1 and signed by the choice (1: option 1 chosen).
    ``margin`` here is f(x1) - f(x2), not oriented by the choice.
    """
    u = _check_margin(margin)
    t = _as_float(rt, u, "rt")
    c = _as_float(choice, u, "choice")
    if bool((t <= min_rt).any()):
        raise ValueError(f"response times must exceed min_rt={min_rt}")
    sign = 2.0 * c - 1.0
    target = sign * ((max_rt - min_rt) / (t - min_rt) - 1.0)
    return _reduce((u - target) ** 2, reduction, margin.dtype)


# --------------------------------------------------------------------------------------------
# ResponseRank: anchored Plackett-Luce within groups
# --------------------------------------------------------------------------------------------


def responserank_loss(
    margin: torch.Tensor,
    rank: torch.Tensor | None,
    group: torch.Tensor | None,
    reduction: Reduction = "sum",
    allow_ties: bool = True,
    beta: torch.Tensor | float | None = None,
    layout: RankingLayout | None = None,
) -> torch.Tensor:
    """Anchored Plackett-Luce loss over comparisons ranked by preference strength (ResponseRank).

    In standard terms: within each ``group`` (a stratum or partition) the comparisons, ordered by
    ascending ``rank`` (lower = stronger preference, e.g. a faster response), plus one virtual
    anchor item in last place form one observed Plackett-Luce ranking. Comparison k is an item with
    log-worth s_k = beta_k * margin_k; the anchor has log-worth 0 (worth 1). The loss is the
    negative log-likelihood of the ranking,

        term_k = -(s_k - log(sum_{j >= k in group} exp(s_j) + 1)),

    so each comparison must beat every weaker one *and* the anchor, which ties the ranking to the
    choice (log-worth 0 = indifference): margins are pushed above 0, stronger ones further.
    Source: ResponseRank (anchored Plackett-Luce over strength ranks within strata); Plackett
    (1975), Luce (1959).

    Reliability (``beta``, scalar or shape (N,), >= 0; None = 1 for every comparison): the
    worth of comparison k is exp(beta_k * margin_k), i.e. its margin enters at inverse temperature
    beta_k, as in beta-RAPL (-log sigmoid(beta u)). This is a proper Plackett-Luce model for any
    beta >= 0 (the worths stay positive and each stage normalises), and it reduces to both
    parents: beta = 1 everywhere is ResponseRank (bit for bit), and a group of one is
    -log sigmoid(beta u) = beta-RAPL. With beta_k = 0 the comparison's margin has no gradient at
    all (no pull); the comparison still occupies its place in the ranking as an item of worth 1,
    exactly like the anchor, so stronger comparisons must still beat it and weaker ones are still
    asked to rank below it (a coin-flip label carries no sign information, but its position
    says: the comparisons after it were weaker than indifference allows).

    No eps (mixture) variant: mixing each stage with a uniformly random pick,
    P(k first) = p_k softmax_k + (1 - p_k) / n_k, is a normalised distribution only when p is the
    same for every item left at that stage; with one p per comparison (one annotator each) the
    stage probabilities no longer sum to one, so the result is not a likelihood. A group-constant
    p would be sound but cannot express per-label reliability, which is the point of eps-RAPL.

    Tied ranks inside a group: with ``allow_ties=False`` they raise ``ValueError`` naming the
    group; with ``allow_ties=True`` tied comparisons keep their input order (stable sort), so the
    result is deterministic for a given input and a shuffled batch gives a random tie order.

    ``layout``: the rankings precomputed by ``ranking_layout(rank, group, allow_ties)`` (then
    ``rank`` and ``group`` are ignored and may be None); the result is bit for bit that of the
    call with ``rank`` and ``group``.

    Shapes: margin, rank, group (N,); group integer. reduction: "sum" over all comparisons,
    "mean" = sum / N, "none" = one term per comparison in input order (N,). One sort, segmented
    suffix log-sum-exp, no Python loop over groups or positions. Raises LossParameterError for a
    NaN or negative beta (checked on CPU; module docstring), ValueError for NaN ranks or shape
    mismatches, TypeError for a non-integer group.
    """
    u = _check_margin(margin)
    if layout is None:
        if rank is None or group is None:
            raise ValueError("responserank_loss needs rank and group, or a layout")
        rank = torch.as_tensor(rank, device=u.device)
        group = torch.as_tensor(group, device=u.device)
        if rank.shape != u.shape or group.shape != u.shape:
            raise ValueError(
                f"margin, rank and group must have the same shape, got {tuple(u.shape)}, "
                f"{tuple(rank.shape)} and {tuple(group.shape)}"
            )
        if group.is_floating_point() or group.dtype == torch.bool:
            raise TypeError("group must be an integer tensor")
    elif layout.num_items != u.numel():
        raise ValueError(f"margin has {u.numel()} entries, the ranking layout {layout.num_items}")
    log_worth = u
    if beta is not None:
        check_parameter(beta, "beta", 0.0)
        log_worth = _as_float(beta, u, "beta") * u
    if u.numel() == 0:
        return _reduce(u.new_zeros(0), reduction, margin.dtype)
    if layout is None:
        layout = ranking_layout(rank, group, allow_ties)

    order = layout.order
    sorted_worth = log_worth.index_select(0, order)
    suffix = segmented_suffix_logsumexp(sorted_worth, layout.blocks)
    sorted_terms = F.softplus(suffix) - sorted_worth  # log(sum exp + anchor exp(0)) - s_k
    if reduction != "none":
        return _reduce(sorted_terms, reduction, margin.dtype)
    per_item = torch.empty_like(sorted_terms).index_copy(0, order, sorted_terms)
    return _reduce(per_item, reduction, margin.dtype)


__all__ = [
    "bt_loss",
    "margin_loss",
    "rapl_beta_loss",
    "rapl_eps_loss",
    "responserank_loss",
    "rt_regression_loss",
]
