"""LIE (length-incentivised evaluations): 1,000 TruthfulQA-style pairs with annotator ARMs.

Layout of the LIE folder (as published): ``folds/LIE_train_<k>.csv`` (800 rows) and
``folds/LIE_val_<k>.csv`` (200 rows) for five cross-validation folds (the val files together are
the full set) and ``LIE_dataset_test.csv`` (160 rows, four responses per row, no labels).
``chosen`` and ``rejected`` are full "Human: ...\\n\\nAssistant: ..." transcripts, so the
comparison table has ``prompt = ""``; the question itself passes through as ``question``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.errors import DataValidationError, invalid_value
from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.sources.comparisons import length_filtered, source_table
from responserank.llm.data.sources.tables import (
    as_binary,
    check_arm_columns,
    check_choice,
    check_label_matches,
    check_numeric,
    check_text,
    check_unique,
    data_root,
    read_typed_table,
    require_columns,
)

RESPONSE_TYPES = ("correct_concise", "correct_detailed", "incorrect_concise", "incorrect_detailed")
SPLITS = ("train", "val")
# The TRUE-model input: question with both responses, in both A/B orders.
PROMPT_RESPONSE_GROUPS = ("prompt_response_group_1", "prompt_response_group_2")

REQUIRED_COLUMNS = (
    "IDs",
    "prompt",
    "chosen",
    "rejected",
    "chosen_type",
    "rejected_type",
    "correct_chosen",
    "categories",
    *PROMPT_RESPONSE_GROUPS,
)
PROBABILITY_COLUMNS = (
    "confidence_scores",
    "TRUE_calibrated_confidence_scores",
    "TRUE_calibrated_decision_time",
    "TRUE_calibrated_number_of_clicks",
    "TRUE_probability_correct",
    "90_percent_p",
)
# Min-max scaled on the training split, so validation values may leave [0, 1].
SCALED_COLUMNS = ("decision_time", "number_of_clicks")
RAW_COLUMNS = ("raw_decision_time", "raw_number_of_clicks")


def lie_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The LIE folder: ``path`` when given, else ``$RR_DATA_DIR/lie``."""
    return Path(path).expanduser() if path else data_root() / "lie"


def fold_file(path: str | os.PathLike[str] | None, split: str, fold: int, prefix: str = "") -> Path:
    if split not in SPLITS:
        raise ValueError(f"LIE split must be one of {list(SPLITS)}, got {split!r}")
    return lie_dir(path) / "folds" / f"{prefix}LIE_{split}_{int(fold)}.csv"


def validate_lie_frame(df: pd.DataFrame, where: str, *, required: tuple[str, ...]) -> None:
    """Schema and value checks shared by LIE and scale_LIE files."""
    require_columns(df, required, where)
    for column in ("prompt", "chosen", "rejected", *PROMPT_RESPONSE_GROUPS):
        check_text(df, column, where)
    check_choice(df, "chosen_type", RESPONSE_TYPES, where)
    check_choice(df, "rejected_type", RESPONSE_TYPES, where)
    check_numeric(df, "IDs", where)
    check_unique(df, "IDs", where)
    check_label_matches(df, "correct_chosen", df["chosen_type"].str.startswith("correct"), where)
    check_arm_columns(
        df, where, probabilities=PROBABILITY_COLUMNS, scaled=SCALED_COLUMNS, raw=RAW_COLUMNS
    )


def lie_comparisons(df: pd.DataFrame, where: str, *, fold: int, split: str) -> pd.DataFrame:
    """Comparison table from a validated LIE-style frame; every other column passes through."""
    extra = df.drop(columns=["prompt", "chosen", "rejected"]).rename(
        columns={"categories": "category"}
    )
    extra.insert(0, "question", df["prompt"].to_numpy())
    extra["correct_chosen"] = as_binary(df, "correct_chosen", where).to_numpy()
    extra["lie_fold"] = int(fold)
    extra["lie_split"] = split
    return source_table(
        comparison_id=[f"lie-{int(i)}" for i in df["IDs"]],
        prompt="",
        chosen=df["chosen"],
        rejected=df["rejected"],
        extra=extra,
        where=where,
    )


def _merge_arm_file(table: pd.DataFrame, arm_file: str | os.PathLike[str]) -> pd.DataFrame:
    """Add ARM columns from a CSV keyed by LIE ``IDs`` (e.g. TRUE-model predictions)."""
    arms = read_typed_table(arm_file, "an ARM table keyed by LIE IDs", required=("IDs",))
    where = str(arm_file)
    require_columns(arms, ["IDs"], where)
    duplicated = arms["IDs"].duplicated().to_numpy()
    if duplicated.any():
        row = int(duplicated.nonzero()[0][0])
        raise invalid_value(where, row, "IDs", "each LIE id once", arms["IDs"].iloc[row])
    new_columns = [c for c in arms.columns if c != "IDs"]
    clash = [c for c in new_columns if c in table.columns]
    if clash or not new_columns:
        raise DataValidationError(
            f"{where}: expected new ARM columns besides 'IDs'; {clash} already exist in LIE"
        )
    for column in new_columns:
        check_numeric(arms, column, where)
    merged = table.merge(arms, on="IDs", how="left", validate="many_to_one")
    unmatched = merged[new_columns[0]].isna()
    if unmatched.any():
        missing = int(merged.loc[unmatched, "IDs"].iloc[0])
        raise DataValidationError(f"{where}: no row for LIE id {missing} (field 'IDs')")
    return merged


def load_lie_split(
    path: str | os.PathLike[str] | None,
    fold: int,
    split: str,
    *,
    arm_file: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Comparisons of one fold file (``split`` = "train" or "val")."""
    file = fold_file(path, split, fold)
    df = read_typed_table(file, "a LIE fold table", required=REQUIRED_COLUMNS)
    validate_lie_frame(df, str(file), required=REQUIRED_COLUMNS)
    table = lie_comparisons(df, str(file), fold=fold, split=split)
    return _merge_arm_file(table, arm_file) if arm_file else table


def load_lie_full(
    path: str | os.PathLike[str] | None = None,
    *,
    arm_file: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """All 1,000 comparisons: the union of the validation folds (each pair exactly once)."""
    files = sorted((lie_dir(path) / "folds").glob("LIE_val_*.csv"))
    if not files:
        raise DataValidationError(f"{lie_dir(path) / 'folds'}: no LIE_val_<k>.csv files found")
    parts = []
    for file in files:
        df = read_typed_table(file, "a LIE fold table", required=REQUIRED_COLUMNS)
        validate_lie_frame(df, str(file), required=REQUIRED_COLUMNS)
        fold = int(file.stem.rsplit("_", 1)[1])
        parts.append(lie_comparisons(df, str(file), fold=fold, split="val"))
    table = pd.concat(parts, ignore_index=True)
    if not table["comparison_id"].is_unique:
        raise DataValidationError(
            f"{lie_dir(path) / 'folds'}: field 'IDs': the validation folds overlap"
        )
    return _merge_arm_file(table, arm_file) if arm_file else table


@dataclass
class LieSource:
    """Dataset option ``lie``: fold ``fold`` of LIE, train = LIE_train_k, eval = LIE_val_k.

    ``fold=None`` trains on all 1,000 pairs (the union of the validation folds) with no held-out
    set. ``arm_file`` adds ARM columns keyed by ``IDs`` (e.g. TRUE-model predictions);
    comparisons longer than ``max_length`` tokens are dropped.
    """

    path: str | None = None
    fold: int | None = 0
    arm_file: str | None = None

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        if self.fold is None:
            train = load_lie_full(self.path, arm_file=self.arm_file)
            held_out = train.iloc[:0]
        else:
            train = load_lie_split(self.path, self.fold, "train", arm_file=self.arm_file)
            held_out = load_lie_split(self.path, self.fold, "val", arm_file=self.arm_file)
        return length_filtered(train, held_out, tokenizer, max_length, f"LIE fold {self.fold}")


def load_lie_test(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The unlabelled LIE test set: question, category and the four full-transcript responses."""
    file = lie_dir(path) / "LIE_dataset_test.csv"
    df = read_typed_table(file, "the LIE test table", required=("prompt", "categories"))
    where = str(file)
    require_columns(df, ("prompt", "categories", *RESPONSE_TYPES), where)
    for column in ("prompt", *RESPONSE_TYPES):
        check_text(df, column, where)
    out = df[["prompt", "categories", *RESPONSE_TYPES]].rename(
        columns={"prompt": "question", "categories": "category"}
    )
    return out.reset_index(drop=True)
