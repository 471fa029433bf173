"""From the comparison table (contract B) to padded model batches.

Each comparison becomes two token sequences (chosen, rejected) rendered by
``responserank.llm.data.text``; the collator stacks all chosen sequences first and all rejected
ones after them, so one forward pass gives both rewards of every comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from responserank.errors import TableError, describe_rows
from responserank.llm.data.text import encode_conversations
from responserank.llm.data.text_fields import expected_text, unacceptable_text

TEXT_COLUMNS = ("comparison_id", "prompt", "chosen", "rejected")
NUMERIC_COLUMNS = ("rank", "partition", "target", "reliability")
REQUIRED_COLUMNS = TEXT_COLUMNS + NUMERIC_COLUMNS

_TOKENIZE_CHUNK = 256


def validate_table(table: pd.DataFrame, source: str) -> None:
    """Check the contract-B schema; errors name the source, the rows and the field."""
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise TableError(
            f"{source}: missing column(s) {missing}; expected at least {list(REQUIRED_COLUMNS)}, "
            f"got {list(table.columns)}"
        )
    if table.empty:
        raise TableError(f"{source}: the table has no comparisons")
    for column, allow_empty in (("chosen", False), ("rejected", False), ("prompt", True)):
        bad = pd.Series(unacceptable_text(table[column], allow_empty), index=table.index)
        if bad.any():
            raise TableError(
                f"{source}: field '{column}' must be {expected_text(allow_empty)}; "
                f"bad in {describe_rows(table, bad)}"
            )
    duplicated = table["comparison_id"].duplicated(keep=False)
    if duplicated.any():
        raise TableError(
            f"{source}: field 'comparison_id' must be unique; repeated in {describe_rows(table, duplicated)}"
        )
    for column in NUMERIC_COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce")
        not_numeric = values.isna() & table[column].notna()
        if not_numeric.any():
            raise TableError(
                f"{source}: field '{column}' must be numeric; bad in {describe_rows(table, not_numeric)}"
            )
    partition = pd.to_numeric(table["partition"], errors="coerce")
    bad_partition = partition.isna() | (partition != partition.round())
    if bad_partition.any():
        raise TableError(
            f"{source}: field 'partition' must be an integer id; bad in {describe_rows(table, bad_partition)}"
        )
    if table["target"].isna().any():
        raise TableError(
            f"{source}: field 'target' must not be NaN (1.0 when there is no soft label); "
            f"NaN in {describe_rows(table, table['target'].isna())}"
        )


@dataclass(frozen=True)
class TokenizedPairs(Dataset):
    """Token ids of both sides of every comparison plus its loss columns."""

    chosen_ids: list[list[int]]
    rejected_ids: list[list[int]]
    rank: np.ndarray
    partition: np.ndarray
    target: np.ndarray
    reliability: np.ndarray

    def __len__(self) -> int:
        return len(self.chosen_ids)

    def __getitem__(self, index: int) -> dict:
        return {
            "chosen_ids": self.chosen_ids[index],
            "rejected_ids": self.rejected_ids[index],
            "rank": self.rank[index],
            "partition": self.partition[index],
            "target": self.target[index],
            "reliability": self.reliability[index],
        }

    def num_tokens(self) -> np.ndarray:
        """Tokens per comparison (both sides), for statistics and throughput."""
        return np.array(
            [len(c) + len(r) for c, r in zip(self.chosen_ids, self.rejected_ids, strict=True)]
        )


def _encode_column(
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    responses: Sequence[str],
    progress: tqdm,
    rendered: Sequence[bool] | None = None,
) -> list[list[int]]:
    ids: list[list[int]] = []
    for start in range(0, len(prompts), _TOKENIZE_CHUNK):
        stop = start + _TOKENIZE_CHUNK
        flags = None if rendered is None else rendered[start:stop]
        ids.extend(
            encode_conversations(
                tokenizer, prompts[start:stop], responses[start:stop], rendered=flags
            )
        )
        progress.update(len(prompts[start:stop]))
    return ids


def tokenize_table(
    table: pd.DataFrame,
    tokenizer: PreTrainedTokenizerBase,
    max_length: int,
    source: str,
    show_progress: bool = True,
) -> TokenizedPairs:
    """Tokenise both sides; a side longer than ``max_length`` is an error (never truncated, since
    the reward is read at the last token)."""
    prompts = table["prompt"].tolist()
    rendered = table["rendered"].tolist() if "rendered" in table.columns else None
    with tqdm(total=2 * len(table), desc=f"tokenising {source}", disable=not show_progress) as bar:
        chosen = _encode_column(tokenizer, prompts, table["chosen"].tolist(), bar, rendered)
        rejected = _encode_column(tokenizer, prompts, table["rejected"].tolist(), bar, rendered)
    longest = np.array([max(len(c), len(r)) for c, r in zip(chosen, rejected, strict=True)])
    too_long = pd.Series(longest > max_length, index=table.index)
    if too_long.any():
        raise TableError(
            f"{source}: {int(too_long.sum())} comparison(s) exceed training.max_length={max_length} "
            f"tokens (longest {int(longest.max())}): {describe_rows(table, too_long)}; filter them in "
            "the data preparation or raise training.max_length"
        )
    return TokenizedPairs(
        chosen_ids=chosen,
        rejected_ids=rejected,
        rank=table["rank"].to_numpy(dtype=np.float64),
        partition=table["partition"].to_numpy(dtype=np.int64),
        target=table["target"].to_numpy(dtype=np.float32),
        reliability=table["reliability"].to_numpy(dtype=np.float32),
    )


@dataclass(frozen=True)
class PairCollator:
    """Right-pads chosen and rejected sequences into one (2B, L) batch, chosen rows first.

    ``pad_token_id`` must be the id the model reads the reward by (its config's
    ``pad_token_id``; :func:`responserank.llm.modeling.padding.align_pad_token` returns it).
    """

    pad_token_id: int
    pad_to_multiple_of: int | None = None

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        sequences = [f["chosen_ids"] for f in features] + [f["rejected_ids"] for f in features]
        length = max(len(s) for s in sequences)
        if self.pad_to_multiple_of:
            length = -(-length // self.pad_to_multiple_of) * self.pad_to_multiple_of
        input_ids = torch.full((len(sequences), length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(sequences), length), dtype=torch.long)
        for row, seq in enumerate(sequences):
            input_ids[row, : len(seq)] = torch.as_tensor(seq, dtype=torch.long)
            attention_mask[row, : len(seq)] = 1
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            **loss_column_tensors(features),
        }


def loss_column_tensors(features: list[dict]) -> dict[str, torch.Tensor]:
    """The loss columns of collated comparisons: rank (float64), partition (int64), target and
    reliability (float32), each of shape (B,)."""
    return {
        "rank": torch.tensor([f["rank"] for f in features], dtype=torch.float64),
        "partition": torch.tensor([f["partition"] for f in features], dtype=torch.long),
        "target": torch.tensor([f["target"] for f in features], dtype=torch.float32),
        "reliability": torch.tensor([f["reliability"] for f in features], dtype=torch.float32),
    }
