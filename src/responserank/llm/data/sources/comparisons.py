"""The comparison table every source produces (one row = one comparison).

Core columns: ``comparison_id``, ``prompt`` ("" when chosen/rejected are full transcripts),
``chosen``, ``rejected``, ``rank`` (NaN: no strength signal yet), ``partition`` (unique per row
until a partitioner groups rows), ``target`` (soft P(chosen wins), 1.0 when none) and
``reliability`` (NaN until a reliability signal fills it). Source-specific columns (ARMs, labels,
categories) pass through unchanged after these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

CORE_COLUMNS = (
    "comparison_id",
    "prompt",
    "chosen",
    "rejected",
    "rank",
    "partition",
    "target",
    "reliability",
)


@dataclass(frozen=True)
class SourceSplits:
    """A source's training comparisons and its own held-out comparisons (None: split later)."""

    train: pd.DataFrame
    eval: pd.DataFrame | None


def comparison_table(
    comparison_id: Sequence[str] | pd.Series,
    prompt: Sequence[str] | pd.Series | str,
    chosen: Sequence[str] | pd.Series,
    rejected: Sequence[str] | pd.Series,
    *,
    target: Sequence[float] | pd.Series | float = 1.0,
    extra: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Assemble the core columns (plus ``extra`` passthrough columns) in the canonical order."""
    n = len(chosen)
    table = pd.DataFrame(
        {
            "comparison_id": np.asarray(comparison_id, dtype=object).astype(str),
            "prompt": [prompt] * n if isinstance(prompt, str) else list(prompt),
            "chosen": list(chosen),
            "rejected": list(rejected),
            "rank": np.full(n, np.nan),
            "partition": np.arange(n, dtype=np.int64),
            "target": np.broadcast_to(np.asarray(target, dtype=float), (n,)).copy(),
            "reliability": np.full(n, np.nan),
        }
    )
    if not table["comparison_id"].is_unique:
        duplicated = table["comparison_id"][table["comparison_id"].duplicated()].iloc[0]
        raise ValueError(f"comparison ids must be unique; {duplicated!r} occurs more than once")
    if extra is not None:
        clash = [c for c in extra.columns if c in CORE_COLUMNS]
        if clash:
            raise ValueError(f"passthrough columns {clash} would overwrite core columns")
        table = pd.concat([table, extra.reset_index(drop=True)], axis=1)
    return table
