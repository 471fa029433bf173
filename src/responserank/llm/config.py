"""Typed configuration of ``python -m responserank.llm.train`` (Hydra structured configs).

The schema ``train_schema`` (registered in Hydra's ConfigStore when this module is imported) is the
first entry of ``conf/llm/config.yaml``'s defaults: every key has a type and a default here, with
one line of help, and Hydra refuses a value of the wrong type while composing (``seed=abc``). Value
ranges are checked by ``__post_init__`` when :func:`validate` builds the objects, before anything
expensive: each failure is a :class:`~responserank.errors.ConfigError` naming the key, the expected
range and the value. Presets and component groups stay YAML (``conf/llm/<group>/``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException
from transformers import TrainingArguments
from transformers.training_args import OptimizerNames

from responserank.errors import ConfigError
from responserank.llm.data.batching.packing import PACKINGS
from responserank.llm.training.schedules import scheduler_arguments

SCHEMA_NAME = "train_schema"
RESUME_CHOICES = ("auto", "never")
MIXED_PRECISION = (None, "bf16", "fp16")
CHECKPOINT_CHOICES = ("epoch", "no")
WANDB_MODES = ("auto", "online", "offline", "disabled")
MODEL_DTYPES = ("float32", "bfloat16", "float16")
QUANTIZATION = (None, "4bit")


def _help(default: Any, text: str) -> Any:
    """A dataclass field with an immutable default and one line of help (``metadata["help"]``)."""
    return field(default=default, metadata={"help": text})


def require(condition: bool, key: str, expected: str, got: Any) -> None:
    """Raise ConfigError ``config key '<key>': expected <expected>, got <got>`` unless ``condition``."""
    if not condition:
        raise ConfigError(f"config key '{key}': expected {expected}, got {got!r}")


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


@dataclass
class TrainingConfig:
    """What the optimiser does (part of the run identity)."""

    per_device_batch_size: int = _help(16, "comparisons per micro-batch (each has two sequences)")
    gradient_accumulation_steps: int = _help(4, "micro-batches per optimizer step")
    learning_rate: float = _help(1.5e-5, "peak learning rate, > 0")
    lr_scheduler: str = _help("linear", "a transformers schedule, cosine_w_floor or step_decay")
    warmup_ratio: float = _help(0.05, "share of the steps spent warming up, in [0, 1)")
    num_epochs: int = _help(3, "passes over the training comparisons")
    weight_decay: float = _help(0.1, "decoupled weight decay, >= 0")
    optimizer: str = _help("adamw_torch", "a transformers optimizer name (TrainingArguments.optim)")
    adam_beta1: float = _help(0.9, "Adam beta1, in [0, 1)")
    adam_beta2: float = _help(0.999, "Adam beta2, in [0, 1)")
    adam_epsilon: float = _help(1.0e-8, "Adam epsilon, > 0")
    max_grad_norm: float | None = _help(1.0, "gradient clipping norm, > 0; null turns clipping off")
    max_length: int = _help(1024, "tokens per side; longer comparisons are dropped by the source")
    mixed_precision: str | None = _help(None, "null | bf16 | fp16 (autocast; needs a GPU)")
    pad_to_multiple_of: int | None = _help(None, "pad batches to a multiple of this many tokens")
    packing: str = _help("capacity", "capacity | balanced: how partitions fill micro-batches")
    center_rewards_coefficient: float | None = _help(
        None, "adds c * mean((r_chosen + r_rejected)^2) to any loss, c >= 0"
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
        require(_finite(lr) and lr > 0, "training.learning_rate", "a finite number > 0", lr)
        wr = self.warmup_ratio
        require(0.0 <= wr < 1.0, "training.warmup_ratio", "a ratio in [0, 1)", wr)
        wd = self.weight_decay
        require(_finite(wd) and wd >= 0, "training.weight_decay", "a finite number >= 0", wd)
        for key in ("adam_beta1", "adam_beta2"):
            value = getattr(self, key)
            require(0.0 <= value < 1.0, f"training.{key}", "a number in [0, 1)", value)
        eps = self.adam_epsilon
        require(_finite(eps) and eps > 0, "training.adam_epsilon", "a finite number > 0", eps)
        norm = self.max_grad_norm
        require(
            norm is None or (_finite(norm) and norm > 0),
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
            c is None or (_finite(c) and c >= 0),
            "training.center_rewards_coefficient",
            "null or a finite number >= 0",
            c,
        )
        try:
            scheduler_arguments(self.lr_scheduler)
        except ValueError as error:
            raise ConfigError(f"config key 'training.lr_scheduler': {error}") from error


@dataclass
class RuntimeConfig:
    """How the run executes; never part of the run identity."""

    eval_batch_size: int = _help(32, "comparisons per evaluation batch")
    logging_steps: int = _help(1, "optimizer steps between training-loss logs")
    dataloader_num_workers: int = _help(0, "DataLoader worker processes")
    progress_bar: bool = _help(True, "show progress bars")
    checkpoint: str = _help("epoch", "epoch | no (a stop signal always checkpoints)")
    keep_checkpoints: bool = _help(False, "keep checkpoints/ after the run finished")
    claim_timeout_s: float = _help(3600.0, "a claim whose heartbeat is older counts as abandoned")

    def __post_init__(self) -> None:
        for key in ("eval_batch_size", "logging_steps"):
            value = getattr(self, key)
            require(value >= 1, f"runtime.{key}", "an integer >= 1", value)
        workers = self.dataloader_num_workers
        require(workers >= 0, "runtime.dataloader_num_workers", "an integer >= 0", workers)
        require(
            self.checkpoint in CHECKPOINT_CHOICES,
            "runtime.checkpoint",
            "'epoch' or 'no'",
            self.checkpoint,
        )
        timeout = self.claim_timeout_s
        require(_finite(timeout) and timeout > 0, "runtime.claim_timeout_s", "seconds > 0", timeout)


@dataclass
class WandbConfig:
    mode: str = _help("auto", "auto (online with credentials) | online | offline | disabled")
    project: str = _help("rr-llm", "wandb project")
    entity: str | None = _help(None, "wandb entity (team or user); null: the default")
    tags: list[str] = field(default_factory=list, metadata={"help": "tags of the wandb run"})

    def __post_init__(self) -> None:
        require(
            self.mode in WANDB_MODES,
            "tracking.wandb.mode",
            f"one of {list(WANDB_MODES)}",
            self.mode,
        )


@dataclass
class TrackingConfig:
    """Where the run record goes; never part of the run identity."""

    output_root: str = _help("runs/llm", "run records go to <output_root>/<group_id>/<run_name>")
    wandb: WandbConfig = field(default_factory=WandbConfig)


@dataclass
class LoraConfig:
    enabled: bool = _help(False, "train a LoRA adapter instead of every weight")
    r: int = _help(8, "adapter rank")
    alpha: int = _help(16, "LoRA alpha (scale alpha / r)")
    dropout: float = _help(0.1, "dropout on the adapter input")
    target_modules: Any = field(
        default="all-linear", metadata={"help": "module names, or all-linear"}
    )


@dataclass
class ModelConfig:
    """The reward model (one group file per model in ``conf/llm/model/``)."""

    name_or_path: str | None = _help(None, "hub id, local folder or bundled:<name>")
    tokenizer: str | None = _help(None, "null: the tokenizer of name_or_path")
    architecture: dict[str, Any] | None = field(
        default=None, metadata={"help": "a config dict builds a randomly initialised model"}
    )
    chat_template: str | None = _help(None, "Jinja template to set on the tokenizer")
    pad_token: str = _help("auto", "auto: fine-tune pad token, else the pad token, else eos")
    dtype: str = _help("float32", "float32 | bfloat16 | float16 (weights)")
    gradient_checkpointing: bool = _help(False, "recompute activations in the backward pass")
    disable_dropout: bool = _help(True, "set every dropout probability to 0")
    weight_scale: float = _help(1.0, "multiplies the score-head weight at initialisation")
    quantization: str | None = _help(None, "null | 4bit (QLoRA; needs CUDA and lora.enabled)")
    lora: LoraConfig = field(default_factory=LoraConfig)

    def __post_init__(self) -> None:
        require(self.dtype in MODEL_DTYPES, "model.dtype", f"one of {MODEL_DTYPES}", self.dtype)
        require(
            self.quantization in QUANTIZATION,
            "model.quantization",
            f"one of {list(QUANTIZATION)}",
            self.quantization,
        )


@dataclass
class TrainConfig:
    """The whole run; groups whose classes are chosen by ``_target_`` stay plain mappings."""

    seed: int = _help(42, "seed of every random stream of the run")
    dry_run: bool = _help(False, "prepare the data, print its statistics, exit before the model")
    resume: str = _help("auto", "auto | never | a checkpoint directory")
    force: bool = _help(False, "train even when the run finished or is claimed by another process")
    save_model: bool = _help(True, "save the reward model + tokenizer to <run_dir>/model")
    experiment: dict[str, Any] = MISSING
    training: TrainingConfig = field(default_factory=TrainingConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    dataset: dict[str, Any] = MISSING
    loss: dict[str, Any] = MISSING
    model: Any = MISSING  # a ModelConfig after validation; a mapping while composing, so a
    # whole model node can be swapped (cfg.model = OmegaConf.load(...))
    eval: dict[str, Any] = MISSING

    def __post_init__(self) -> None:
        if not isinstance(self.model, ModelConfig):
            self.model = _typed(ModelConfig, self.model, "model")
        fraction = self.experiment.get("fraction")
        require(
            isinstance(fraction, int | float) and 0.0 < float(fraction) <= 1.0,
            "experiment.fraction",
            "a number in (0, 1]",
            fraction,
        )
        require(
            self.resume in RESUME_CHOICES or Path(self.resume).is_dir(),
            "resume",
            f"one of {list(RESUME_CHOICES)} or an existing checkpoint directory",
            self.resume,
        )

    def training_arguments(
        self, output_dir: Path, run_name: str, has_eval: bool
    ) -> TrainingArguments:
        """The transformers TrainingArguments of this run (checkpoints go to ``output_dir``)."""
        t, rt = self.training, self.runtime
        use_cpu = not torch.cuda.is_available()
        if t.mixed_precision and use_cpu:
            raise ConfigError(
                f"training.mixed_precision={t.mixed_precision!r} needs a GPU; set it to null on CPU"
            )
        return TrainingArguments(
            output_dir=str(output_dir),
            run_name=run_name,
            seed=self.seed,
            data_seed=self.seed,
            per_device_train_batch_size=t.per_device_batch_size,
            per_device_eval_batch_size=rt.eval_batch_size,
            gradient_accumulation_steps=t.gradient_accumulation_steps,
            learning_rate=t.learning_rate,
            **scheduler_arguments(t.lr_scheduler),
            warmup_steps=t.warmup_ratio,
            num_train_epochs=float(t.num_epochs),
            weight_decay=t.weight_decay,
            optim=t.optimizer,
            adam_beta1=t.adam_beta1,
            adam_beta2=t.adam_beta2,
            adam_epsilon=t.adam_epsilon,
            max_grad_norm=0.0 if t.max_grad_norm is None else t.max_grad_norm,
            bf16=t.mixed_precision == "bf16",
            fp16=t.mixed_precision == "fp16",
            use_cpu=use_cpu,
            activation_checkpointing=self.model.gradient_checkpointing,
            activation_checkpointing_kwargs={"use_reentrant": False},
            eval_strategy="epoch" if has_eval else "no",
            save_strategy=rt.checkpoint,
            save_total_limit=1,
            logging_strategy="steps",
            logging_steps=rt.logging_steps,
            report_to="none",
            disable_tqdm=not rt.progress_bar,
            remove_unused_columns=False,
            ddp_find_unused_parameters=False,
            dataloader_num_workers=rt.dataloader_num_workers,
        )


def _typed(schema: type, node: Any, prefix: str = "") -> Any:
    """``node`` checked against ``schema`` and built (running its ``__post_init__`` checks)."""
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), node))
    except ConfigError:
        raise
    except OmegaConfBaseException as error:
        key = ".".join(k for k in (prefix, error.full_key) if k)
        detail = str(error).splitlines()[0]
        raise ConfigError(f"config key '{key}': {detail}") from error


def validate(cfg: DictConfig) -> TrainConfig:
    """The typed config of ``cfg``: types checked against the schema, ranges by ``__post_init__``.

    Raises ConfigError naming the key, the expected range and the value.
    """
    return _typed(TrainConfig, cfg)


ConfigStore.instance().store(name=SCHEMA_NAME, node=TrainConfig)
