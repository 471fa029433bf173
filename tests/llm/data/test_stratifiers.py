"""Stratifiers on small explicit tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from responserank.errors import DataValidationError
from responserank.llm.data.strata.stratifiers import (
    AnnotatorLengthBucketStratifier,
    FieldStratifier,
    GlobalStratifier,
    length_buckets,
    total_characters,
)


def _table(lengths, annotators):
    # prompt of length L - 2, one-character chosen and rejected: total characters = L.
    return pd.DataFrame(
        {
            "prompt": ["p" * (n - 2) for n in lengths],
            "chosen": ["c"] * len(lengths),
            "rejected": ["r"] * len(lengths),
            "annotator": annotators,
        }
    )


def test_global_puts_every_row_in_one_stratum():
    table = _table([10, 20, 30], ["a", "b", "a"])
    assert GlobalStratifier().assign(table).tolist() == ["global"] * 3


def test_annotator_stratum_is_the_annotator():
    table = _table([10, 20, 30], ["a", "b", "a"])
    assert FieldStratifier("annotator").assign(table).tolist() == ["a", "b", "a"]


def test_field_stratifier_names_a_missing_column():
    with pytest.raises(DataValidationError, match="stratum_key"):
        FieldStratifier("stratum_key").assign(_table([10], ["a"]))


def test_total_characters_adds_prompt_and_both_responses():
    assert total_characters(_table([10, 25], ["a", "b"])).tolist() == [10, 25]


@pytest.mark.parametrize(
    ("lengths", "k", "expected"),
    [
        ([10, 20, 30, 40], 2, [0, 0, 1, 1]),  # median 25
        ([10, 20, 30, 40], 4, [0, 1, 2, 3]),  # quartiles 17.5, 25, 32.5
        ([40, 10, 30, 20], 4, [3, 0, 2, 1]),  # order of rows does not matter
        ([5, 5, 5, 5], 4, [3, 3, 3, 3]),  # equal lengths share a bucket
        ([10, 20, 30], 1, [0, 0, 0]),
    ],
)
def test_length_buckets(lengths, k, expected):
    assert length_buckets(np.array(lengths), k).tolist() == expected


def test_annotator_length_bucket_crosses_annotator_and_global_bucket():
    table = _table([10, 20, 30, 40], ["a", "a", "b", "a"])
    strata = AnnotatorLengthBucketStratifier(2).assign(table)
    assert strata.tolist() == ["a|len0", "a|len0", "b|len1", "a|len1"]


def test_bucket_count_must_be_positive():
    with pytest.raises(ValueError, match="num_buckets"):
        AnnotatorLengthBucketStratifier(0)
