"""Hydra entry point for every LLM reward-model run: ``rr-train`` or ``python -m responserank.llm.train``.

    python -m responserank.llm.train experiment=rr_agree seed=43 experiment.fraction=0.1
    python -m responserank.llm.train experiment=rr_agree dry_run=true
    python -m responserank.llm.train -m hydra/launcher=slurm experiment=bt,rr_agree seed=42,43

A run, top to bottom in :func:`run`: settle the composed config into one frozen, typed run
specification (:func:`responserank.llm.config.validate`: every group checked, the components
chosen by ``_target_`` built, the group id and run name computed; nothing below reads the raw
config), check that
the model and hub data are local, cached or reachable (``responserank.hub``), claim the run or
skip it (``llm/runs/lifecycle.py``), prepare and tokenise the data (``llm/training/run_data.py``;
a dry run prints its statistics and stops there), build the model and the trainer, train with
held-out evaluation (and the configured suites) every epoch, save the model (the best checkpoint
when ``training.best_model`` is set) with its reward statistics and card (``llm/training/
model_folder.py``), finish the record.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import hydra
import torch
from accelerate import PartialState
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from transformers import set_seed

from responserank.atomic_io import writes_named
from responserank.cli_errors import exit_on_project_error, run_hydra
from responserank.configs import check_group_choices, check_top_level_keys, config_dir
from responserank.errors import ConfigError, RunStopped
from responserank.hub import DATASET_WAYS_OUT, require_available
from responserank.llm.config import RunSpec, top_level_keys, validate
from responserank.llm.data.batching.layouts import PackedPairCollator
from responserank.llm.data.batching.pair_dataset import PairCollator
from responserank.llm.data.stats import format_stats
from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.evaluation.suites import load_suite_data, require_suite_data
from responserank.llm.modeling.checkpoints import check_model_available, position_limit
from responserank.llm.modeling.models import build_reward_model, load_tokenizer
from responserank.llm.modeling.padding import align_pad_token
from responserank.llm.modeling.reward_forward import (
    attn_implementation,
    configured_layout,
    resolve_batch_layout,
    row_budget,
)
from responserank.llm.runs.lifecycle import RunLifecycle, RunOutcome
from responserank.llm.training.callbacks import EvalSuitesCallback, RunRecordCallback
from responserank.llm.training.model_folder import finish_model_folder, selected_evaluation
from responserank.llm.training.run_data import RunData, prepare_run_data
from responserank.llm.training.trainer import RewardModelTrainer

CONFIG_DIR = config_dir("llm")
log = logging.getLogger(__name__)


def hydra_metadata() -> dict[str, Any]:
    """Overrides and group choices of the current Hydra job (empty outside ``@hydra.main``)."""
    if not HydraConfig.initialized():
        return {}
    hc = HydraConfig.get()
    choices = hc.runtime.choices.items()
    return {
        "overrides": list(hc.overrides.task),
        "choices": {
            k: v for k, v in choices if not k.startswith("hydra/") or k == "hydra/launcher"
        },
        "job_name": hc.job.name,
        "job_num": hc.job.get("num"),
        "mode": hc.mode.name if hc.mode is not None else None,
    }


def build_trainer(
    spec: RunSpec,
    data: RunData,
    tokenizer,
    suites: list[EvalSuite],
    lifecycle: RunLifecycle,
) -> RewardModelTrainer:
    """The seeded reward model and its trainer (objective ``spec.loss``), with the suites, record
    and stop callbacks."""
    set_seed(spec.seed)
    model = build_reward_model(spec.model, tokenizer)
    t, rt = spec.training, spec.runtime
    attention = attn_implementation(model)
    layout = resolve_batch_layout(rt.batch_layout, model.config, attention)
    suite_callback = EvalSuitesCallback(
        suites, rt.eval_batch_size, t.max_length, rt.progress_bar, layout, rt.tokens_per_row
    )
    pad = align_pad_token(model, tokenizer)
    if layout == "padded":
        collator = PairCollator(pad, t.pad_to_multiple_of)
    else:
        budget = row_budget(attention, rt.tokens_per_row, model.config)
        collator = PackedPairCollator(pad, layout, budget, t.pad_to_multiple_of)
    record = lifecycle.record
    return RewardModelTrainer(
        model=model,
        args=spec.training_arguments(
            record.checkpoint_dir, record.path.name, data.eval is not None
        ),
        data_collator=collator,
        train_dataset=data.train,
        eval_dataset=data.eval,
        processing_class=tokenizer,
        callbacks=[suite_callback, RunRecordCallback(record, lifecycle.mirror), lifecycle.stopper],
        objective=spec.loss,
        center_rewards_coefficient=t.center_rewards_coefficient,
        lr_schedule=t.lr_scheduler,
        show_progress=rt.progress_bar,
        packing=t.packing,
    )


def train_model(
    spec: RunSpec, data: RunData, tokenizer, lifecycle: RunLifecycle
) -> dict[str, float]:
    """Train, save the model, tidy the checkpoints; return the final metrics."""
    suites = list(spec.eval.suites)
    load_suite_data(suites)  # a missing benchmark fails now, not after the first epoch
    trainer = build_trainer(spec, data, tokenizer, suites, lifecycle)
    record = lifecycle.record
    with writes_named(record.path, "the run's checkpoints"):
        output = trainer.train(resume_from_checkpoint=lifecycle.resumed)
    if lifecycle.stopper.requested:
        raise RunStopped(lifecycle.stopper.signum)
    state = lifecycle.state
    evaluations = record.read_metrics() if state.is_main_process else []
    saved, best = selected_evaluation(trainer, evaluations)  # the last, or the best checkpoint's
    final = {k: v for k, v in saved.items() if k.startswith(("eval/", "train/"))}
    final.setdefault("train/loss", output.training_loss)
    if spec.save_model:
        with writes_named(record.model_dir, "the reward model"):
            trainer.save_model(str(record.model_dir))
        finish_model_folder(spec, data, trainer, record, final, best)
    state.wait_for_everyone()
    keep = spec.runtime.keep_checkpoints
    if state.is_main_process and not keep and record.checkpoint_dir.exists():
        shutil.rmtree(record.checkpoint_dir)
    return final


def check_inputs_available(spec: RunSpec) -> None:
    """The model, its tokenizer, a hub dataset and (for training) the benchmark suites are local,
    cached or reachable: checked before the run record exists, so a machine without them refuses
    within seconds on one line (:mod:`responserank.hub`) and leaves nothing behind."""
    check_model_available(spec.model)
    source = spec.dataset
    path = getattr(source, "path", None)
    hub_id = None if path else (getattr(source, "hub_id", None) or getattr(source, "name", None))
    if hub_id:
        require_available(str(hub_id), "dataset", DATASET_WAYS_OUT, repo_type="dataset")
    if not spec.dry_run:
        require_suite_data(spec.eval.suites)


def settle_max_length(spec: RunSpec, overrides: Sequence[str] = ()) -> RunSpec:
    """``spec`` with ``training.max_length`` within the model's position limit
    (``max_position_embeddings`` of its config), checked before the run record exists.

    A value above the limit given on the command line (``overrides``) is refused (ConfigError
    naming the key and the limit); one that comes from a preset or the default is capped at the
    limit with a warning, so ``model=minilm`` (512 positions) keeps working with presets of 1024.
    """
    limit = position_limit(spec.model)
    wanted = spec.training.max_length
    if limit is None or wanted <= limit:
        return spec
    model = spec.model.name_or_path or "the configured architecture"
    if any(o.lstrip("+~").startswith("training.max_length=") for o in overrides):
        raise ConfigError(
            f"training.max_length={wanted} exceeds the model's position limit {limit} "
            f"(max_position_embeddings of {model}); set training.max_length <= {limit}"
        )
    log.warning(
        "training.max_length=%d exceeds the position limit %d of %s: capped at %d",
        wanted,
        limit,
        model,
        limit,
    )
    training = dataclasses.replace(spec.training, max_length=limit)
    return dataclasses.replace(spec, training=training)


def run(cfg: DictConfig, hydra_info: Mapping[str, Any] | None = None) -> RunOutcome:
    """One training (or dry) run for a composed config; see the module docstring."""
    spec = validate(cfg)
    check_inputs_available(spec)
    spec = settle_max_length(spec, (hydra_info or {}).get("overrides", ()))
    configured_layout(spec.runtime.batch_layout, spec.model, training=not spec.dry_run)
    state = PartialState(cpu=not torch.cuda.is_available())
    lifecycle = RunLifecycle(spec, hydra_info or {}, state)
    if (skipped := lifecycle.start()) is not None:
        return skipped
    with lifecycle:
        tokenizer = load_tokenizer(spec.model)
        data = prepare_run_data(spec, tokenizer, lifecycle.show_progress)
        lifecycle.open_mirror()  # after the data: a refused file or value opens no wandb run
        lifecycle.record_data_stats(data.stats)
        if spec.dry_run:
            if state.is_main_process:
                print(format_stats(data.stats))
            metrics = {}
        else:
            metrics = train_model(spec, data, tokenizer, lifecycle)
        return lifecycle.finish(metrics, data.stats)
    return lifecycle.outcome  # after a stop signal


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    with exit_on_project_error():
        outcome = run(cfg, hydra_metadata())
    if outcome.exit_code:
        raise SystemExit(outcome.exit_code)


def cli() -> None:
    """The ``rr-train`` command (and ``python -m responserank.llm.train``): preset names and
    top-level keys are checked first (nearest names on one line), then Hydra composes and
    :func:`main` runs; keys below the top level are checked when :func:`run` settles the config."""
    with exit_on_project_error():
        check_group_choices(CONFIG_DIR, sys.argv[1:])
        check_top_level_keys(CONFIG_DIR, sys.argv[1:], top_level_keys())
    run_hydra(main)


__all__ = [
    "RunOutcome",
    "build_trainer",
    "cli",
    "hydra_metadata",
    "main",
    "run",
    "settle_max_length",
]

if __name__ == "__main__":
    cli()
