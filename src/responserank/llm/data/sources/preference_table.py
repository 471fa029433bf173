"""Any preference table (CSV, JSONL or parquet) with one comparison per row.

Required columns: prompt, chosen, rejected (names configurable; an empty prompt means chosen and
rejected are full transcripts). Optional: a comparison id, an annotator, a stratum (as
``stratum_key``, for ``stratifier=field``) and one strength signal column, read as
``response_time`` (seconds, for ``signal=real_rt``) or ``stated_strength`` ("clearly" / "slightly",
for ``signal=stated_strength``). The eval set is a second file (``eval_path``) or a seeded split of
``test_size`` rows. Comparisons longer than ``max_length`` tokens are dropped from both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.jsonl import read_json_objects
from responserank.llm.data.errors import (
    DataValidationError,
    invalid_value,
    missing_columns,
)
from responserank.llm.data.labels import STRENGTHS
from responserank.llm.data.lengths import fits
from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.split import holdout_mask
from responserank.seeding import step_rng

SIGNAL_KINDS = ("response_time", "stated_strength")


def read_table(path: Path) -> pd.DataFrame:
    """A CSV, JSONL or parquet file as a DataFrame (CSV cells are read as text, empty stays "")."""
    if not path.is_file():
        raise DataValidationError(f"{path}: preference table not found")
    if path.suffix == ".csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix in (".jsonl", ".json"):
        return pd.DataFrame.from_records(read_json_objects(path, DataValidationError))
    raise DataValidationError(f"{path}: expected a .csv, .jsonl or .parquet file")


def _text_column(table: pd.DataFrame, column: str, origin: str) -> np.ndarray:
    values = table[column].to_numpy(dtype=object)
    for row, value in enumerate(values):
        if not isinstance(value, str):
            raise invalid_value(origin, row, column, "a string", value)
    return values


def _response_times(table: pd.DataFrame, column: str, origin: str) -> np.ndarray:
    values = table[column].to_numpy(dtype=object)
    seconds = np.empty(len(values), dtype=np.float64)
    for row, value in enumerate(values):
        try:
            seconds[row] = float(value)
        except (TypeError, ValueError):
            seconds[row] = math.nan
        if isinstance(value, bool) or not math.isfinite(seconds[row]) or seconds[row] < 0:
            raise invalid_value(
                origin, row, column, "a non-negative response time in seconds", value
            )
    return seconds


def _strengths(table: pd.DataFrame, column: str, origin: str) -> np.ndarray:
    values = table[column].to_numpy(dtype=object)
    for row, value in enumerate(values):
        if value not in STRENGTHS:
            raise invalid_value(origin, row, column, f"one of {list(STRENGTHS)}", value)
    return values


@dataclass
class PreferenceTableSource:
    """A preference table; see the module docstring for the columns."""

    path: str
    eval_path: str | None = None
    test_size: int = 0
    prompt_column: str = "prompt"
    chosen_column: str = "chosen"
    rejected_column: str = "rejected"
    id_column: str | None = None
    annotator_column: str | None = None
    stratum_column: str | None = None
    signal_column: str | None = None
    signal_kind: str = "response_time"

    def __post_init__(self) -> None:
        if self.signal_kind not in SIGNAL_KINDS:
            raise ValueError(
                f"signal_kind must be one of {list(SIGNAL_KINDS)}, got {self.signal_kind!r}"
            )
        if self.eval_path is not None and self.test_size:
            raise ValueError("set either eval_path or test_size, not both")

    def _read(self, path: Path, with_signal: bool) -> pd.DataFrame:
        """Validated canonical columns of one file."""
        raw = read_table(path)
        origin = str(path)
        optional = [self.id_column, self.annotator_column, self.stratum_column]
        if with_signal:
            optional.append(self.signal_column)
        wanted = [self.prompt_column, self.chosen_column, self.rejected_column]
        wanted += [c for c in optional if c is not None]
        missing = [c for c in wanted if c not in raw.columns]
        if missing:
            raise missing_columns(origin, missing, [str(c) for c in raw.columns])
        ids = (
            raw[self.id_column].astype(str).to_numpy(dtype=object)
            if self.id_column
            else np.array([f"{path.stem}-{i}" for i in range(len(raw))], dtype=object)
        )
        table = pd.DataFrame(
            {
                "comparison_id": ids,
                "prompt": _text_column(raw, self.prompt_column, origin),
                "chosen": _text_column(raw, self.chosen_column, origin),
                "rejected": _text_column(raw, self.rejected_column, origin),
            }
        )
        if self.annotator_column:
            table["annotator"] = _text_column(raw, self.annotator_column, origin)
        if self.stratum_column:
            table["stratum_key"] = raw[self.stratum_column].astype(str).to_numpy(dtype=object)
        if with_signal and self.signal_column:
            read = _response_times if self.signal_kind == "response_time" else _strengths
            table[self.signal_kind] = read(raw, self.signal_column, origin)
        return table

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        train = self._read(Path(self.path), with_signal=True)
        loaded = len(train)
        keep = fits(tokenizer, train["prompt"], train["chosen"], train["rejected"], max_length)
        train = train[keep].reset_index(drop=True)
        dropped = int((~keep).sum())
        if self.eval_path is not None:
            test = self._read(Path(self.eval_path), with_signal=False)
            keep_eval = fits(
                tokenizer, test["prompt"], test["chosen"], test["rejected"], max_length
            )
            test = test[keep_eval].reset_index(drop=True)
            dropped += int((~keep_eval).sum())
        else:
            in_test = holdout_mask(
                train["comparison_id"].to_numpy(), self.test_size, step_rng(seed, "test_split")
            )
            test = train[in_test].drop(columns=[self.signal_kind], errors="ignore")
            train = train[~in_test]
        return SourceTables(
            train=train.reset_index(drop=True),
            eval=test.reset_index(drop=True),
            dropped={"length_filter": dropped},
            counts={"rows_loaded": loaded, "test_comparisons": len(test)},
        )
