"""The settled run: one frozen, fully typed specification built once, at the entry point.

:func:`responserank.llm.config.validate` composes nothing itself: it takes Hydra's composed
config, checks every group (types, ranges, unknown keys with the nearest valid one), builds the
components chosen by ``_target_`` and computes the run's identity, and returns a :class:`RunSpec`.
Everything below the entry points reads this object; none of it sees the raw config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import TrainingArguments

from responserank.errors import ConfigError
from responserank.llm.config.fields import require
from responserank.llm.config.model import ModelConfig
from responserank.llm.config.runtime import ExportConfig, RuntimeConfig, TrackingConfig
from responserank.llm.config.schema import RESUME_CHOICES, RESUME_MISMATCH_CHOICES
from responserank.llm.config.training import TrainingConfig
from responserank.llm.data.prepare import DataSpec, ExperimentSpec
from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.training.objectives.base import PairwiseObjective
from responserank.llm.training.schedules import scheduler_arguments


@dataclass(frozen=True)
class EvalSpec:
    """The ``eval`` group, built: the suites scored every epoch, in order."""

    suites: tuple[EvalSuite, ...]


@dataclass(frozen=True)
class RunSpec:
    """One training (or dry) run, settled: every group typed, components built, identity known.

    ``dataset`` is the source object (``conf/llm/dataset/``), ``loss`` the objective, ``eval`` the
    suites; ``resolved`` is the composed config as plain data and ``resolved_yaml`` its YAML (the
    run record's ``config.yaml``); ``group_id`` and ``run_name`` hash ``resolved``
    (:mod:`responserank.llm.runs.identity`).
    """

    seed: int
    dry_run: bool
    resume: str
    resume_mismatch: str
    force: bool
    save_model: bool
    experiment: ExperimentSpec
    training: TrainingConfig
    runtime: RuntimeConfig
    tracking: TrackingConfig
    export: ExportConfig
    dataset: Any
    loss: PairwiseObjective
    model: ModelConfig
    eval: EvalSpec
    group_id: str
    run_name: str
    resolved: Mapping[str, Any]
    resolved_yaml: str

    def __post_init__(self) -> None:
        require(
            self.resume in RESUME_CHOICES or Path(self.resume).is_dir(),
            "resume",
            f"one of {list(RESUME_CHOICES)} or an existing checkpoint directory",
            self.resume,
        )
        require(
            self.resume_mismatch in RESUME_MISMATCH_CHOICES,
            "resume_mismatch",
            f"one of {list(RESUME_MISMATCH_CHOICES)}",
            self.resume_mismatch,
        )

    @property
    def data(self) -> DataSpec:
        """What the data preparation reads (seed, max length, source, pipeline steps)."""
        return DataSpec(self.seed, self.training.max_length, self.dataset, self.experiment)

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
        best = t.best_model
        ready = best.metric is None or (has_eval and rt.checkpoint == "epoch")
        need = "an eval split and runtime.checkpoint=epoch"
        require(ready, "training.best_model.metric", need, best.metric)
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
            save_total_limit=best.keep if best.metric else 1,
            metric_for_best_model=best.metric,
            greater_is_better=best.mode == "max" if best.metric else None,
            load_best_model_at_end=best.metric is not None,
            logging_strategy="steps",
            logging_steps=rt.logging_steps,
            report_to="none",
            disable_tqdm=not rt.progress_bar,
            remove_unused_columns=False,
            ddp_find_unused_parameters=False,
            dataloader_num_workers=rt.dataloader_num_workers,
        )
