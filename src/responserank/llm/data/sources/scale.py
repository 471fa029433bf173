"""scale_LIE / scale_TRUE: the LIE and TRUE items with ratings aggregated over several annotators.

Same prompts, responses and fold layout as LIE / TRUE, files prefixed ``scale_``
(``folds/scale_LIE_<split>_<k>.csv``; ``no_repeats/scale_<split>_single_<k>.csv``,
``repeated_orders/scale_<split>_double_<k>.csv``). They carry the aggregate ``vote``
("choice1"/"choice2"), no click counts, and scale_TRUE adds ``accuracy``: the fraction of
annotators who picked the correct option, a soft label for the TRUE reliability model.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.llm.data.sources import lie, true
from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.sources.comparisons import length_filtered
from responserank.llm.data.sources.tables import check_choice, data_root, read_typed_table

SCALE_PREFIX = "scale_"
VOTES = ("choice1", "choice2")

SCALE_LIE_COLUMNS = (
    *lie.REQUIRED_COLUMNS,
    "vote",
    "confidence_scores",
    "decision_time",
)
SCALE_TRUE_COLUMNS = (
    *true.REQUIRED_COLUMNS,
    "vote",
    "accuracy",
    "confidence_scores",
    "decision_time",
)


def _folder(path: str | os.PathLike[str] | None, name: str) -> Path:
    return Path(path).expanduser() if path else data_root() / name


def load_scale_lie_split(
    path: str | os.PathLike[str] | None, fold: int, split: str
) -> pd.DataFrame:
    """One scale_LIE fold file as comparisons (``split`` = "train" or "val")."""
    file = lie.fold_file(_folder(path, "scale_lie"), split, fold, prefix=SCALE_PREFIX)
    df = read_typed_table(file, "a scale_LIE fold table", required=SCALE_LIE_COLUMNS)
    lie.validate_lie_frame(df, str(file), required=SCALE_LIE_COLUMNS)
    check_choice(df, "vote", VOTES, str(file))
    return lie.lie_comparisons(df, str(file), fold=fold, split=split)


@dataclass
class ScaleLieSource:
    """Dataset option ``scale_lie``: fold ``fold`` of scale_LIE (train / val)."""

    path: str | None = None
    fold: int = 0

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        train = load_scale_lie_split(self.path, self.fold, "train")
        held_out = load_scale_lie_split(self.path, self.fold, "val")
        where = f"scale_LIE fold {self.fold}"
        return length_filtered(train, held_out, tokenizer, max_length, where)


def load_scale_true_split(
    path: str | os.PathLike[str] | None, fold: int, split: str, layout: str = "no_repeats"
) -> pd.DataFrame:
    """One scale_TRUE file as comparisons (``split`` = "train", "val" or "cal")."""
    file = true.split_file(_folder(path, "scale_true"), fold, split, layout, prefix=SCALE_PREFIX)
    df = read_typed_table(file, "a scale_TRUE split table", required=SCALE_TRUE_COLUMNS)
    true.validate_true_frame(df, str(file), layout=layout, required=SCALE_TRUE_COLUMNS)
    check_choice(df, "vote", VOTES, str(file))
    return true.true_comparisons(df, str(file), fold=fold, split=split)


@dataclass
class ScaleTrueSource:
    """Dataset option ``scale_true``: fold ``fold`` of scale_TRUE (train / ``eval_split``)."""

    path: str | None = None
    fold: int = 0
    layout: str = "no_repeats"
    eval_split: str = "val"

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        train = load_scale_true_split(self.path, self.fold, "train", self.layout)
        held_out = load_scale_true_split(self.path, self.fold, self.eval_split, self.layout)
        where = f"scale_TRUE fold {self.fold} ({self.layout})"
        return length_filtered(train, held_out, tokenizer, max_length, where)


TRUE_LABELS = ("correct_chosen", "accuracy")


def load_true_items(
    path: str | os.PathLike[str] | None, fold: int, split: str, layout: str, label: str
) -> pd.DataFrame:
    """TRUE rows carrying ``label``: correct_chosen from TRUE, the soft accuracy from scale_TRUE."""
    if label not in TRUE_LABELS:
        raise ValueError(f"unknown TRUE label {label!r}; choose one of {list(TRUE_LABELS)}")
    if label == "accuracy":
        return load_scale_true_split(path, fold, split, layout)
    return true.load_true_split(path, fold, split, layout)


@dataclass
class ScaleTrueItemsSource(true.TrueItemsSource):
    """Dataset option ``true_items_scale``: scale_TRUE items for the reliability model, with the
    soft label ``accuracy`` (the fraction of annotators who picked the correct option) besides
    ``correct_chosen``; ``path`` null reads ``$RR_DATA_DIR/scale_true``."""

    def split(self, split: str) -> pd.DataFrame:
        """The comparisons of one scale_TRUE split (``split`` = "train", "val" or "cal")."""
        return load_scale_true_split(self.path, self.fold, split, self.layout)
