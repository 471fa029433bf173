"""Any preference table (CSV, JSONL or parquet) with one comparison per row.

Required columns: prompt, chosen, rejected (names configurable; an empty prompt means chosen and
rejected are full transcripts). Optional: a comparison id, an annotator, a stratum (as
``stratum_key``, for ``stratifier=field``) and one strength column ``strength_column``, read as
``strength_kind``: ``response_time`` (seconds, for ``signal=real_rt``) or ``stated_strength``
("clearly" / "slightly", for ``signal=stated_strength``), named as in ``hf_preference``. Their
former names ``signal_column`` / ``signal_kind`` are still accepted, with
a warning. The eval set is a second file (``eval_path``) or a seeded split of ``test_size`` rows.

Steps, in order, each counted in the data statistics (``dropped`` / ``source``): rows repeating an
earlier row exactly are counted when there is no id column and removed with ``duplicates=drop``
(default ``keep``: the table is used as given, a warning gives the count); comparisons whose chosen
and rejected are identical are dropped (they carry no preference); comparisons longer than
``max_length`` tokens are dropped; then the test split. A step that leaves no training comparison
is refused naming the step and the counts (see :mod:`responserank.llm.data.degenerate`).
"""

from __future__ import annotations

import logging
import math
from dataclasses import InitVar, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.errors import invalid_value, missing_columns
from responserank.llm.data.batching.lengths import fits
from responserank.llm.data.degenerate import (
    DUPLICATE_POLICIES,
    drop_identical_pairs,
    handle_duplicates,
    require_left,
    test_size_hint,
)
from responserank.llm.data.signals.labels import STRENGTHS
from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.split import holdout_mask
from responserank.llm.data.text_fields import expected_text, unacceptable_text
from responserank.reading import read_table
from responserank.seeding import step_rng

log = logging.getLogger(__name__)

STRENGTH_KINDS = ("response_time", "stated_strength")


def _text_column(
    table: pd.DataFrame, column: str, origin: str, allow_empty: bool = False
) -> np.ndarray:
    """The column's values; each must pass the text rule (``llm.data.text_fields``)."""
    values = table[column].to_numpy(dtype=object)
    bad = np.flatnonzero(unacceptable_text(values, allow_empty))
    if bad.size:
        row = int(bad[0])
        raise invalid_value(origin, row, column, expected_text(allow_empty), values[row])
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
    strength_column: str | None = None
    strength_kind: str = "response_time"
    duplicates: str = "keep"
    #: Former names of ``strength_column`` / ``strength_kind``: when set they win, with a warning.
    signal_column: InitVar[str | None] = None
    signal_kind: InitVar[str | None] = None

    def __post_init__(self, signal_column: str | None, signal_kind: str | None) -> None:
        for former, key, value in (
            ("signal_column", "strength_column", signal_column),
            ("signal_kind", "strength_kind", signal_kind),
        ):
            if value is not None:
                log.warning("dataset.%s is the former name of dataset.%s; use that", former, key)
                setattr(self, key, value)
        if self.duplicates not in DUPLICATE_POLICIES:
            raise ValueError(
                f"duplicates must be one of {list(DUPLICATE_POLICIES)}, got {self.duplicates!r}"
            )
        if self.strength_kind not in STRENGTH_KINDS:
            raise ValueError(
                f"strength_kind must be one of {list(STRENGTH_KINDS)}, got {self.strength_kind!r}"
            )
        if self.eval_path is not None and self.test_size:
            raise ValueError("set either eval_path or test_size, not both")

    def _read(self, path: Path, with_signal: bool) -> pd.DataFrame:
        """Validated canonical columns of one file."""
        origin = str(path)
        optional = [self.id_column, self.annotator_column, self.stratum_column]
        if with_signal:
            optional.append(self.strength_column)
        wanted = [self.prompt_column, self.chosen_column, self.rejected_column]
        wanted += [c for c in optional if c is not None]
        raw = read_table(
            path,
            "a preference table with one comparison per row",
            required=wanted,
            csv_kwargs={"dtype": str, "keep_default_na": False},
        )
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
                "prompt": _text_column(raw, self.prompt_column, origin, allow_empty=True),
                "chosen": _text_column(raw, self.chosen_column, origin),
                "rejected": _text_column(raw, self.rejected_column, origin),
            }
        )
        if self.annotator_column:
            table["annotator"] = _text_column(raw, self.annotator_column, origin)
        if self.stratum_column:
            table["stratum_key"] = raw[self.stratum_column].astype(str).to_numpy(dtype=object)
        if with_signal and self.strength_column:
            read = _response_times if self.strength_kind == "response_time" else _strengths
            table[self.strength_kind] = read(raw, self.strength_column, origin)
        return table

    def _steps(
        self, path: Path, with_signal: bool, tokenizer: PreTrainedTokenizerBase, max_length: int
    ) -> tuple[pd.DataFrame, dict[str, int], int]:
        """One file through duplicates, identical pairs and the length filter; returns the table,
        the rows each step dropped and the rows read."""
        table = self._read(path, with_signal)
        read = len(table)
        where = str(path)
        dropped = {}
        if self.id_column is None:
            content = [c for c in table.columns if c != "comparison_id"]
            table, repeated = handle_duplicates(table, content, self.duplicates, where)
            dropped["duplicate_rows"] = repeated if self.duplicates == "drop" else 0
            dropped["duplicate_rows_found"] = repeated
        table, dropped["identical_pairs"] = drop_identical_pairs(table, where)
        keep = fits(tokenizer, table["prompt"], table["chosen"], table["rejected"], max_length)
        require_left(f"length_filter (max_length={max_length})", len(keep), int(keep.sum()), where)
        dropped["length_filter"] = int((~keep).sum())
        return table[keep].reset_index(drop=True), dropped, read

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        train, dropped, loaded = self._steps(Path(self.path), True, tokenizer, max_length)
        if self.eval_path is not None:
            test, eval_dropped, _ = self._steps(Path(self.eval_path), False, tokenizer, max_length)
            dropped = {k: v + eval_dropped.get(k, 0) for k, v in dropped.items()}
        else:
            in_test = holdout_mask(
                train["comparison_id"].to_numpy(), self.test_size, step_rng(seed, "test_split")
            )
            test = train[in_test].drop(columns=[self.strength_kind], errors="ignore")
            require_left(
                f"test_split (test_size={self.test_size})",
                len(train),
                int((~in_test).sum()),
                self.path,
                test_size_hint(self.test_size, len(train)),
            )
            train = train[~in_test]
        found = dropped.pop("duplicate_rows_found", None)
        counts = {"rows_loaded": loaded, "test_comparisons": len(test)}
        if found is not None:
            counts["duplicate_rows"] = found
        return SourceTables(
            train=train.reset_index(drop=True),
            eval=test.reset_index(drop=True),
            dropped=dropped,
            counts=counts,
        )
