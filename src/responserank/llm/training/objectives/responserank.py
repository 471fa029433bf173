"""ResponseRank: anchored Plackett-Luce over the comparisons of each partition fragment."""

from __future__ import annotations

import pandas as pd
import torch

from responserank.errors import TableError, describe_rows
from responserank.llm.training.objectives.base import ComparisonBatch, PairwiseObjective
from responserank.losses import responserank_loss


class ResponseRankObjective(PairwiseObjective):
    """Ranks the comparisons of each partition fragment in a micro-batch by ascending ``rank``.

    A comparison without a rank (NaN) must be alone in its partition and contributes the
    Bradley-Terry term. Soft targets have no meaning here and are refused. With
    ``allow_ties=False`` tied ranks inside a partition are refused before training.
    """

    def __init__(self, allow_ties: bool = False) -> None:
        self.allow_ties = allow_ties

    @property
    def name(self) -> str:
        return "responserank"

    def check_table(self, table: pd.DataFrame, source: str) -> None:
        super().check_table(table, source)
        soft = table["target"] != 1.0
        if soft.any():
            raise TableError(
                f"{source}: loss responserank does not use soft labels, but field 'target' holds "
                f"them in {describe_rows(table, soft)}; use loss=bt_soft, or a signal without targets"
            )
        group_size = table.groupby("partition")["partition"].transform("size")
        unranked_shared = table["rank"].isna() & (group_size > 1)
        if unranked_shared.any():
            raise TableError(
                f"{source}: a comparison without 'rank' must be alone in its 'partition', but "
                f"{describe_rows(table, unranked_shared)} share a partition with others"
            )
        if not self.allow_ties:
            ranked = table["rank"].notna()
            tied = ranked & table.duplicated(subset=["partition", "rank"], keep=False)
            if tied.any():
                raise TableError(
                    f"{source}: tied 'rank' values inside a 'partition' in "
                    f"{describe_rows(table, tied)}; set loss.allow_ties=true or use a tie-free "
                    "partitioner (round_robin_auto)"
                )

    def __call__(self, margin: torch.Tensor, batch: ComparisonBatch) -> torch.Tensor:
        # An unranked comparison is a singleton group, where any rank gives the BT term.
        rank = torch.nan_to_num(batch.rank, nan=0.0)
        return responserank_loss(
            margin, rank, batch.partition, reduction="sum", allow_ties=self.allow_ties
        )
