"""The interface between the trainer and a preference loss.

The trainer computes margins u = r(chosen) - r(rejected) for one micro-batch and hands them, with
the batch's per-comparison columns, to an objective. The objective returns the *sum* of its
per-comparison terms; the trainer divides by the number of comparisons in the whole optimizer step
(all accumulation steps, all processes), so the gradient does not depend on how a step is split
into micro-batches.

Before training, ``check_table`` sees the full training table so that data an objective cannot use
faithfully (soft targets for a hard-label loss, tied ranks where ties are forbidden, missing
reliabilities) fails early, naming the source, the rows and the field.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from responserank.errors import TableError


@dataclass(frozen=True)
class ComparisonBatch:
    """Per-comparison columns of one micro-batch, aligned with its margins (contract B).

    rank: float64, lower = stronger preference, NaN = none; partition: int64 group id;
    target: soft label P(chosen wins); reliability: annotator reliability, NaN when unused.
    """

    rank: torch.Tensor
    partition: torch.Tensor
    target: torch.Tensor
    reliability: torch.Tensor


class PairwiseObjective(ABC):
    """A preference loss over comparisons; subclasses are built from the Hydra ``loss`` group."""

    #: Table columns (beyond the contract-B core) the objective reads.
    required_columns: Sequence[str] = ()

    @property
    def name(self) -> str:
        return type(self).__name__

    def check_table(self, table: pd.DataFrame, source: str) -> None:
        """Raise ``TableError`` when ``table`` carries data this objective would misuse."""
        missing = [c for c in self.required_columns if c not in table.columns]
        if missing:
            raise TableError(
                f"{source}: loss {self.name} needs column(s) {missing}; "
                f"the table has {sorted(table.columns)}"
            )

    @abstractmethod
    def __call__(self, margin: torch.Tensor, batch: ComparisonBatch) -> torch.Tensor:
        """Sum of the per-comparison loss terms of one micro-batch (a scalar tensor)."""
