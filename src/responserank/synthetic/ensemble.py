"""Train many independent utility MLPs as one batched ensemble.

All fits of one learner (its trials x dataset sizes) share one tensor program: parameters are
stacked along a member axis (one (E, P) buffer, see ``mlp.FlatEnsemble``), every member sees its
own comparisons (padded to a common length; padding never enters a loss), the per-member losses
are summed so that each member's gradient is its own, and AdamW (elementwise) updates every member
as it would alone. Model selection is per member: the weights after the step of the epoch with the lowest
pre-step training loss.

``fit_single`` is the same fit for one member with a plain ``nn.Sequential`` and a per-fit loop;
it is the reference the ensemble is tested against and the naive baseline of the benchmark.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.optim.adamw import adamw

from responserank.losses import (
    bt_loss,
    rapl_beta_loss,
    responserank_loss,
    rt_regression_loss,
)
from responserank.ranking_layout import ranking_layout
from responserank.synthetic.mlp import FlatEnsemble, LayerParams
from responserank.synthetic.strength import HyperbolicStrength

if TYPE_CHECKING:
    from responserank.synthetic.learner_spec import LearnerSpec

DTYPE = torch.float32


@dataclass(frozen=True)
class PackedComparisons:
    """The training comparisons of E members, padded to a common length ``max_len``.

        ``x`` holds option 1 in rows [0, max_len) and option 2 in rows [max_len, 2 max_len) of each
        member. The flat tensors (one entry per real comparison, member-major) carry what the losses
        need; ``index`` locates each comparison in the flattened (E, max_len) margin matrix (None when
    no member is padded: then that matrix is already the flat margins).
    """

    x: torch.Tensor
    max_len: int
    index: torch.Tensor | None
    member: torch.Tensor
    choice: torch.Tensor
    rt: torch.Tensor
    stratum: torch.Tensor
    counts: torch.Tensor
    proxy: torch.Tensor | None = None

    @property
    def num_members(self) -> int:
        return self.x.shape[0]

    @property
    def dtype(self) -> torch.dtype:
        return self.x.dtype

    def margins(self, utilities: torch.Tensor) -> torch.Tensor:
        """f(x1) - f(x2) per real comparison, from member utilities (E, 2 max_len)."""
        diff = (utilities[:, : self.max_len] - utilities[:, self.max_len :]).reshape(-1)
        return diff if self.index is None else diff.index_select(0, self.index)


def pack_comparisons(
    members: Sequence[Mapping[str, np.ndarray]], dtype: torch.dtype = DTYPE
) -> PackedComparisons:
    """Pack each member's comparisons (keys x1, x2, choice, rt, stratum; proxy when every
    member has one) for the ensemble."""
    if not members:
        raise ValueError("cannot pack an empty ensemble")
    counts = [int(m["choice"].shape[0]) for m in members]
    if min(counts) < 1:
        raise ValueError("every member needs at least one training comparison")
    max_len = max(counts)
    dim = members[0]["x1"].shape[1]
    x = torch.zeros(len(members), 2 * max_len, dim, dtype=dtype)
    for e, m in enumerate(members):
        n = counts[e]
        x[e, :n] = torch.as_tensor(m["x1"], dtype=dtype)
        x[e, max_len : max_len + n] = torch.as_tensor(m["x2"], dtype=dtype)
    member = torch.repeat_interleave(torch.arange(len(members)), torch.tensor(counts))
    position = torch.cat([torch.arange(n) for n in counts])
    return PackedComparisons(
        x=x,
        max_len=max_len,
        index=None if min(counts) == max_len else member * max_len + position,
        member=member,
        choice=torch.as_tensor(np.concatenate([m["choice"] for m in members]), dtype=torch.bool),
        rt=torch.as_tensor(np.concatenate([m["rt"] for m in members]), dtype=dtype),
        stratum=torch.as_tensor(np.concatenate([m["stratum"] for m in members]), dtype=torch.int64),
        counts=torch.tensor(counts),
        proxy=(
            torch.as_tensor(np.concatenate([m["proxy"] for m in members]), dtype=dtype)
            if all("proxy" in m for m in members)
            else None
        ),
    )


Objective = Callable[[torch.Tensor], torch.Tensor]


def _per_member_sum(batch: PackedComparisons, terms: torch.Tensor) -> torch.Tensor:
    return torch.zeros(batch.num_members, dtype=terms.dtype).index_add_(0, batch.member, terms)


def _oriented(batch: PackedComparisons, margin: torch.Tensor) -> torch.Tensor:
    """e_i = d_i if option 1 was chosen, else -d_i: the margin of the chosen option."""
    return torch.where(batch.choice, margin, -margin)


def _bt_objective(
    spec: LearnerSpec, batch: PackedComparisons, strength: HyperbolicStrength
) -> Objective:
    weight = 1.0 / batch.counts.to(batch.dtype)[batch.member]
    target = None if spec.label_smoothing == 0 else 1.0 - spec.label_smoothing

    def objective(margin: torch.Tensor) -> torch.Tensor:
        terms = bt_loss(_oriented(batch, margin), target=target, reduction="none")
        return _per_member_sum(batch, terms * weight)

    return objective


def _beta(spec: LearnerSpec, batch: PackedComparisons) -> torch.Tensor | None:
    """Per-comparison beta: the (possibly permuted) reliability proxy, or None for beta = 1."""
    if not spec.uses_reliability:
        return None
    if batch.proxy is None:
        raise ValueError(
            f"learners.{spec.name}.reliability={spec.reliability}: the dataset gives no "
            "reliability proxy (choose a dataset such as reliability_mix)"
        )
    return batch.proxy


def _rapl_beta_objective(
    spec: LearnerSpec, batch: PackedComparisons, strength: HyperbolicStrength
) -> Objective:
    weight = 1.0 / batch.counts.to(batch.dtype)[batch.member]
    beta = _beta(spec, batch)

    def objective(margin: torch.Tensor) -> torch.Tensor:
        terms = rapl_beta_loss(_oriented(batch, margin), beta, reduction="none")
        return _per_member_sum(batch, terms * weight)

    return objective


def _rt_regression_objective(
    spec: LearnerSpec, batch: PackedComparisons, strength: HyperbolicStrength
) -> Objective:
    weight = 1.0 / batch.counts.to(batch.dtype)[batch.member]
    choice = batch.choice.to(batch.dtype)

    def objective(margin: torch.Tensor) -> torch.Tensor:
        terms = rt_regression_loss(
            margin, batch.rt, choice, strength.min_rt, strength.max_rt, reduction="none"
        )
        return _per_member_sum(batch, terms * weight)

    return objective


def _rr_objective(
    spec: LearnerSpec, batch: PackedComparisons, strength: HyperbolicStrength
) -> Objective:
    if spec.stratified:
        num_strata = int(batch.stratum.max()) + 1
        group = batch.member * num_strata + batch.stratum
    else:
        group = batch.member.clone()
    kept = torch.ones_like(batch.choice)
    if spec.singleton_strata == "drop":
        group_size = torch.bincount(group)
        kept = group_size[group] > 1
    kept_per_member = torch.zeros(batch.num_members, dtype=batch.dtype).index_add_(
        0, batch.member, kept.to(batch.dtype)
    )
    weight = torch.where(kept, 1.0 / kept_per_member.clamp(min=1.0)[batch.member], 0.0)
    sigmoid_shift = math.log(2.0)
    beta = _beta(spec, batch)
    # The rankings depend on the response times and groups only: sorted once, reused every epoch.
    layout = ranking_layout(batch.rt, group)

    def objective(margin: torch.Tensor) -> torch.Tensor:
        log_worth = _oriented(batch, margin)
        if spec.worth_transform == "sigmoid":
            # worth = sigmoid(e) for every comparison and the anchor (e = 0); scaling all worths
            # by 2 leaves the likelihood unchanged and gives the anchor log-worth 0.
            log_worth = torch.nn.functional.logsigmoid(log_worth) + sigmoid_shift
        terms = responserank_loss(log_worth, None, None, reduction="none", beta=beta, layout=layout)
        return _per_member_sum(batch, terms * weight)

    return objective


# The losses a learner can name (``learners.<name>.loss``); a new loss is one entry here.
OBJECTIVES: dict[str, Callable[[LearnerSpec, PackedComparisons, HyperbolicStrength], Objective]] = {
    "bt": _bt_objective,
    "rt_regression": _rt_regression_objective,
    "rr": _rr_objective,
    "rapl_beta": _rapl_beta_objective,
}


def build_objective(
    spec: LearnerSpec, batch: PackedComparisons, strength: HyperbolicStrength
) -> Objective:
    """Per-member training loss (E,) as a function of the flat margins f(x1) - f(x2)."""
    base = OBJECTIVES[spec.loss](spec, batch, strength)
    penalty = spec.misclassification_penalty
    if penalty == 0:
        return base

    def penalised(margin: torch.Tensor) -> torch.Tensor:
        misordered = torch.relu(-_oriented(batch, margin))
        return base(margin) + penalty * _per_member_sum(batch, misordered)

    return penalised


@dataclass(frozen=True)
class EnsembleFit:
    """Selected parameters (stacked), and per member the selected epoch and its loss."""

    params: list[LayerParams]
    best_epoch: torch.Tensor
    best_loss: torch.Tensor


class _FusedAdamW:
    """AdamW on one tensor through torch's functional fused kernel.

    The numbers are those of ``torch.optim.AdamW(fused=True)`` (a test pins them bit for bit);
    the class is avoided because its first ``step`` imports ``torch._dynamo``, about 3 s of CPU in
    every process that trains, which dominated small runs and was paid once per grid invocation.
    """

    def __init__(self, params: torch.Tensor, lr: float, weight_decay: float) -> None:
        self.params = params
        self.exp_avg = torch.zeros_like(params)
        self.exp_avg_sq = torch.zeros_like(params)
        self.step_count = torch.zeros((), dtype=torch.float32)
        self.lr = lr
        self.weight_decay = weight_decay

    def step(self, grad: torch.Tensor) -> None:
        adamw(
            [self.params],
            [grad],
            [self.exp_avg],
            [self.exp_avg_sq],
            [],
            [self.step_count],
            fused=True,
            amsgrad=False,
            beta1=0.9,
            beta2=0.999,
            lr=self.lr,
            weight_decay=self.weight_decay,
            eps=1e-8,
            maximize=False,
        )


def fit_ensemble(
    batch: PackedComparisons,
    init: Sequence[Sequence[LayerParams]],
    spec: LearnerSpec,
    strength: HyperbolicStrength,
) -> EnsembleFit:
    """Full-batch AdamW for ``spec.num_epochs`` epochs on every member at once.

    Autograd differentiates only the objective (losses -> utilities); the MLPs' backward is
    ``FlatEnsemble.backward``, checked against autograd by the tests (``fit_single``).
    """
    if len(init) != batch.num_members:
        raise ValueError(f"{len(init)} initialisations for {batch.num_members} members")
    objective = build_objective(spec, batch, strength)
    ensemble = FlatEnsemble(init, batch.dtype)
    x_ones = FlatEnsemble.with_ones(batch.x)
    optimizer = _FusedAdamW(ensemble.params, spec.lr, spec.weight_decay)
    best = ensemble.params.clone()
    best_loss = torch.full((batch.num_members,), math.inf, dtype=batch.dtype)
    best_epoch = torch.full((batch.num_members,), -1, dtype=torch.int64)
    for epoch in range(spec.num_epochs):
        utilities, inputs = ensemble.forward(x_ones)
        utilities.requires_grad_(True)
        losses = objective(batch.margins(utilities))
        (grad_utilities,) = torch.autograd.grad(losses.sum(), utilities)
        ensemble.backward(inputs, grad_utilities)
        optimizer.step(ensemble.grad)
        pre_step = losses.detach()
        improved = torch.nonzero(pre_step < best_loss).squeeze(1)
        if improved.numel():
            best_loss.index_copy_(0, improved, pre_step.index_select(0, improved))
            best_epoch.index_fill_(0, improved, epoch)
            best.index_copy_(0, improved, ensemble.params.index_select(0, improved))
    selected = [(w.contiguous(), b.contiguous()) for w, b in ensemble.layers(best)]
    return EnsembleFit(params=selected, best_epoch=best_epoch, best_loss=best_loss)


def _sequential_from(init: Sequence[LayerParams], dtype: torch.dtype) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k, (weight, bias) in enumerate(init):
        linear = nn.Linear(weight.shape[0], weight.shape[1], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(weight.t())
            linear.bias.copy_(bias)
        layers.append(linear)
        if k < len(init) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def fit_single(
    data: Mapping[str, np.ndarray],
    init: Sequence[LayerParams],
    spec: LearnerSpec,
    strength: HyperbolicStrength,
    dtype: torch.dtype = DTYPE,
) -> tuple[list[LayerParams], int, float]:
    """One fit, one ``nn.Sequential``, one loop: (selected params, best epoch, best loss)."""
    batch = pack_comparisons([data], dtype)
    objective = build_objective(spec, batch, strength)
    model = _sequential_from(init, dtype)
    x1 = torch.as_tensor(data["x1"], dtype=dtype)
    x2 = torch.as_tensor(data["x2"], dtype=dtype)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=spec.lr, weight_decay=spec.weight_decay, fused=True
    )
    best_state = copy.deepcopy(model.state_dict())
    best_loss, best_epoch = math.inf, -1
    for epoch in range(spec.num_epochs):
        optimizer.zero_grad(set_to_none=True)
        loss = objective(model(x1).squeeze(-1) - model(x2).squeeze(-1))[0]
        loss.backward()
        optimizer.step()
        if loss.item() < best_loss:
            best_loss, best_epoch = loss.item(), epoch
            best_state = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    selected = [(m.weight.detach().t().contiguous(), m.bias.detach().clone()) for m in linears]
    return selected, best_epoch, best_loss
