"""From a run's data settings to the train and eval comparison tables of one run (contract B).

After the data source's own steps (for MultiPref: agreement statistics, length filter, test split,
one random annotation per comparison, ties dropped) the rows that train but deserve a look are
counted (``checks``: NUL bytes, a prompt repeated in a response, held-out pairs also in training,
``llm.data.degenerate.text_checks``); then every source goes through the same steps, in
this order: strength signal -> rank filter -> fraction sampling -> stratify -> partition -> rank
transform; the soft target comes from the rows. Each step draws from its own random stream of the
master ``seed``.

What it reads is a :class:`DataSpec`, settled by ``responserank.llm.config`` from the keys
``seed``, ``training.max_length``, ``dataset`` (the source object) and ``experiment``
(:class:`ExperimentSpec`: ``fraction``, ``rank_filter_order`` (``before_sampling`` or
``after_sampling`` as in the published runs) and the built steps ``experiment.train_signal``,
``experiment.train_filter``, ``experiment.sampler``, ``experiment.train_stratifier``,
``experiment.train_partitioner``, ``experiment.train_rank_transform``, ``experiment.train_target``;
:data:`STEPS` names each step's config group and the class used when the node is left out: no
signal, no filter, annotator sampler, global stratum, noop partitioner, no transform, hard target).

A signal may also define ``extra_columns(table, split)``: per-row columns assigned to the train and
the eval table after these steps (the RAPL ARM signal fills ``reliability`` this way, the TRUE
label signal ``target``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.errors import DataValidationError
from responserank.llm.data.degenerate import (
    HANDFUL,
    SOURCE_CHECKS,
    require_left,
    text_checks,
    warn_checks,
)
from responserank.llm.data.samplers import AnnotatorSampler
from responserank.llm.data.signals.strength import NoSignal
from responserank.llm.data.signals.targets import HardTarget
from responserank.llm.data.stats import table_statistics
from responserank.llm.data.strata.filters import NoFilter
from responserank.llm.data.strata.partitioners import NoopPartitioner
from responserank.llm.data.strata.rank_transforms import NoTransform
from responserank.llm.data.strata.stratifiers import GlobalStratifier
from responserank.seeding import step_rng

log = logging.getLogger(__name__)

CORE_COLUMNS = (
    "comparison_id",
    "prompt",
    "chosen",
    "rejected",
    "rank",
    "partition",
    "target",
    "reliability",
)
RANK_FILTER_ORDERS = ("before_sampling", "after_sampling")
#: The pipeline steps: key under ``experiment`` -> (its config group, the class of a left-out step).
STEPS = {
    "train_signal": ("signal", NoSignal),
    "train_filter": ("filter", NoFilter),
    "sampler": ("sampler", AnnotatorSampler),
    "train_stratifier": ("stratifier", GlobalStratifier),
    "train_partitioner": ("partitioner", NoopPartitioner),
    "train_rank_transform": ("rank_transform", NoTransform),
    "train_target": ("target", HardTarget),
}


@dataclass(frozen=True)
class ExperimentSpec:
    """The settled ``experiment`` group: the preset name, the share of training comparisons kept,
    when the rank filter runs, and the built pipeline steps (each under its config key)."""

    name: str
    fraction: float
    rank_filter_order: str
    train_signal: Any
    train_filter: Any
    sampler: Any
    train_stratifier: Any
    train_partitioner: Any
    train_rank_transform: Any
    train_target: Any

    def components(self) -> dict[str, Any]:
        """The steps keyed by their config group (``signal``, ``filter``, ...), in pipeline order."""
        return {group: getattr(self, key) for key, (group, _) in STEPS.items()}


@dataclass(frozen=True)
class DataSpec:
    """Everything :func:`prepare_data` reads: the master seed, tokens per side, the source object
    (``dataset``) and the experiment's steps."""

    seed: int
    max_length: int
    dataset: Any
    experiment: ExperimentSpec


@dataclass(frozen=True)
class PreparedData:
    """Train and eval comparison tables (contract B) and the statistics of their preparation."""

    train: pd.DataFrame
    eval: pd.DataFrame
    stats: dict[str, Any]


def describe(component: Any) -> str:
    """Class and parameters of a component, e.g. ``RandomFilter(fraction=0.25)``, for the stats."""
    parameters = ", ".join(f"{k}={v!r}" for k, v in vars(component).items())
    return f"{type(component).__name__}({parameters})"


def assign_partitions(
    partitioner: Any, rank: np.ndarray, stratum: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Partition ids 0..P-1 in order of first appearance; every unranked row is its own partition."""
    ranked = ~np.isnan(rank)
    labels = np.empty(rank.size, dtype=np.int64)
    labels[ranked] = partitioner.assign(rank[ranked], stratum[ranked], rng)
    labels[~ranked] = -1 - np.arange(int((~ranked).sum()))
    return pd.factorize(labels)[0].astype(np.int64)


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    rest = [c for c in table.columns if c not in CORE_COLUMNS]
    return table[list(CORE_COLUMNS) + rest].reset_index(drop=True)


def signal_columns(signal: Any, table: pd.DataFrame, split: str) -> dict[str, np.ndarray]:
    """Per-row columns a signal adds besides its ranks (e.g. RAPL reliabilities); none by default."""
    extra = getattr(signal, "extra_columns", None)
    return {} if extra is None else dict(extra(table, split))


def _eval_table(table: pd.DataFrame, signal: Any) -> pd.DataFrame:
    table = table.copy()
    table["rank"] = np.nan
    table["partition"] = np.arange(len(table), dtype=np.int64)
    table["target"] = 1.0
    table["reliability"] = np.nan
    return _ordered(table.assign(**signal_columns(signal, table, "eval")))


def _rank_filter(
    table: pd.DataFrame, rank: np.ndarray, rank_filter: Any, seed: int
) -> tuple[np.ndarray, int]:
    """Ranks after the rank filter, and how many ranks it removed."""
    ranked_before = int((~np.isnan(rank)).sum())
    rank = rank_filter.apply(table, rank, step_rng(seed, "filter"))
    return rank, ranked_before - int((~np.isnan(rank)).sum())


def prepare_train(
    table: pd.DataFrame, experiment: ExperimentSpec, seed: int, where: str = "training table"
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The shared steps on a source's training table; returns the table and per-step counts.

    ``experiment.rank_filter_order="after_sampling"`` runs the rank filter on the sampled rows, as
    the published runs did; ``before_sampling`` filters the whole table first, so that a filter
    fraction removes the same share of ranks at every training fraction. Raises
    DataValidationError naming the step and the counts when fraction sampling leaves no comparison
    (``where`` names the data in the message); warns when it leaves only a handful.
    """
    fraction, order = experiment.fraction, experiment.rank_filter_order
    rank = experiment.train_signal.ranks(table)
    counts = {"ranks_removed_by_filter": 0}
    if order == "before_sampling":
        rank, counts["ranks_removed_by_filter"] = _rank_filter(
            table, rank, experiment.train_filter, seed
        )
    keep = experiment.sampler.select(table, fraction, step_rng(seed, "sampler"))
    require_left(f"fraction_sampling (fraction={fraction})", len(table), keep.size, where)
    counts["fraction_sampling"] = len(table) - keep.size
    table = table.iloc[keep].reset_index(drop=True)
    rank = rank[keep]
    if order == "after_sampling":
        rank, counts["ranks_removed_by_filter"] = _rank_filter(
            table, rank, experiment.train_filter, seed
        )
    stratum = np.asarray(experiment.train_stratifier.assign(table), dtype=object)
    partition = assign_partitions(
        experiment.train_partitioner, rank, stratum, step_rng(seed, "partitioner")
    )
    ranked = ~np.isnan(rank)
    rank[ranked] = experiment.train_rank_transform.apply(
        rank[ranked], partition[ranked], step_rng(seed, "rank_transform")
    )
    table = table.assign(
        rank=rank,
        partition=partition,
        target=experiment.train_target.values(table),
        reliability=np.nan,
        stratum=stratum,
    )
    table = table.assign(**signal_columns(experiment.train_signal, table, "train"))
    return _ordered(table), counts


def prepare_data(spec: DataSpec, tokenizer: PreTrainedTokenizerBase) -> PreparedData:
    """Load the configured source and run the full preparation (see the module docstring)."""
    seed, experiment, source = spec.seed, spec.experiment, spec.dataset
    tables = source.load(tokenizer=tokenizer, max_length=spec.max_length, seed=seed)
    where = f"dataset {type(source).__name__}"
    if tables.train.empty:
        raise DataValidationError(
            f"{where}: the source's steps left no training comparisons (counts {tables.counts}, "
            f"dropped per step {tables.dropped}); expected at least one"
        )
    source_counts = {k: v for k, v in tables.counts.items() if k not in SOURCE_CHECKS}
    checks = {
        **text_checks(tables.train, tables.eval),
        **{k: v for k, v in tables.counts.items() if k in SOURCE_CHECKS},
    }
    warn_checks(checks, where)
    train, counts = prepare_train(tables.train, experiment, seed, where)
    if len(train) < HANDFUL:
        log.warning("%s: only %d training comparison(s) after every step", where, len(train))
    eval_table = _eval_table(tables.eval, experiment.train_signal)
    stats: dict[str, Any] = {
        "seed": seed,
        "fraction": experiment.fraction,
        "rank_filter_order": experiment.rank_filter_order,
        "components": {name: describe(c) for name, c in experiment.components().items()},
        "source": source_counts,
        "checks": checks,
        "dropped": {**tables.dropped, "fraction_sampling": counts["fraction_sampling"]},
        "ranks_removed_by_filter": counts["ranks_removed_by_filter"],
        "sizes": {"train": len(train), "eval": len(eval_table)},
        "train": table_statistics(train),
    }
    log.info("prepared %d train and %d eval comparisons", len(train), len(eval_table))
    return PreparedData(train=train, eval=eval_table, stats=stats)
