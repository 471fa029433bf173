"""RM-Bench: the same chosen/rejected contents written in three styles, to measure style bias.

Accepted schemas:

- flat (the RAPL export ``rm_bench.csv``): one row per (``id``, ``type``) with ``type`` in
  {concise, detailed, markdown}, ``chosen``, ``rejected`` and optionally ``prompt`` (without it the
  responses are full transcripts);
- nested (the RM-Bench release, ``THU-KEG/RM-Bench``): one row per ``id`` with ``prompt`` and
  ``chosen`` / ``rejected`` lists of three responses in the order concise, detailed, markdown.

Both become the flat table with columns ``id``, ``type``, ``prompt``, ``chosen``, ``rejected``.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from responserank.errors import invalid_value
from responserank.llm.data.sources.tables import (
    check_choice,
    check_text,
    read_local_or_hub,
    require_columns,
)

STYLES = ("concise", "detailed", "markdown")


def _is_nested(df: pd.DataFrame) -> bool:
    return "type" not in df.columns and len(df) > 0 and not isinstance(df["chosen"].iloc[0], str)


def _flatten(df: pd.DataFrame, where: str) -> pd.DataFrame:
    require_columns(df, ("id", "prompt", "chosen", "rejected"), where)
    rows = []
    for i, item in enumerate(df.itertuples(index=False)):
        for field in ("chosen", "rejected"):
            value = getattr(item, field)
            if not isinstance(value, list | tuple | np.ndarray) or len(value) != len(STYLES):
                expected = f"a list of {len(STYLES)} responses ({', '.join(STYLES)})"
                raise invalid_value(where, i, field, expected, value)
        for style, chosen, rejected in zip(STYLES, item.chosen, item.rejected, strict=True):
            rows.append((item.id, style, item.prompt, chosen, rejected))
    return pd.DataFrame(rows, columns=["id", "type", "prompt", "chosen", "rejected"])


def validate_rm_bench(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check a flat or nested frame and return the flat table."""
    require_columns(df, ("id", "chosen", "rejected"), where)
    if _is_nested(df):
        df = _flatten(df, where)
    require_columns(df, ("type",), where)
    flat = df.copy()
    if "prompt" not in flat.columns:
        flat["prompt"] = ""
    check_choice(flat, "type", STYLES, where)
    for column in ("chosen", "rejected"):
        check_text(flat, column, where)
    check_text(flat, "prompt", where, allow_empty=True)
    duplicated = flat.duplicated(["id", "type"])
    if duplicated.any():
        row = int(np.flatnonzero(duplicated.to_numpy())[0])
        expected = f"one row per (id, type); id {flat['id'].iloc[row]!r} repeats it"
        raise invalid_value(where, row, "type", expected, flat["type"].iloc[row])
    return flat[["id", "type", "prompt", "chosen", "rejected"]].reset_index(drop=True)


def load_rm_bench(
    path: str | os.PathLike[str] | None = None,
    hub_id: str | None = None,
    split: str = "train",
) -> pd.DataFrame:
    """RM-Bench as the flat (id, type, prompt, chosen, rejected) table."""
    return validate_rm_bench(*read_local_or_hub(path, hub_id, split, "RM-Bench"))
