"""beta-RAPL: -log sigmoid(beta * u), beta = the comparison's reliability (0 ignores the label)."""

from __future__ import annotations

import torch

from responserank.llm.training.objectives.base import ComparisonBatch
from responserank.llm.training.objectives.reliability_weighted import ReliabilityWeightedObjective
from responserank.losses import rapl_beta_loss


class RaplBetaObjective(ReliabilityWeightedObjective):
    parameter = "beta"
    domain = (0.0, None)

    @property
    def name(self) -> str:
        return "rapl_beta"

    def __call__(self, margin: torch.Tensor, batch: ComparisonBatch) -> torch.Tensor:
        return rapl_beta_loss(margin, batch.reliability, reduction="sum")
