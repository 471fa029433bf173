"""Margin BT (experimental): -log sigmoid(u - m), m = the comparison's reliability margin."""

from __future__ import annotations

import torch

from responserank.llm.training.objectives.base import ComparisonBatch
from responserank.llm.training.objectives.reliability_weighted import ReliabilityWeightedObjective
from responserank.losses import margin_loss


class MarginObjective(ReliabilityWeightedObjective):
    parameter = "margin"

    @property
    def name(self) -> str:
        return "margin"

    def __call__(self, margin: torch.Tensor, batch: ComparisonBatch) -> torch.Tensor:
        return margin_loss(margin, batch.reliability, reduction="sum")
