"""Anthropic HH-RLHF (``Anthropic/hh-rlhf``): helpful and harmless dialogue preferences.

Schema: ``chosen`` and ``rejected``, each a full "\\n\\nHuman: ...\\n\\nAssistant: ..." transcript
(so the comparison table has ``prompt = ""``). The release keeps one folder per subset
(``harmless-base``, ``helpful-base``, ...) with ``train.jsonl.gz`` and ``test.jsonl.gz``; a local
copy in that layout is read with ``path=``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.errors import DataValidationError
from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.sources.comparisons import length_filtered, source_table
from responserank.llm.data.sources.tables import (
    check_text,
    load_hub_split,
    read_typed_table,
    require_columns,
    require_one_location,
)

DEFAULT_SUBSETS = ("harmless-base", "helpful-base")


def _local_file(root: Path, subset: str, split: str) -> Path:
    for name in (f"{split}.jsonl.gz", f"{split}.jsonl"):
        if (root / subset / name).is_file():
            return root / subset / name
    raise DataValidationError(f"{root / subset}: no {split}.jsonl(.gz) file found")


def hh_rlhf_comparisons(df: pd.DataFrame, where: str, subset: str, split: str) -> pd.DataFrame:
    require_columns(df, ("chosen", "rejected"), where)
    check_text(df, "chosen", where)
    check_text(df, "rejected", where)
    return source_table(
        comparison_id=[f"hh-{subset}-{split}-{i}" for i in range(len(df))],
        prompt="",
        chosen=df["chosen"].str.lstrip(),
        rejected=df["rejected"].str.lstrip(),
        extra=pd.DataFrame({"subset": [subset] * len(df)}),
    )


def _load_split(
    path: str | os.PathLike[str] | None, hub_id: str | None, subsets: list[str], split: str
) -> pd.DataFrame:
    parts = []
    for subset in subsets:
        if path:
            file = _local_file(Path(path), subset, split)
            df, where = read_typed_table(file, "an HH-RLHF comparison file"), str(file)
        else:
            df = load_hub_split(str(hub_id), split, data_dir=subset)
            where = f"{hub_id}/{subset}[{split}]"
        parts.append(hh_rlhf_comparisons(df, where, subset, split))
    return pd.concat(parts, ignore_index=True)


@dataclass
class HhRlhfSource:
    """Dataset option ``hh_rlhf``: train = the train files of ``subsets``, eval = their test files.

    Reads a local copy in the release layout (``path``) or the hub (``hub_id``).
    """

    path: str | None = None
    hub_id: str | None = None
    subsets: Sequence[str] = DEFAULT_SUBSETS

    def read(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        require_one_location(self.path, self.hub_id, "HH-RLHF")
        if not self.subsets:
            raise ValueError("HH-RLHF: subsets must name at least one folder, e.g. helpful-base")
        subsets = list(self.subsets)
        return (
            _load_split(self.path, self.hub_id, subsets, "train"),
            _load_split(self.path, self.hub_id, subsets, "test"),
        )

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        train, held_out = self.read()
        where = f"HH-RLHF {self.path or self.hub_id}"
        return length_filtered(train, held_out, tokenizer, max_length, where)
