"""HelpSteer2 preference annotations (``nvidia/HelpSteer2``, data_dir ``preference``).

Schema: ``split`` ("train" / "val"), ``prompt``, ``response_1``, ``response_2`` and
``preference_strength`` in -3..3 (negative: response 1 is better, 0: about the same). Ties carry
no choice and are dropped; the strength passes through for strength signals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.sources.comparisons import length_filtered, source_table
from responserank.llm.data.sources.tables import (
    check_choice,
    check_text,
    read_local_or_hub,
    require_columns,
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
    return source_table(
        comparison_id=[f"helpsteer2-{i}" for i in np.flatnonzero(keep)],
        prompt=kept["prompt"],
        chosen=chosen,
        rejected=rejected,
        extra=extra,
    )


@dataclass
class HelpSteer2Source:
    """Dataset option ``helpsteer2``: train = rows with split "train", eval = "val"/"validation".

    Reads a local copy of ``preference.jsonl.gz`` (``path``) or the hub (``hub_id``).
    """

    path: str | None = None
    hub_id: str | None = None
    data_dir: str = "preference"

    def read(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        df, where = read_local_or_hub(
            self.path, self.hub_id, "train", "HelpSteer2", data_dir=self.data_dir
        )
        require_columns(df, ("split",), where)
        check_choice(df, "split", (*TRAIN_SPLITS, *EVAL_SPLITS), where)
        table = helpsteer2_comparisons(df, where)
        is_train = table["helpsteer2_split"].isin(TRAIN_SPLITS)
        return table[is_train].reset_index(drop=True), table[~is_train].reset_index(drop=True)

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        train, held_out = self.read()
        where = f"HelpSteer2 {self.path or self.hub_id}"
        return length_filtered(train, held_out, tokenizer, max_length, where)
