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
from omegaconf import DictConfig, OmegaConf

from responserank.llm.data.batching.packing import PartitionBatchSampler
from responserank.llm.data.batching.pair_dataset import (
    TokenizedPairs,
    tokenize_table,
    validate_table,
)
from responserank.llm.data.prepare import prepare_data
from responserank.llm.data.stats import distribution
from responserank.llm.training.objectives.base import PairwiseObjective


@dataclass
class RunData:
    """Tokenised train / eval comparisons (eval None when the split is empty) and statistics."""

    train: TokenizedPairs
    eval: TokenizedPairs | None
    stats: dict[str, Any]


def prepare_run_data(
    cfg: DictConfig, tokenizer, objective: PairwiseObjective, show_progress: bool
) -> RunData:
    """Prepare, validate and tokenise the data; collect the statistics a dry run prints.

    Raises DataValidationError / TableError naming the source, row and field of bad input.
    """
    prepared = prepare_data(cfg, tokenizer)
    source = source_name(cfg)
    validate_table(prepared.train, f"{source} (train split)")
    objective.check_table(prepared.train, f"{source} (train split)")
    max_length = int(cfg.training.max_length)
    train = tokenize_table(prepared.train, tokenizer, max_length, "train", show_progress)
    evaluation = None
    if len(prepared.eval):
        validate_table(prepared.eval, f"{source} (eval split)")
        evaluation = tokenize_table(prepared.eval, tokenizer, max_length, "eval", show_progress)
    packing = PartitionBatchSampler(
        train.partition,
        batch_size=int(cfg.training.per_device_batch_size),
        seed=int(cfg.seed),
        num_replicas=PartialState().num_processes,
        packing=OmegaConf.select(cfg, "training.packing", default="capacity"),
    ).cohesion(0)
    stats = {
        **prepared.stats,
        "tokens_per_comparison": {"train": distribution(train.num_tokens())},
        "packing_epoch0": packing.as_dict(),
    }
    if evaluation is not None:
        stats["tokens_per_comparison"]["eval"] = distribution(evaluation.num_tokens())
    return RunData(train=train, eval=evaluation, stats=_plain(stats))


def source_name(cfg: DictConfig) -> str:
    """Where the comparisons come from, for error messages: a path, a hub id or a class."""
    for key in ("dataset.path", "dataset.hub_id", "dataset._target_"):
        value = OmegaConf.select(cfg, key)
        if value:
            return f"dataset {value}"
    return "dataset"


def _plain(obj: Any) -> Any:
    """JSON-ready copy (numpy scalars to Python numbers)."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
