"""The synthetic learners' training objectives, chosen by ``learners.<name>.loss``.

Each entry of :data:`OBJECTIVES` builds the per-member loss (E,) of one batched ensemble from the
learner's settings; every loss itself comes from :mod:`responserank.losses`, shared with the LLM
objectives. A new loss is one entry here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol

import torch

from responserank.losses import (
    bt_loss,
    rapl_beta_loss,
    responserank_loss,
    rt_regression_loss,
)
from responserank.ranking_layout import ranking_layout
from responserank.synthetic.packed import PackedComparisons
from responserank.synthetic.strength import HyperbolicStrength


class ObjectiveSettings(Protocol):
    """What an objective reads of a learner (a :class:`~responserank.synthetic.learner_spec.LearnerSpec`)."""

    name: str
    loss: str
    stratified: bool
    worth_transform: str
    singleton_strata: str
    reliability: str
    misclassification_penalty: float
    label_smoothing: float

    @property
    def uses_reliability(self) -> bool: ...


Objective = Callable[[torch.Tensor], torch.Tensor]


def _per_member_sum(batch: PackedComparisons, terms: torch.Tensor) -> torch.Tensor:
    return torch.zeros(batch.num_members, dtype=terms.dtype).index_add_(0, batch.member, terms)


def _oriented(batch: PackedComparisons, margin: torch.Tensor) -> torch.Tensor:
    """e_i = d_i if option 1 was chosen, else -d_i: the margin of the chosen option."""
    return torch.where(batch.choice, margin, -margin)


def _bt_objective(
    spec: ObjectiveSettings, batch: PackedComparisons, strength: HyperbolicStrength
) -> Objective:
    weight = 1.0 / batch.counts.to(batch.dtype)[batch.member]
    target = None if spec.label_smoothing == 0 else 1.0 - spec.label_smoothing

    def objective(margin: torch.Tensor) -> torch.Tensor:
        terms = bt_loss(_oriented(batch, margin), target=target, reduction="none")
        return _per_member_sum(batch, terms * weight)

    return objective


def _beta(spec: ObjectiveSettings, batch: PackedComparisons) -> torch.Tensor | None:
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
    spec: ObjectiveSettings, batch: PackedComparisons, strength: HyperbolicStrength
) -> Objective:
    weight = 1.0 / batch.counts.to(batch.dtype)[batch.member]
    beta = _beta(spec, batch)

    def objective(margin: torch.Tensor) -> torch.Tensor:
        terms = rapl_beta_loss(_oriented(batch, margin), beta, reduction="none")
        return _per_member_sum(batch, terms * weight)

    return objective


def _rt_regression_objective(
    spec: ObjectiveSettings, batch: PackedComparisons, strength: HyperbolicStrength
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
    spec: ObjectiveSettings, batch: PackedComparisons, strength: HyperbolicStrength
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
OBJECTIVES: dict[
    str, Callable[[ObjectiveSettings, PackedComparisons, HyperbolicStrength], Objective]
] = {
    "bt": _bt_objective,
    "rt_regression": _rt_regression_objective,
    "rr": _rr_objective,
    "rapl_beta": _rapl_beta_objective,
}


def build_objective(
    spec: ObjectiveSettings, batch: PackedComparisons, strength: HyperbolicStrength
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
