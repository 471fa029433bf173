"""scale_LIE / scale_TRUE: the LIE and TRUE items with ratings aggregated over several annotators.

Same prompts, responses and fold layout as LIE / TRUE, files prefixed ``scale_``
(``folds/scale_LIE_<split>_<k>.csv``; ``no_repeats/scale_<split>_single_<k>.csv``,
``repeated_orders/scale_<split>_double_<k>.csv``). They carry the aggregate ``vote``
("choice1"/"choice2"), no click counts, and scale_TRUE adds ``accuracy``: the fraction of
annotators who picked the correct option, a soft label for the TRUE reliability model.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from responserank.llm.data.sources import lie, true
from responserank.llm.data.sources.comparisons import SourceSplits
from responserank.llm.data.sources.tables import check_choice, data_root, read_table

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
    df = read_table(file)
    lie.validate_lie_frame(df, str(file), required=SCALE_LIE_COLUMNS)
    check_choice(df, "vote", VOTES, str(file))
    return lie.lie_comparisons(df, str(file), fold=fold, split=split)


def load_scale_lie(path: str | os.PathLike[str] | None = None, fold: int = 0) -> SourceSplits:
    return SourceSplits(
        train=load_scale_lie_split(path, fold, "train"),
        eval=load_scale_lie_split(path, fold, "val"),
    )


def load_scale_true_split(
    path: str | os.PathLike[str] | None, fold: int, split: str, layout: str = "no_repeats"
) -> pd.DataFrame:
    """One scale_TRUE file as comparisons (``split`` = "train", "val" or "cal")."""
    file = true.split_file(_folder(path, "scale_true"), fold, split, layout, prefix=SCALE_PREFIX)
    df = read_table(file)
    true.validate_true_frame(df, str(file), layout=layout, required=SCALE_TRUE_COLUMNS)
    check_choice(df, "vote", VOTES, str(file))
    return true.true_comparisons(df, str(file), fold=fold, split=split)


def load_scale_true(
    path: str | os.PathLike[str] | None = None,
    fold: int = 0,
    layout: str = "no_repeats",
    eval_split: str = "val",
) -> SourceSplits:
    return SourceSplits(
        train=load_scale_true_split(path, fold, "train", layout),
        eval=load_scale_true_split(path, fold, eval_split, layout),
    )
