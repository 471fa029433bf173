"""TRUE: 1,150 two-option items with one annotation each, for modelling annotator correctness.

Layout of the TRUE folder (as published): ``no_repeats/{train,val,cal}_single_<k>.csv`` (each
item once; 690 / 230 / 230 rows) and ``repeated_orders/{train,val,cal}_double_<k>.csv`` (each item
in both A/B orders, twice the rows, with an ``ordering`` column). ``correct_chosen`` is the label
(did the annotator pick the correct option) and ``prompt_response_group`` (question plus both
options) is the input of the TRUE reliability model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.sources.comparisons import length_filtered, source_table
from responserank.llm.data.sources.tables import (
    as_binary,
    check_arm_columns,
    check_choice,
    check_label_matches,
    check_numeric,
    check_text,
    data_root,
    read_typed_table,
    require_columns,
)

LAYOUTS = {"no_repeats": "single", "repeated_orders": "double"}
SPLITS = ("train", "val", "cal")
OPTION_TYPES = ("correct", "incorrect")

REQUIRED_COLUMNS = (
    "IDs",
    "prompt",
    "chosen",
    "rejected",
    "chosen_type",
    "rejected_type",
    "correct_chosen",
    "prompt_response_group",
)
PROBABILITY_COLUMNS = ("confidence_scores", "accuracy")
SCALED_COLUMNS = ("decision_time", "number_of_clicks")
RAW_COLUMNS = ("raw_decision_time", "raw_number_of_clicks")


def true_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The TRUE folder: ``path`` when given, else ``$RR_DATA_DIR/true``."""
    return Path(path).expanduser() if path else data_root() / "true"


def split_file(
    path: str | os.PathLike[str] | None, fold: int, split: str, layout: str, prefix: str = ""
) -> Path:
    if layout not in LAYOUTS:
        raise ValueError(f"TRUE layout must be one of {list(LAYOUTS)}, got {layout!r}")
    if split not in SPLITS:
        raise ValueError(f"TRUE split must be one of {list(SPLITS)}, got {split!r}")
    return true_dir(path) / layout / f"{prefix}{split}_{LAYOUTS[layout]}_{int(fold)}.csv"


def validate_true_frame(
    df: pd.DataFrame, where: str, *, layout: str, required: tuple[str, ...]
) -> None:
    """Schema and value checks shared by TRUE and scale_TRUE files."""
    require_columns(df, required + (("ordering",) if layout == "repeated_orders" else ()), where)
    for column in ("prompt", "chosen", "rejected", "prompt_response_group"):
        check_text(df, column, where)
    check_choice(df, "chosen_type", OPTION_TYPES, where)
    check_choice(df, "rejected_type", OPTION_TYPES, where)
    check_numeric(df, "IDs", where)
    check_label_matches(df, "correct_chosen", df["chosen_type"] == "correct", where)
    if layout == "repeated_orders":
        check_choice(df, "ordering", (1, 2), where)
    check_arm_columns(
        df, where, probabilities=PROBABILITY_COLUMNS, scaled=SCALED_COLUMNS, raw=RAW_COLUMNS
    )


def true_comparisons(df: pd.DataFrame, where: str, *, fold: int, split: str) -> pd.DataFrame:
    """Comparison table from a validated TRUE-style frame; every other column passes through."""
    ids = [f"true-{int(i)}" for i in df["IDs"]]
    if "ordering" in df.columns:
        ids = [f"{i}-order{int(o)}" for i, o in zip(ids, df["ordering"], strict=True)]
    extra = df.drop(columns=["prompt", "chosen", "rejected"]).rename(
        columns={"categories": "category"}
    )
    extra.insert(0, "question", df["prompt"].to_numpy())
    extra["correct_chosen"] = as_binary(df, "correct_chosen", where).to_numpy()
    extra["true_fold"] = int(fold)
    extra["true_split"] = split
    return source_table(
        comparison_id=ids, prompt="", chosen=df["chosen"], rejected=df["rejected"], extra=extra
    )


def load_true_split(
    path: str | os.PathLike[str] | None,
    fold: int,
    split: str,
    layout: str = "no_repeats",
) -> pd.DataFrame:
    """Comparisons of one TRUE file (``split`` = "train", "val" or "cal")."""
    file = split_file(path, fold, split, layout)
    df = read_typed_table(file, "a TRUE split table", required=REQUIRED_COLUMNS)
    validate_true_frame(df, str(file), layout=layout, required=REQUIRED_COLUMNS)
    return true_comparisons(df, str(file), fold=fold, split=split)


@dataclass
class TrueSource:
    """Dataset option ``true``: fold ``fold`` of TRUE in ``layout`` (no_repeats or
    repeated_orders); train = the train split, eval = ``eval_split`` ("val" or "cal")."""

    path: str | None = None
    fold: int = 0
    layout: str = "no_repeats"
    eval_split: str = "val"

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        train = load_true_split(self.path, self.fold, "train", self.layout)
        held_out = load_true_split(self.path, self.fold, self.eval_split, self.layout)
        where = f"TRUE fold {self.fold} ({self.layout})"
        return length_filtered(train, held_out, tokenizer, max_length, where)


#: The fixed second input of the TRUE reliability model's training pairs (see TrueItemsSource).
ANCHOR_ITEM = "Human: (no question)\n\nResponse A: (no answer)\n\nResponse B: (no answer)"


def value_head_items(table: pd.DataFrame) -> pd.DataFrame:
    """TRUE rows as (item, anchor) pairs: chosen = prompt_response_group, rejected = the anchor.

    The pairwise trainer then fits BCE-with-logits(r(item) - r(anchor), label) with loss=bt_soft:
    a scalar value head whose bias is the anchor's score. Calibration later works on r(item)
    alone, which only shifts the logits by that constant.
    """
    items = table.drop(columns=["chosen", "rejected"]).copy()
    items.insert(2, "chosen", table["prompt_response_group"].to_numpy())
    items.insert(3, "rejected", ANCHOR_ITEM)
    return items


@dataclass
class TrueItemsSource:
    """Dataset option ``true_items``: TRUE items for the reliability model (the 0/1 label
    ``correct_chosen`` becomes the target through ``signal=true_label``). The scale_TRUE items
    with the soft ``accuracy`` label are ``ScaleTrueItemsSource`` (option ``true_items_scale``)."""

    path: str | None = None
    fold: int = 0
    layout: str = "repeated_orders"
    eval_split: str = "val"

    def split(self, split: str) -> pd.DataFrame:
        """The comparisons of one TRUE split (``split`` = "train", "val" or "cal")."""
        return load_true_split(self.path, self.fold, split, self.layout)

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        train = value_head_items(self.split("train"))
        held_out = value_head_items(self.split(self.eval_split))
        where = f"{type(self).__name__} fold {self.fold} ({self.layout})"
        return length_filtered(train, held_out, tokenizer, max_length, where)
