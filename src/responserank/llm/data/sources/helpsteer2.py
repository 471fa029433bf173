"""HelpSteer2 preference annotations (``nvidia/HelpSteer2``, data_dir ``preference``).

Schema: ``split`` ("train" / "val"), ``prompt``, ``response_1``, ``response_2`` and
``preference_strength`` in -3..3 (negative: response 1 is better, 0: about the same). Ties carry
no choice and are dropped; the strength passes through for strength signals.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from responserank.llm.data.sources.comparisons import SourceSplits, comparison_table
from responserank.llm.data.sources.tables import (
    check_choice,
    check_text,
    load_hub_split,
    read_table,
    require_columns,
    require_one_location,
)

STRENGTHS = (-3, -2, -1, 0, 1, 2, 3)
TRAIN_SPLITS = ("train",)
EVAL_SPLITS = ("val", "validation")


def helpsteer2_comparisons(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Validate and turn preference rows into comparisons (ties dropped)."""
    require_columns(df, ("prompt", "response_1", "response_2", "preference_strength"), where)
    for column in ("prompt", "response_1", "response_2"):
        check_text(df, column, where)
    check_choice(df, "preference_strength", STRENGTHS, where)
    strength = df["preference_strength"].astype(int).to_numpy()
    keep = strength != 0
    first_wins = strength[keep] < 0
    kept = df.loc[keep]
    chosen = np.where(first_wins, kept["response_1"], kept["response_2"])
    rejected = np.where(first_wins, kept["response_2"], kept["response_1"])
    extra = pd.DataFrame({"preference_strength": np.abs(strength[keep])})
    if "split" in df.columns:
        extra["helpsteer2_split"] = kept["split"].to_numpy()
    return comparison_table(
        comparison_id=[f"helpsteer2-{i}" for i in np.flatnonzero(keep)],
        prompt=kept["prompt"],
        chosen=chosen,
        rejected=rejected,
        extra=extra,
    )


def load_helpsteer2(
    path: str | os.PathLike[str] | None = None,
    hub_id: str | None = None,
    data_dir: str = "preference",
) -> SourceSplits:
    """Train = rows with split "train"; eval = rows with split "val"/"validation"."""
    require_one_location(path, hub_id, "HelpSteer2")
    if path:
        where = str(path)
        df = read_table(path)
    else:
        where = f"{hub_id}/{data_dir}"
        df = load_hub_split(str(hub_id), "train", data_dir=data_dir)
    require_columns(df, ("split",), where)
    check_choice(df, "split", (*TRAIN_SPLITS, *EVAL_SPLITS), where)
    table = helpsteer2_comparisons(df, where)
    is_train = table["helpsteer2_split"].isin(TRAIN_SPLITS)
    train = table[is_train].reset_index(drop=True)
    held_out = table[~is_train].reset_index(drop=True)
    return SourceSplits(train=train, eval=held_out if len(held_out) else None)
