"""The ``experiment`` and ``eval`` groups of the schema.

``experiment`` holds the preset's name, the data fraction and the seven pipeline steps. Each step
is one setting with one name, ``experiment.<step>`` (``experiment.train_signal``,
``experiment.train_partitioner``, ...): a config group picks its class and parameters
(``signal=agreement`` writes ``experiment.train_signal``, ``partitioner=round_robin`` writes
``experiment.train_partitioner``; the groups are the folders ``conf/llm/<group>/``, listed in
:data:`~responserank.llm.data.prepare.STEPS`) and a key of the node sets one parameter
(``experiment.train_partitioner.target_size=4``). Step nodes stay open while Hydra composes;
their keys are checked against the chosen class's parameters when the run is settled
(:mod:`responserank.llm.config.components`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from responserank.errors import ConfigError
from responserank.llm.config.fields import help_field, require
from responserank.llm.data.prepare import RANK_FILTER_ORDERS


@dataclass(frozen=True)
class ExperimentConfig:
    """The preset (``experiment=NAME``): its name, the data fraction and the pipeline steps."""

    name: str = help_field("custom", "preset name; the group id starts with it")
    fraction: float = help_field(1.0, "share of the training comparisons, in (0, 1]")
    rank_filter_order: str = help_field(
        "before_sampling",
        "before_sampling | after_sampling (the published runs): when the rank filter runs",
    )
    train_signal: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "strength ranks and reliabilities; pick one with signal=NAME (conf/llm/signal/)"
        },
    )
    train_stratifier: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "which comparisons share a stratum; pick one with stratifier=NAME (conf/llm/stratifier/)"
        },
    )
    train_partitioner: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "partitions within a stratum; pick one with partitioner=NAME (conf/llm/partitioner/)"
        },
    )
    train_rank_transform: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "ranks changed within partitions; pick one with rank_transform=NAME (conf/llm/rank_transform/)"
        },
    )
    train_filter: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "which ranks are kept; pick one with filter=NAME (conf/llm/filter/)"},
    )
    sampler: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "which comparisons a fraction keeps; pick one with sampler=NAME (conf/llm/sampler/)"
        },
    )
    train_target: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "the soft-label target of each comparison; pick one with target=NAME (conf/llm/target/)"
        },
    )

    def __post_init__(self) -> None:
        fraction = self.fraction
        require(
            isinstance(fraction, int | float) and 0.0 < float(fraction) <= 1.0,
            "experiment.fraction",
            "a number in (0, 1]",
            fraction,
        )
        order = self.rank_filter_order
        if order not in RANK_FILTER_ORDERS:
            raise ConfigError(
                f"config key 'experiment.rank_filter_order': experiment.rank_filter_order must be "
                f"one of {list(RANK_FILTER_ORDERS)}, got {order!r}"
            )


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation suites scored every epoch besides the held-out metrics (``eval=NAME``)."""

    suites: list[Any] = field(
        default_factory=list,
        metadata={"help": "EvalSuite nodes (_target_ and parameters), in order (conf/llm/eval/)"},
    )
