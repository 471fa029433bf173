"""Signal option ``true_label``: the TRUE correctness label as the training target.

The TRUE reliability model learns P(annotator correct | item). Its label, ``correct_chosen``
(0/1) or scale_TRUE's soft ``accuracy`` (share of annotators who were right), becomes the
``target`` of both the train and the eval table, so loss=bt_soft fits binary cross-entropy to it
and the held-out loss is that BCE. No strength ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from responserank.errors import invalid_value, require_columns
from responserank.llm.data.sources.scale import TRUE_LABELS


@dataclass(frozen=True)
class TrueLabelSignal:
    label: str = "correct_chosen"

    def __post_init__(self) -> None:
        if self.label not in TRUE_LABELS:
            raise ValueError(
                f"unknown TRUE label {self.label!r}; choose one of {list(TRUE_LABELS)}"
            )

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        return np.full(len(table), np.nan)

    def extra_columns(self, table: pd.DataFrame, split: str) -> dict[str, np.ndarray]:
        require_columns(f"signal true_label ({split})", table.columns, [self.label])
        values = pd.to_numeric(table[self.label], errors="coerce").to_numpy(dtype=float)
        bad = ~((values >= 0) & (values <= 1))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise invalid_value(
                split, row, self.label, "a label in [0, 1]", table[self.label].iloc[row]
            )
        return {"target": values}
