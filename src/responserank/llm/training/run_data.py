"""The data of one training run: prepared, validated, tokenised, with the statistics a dry run prints.

``prepare_data`` (``llm/data/prepare.py``) runs the configured pipeline (source -> signal ->
strata / partitions -> targets); here the train and eval tables are checked (columns, the
objective's own requirements), tokenised (``pair_dataset``), and summarised: the pipeline's
counts, tokens per comparison and the packing of the first epoch's batches.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from accelerate import PartialState

from responserank.llm.config.spec import RunSpec
from responserank.llm.data.batching.packing import PartitionBatchSampler
from responserank.llm.data.batching.pair_dataset import (
    TokenizedPairs,
    tokenize_table,
    validate_table,
)
from responserank.llm.data.prepare import prepare_data
from responserank.llm.data.stats import distribution


@dataclass
class RunData:
    """Tokenised train / eval comparisons (eval None when the split is empty) and statistics."""

    train: TokenizedPairs
    eval: TokenizedPairs | None
    stats: dict[str, Any]


def prepare_run_data(spec: RunSpec, tokenizer, show_progress: bool) -> RunData:
    """Prepare, validate and tokenise the data; collect the statistics a dry run prints.

    The objective (``spec.loss``) checks the training table for what it needs. Raises
    DataValidationError / TableError naming the source, row and field of bad input.
    """
    prepared = prepare_data(spec.data, tokenizer)
    source = source_name(spec.dataset)
    validate_table(prepared.train, f"{source} (train split)")
    spec.loss.check_table(prepared.train, f"{source} (train split)")
    max_length = spec.training.max_length
    train = tokenize_table(prepared.train, tokenizer, max_length, "train", show_progress)
    evaluation = None
    if len(prepared.eval):
        validate_table(prepared.eval, f"{source} (eval split)")
        evaluation = tokenize_table(prepared.eval, tokenizer, max_length, "eval", show_progress)
    packing = PartitionBatchSampler(
        train.partition,
        batch_size=spec.training.per_device_batch_size,
        seed=spec.seed,
        num_replicas=PartialState().num_processes,
        packing=spec.training.packing,
    ).cohesion(0)
    stats = {
        **prepared.stats,
        "tokens_per_comparison": {"train": distribution(train.num_tokens())},
        "packing_epoch0": packing.as_dict(),
    }
    if evaluation is not None:
        stats["tokens_per_comparison"]["eval"] = distribution(evaluation.num_tokens())
    return RunData(train=train, eval=evaluation, stats=_plain(stats))


def source_name(source: Any) -> str:
    """Where the comparisons come from, for error messages: a path, a hub id or the class."""
    for value in (getattr(source, "path", None), getattr(source, "hub_id", None)):
        if value:
            return f"dataset {value}"
    return f"dataset {type(source).__module__}.{type(source).__qualname__}"


def _plain(obj: Any) -> Any:
    """JSON-ready copy (numpy scalars to Python numbers)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
