"""Stratifiers: which comparisons may be ranked against each other.

A stratum label per row; partitions never cross strata (rows without a rank become singletons
whatever their stratum). Each class is built from the Hydra group ``stratifier``
(``experiment.train_stratifier``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from responserank.errors import require_columns


class GlobalStratifier:
    """One stratum for all ranked rows."""

    def assign(self, table: pd.DataFrame) -> np.ndarray:
        return np.full(len(table), "global", dtype=object)


class FieldStratifier:
    """One stratum per value of a column (``annotator``: one per evaluator)."""

    def __init__(self, field: str) -> None:
        self.field = field

    def assign(self, table: pd.DataFrame) -> np.ndarray:
        require_columns(f"stratifier on field '{self.field}'", table.columns, [self.field])
        return table[self.field].astype(str).to_numpy(dtype=object)


def total_characters(table: pd.DataFrame) -> np.ndarray:
    """Characters of prompt + chosen + rejected: the length the buckets are cut on."""
    return (
        table["prompt"].str.len() + table["chosen"].str.len() + table["rejected"].str.len()
    ).to_numpy(dtype=np.int64)


def length_buckets(lengths: np.ndarray, num_buckets: int) -> np.ndarray:
    """Bucket 0..k-1 by the k-quantiles of ``lengths``; equal lengths always share a bucket."""
    if num_buckets < 1:
        raise ValueError(f"num_buckets must be >= 1, got {num_buckets}")
    if lengths.size == 0:
        return np.zeros(0, dtype=np.int64)
    edges = np.quantile(lengths, np.arange(1, num_buckets) / num_buckets)
    return np.searchsorted(edges, lengths, side="right").astype(np.int64)


class AnnotatorLengthBucketStratifier:
    """Annotator x one of ``num_buckets`` global length-percentile buckets of the total characters,
    so an annotator's fast answers on short texts are not ranked against slow ones on long texts."""

    def __init__(self, num_buckets: int) -> None:
        if num_buckets < 1:
            raise ValueError(f"num_buckets must be >= 1, got {num_buckets}")
        self.num_buckets = num_buckets

    def assign(self, table: pd.DataFrame) -> np.ndarray:
        require_columns("stratifier annotator_length_bucket", table.columns, ["annotator"])
        buckets = length_buckets(total_characters(table), self.num_buckets)
        annotators = table["annotator"].astype(str).to_numpy(dtype=object)
        return np.array(
            [f"{a}|len{b}" for a, b in zip(annotators, buckets, strict=True)], dtype=object
        )
