"""From a Hydra config to the train and eval comparison tables of one run (contract B).

After the data source's own steps (for MultiPref: agreement statistics, length filter, test split,
one random annotation per comparison, ties dropped) every source goes through the same steps, in
this order: strength signal -> rank filter -> fraction sampling -> stratify -> partition -> rank
transform; the soft target comes from the rows. Each step draws from its own random stream of the
master ``seed``.

Config keys read (all other keys are ignored):
``seed``, ``training.max_length``, ``dataset`` (the source, ``_target_``), ``experiment.fraction``
(default 1.0), ``experiment.rank_filter_order`` (``before_sampling``, the default, or
``after_sampling`` as in the published runs), and the components ``experiment.train_signal``, ``experiment.train_filter``,
``experiment.sampler``, ``experiment.train_stratifier``, ``experiment.train_partitioner``,
``experiment.train_rank_transform``, ``experiment.train_target`` (each ``_target_``; an absent node
means: no signal, no filter, annotator sampler, global stratum, noop partitioner, no transform,
hard target).

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
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from transformers import PreTrainedTokenizerBase

from responserank.errors import ConfigError, DataValidationError
from responserank.llm.data.degenerate import HANDFUL, require_left
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
COMPONENTS = {
    "signal": ("experiment.train_signal", NoSignal),
    "filter": ("experiment.train_filter", NoFilter),
    "sampler": ("experiment.sampler", AnnotatorSampler),
    "stratifier": ("experiment.train_stratifier", GlobalStratifier),
    "partitioner": ("experiment.train_partitioner", NoopPartitioner),
    "rank_transform": ("experiment.train_rank_transform", NoTransform),
    "target": ("experiment.train_target", HardTarget),
}


@dataclass(frozen=True)
class PreparedData:
    """Train and eval comparison tables (contract B) and the statistics of their preparation."""

    train: pd.DataFrame
    eval: pd.DataFrame
    stats: dict[str, Any]


def build_components(cfg: DictConfig) -> dict[str, Any]:
    """Instantiate every pipeline component from its config node (defaults for absent nodes)."""
    components = {}
    for name, (key, default) in COMPONENTS.items():
        node = OmegaConf.select(cfg, key, default=None)
        components[name] = default() if node is None else instantiate(node)
    return components


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
    table: pd.DataFrame,
    components: dict[str, Any],
    fraction: float,
    seed: int,
    rank_filter_order: str = "before_sampling",
    where: str = "training table",
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The shared steps on a source's training table; returns the table and per-step counts.

    ``rank_filter_order="after_sampling"`` runs the rank filter on the sampled rows, as the
    published runs did; the default filters the whole table first, so that a filter fraction
    removes the same share of ranks at every training fraction. Raises DataValidationError naming
    the step and the counts when fraction sampling leaves no comparison (``where`` names the data
    in the message); warns when it leaves only a handful.
    """
    if rank_filter_order not in RANK_FILTER_ORDERS:
        raise ConfigError(
            f"experiment.rank_filter_order must be one of {list(RANK_FILTER_ORDERS)}, "
            f"got {rank_filter_order!r}"
        )
    rank = components["signal"].ranks(table)
    counts = {"ranks_removed_by_filter": 0}
    if rank_filter_order == "before_sampling":
        rank, counts["ranks_removed_by_filter"] = _rank_filter(
            table, rank, components["filter"], seed
        )
    keep = components["sampler"].select(table, fraction, step_rng(seed, "sampler"))
    require_left(f"fraction_sampling (fraction={fraction})", len(table), keep.size, where)
    counts["fraction_sampling"] = len(table) - keep.size
    table = table.iloc[keep].reset_index(drop=True)
    rank = rank[keep]
    if rank_filter_order == "after_sampling":
        rank, counts["ranks_removed_by_filter"] = _rank_filter(
            table, rank, components["filter"], seed
        )
    stratum = np.asarray(components["stratifier"].assign(table), dtype=object)
    partition = assign_partitions(
        components["partitioner"], rank, stratum, step_rng(seed, "partitioner")
    )
    ranked = ~np.isnan(rank)
    rank[ranked] = components["rank_transform"].apply(
        rank[ranked], partition[ranked], step_rng(seed, "rank_transform")
    )
    table = table.assign(
        rank=rank,
        partition=partition,
        target=components["target"].values(table),
        reliability=np.nan,
        stratum=stratum,
    )
    table = table.assign(**signal_columns(components["signal"], table, "train"))
    return _ordered(table), counts


def prepare_data(cfg: DictConfig, tokenizer: PreTrainedTokenizerBase) -> PreparedData:
    """Load the configured source and run the full preparation (see the module docstring)."""
    seed = int(cfg.seed)
    fraction = float(OmegaConf.select(cfg, "experiment.fraction", default=1.0))
    source = instantiate(cfg.dataset)
    components = build_components(cfg)
    tables = source.load(tokenizer=tokenizer, max_length=int(cfg.training.max_length), seed=seed)
    where = f"dataset {type(source).__name__}"
    if tables.train.empty:
        raise DataValidationError(
            f"{where}: the source's steps left no training comparisons (counts {tables.counts}, "
            f"dropped per step {tables.dropped}); expected at least one"
        )
    order = str(OmegaConf.select(cfg, "experiment.rank_filter_order", default="before_sampling"))
    train, counts = prepare_train(tables.train, components, fraction, seed, order, where)
    if len(train) < HANDFUL:
        log.warning("%s: only %d training comparison(s) after every step", where, len(train))
    eval_table = _eval_table(tables.eval, components["signal"])
    stats: dict[str, Any] = {
        "seed": seed,
        "fraction": fraction,
        "rank_filter_order": order,
        "components": {name: describe(c) for name, c in components.items()},
        "source": dict(tables.counts),
        "dropped": {**tables.dropped, "fraction_sampling": counts["fraction_sampling"]},
        "ranks_removed_by_filter": counts["ranks_removed_by_filter"],
        "sizes": {"train": len(train), "eval": len(eval_table)},
        "train": table_statistics(train),
    }
    log.info("prepared %d train and %d eval comparisons", len(train), len(eval_table))
    return PreparedData(train=train, eval=eval_table, stats=stats)
