"""ResponseRank with reliabilities: anchored Plackett-Luce over each partition fragment, each
comparison's worth exp(beta u) with beta = its reliability (``responserank_loss(..., beta=)``)."""

from __future__ import annotations

import torch

from responserank.llm.training.objectives.base import ComparisonBatch
from responserank.llm.training.objectives.reliability_weighted import ReliabilityWeightedObjective
from responserank.llm.training.objectives.responserank import ResponseRankObjective
from responserank.losses import responserank_loss


class ResponseRankRaplObjective(ResponseRankObjective, ReliabilityWeightedObjective):
    """Strength ranks (``rank``/``partition``) and a beta >= 0 per comparison (``reliability``).

    Before training the table must satisfy both parents: the ResponseRank checks (no soft labels,
    an unranked comparison alone in its partition, ties only with ``allow_ties``) and the beta
    checks (finite, >= 0, produced for beta). beta = 1 everywhere trains exactly as
    ``responserank``; an unranked comparison trains as ``rapl_beta``.
    """

    parameter = "beta"
    domain = (0.0, None)

    @property
    def name(self) -> str:
        return "responserank_rapl"

    def __call__(self, margin: torch.Tensor, batch: ComparisonBatch) -> torch.Tensor:
        rank = torch.nan_to_num(batch.rank, nan=0.0)
        return responserank_loss(
            margin,
            rank,
            batch.partition,
            reduction="sum",
            allow_ties=self.allow_ties,
            beta=batch.reliability,
        )
