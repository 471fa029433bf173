"""What the reliability-aware (RAPL) objectives share: checks on the ``reliability`` column.

A RAPL loss reads one parameter per comparison from ``reliability`` (beta, p or a margin m, filled
by ``signal=arm``). Before training the table must carry a finite value in the parameter's domain
for every comparison, hard labels only (the reliability, not a soft target, expresses doubt), and,
when the signal says which parameter it produced (``reliability_kind``), the right one: a beta
fed to eps-RAPL would otherwise train silently on the wrong model.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd

from responserank.errors import TableError, describe_rows
from responserank.llm.training.objectives.base import PairwiseObjective


class ReliabilityWeightedObjective(PairwiseObjective):
    """Base of rapl_beta, rapl_eps and margin; subclasses set the class attributes below."""

    #: The ``map_to`` value of signal=arm that produces this loss's parameter.
    parameter: ClassVar[str]
    #: Closed interval the parameter must lie in (None: unbounded).
    domain: ClassVar[tuple[float | None, float | None]] = (None, None)

    def check_table(self, table: pd.DataFrame, source: str) -> None:
        super().check_table(table, source)
        reliability = pd.to_numeric(table["reliability"], errors="coerce")
        missing = ~np.isfinite(reliability.to_numpy(dtype=float))
        if missing.any():
            raise TableError(
                f"{source}: loss {self.name} needs a finite 'reliability' ({self.parameter}) per "
                f"comparison, missing in {describe_rows(table, pd.Series(missing, table.index))}; "
                f"choose signal=arm (experiment.train_signal.column=<ARM>, "
                f"experiment.train_signal.map_to={self.parameter})"
            )
        low, high = self.domain
        outside = pd.Series(False, index=table.index)
        if low is not None:
            outside |= reliability < low
        if high is not None:
            outside |= reliability > high
        if outside.any():
            raise TableError(
                f"{source}: field 'reliability' must lie in [{low}, {high}] for loss {self.name}; "
                f"bad values in {describe_rows(table, outside)}"
            )
        if "reliability_kind" in table.columns:
            wrong = ~table["reliability_kind"].isin([self.parameter, "raw"])
            if wrong.any():
                kinds = sorted(set(table.loc[wrong, "reliability_kind"]))
                raise TableError(
                    f"{source}: loss {self.name} reads 'reliability' as {self.parameter}, but the "
                    f"signal mapped it to {kinds} ({describe_rows(table, wrong)}); set "
                    f"experiment.train_signal.map_to={self.parameter}"
                )
        soft = table["target"] != 1.0
        if soft.any():
            raise TableError(
                f"{source}: loss {self.name} trains on hard labels, but field 'target' holds soft "
                f"labels in {describe_rows(table, soft)}"
            )
