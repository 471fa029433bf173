"""Hydra entry point for every LLM reward-model run: ``python -m responserank.llm.train``.

    python -m responserank.llm.train experiment=rr_agree seed=43 experiment.fraction=0.1
    python -m responserank.llm.train experiment=rr_agree dry_run=true
    python -m responserank.llm.train -m hydra/launcher=slurm experiment=bt,rr_agree seed=42,43

A run: check the configuration, claim the run (skip it when it already finished, unless
``force=true``), prepare and validate the data, print its statistics (and stop there on a dry
run), build the model, train with held-out evaluation (and the configured suites) every epoch, save
the model, and write the run record (``responserank.llm.tracking``).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import torch
from accelerate import PartialState
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from transformers import TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from responserank.atomic_io import write_text_atomic
from responserank.cli_errors import exit_on_project_error
from responserank.errors import ConfigError
from responserank.llm.callbacks import EvalSuitesCallback, RunRecordCallback
from responserank.llm.data.batching import PartitionBatchSampler
from responserank.llm.data.prepare import prepare_data
from responserank.llm.data.stats import distribution, format_stats
from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.evaluation.suites import build_suites, load_suite_data
from responserank.llm.interrupts import GracefulStop, RunStopped
from responserank.llm.models import build_reward_model, load_tokenizer
from responserank.llm.objectives.base import PairwiseObjective
from responserank.llm.pair_dataset import (
    PairCollator,
    TokenizedPairs,
    tokenize_table,
    validate_table,
)
from responserank.llm.run_identity import group_id, run_name
from responserank.llm.schedules import scheduler_arguments
from responserank.llm.tracking import (
    RunRecord,
    WandbMirror,
    claim_reason,
    environment_info,
    git_state,
    resolve_wandb_mode,
    slurm_ids,
    utc_now,
    wandb_claim_reason,
)
from responserank.llm.trainer import RewardModelTrainer

log = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).resolve().parents[3] / "conf" / "llm"
REPO_ROOT = Path(__file__).resolve().parents[3]
#: Set to 1 to start runs even when the run record or wandb says they finished or are running.
IGNORE_CLAIMS_ENV = "RESPONSERANK_IGNORE_CLAIMS"
RESUME_CHOICES = ("auto", "never")
MIXED_PRECISION = (None, "bf16", "fp16")


@dataclass
class RunOutcome:
    """What a call of :func:`run` did: ``status`` is finished, skipped, stopped or (dry) finished."""

    status: str
    run_name: str
    run_dir: Path
    metrics: dict[str, float] = field(default_factory=dict)
    data_stats: dict[str, Any] = field(default_factory=dict)
    exit_code: int = 0


# ----------------------------------------------------------------------------------------------
# Configuration checks (before anything expensive)
# ----------------------------------------------------------------------------------------------


def _require(condition: bool, key: str, expected: str, got: Any) -> None:
    if not condition:
        raise ConfigError(f"config key '{key}': expected {expected}, got {got!r}")


def validate_config(cfg: DictConfig) -> None:
    fraction = OmegaConf.select(cfg, "experiment.fraction")
    _require(
        isinstance(fraction, int | float) and 0.0 < float(fraction) <= 1.0,
        "experiment.fraction",
        "a number in (0, 1]",
        fraction,
    )
    t = cfg.training
    for key in ("per_device_batch_size", "gradient_accumulation_steps", "num_epochs", "max_length"):
        _require(
            isinstance(t[key], int) and t[key] >= 1, f"training.{key}", "an integer >= 1", t[key]
        )
    _require(
        float(t.learning_rate) > 0, "training.learning_rate", "a positive number", t.learning_rate
    )
    _require(
        0.0 <= float(t.warmup_ratio) < 1.0,
        "training.warmup_ratio",
        "a ratio in [0, 1)",
        t.warmup_ratio,
    )
    _require(
        t.mixed_precision in MIXED_PRECISION,
        "training.mixed_precision",
        f"one of {list(MIXED_PRECISION)}",
        t.mixed_precision,
    )
    try:
        scheduler_arguments(str(t.lr_scheduler))
    except ValueError as error:
        raise ConfigError(f"config key 'training.lr_scheduler': {error}") from error
    resume = cfg.resume
    _require(
        resume in RESUME_CHOICES or (isinstance(resume, str) and Path(resume).is_dir()),
        "resume",
        f"one of {list(RESUME_CHOICES)} or an existing checkpoint directory",
        resume,
    )
    _require(
        cfg.runtime.checkpoint in ("epoch", "no"),
        "runtime.checkpoint",
        "'epoch' or 'no'",
        cfg.runtime.checkpoint,
    )


def build_objective(cfg: DictConfig) -> PairwiseObjective:
    objective = instantiate(cfg.loss)
    if not isinstance(objective, PairwiseObjective):
        raise ConfigError(
            f"config group 'loss' built {type(objective).__name__}, which is not a PairwiseObjective"
        )
    return objective


def hydra_metadata() -> dict[str, Any]:
    """Overrides and group choices of the current Hydra job (empty outside ``@hydra.main``)."""
    if not HydraConfig.initialized():
        return {}
    hc = HydraConfig.get()
    return {
        "overrides": list(hc.overrides.task),
        "choices": {
            k: v
            for k, v in hc.runtime.choices.items()
            if not k.startswith("hydra/") or k == "hydra/launcher"
        },
        "job_name": hc.job.name,
        "job_num": hc.job.get("num"),
        "mode": hc.mode.name if hc.mode is not None else None,
    }


# ----------------------------------------------------------------------------------------------
# Claims and resume
# ----------------------------------------------------------------------------------------------


def skip_reason(cfg: DictConfig, record: RunRecord, name: str, wandb_mode: str) -> str | None:
    if cfg.force or os.environ.get(IGNORE_CLAIMS_ENV) == "1":
        return None
    reason = claim_reason(record.read_summary(), float(cfg.runtime.claim_timeout_s))
    if reason is None and wandb_mode == "online":
        reason = wandb_claim_reason(
            cfg.tracking.wandb.project, cfg.tracking.wandb.get("entity"), name
        )
    return reason


def resume_checkpoint(cfg: DictConfig, record: RunRecord) -> str | None:
    """The checkpoint to continue from, if any (never for a run that already finished)."""
    if cfg.resume not in RESUME_CHOICES:
        return str(cfg.resume)
    summary = record.read_summary() or {}
    if cfg.resume == "never" or summary.get("status") == "finished":
        return None
    if not record.checkpoint_dir.is_dir():
        return None
    return get_last_checkpoint(str(record.checkpoint_dir))


# ----------------------------------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------------------------------


@dataclass
class RunData:
    train: TokenizedPairs
    eval: TokenizedPairs | None
    stats: dict[str, Any]


def prepare_run_data(
    cfg: DictConfig, tokenizer, objective: PairwiseObjective, show_progress: bool
) -> RunData:
    """Prepare, validate and tokenise the data; collect the statistics a dry run prints."""
    prepared = prepare_data(cfg, tokenizer)
    source = _source_name(cfg)
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


def _source_name(cfg: DictConfig) -> str:
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


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


def training_arguments(cfg: DictConfig, record: RunRecord, has_eval: bool) -> TrainingArguments:
    t, rt = cfg.training, cfg.runtime
    use_cpu = not torch.cuda.is_available()
    if t.mixed_precision and use_cpu:
        raise ConfigError(
            f"training.mixed_precision={t.mixed_precision!r} needs a GPU; set it to null on CPU"
        )
    return TrainingArguments(
        output_dir=str(record.checkpoint_dir),
        run_name=record.path.name,
        seed=int(cfg.seed),
        data_seed=int(cfg.seed),
        per_device_train_batch_size=int(t.per_device_batch_size),
        per_device_eval_batch_size=int(rt.eval_batch_size),
        gradient_accumulation_steps=int(t.gradient_accumulation_steps),
        learning_rate=float(t.learning_rate),
        **scheduler_arguments(str(t.lr_scheduler)),
        warmup_steps=float(t.warmup_ratio),
        num_train_epochs=float(t.num_epochs),
        weight_decay=float(t.weight_decay),
        optim=str(t.optimizer),
        adam_beta1=float(t.adam_beta1),
        adam_beta2=float(t.adam_beta2),
        adam_epsilon=float(t.adam_epsilon),
        max_grad_norm=float(t.max_grad_norm),
        bf16=t.mixed_precision == "bf16",
        fp16=t.mixed_precision == "fp16",
        use_cpu=use_cpu,
        activation_checkpointing=bool(cfg.model.gradient_checkpointing),
        activation_checkpointing_kwargs={"use_reentrant": False},
        eval_strategy="epoch" if has_eval else "no",
        save_strategy=str(rt.checkpoint),
        save_total_limit=1,
        logging_strategy="steps",
        logging_steps=int(rt.logging_steps),
        report_to="none",
        disable_tqdm=not rt.progress_bar,
        remove_unused_columns=False,
        ddp_find_unused_parameters=False,
        dataloader_num_workers=int(rt.dataloader_num_workers),
    )


def build_trainer(
    cfg: DictConfig,
    data: RunData,
    tokenizer,
    objective: PairwiseObjective,
    suites: list[EvalSuite],
    record: RunRecord,
    mirror: WandbMirror,
    stopper: GracefulStop,
) -> RewardModelTrainer:
    set_seed(int(cfg.seed))
    model = build_reward_model(cfg.model, tokenizer)
    suite_callback = EvalSuitesCallback(
        suites,
        batch_size=int(cfg.runtime.eval_batch_size),
        max_length=int(cfg.training.max_length),
        show_progress=bool(cfg.runtime.progress_bar),
    )
    trainer = RewardModelTrainer(
        model=model,
        args=training_arguments(cfg, record, has_eval=data.eval is not None),
        data_collator=PairCollator(tokenizer.pad_token_id, cfg.training.pad_to_multiple_of),
        train_dataset=data.train,
        eval_dataset=data.eval,
        processing_class=tokenizer,
        callbacks=[suite_callback, RunRecordCallback(record, mirror), stopper],
        objective=objective,
        center_rewards_coefficient=cfg.training.center_rewards_coefficient,
        lr_schedule=str(cfg.training.lr_scheduler),
        show_progress=bool(cfg.runtime.progress_bar),
        packing=OmegaConf.select(cfg, "training.packing", default="capacity"),
    )
    return trainer


# ----------------------------------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------------------------------


def _open_record(
    record: RunRecord,
    mirror: WandbMirror,
    cfg: DictConfig,
    hydra_info: Mapping[str, Any],
    base: dict[str, Any],
    resumed: str | None,
) -> None:
    """Write config, overrides, environment and git state; mark the run running; start wandb."""
    previous = record.read_summary() or {}
    git, diff = git_state(REPO_ROOT)
    environment = environment_info()
    record.write_config(cfg, hydra_info)
    record.write_json("environment.json", environment)
    if diff:
        write_text_atomic(record.path / "git.diff", diff)
    if not resumed:
        record.reset_metrics()
    summary = {
        **base,
        "status": "running",
        "started_at": previous.get("started_at") if resumed else utc_now(),
        "finished_at": None,
        "metrics": {},
        "git": git,
        "host": environment["hostname"],
        "slurm": slurm_ids(),
        "resumed_from": resumed,
        "wandb_id": previous.get("wandb_id") if resumed else None,
    }
    record.write_summary(summary)
    wandb_config = {
        **OmegaConf.to_container(cfg, resolve=True),
        "group_id": base["group_id"],
        "hydra": dict(hydra_info),
        "slurm": slurm_ids(),
        "git": git,
    }
    wandb_id = mirror.start(
        cfg.tracking.wandb,
        record.path,
        base["run_name"],
        base["group_id"],
        wandb_config,
        job_type="dry_run" if base["dry_run"] else "train",
        resume_id=summary["wandb_id"],
    )
    record.update_summary(wandb_id=wandb_id, wandb_mode=mirror.mode)
    mirror.set_summary(status="running", dry_run=base["dry_run"], group_id=base["group_id"])
    mirror.log_diff(diff, record.path)


def _train(
    cfg: DictConfig,
    data: RunData,
    tokenizer,
    objective: PairwiseObjective,
    record: RunRecord,
    mirror: WandbMirror,
    stopper: GracefulStop,
    resumed: str | None,
    state: PartialState,
) -> dict[str, float]:
    """Train, save the model, tidy the checkpoints; return the final metrics."""
    suites = build_suites(cfg.eval)
    load_suite_data(suites)  # a missing benchmark fails now, not after the first epoch
    trainer = build_trainer(cfg, data, tokenizer, objective, suites, record, mirror, stopper)
    train_output = trainer.train(resume_from_checkpoint=resumed)
    if stopper.requested:
        raise RunStopped(stopper.signum)
    evaluations = record.read_metrics() if state.is_main_process else []
    final = {
        k: v
        for k, v in (evaluations[-1] if evaluations else {}).items()
        if k.startswith(("eval/", "train/"))
    }
    final.setdefault("train/loss", train_output.training_loss)
    if cfg.save_model:
        trainer.save_model(str(record.model_dir))
    state.wait_for_everyone()
    if (
        state.is_main_process
        and not cfg.runtime.keep_checkpoints
        and record.checkpoint_dir.exists()
    ):
        shutil.rmtree(record.checkpoint_dir)
    return final


def run(cfg: DictConfig, hydra_info: Mapping[str, Any] | None = None) -> RunOutcome:
    """One training (or dry) run for a composed config; see the module docstring."""
    validate_config(cfg)
    objective = build_objective(cfg)
    state = PartialState(cpu=not torch.cuda.is_available())
    group, name = group_id(cfg), run_name(cfg)
    run_dir = Path(cfg.tracking.output_root) / group / name
    dry_run = bool(cfg.dry_run)
    record = RunRecord(run_dir / "dry_run" if dry_run else run_dir)
    main_process = state.is_main_process
    wandb_mode = resolve_wandb_mode(cfg.tracking.wandb.mode) if main_process else "disabled"
    show_progress = bool(cfg.runtime.progress_bar) and state.is_local_main_process

    if not dry_run:
        reason = skip_reason(cfg, record, name, wandb_mode)
        if reason:
            print(f"skipping {name}: {reason} (force=true to train it again)")
            return RunOutcome("skipped", name, run_dir)
    resumed = None if dry_run else resume_checkpoint(cfg, record)
    state.wait_for_everyone()

    base = {
        "run_name": name,
        "group_id": group,
        "experiment": OmegaConf.select(cfg, "experiment.name"),
        "fraction": float(cfg.experiment.fraction),
        "seed": int(cfg.seed),
        "dry_run": dry_run,
    }
    mirror = WandbMirror(wandb_mode)
    stopper = GracefulStop().install()
    started = time.monotonic()
    try:
        if main_process:
            if not resumed and not dry_run and record.checkpoint_dir.exists():
                shutil.rmtree(record.checkpoint_dir)
            _open_record(record, mirror, cfg, hydra_info or {}, base, resumed)
        tokenizer = load_tokenizer(cfg.model)
        data = prepare_run_data(cfg, tokenizer, objective, show_progress)
        if main_process:
            record.write_json("data_stats.json", data.stats)
            mirror.set_summary(data_stats=data.stats)
        if dry_run:
            if main_process:
                print(format_stats(data.stats))
            metrics = {}
        else:
            metrics = _train(
                cfg, data, tokenizer, objective, record, mirror, stopper, resumed, state
            )
        return _finish(record, mirror, "finished", run_dir, metrics, data.stats, started, state)
    except RunStopped as stop:
        log.warning("%s: %s", name, stop)
        outcome = _finish(record, mirror, "stopped", run_dir, {}, {}, started, state)
        outcome.exit_code = 128 + stop.signum
        return outcome
    except BaseException as error:
        if main_process and record.summary_path.exists():
            error_text = f"{type(error).__name__}: {error}"
            record.update_summary(status="failed", finished_at=utc_now(), error=error_text)
            mirror.finish("failed")
        raise
    finally:
        stopper.restore()


def _finish(
    record: RunRecord,
    mirror: WandbMirror,
    status: str,
    run_dir: Path,
    metrics: dict[str, float],
    data_stats: dict[str, Any],
    started: float,
    state: PartialState,
) -> RunOutcome:
    elapsed = time.monotonic() - started
    if state.is_main_process:
        summary = record.update_summary(
            status=status, finished_at=utc_now(), metrics=metrics, wall_time_s=round(elapsed, 1)
        )
        mirror.set_summary(**{f"final/{k}": v for k, v in metrics.items()}, wall_time_s=elapsed)
        mirror.finish(status)
        _print_summary(summary, record.path)
    return RunOutcome(status, run_dir.name, run_dir, metrics, data_stats)


def _print_summary(summary: dict[str, Any], path: Path) -> None:
    lines = [
        f"run        {summary['run_name']}{'  (dry run)' if summary.get('dry_run') else ''}",
        f"status     {summary['status']}  after {summary.get('wall_time_s', 0):.1f}s",
        f"record     {path}",
    ]
    lines += [
        f"{key:<28} {value:.4f}"
        for key, value in sorted(summary.get("metrics", {}).items())
        if isinstance(value, float)
    ]
    print("\n".join(lines))


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    with exit_on_project_error():
        outcome = run(cfg, hydra_metadata())
    if outcome.exit_code:
        raise SystemExit(outcome.exit_code)


__all__ = ["RunOutcome", "main", "run"]

if __name__ == "__main__":
    main()
