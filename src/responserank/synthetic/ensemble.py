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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.optim.adamw import adamw

from responserank.synthetic.learner_spec import LearnerSpec
from responserank.synthetic.mlp import FlatEnsemble, LayerParams
from responserank.synthetic.objectives import build_objective
from responserank.synthetic.packed import DTYPE, PackedComparisons, pack_comparisons
from responserank.synthetic.strength import HyperbolicStrength


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
