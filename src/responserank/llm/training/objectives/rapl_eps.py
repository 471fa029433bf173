"""eps-RAPL: -log(p * sigmoid(u) + (1 - p) / 2), p = probability the annotator was rational."""

from __future__ import annotations

import torch

from responserank.llm.training.objectives.base import ComparisonBatch
from responserank.llm.training.objectives.reliability_weighted import ReliabilityWeightedObjective
from responserank.losses import rapl_eps_loss


class RaplEpsObjective(ReliabilityWeightedObjective):
    parameter = "p"
    domain = (0.0, 1.0)

    @property
    def name(self) -> str:
        return "rapl_eps"

    def __call__(self, margin: torch.Tensor, batch: ComparisonBatch) -> torch.Tensor:
        return rapl_eps_loss(margin, batch.reliability, reduction="sum")
