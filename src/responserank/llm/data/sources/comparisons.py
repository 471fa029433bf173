"""Helpers the RAPL-family sources share: building a source table and the token-length filter.

A source table holds ``comparison_id``, ``prompt`` ("" when chosen/rejected are full
transcripts), ``chosen`` and ``rejected``, followed by source-specific passthrough columns (ARMs,
labels, categories); ``prepare_data`` adds rank, partition, target and reliability.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.errors import DataValidationError
from responserank.llm.data.batching.lengths import fits
from responserank.llm.data.degenerate import drop_identical_pairs, require_left
from responserank.llm.data.sources.base import SourceTables

SOURCE_COLUMNS = ("comparison_id", "prompt", "chosen", "rejected")


def source_table(
    comparison_id: Sequence[str] | pd.Series,
    prompt: Sequence[str] | pd.Series | str,
    chosen: Sequence[str] | pd.Series,
    rejected: Sequence[str] | pd.Series,
    *,
    extra: pd.DataFrame | None = None,
    where: str = "data source",
) -> pd.DataFrame:
    """The four source columns (plus ``extra`` passthrough columns) in the canonical order.

    Raises DataValidationError (``where`` names the source) for a repeated comparison id or a
    passthrough column that would overwrite a source column.
    """
    n = len(chosen)
    table = pd.DataFrame(
        {
            "comparison_id": np.asarray(comparison_id, dtype=object).astype(str),
            "prompt": [prompt] * n if isinstance(prompt, str) else list(prompt),
            "chosen": list(chosen),
            "rejected": list(rejected),
        }
    )
    if not table["comparison_id"].is_unique:
        duplicated = table["comparison_id"][table["comparison_id"].duplicated()].iloc[0]
        raise DataValidationError(
            f"{where}: comparison ids must be unique; {duplicated!r} occurs more than once"
        )
    if extra is not None:
        clash = [c for c in extra.columns if c in SOURCE_COLUMNS]
        if clash:
            raise DataValidationError(
                f"{where}: passthrough columns {clash} would overwrite source columns"
            )
        table = pd.concat([table, extra.reset_index(drop=True)], axis=1)
    return table


def length_filtered(
    train: pd.DataFrame,
    eval_table: pd.DataFrame,
    tokenizer: PreTrainedTokenizerBase,
    max_length: int,
    where: str = "data source",
) -> SourceTables:
    """Drop comparisons whose chosen and rejected are identical (they carry no preference), then
    those whose chosen or rejected conversation exceeds ``max_length`` tokens; both counted.

    Raises DataValidationError naming the step and the counts when a step leaves no training
    comparison (``where`` names the source in the message).
    """
    kept = []
    dropped = {"identical_pairs": 0, "length_filter": 0}
    for split, table in (("train", train), ("eval", eval_table)):
        table, identical = drop_identical_pairs(table, f"{where} ({split})")
        keep = fits(tokenizer, table["prompt"], table["chosen"], table["rejected"], max_length)
        if split == "train":
            step = f"length_filter (max_length={max_length})"
            require_left(step, len(keep), int(keep.sum()), f"{where} ({split})")
        kept.append(table[keep].reset_index(drop=True))
        dropped["identical_pairs"] += identical
        dropped["length_filter"] += int((~keep).sum())
    return SourceTables(
        train=kept[0],
        eval=kept[1],
        dropped=dropped,
        counts={"rows_loaded": len(train) + len(eval_table), "test_comparisons": len(kept[1])},
    )
