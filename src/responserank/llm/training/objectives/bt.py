"""Bradley-Terry: -log sigmoid(u) per comparison, or BCE with a soft target P(chosen wins)."""

from __future__ import annotations

import pandas as pd
import torch

from responserank.errors import TableError, describe_rows
from responserank.llm.training.objectives.base import ComparisonBatch, PairwiseObjective
from responserank.losses import bt_loss


class BradleyTerryObjective(PairwiseObjective):
    """``soft_targets=False`` trains on the choice only and refuses tables with soft targets
    (so a soft label is never dropped silently); ``soft_targets=True`` fits the targets.
    Ranks and partitions are not used: every comparison is its own term.
    """

    def __init__(self, soft_targets: bool = False) -> None:
        self.soft_targets = soft_targets

    @property
    def name(self) -> str:
        return "bt_soft" if self.soft_targets else "bt"

    def check_table(self, table: pd.DataFrame, source: str) -> None:
        super().check_table(table, source)
        target = table["target"]
        if self.soft_targets:
            bad = target.isna() | (target < 0) | (target > 1)
            if bad.any():
                raise TableError(
                    f"{source}: field 'target' must lie in [0, 1] for loss {self.name}; "
                    f"bad values in {describe_rows(table, bad)}"
                )
        else:
            soft = target != 1.0
            if soft.any():
                raise TableError(
                    f"{source}: loss bt trains on hard labels, but field 'target' holds soft labels "
                    f"in {describe_rows(table, soft)}; use loss=bt_soft to fit them"
                )

    def __call__(self, margin: torch.Tensor, batch: ComparisonBatch) -> torch.Tensor:
        target = batch.target if self.soft_targets else None
        return bt_loss(margin, target, reduction="sum")
