"""Any preference dataset in one of TRL's preference layouts, from the hub or from local files.

Where the rows come from (``dataset=hf_preference``): a hub id (``name``, with ``config`` and
``split``, read by ``datasets.load_dataset``) or ``path``: a .json/.jsonl/.parquet/.csv/.arrow
file, a folder of such files, or a ``Dataset.save_to_disk`` folder (a saved ``DatasetDict`` is
indexed by ``split``).

Layouts (TRL, "Dataset formats", preference type): standard rows hold strings, conversational
rows hold lists of ``{"role", "content"}`` messages (a system message and multi-turn prompts
included); the prompt is explicit (a ``prompt`` column) or implicit (the shared leading messages
of ``chosen`` and ``rejected``, extracted with ``trl.data_utils.maybe_extract_prompt``).
Conversational rows are rendered with the model's chat template by
``trl.data_utils.apply_chat_template`` and tokenised as rendered (``rendered`` column, see
``responserank.llm.data.text``), so their ids equal ``tokenizer.apply_chat_template`` of the
whole conversation. Standard rows keep this project's rendering: an explicit prompt is wrapped as
one user turn, an implicit one leaves chosen and rejected as full transcripts.

Optional columns, mapped to the pipeline's fields: ``id_column`` -> ``comparison_id``,
``annotator_column`` -> ``annotator`` (annotator sampler and stratifier), ``stratum_column`` ->
``stratum_key`` (``stratifier=field``), ``margin_column`` -> ``margin`` (TRL's margin: with
``signal=margin_column loss=margin`` the loss is -log sigmoid(u - margin)), and one strength
column ``strength_column`` read as ``strength_kind``: ``response_time`` (seconds,
``signal=real_rt``), ``stated_strength`` ("clearly"/"slightly", ``signal=stated_strength``),
``agreement_score`` (``signal=agreement``) or ``rank`` (lower = stronger, ``signal=rank_column``).

The eval set is ``eval_split`` (same hub id or folder), ``eval_path``, a seeded split of
``test_size`` rows, or empty. Comparisons longer than ``max_length`` tokens are dropped and
counted; conversational responses holding a ``user`` turn are counted
(``responses_spoken_by_user``) and kept. A bad row raises :class:`DataValidationError` naming the source, the row and the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import datasets
import numpy as np
import pandas as pd
from transformers import PreTrainedTokenizerBase
from trl.data_utils import is_conversational

from responserank.errors import DataValidationError, invalid_value, missing_columns
from responserank.llm.data.batching.lengths import fits
from responserank.llm.data.degenerate import drop_identical_pairs
from responserank.llm.data.signals.labels import STRENGTHS
from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.sources.hf_preference_rows import (
    Rendered,
    check_messages,
    check_text,
    load_rows,
    render_conversational,
)
from responserank.llm.data.split import holdout_mask
from responserank.seeding import step_rng

STRENGTH_KINDS = ("response_time", "stated_strength", "agreement_score", "rank")
#: Per-row flag of ``_read``: the conversational response holds a ``user`` turn (counted, then
#: dropped: ``responses_spoken_by_user`` in the data statistics' checks).
BY_USER = "spoken_by_user"
#: Column the strength of each kind is written to (the field its signal reads).
STRENGTH_FIELDS = {
    "response_time": "response_time",
    "stated_strength": "stated_strength",
    "agreement_score": "agreement_score",
    "rank": "strength_rank",
}


@dataclass
class HfPreferenceSource:
    """A preference dataset in TRL's layouts; see the module docstring for the options."""

    name: str | None = None
    config: str | None = None
    split: str = "train"
    path: str | None = None
    eval_split: str | None = None
    eval_path: str | None = None
    test_size: int = 0
    prompt_column: str = "prompt"
    chosen_column: str = "chosen"
    rejected_column: str = "rejected"
    id_column: str | None = None
    annotator_column: str | None = None
    stratum_column: str | None = None
    margin_column: str | None = None
    strength_column: str | None = None
    strength_kind: str = "response_time"

    def __post_init__(self) -> None:
        if self.strength_kind not in STRENGTH_KINDS:
            raise ValueError(
                f"strength_kind must be one of {list(STRENGTH_KINDS)}, got {self.strength_kind!r}"
            )
        held_out = [
            key
            for key, value in (
                ("eval_split", self.eval_split),
                ("eval_path", self.eval_path),
                ("test_size", self.test_size),
            )
            if value
        ]
        if len(held_out) > 1:
            raise ValueError(f"set at most one of eval_split, eval_path, test_size; got {held_out}")

    # ---- reading ----------------------------------------------------------------------------

    def _rows(self, split: str, path: str | None) -> tuple[datasets.Dataset, str]:
        if path is not None:
            return load_rows(None, None, split, path)
        return load_rows(self.name, self.config, split, self.path)

    def _read(
        self, rows: datasets.Dataset, origin: str, tokenizer: PreTrainedTokenizerBase
    ) -> pd.DataFrame:
        """Validated, rendered pipeline columns of one split."""
        columns = list(rows.column_names)
        wanted = [self.chosen_column, self.rejected_column]
        optional = [
            self.id_column,
            self.annotator_column,
            self.stratum_column,
            self.margin_column,
            self.strength_column,
        ]
        missing = [c for c in wanted + [c for c in optional if c] if c not in columns]
        if missing:
            raise missing_columns(origin, missing, columns)
        if len(rows) == 0:
            raise DataValidationError(f"{origin}: the dataset has no rows")
        explicit = self.prompt_column in columns
        records = rows.to_list()
        conversational = is_conversational(
            {"chosen": records[0][self.chosen_column]}
        ) or is_conversational({"rejected": records[0][self.rejected_column]})
        if conversational and not tokenizer.chat_template:
            raise DataValidationError(
                f"{origin}: conversational rows need a tokenizer with a chat template; this "
                "model's tokenizer has none (set model.chat_template)"
            )
        rendered = [
            self._render(record, row, origin, explicit, conversational, tokenizer)
            for row, record in enumerate(records)
        ]
        table = pd.DataFrame(
            {
                "comparison_id": self._ids(records, origin),
                "prompt": [r.prompt for r in rendered],
                "chosen": [r.chosen for r in rendered],
                "rejected": [r.rejected for r in rendered],
                "rendered": np.array([r.rendered for r in rendered], dtype=bool),
                BY_USER: np.array([r.spoken_by_user for r in rendered], dtype=bool),
            }
        )
        if self.annotator_column:
            table["annotator"] = [
                check_text(origin, row, self.annotator_column, r[self.annotator_column], False)
                for row, r in enumerate(records)
            ]
        if self.stratum_column:
            table["stratum_key"] = [str(r[self.stratum_column]) for r in records]
        if self.margin_column:
            table["margin"] = _numbers(records, self.margin_column, origin, "a finite margin")
        if self.strength_column:
            table[STRENGTH_FIELDS[self.strength_kind]] = self._strengths(records, origin)
        return table

    def _render(
        self,
        record: dict[str, Any],
        row: int,
        origin: str,
        explicit: bool,
        conversational: bool,
        tokenizer: PreTrainedTokenizerBase,
    ) -> Rendered:
        chosen, rejected = record[self.chosen_column], record[self.rejected_column]
        if conversational:
            example = {
                "chosen": check_messages(origin, row, self.chosen_column, chosen),
                "rejected": check_messages(origin, row, self.rejected_column, rejected),
            }
            if explicit:
                prompt = record[self.prompt_column]
                if isinstance(prompt, list):
                    example["prompt"] = check_messages(origin, row, self.prompt_column, prompt)
                else:
                    # A text prompt beside conversations: TRL re-extracts it from the shared turns.
                    example["prompt"] = check_text(origin, row, self.prompt_column, prompt, True)
            return render_conversational(example, tokenizer, origin, row)
        chosen = check_text(origin, row, self.chosen_column, chosen, False)
        rejected = check_text(origin, row, self.rejected_column, rejected, False)
        prompt = ""
        if explicit:
            prompt = check_text(origin, row, self.prompt_column, record[self.prompt_column], True)
        return Rendered(prompt, chosen, rejected, False)

    def _ids(self, records: list[dict[str, Any]], origin: str) -> np.ndarray:
        if not self.id_column:
            return np.array([f"row-{i}" for i in range(len(records))], dtype=object)
        ids = np.array([str(r[self.id_column]) for r in records], dtype=object)
        seen: dict[str, int] = {}
        for row, value in enumerate(ids):
            if value in seen:
                raise invalid_value(
                    origin, row, self.id_column, f"a unique id (row {seen[value]} has it)", value
                )
            seen[value] = row
        return ids

    def _strengths(self, records: list[dict[str, Any]], origin: str) -> np.ndarray:
        column = self.strength_column
        if self.strength_kind == "stated_strength":
            for row, record in enumerate(records):
                if record[column] not in STRENGTHS:
                    raise invalid_value(
                        origin, row, column, f"one of {list(STRENGTHS)}", record[column]
                    )
            return np.array([r[column] for r in records], dtype=object)
        values = _numbers(records, column, origin, f"a finite {self.strength_kind}")
        if self.strength_kind == "response_time":
            negative = np.flatnonzero(values < 0)
            if negative.size:
                row = int(negative[0])
                raise invalid_value(
                    origin, row, column, "a non-negative response time in seconds", values[row]
                )
        return values

    # ---- the source -------------------------------------------------------------------------

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        rows, origin = self._rows(self.split, None)
        train = self._read(rows, origin, tokenizer)
        loaded = len(train)
        by_user = int(train.pop(BY_USER).sum())
        train, identical = drop_identical_pairs(train, origin)
        conversational = int(train["rendered"].sum())
        keep = _fits(tokenizer, train, max_length)
        dropped = int((~keep).sum())
        train = train[keep].reset_index(drop=True)
        if self.eval_split is not None or self.eval_path is not None:
            eval_rows, eval_origin = self._rows(self.eval_split or "train", self.eval_path)
            test = self._read(eval_rows, eval_origin, tokenizer)
            by_user += int(test.pop(BY_USER).sum())
            test, identical_eval = drop_identical_pairs(test, eval_origin)
            identical += identical_eval
            keep_eval = _fits(tokenizer, test, max_length)
            dropped += int((~keep_eval).sum())
            test = test[keep_eval].reset_index(drop=True)
        else:
            in_test = holdout_mask(
                train["comparison_id"].to_numpy(), self.test_size, step_rng(seed, "test_split")
            )
            test = train[in_test]
            train = train[~in_test]
        return SourceTables(
            train=train.reset_index(drop=True),
            eval=test.reset_index(drop=True),
            dropped={"identical_pairs": identical, "length_filter": dropped},
            counts={
                "rows_loaded": loaded,
                "conversational_rows": conversational,
                "responses_spoken_by_user": by_user,
                "test_comparisons": len(test),
            },
        )


def _numbers(records: list[dict[str, Any]], column: str, origin: str, expected: str) -> np.ndarray:
    values = np.empty(len(records), dtype=np.float64)
    for row, record in enumerate(records):
        value = record[column]
        try:
            values[row] = math.nan if isinstance(value, bool) else float(value)
        except (TypeError, ValueError):
            values[row] = math.nan
        if not math.isfinite(values[row]):
            raise invalid_value(origin, row, column, expected, value)
    return values


def _fits(tokenizer: PreTrainedTokenizerBase, table: pd.DataFrame, max_length: int) -> np.ndarray:
    return fits(
        tokenizer,
        table["prompt"],
        table["chosen"],
        table["rejected"],
        max_length,
        rendered=table["rendered"].tolist(),
    )
