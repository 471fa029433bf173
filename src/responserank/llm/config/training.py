"""The ``training`` group: what the optimiser does (part of the run identity)."""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers.training_args import OptimizerNames

from responserank.errors import ConfigError
from responserank.llm.config.fields import finite, help_field, require
from responserank.llm.data.batching.packing import PACKINGS
from responserank.llm.training.schedules import scheduler_arguments

MIXED_PRECISION = (None, "bf16", "fp16")
BEST_MODES = ("max", "min")


@dataclass(frozen=True)
class BestModelConfig:
    """Which evaluated model is saved (transformers' ``metric_for_best_model``); off while null."""

    metric: str | None = help_field(
        None, "eval/... metric that picks the saved model; null: the last"
    )
    mode: str = help_field("max", "max | min: which end of the metric is best")
    keep: int = help_field(2, "checkpoints kept while training (the best among them), >= 1")

    def __post_init__(self) -> None:
        key, metric = "training.best_model", self.metric
        require(self.mode in BEST_MODES, f"{key}.mode", "'max' or 'min'", self.mode)
        require(self.keep >= 1, f"{key}.keep", "an integer >= 1", self.keep)
        ok = metric is None or metric.startswith("eval/")
        require(ok, f"{key}.metric", "null or eval/<heldout or suite>/<metric>", metric)


@dataclass(frozen=True)
class TrainingConfig:
    """What the optimiser does (part of the run identity)."""

    per_device_batch_size: int = help_field(
        16, "comparisons per micro-batch (each has two sequences)"
    )
    gradient_accumulation_steps: int = help_field(4, "micro-batches per optimizer step")
    learning_rate: float = help_field(1.5e-5, "peak learning rate, > 0")
    lr_scheduler: str = help_field(
        "linear", "a transformers schedule, cosine_w_floor or step_decay"
    )
    warmup_ratio: float = help_field(0.05, "share of the steps spent warming up, in [0, 1)")
    num_epochs: int = help_field(3, "passes over the training comparisons")
    weight_decay: float = help_field(0.1, "decoupled weight decay, >= 0")
    optimizer: str = help_field(
        "adamw_torch", "a transformers optimizer name (TrainingArguments.optim)"
    )
    adam_beta1: float = help_field(0.9, "Adam beta1, in [0, 1)")
    adam_beta2: float = help_field(0.999, "Adam beta2, in [0, 1)")
    adam_epsilon: float = help_field(1.0e-8, "Adam epsilon, > 0")
    max_grad_norm: float | None = help_field(
        1.0, "gradient clipping norm, > 0; null turns clipping off"
    )
    max_length: int = help_field(
        1024, "tokens per side; longer comparisons are dropped by the source"
    )
    mixed_precision: str | None = help_field(None, "null | bf16 | fp16 (autocast; needs a GPU)")
    pad_to_multiple_of: int | None = help_field(
        None, "pad batches to a multiple of this many tokens"
    )
    packing: str = help_field("capacity", "capacity | balanced: how partitions fill micro-batches")
    center_rewards_coefficient: float | None = help_field(
        None, "adds c * mean((r_chosen + r_rejected)^2) to any loss, c >= 0"
    )
    best_model: BestModelConfig = field(
        default_factory=BestModelConfig,
        metadata={"help": "which evaluated model is saved (metric, mode, keep)"},
    )

    def __post_init__(self) -> None:
        for key in (
            "per_device_batch_size",
            "gradient_accumulation_steps",
            "num_epochs",
            "max_length",
        ):
            value = getattr(self, key)
            require(value >= 1, f"training.{key}", "an integer >= 1", value)
        lr = self.learning_rate
        require(finite(lr) and lr > 0, "training.learning_rate", "a finite number > 0", lr)
        wr = self.warmup_ratio
        require(0.0 <= wr < 1.0, "training.warmup_ratio", "a ratio in [0, 1)", wr)
        wd = self.weight_decay
        require(finite(wd) and wd >= 0, "training.weight_decay", "a finite number >= 0", wd)
        for key in ("adam_beta1", "adam_beta2"):
            value = getattr(self, key)
            require(0.0 <= value < 1.0, f"training.{key}", "a number in [0, 1)", value)
        eps = self.adam_epsilon
        require(finite(eps) and eps > 0, "training.adam_epsilon", "a finite number > 0", eps)
        norm = self.max_grad_norm
        require(
            norm is None or (finite(norm) and norm > 0),
            "training.max_grad_norm",
            "a finite number > 0, or null to turn clipping off",
            norm,
        )
        require(
            self.mixed_precision in MIXED_PRECISION,
            "training.mixed_precision",
            f"one of {list(MIXED_PRECISION)}",
            self.mixed_precision,
        )
        optimizers = [o.value for o in OptimizerNames]
        require(
            self.optimizer in optimizers,
            "training.optimizer",
            "a transformers optimizer name",
            self.optimizer,
        )
        multiple = self.pad_to_multiple_of
        require(
            multiple is None or multiple >= 1,
            "training.pad_to_multiple_of",
            "null or >= 1",
            multiple,
        )
        require(
            self.packing in PACKINGS, "training.packing", f"one of {list(PACKINGS)}", self.packing
        )
        c = self.center_rewards_coefficient
        require(
            c is None or (finite(c) and c >= 0),
            "training.center_rewards_coefficient",
            "null or a finite number >= 0",
            c,
        )
        try:
            scheduler_arguments(self.lr_scheduler)
        except ValueError as error:
            raise ConfigError(f"config key 'training.lr_scheduler': {error}") from error
