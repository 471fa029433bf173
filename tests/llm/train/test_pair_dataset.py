"""Contract-B table validation, tokenisation and collation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from train_helpers import tiny_model_config

from responserank.errors import TableError
from responserank.llm.config import model_spec
from responserank.llm.data.batching.pair_dataset import PairCollator, tokenize_table, validate_table
from responserank.llm.modeling.models import load_tokenizer


def _table(n=3):
    return pd.DataFrame(
        {
            "comparison_id": [f"c{i}" for i in range(n)],
            "prompt": ["What is 2+2?"] * n,
            "chosen": ["It is four."] * n,
            "rejected": ["It is five, I think, but maybe not."] * n,
            "rank": [0.0, 1.0, np.nan][:n],
            "partition": list(range(n)),
            "target": [1.0] * n,
            "reliability": [np.nan] * n,
        }
    )


def test_valid_table_passes():
    validate_table(_table(), "t")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.drop(columns=["partition"]), r"src: missing column\(s\) \['partition'\]"),
        (lambda t: t.assign(chosen=["a", "", "c"]), r"field 'chosen'.*row 1 \(comparison_id=c1\)"),
        (lambda t: t.assign(partition=[0, 1.5, 2]), r"field 'partition'.*row 1"),
        (lambda t: t.assign(rank=["0", "x", None]), r"field 'rank' must be numeric.*row 1"),
        (lambda t: t.assign(target=[1.0, np.nan, 1.0]), r"field 'target'.*row 1"),
        (lambda t: t.assign(comparison_id=["a", "a", "b"]), r"'comparison_id' must be unique"),
    ],
)
def test_bad_tables_name_source_field_and_row(change, message):
    with pytest.raises(TableError, match=message):
        validate_table(change(_table()), "src")


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(model_spec(tiny_model_config()))


def test_tokenize_renders_the_chat_template(tokenizer):
    pairs = tokenize_table(_table(), tokenizer, max_length=64, source="t", show_progress=False)
    text = tokenizer.decode(pairs.chosen_ids[0])
    assert text.startswith("[CLS] user : what is 2 + 2? [SEP] assistant : it is four.")
    assert len(pairs) == 3 and np.isnan(pairs.rank[2]) and pairs.partition.dtype == np.int64


def test_overlong_comparisons_are_an_error_not_a_truncation(tokenizer):
    with pytest.raises(
        TableError, match=r"exceed training.max_length=8.*row 0 \(comparison_id=c0\)"
    ):
        tokenize_table(_table(), tokenizer, max_length=8, source="t", show_progress=False)


def test_collator_right_pads_chosen_rows_first(tokenizer):
    pairs = tokenize_table(_table(2), tokenizer, max_length=64, source="t", show_progress=False)
    batch = PairCollator(tokenizer.pad_token_id, pad_to_multiple_of=8)([pairs[0], pairs[1]])
    assert batch["input_ids"].shape[0] == 4 and batch["input_ids"].shape[1] % 8 == 0
    chosen_len = len(pairs.chosen_ids[0])
    assert batch["input_ids"][0, :chosen_len].tolist() == pairs.chosen_ids[0]
    assert batch["input_ids"][2, : len(pairs.rejected_ids[0])].tolist() == pairs.rejected_ids[0]
    assert batch["attention_mask"][0].sum() == chosen_len
    assert (batch["input_ids"][0, chosen_len:] == tokenizer.pad_token_id).all()
    assert batch["rank"].dtype == torch.float64 and batch["partition"].tolist() == [0, 1]
