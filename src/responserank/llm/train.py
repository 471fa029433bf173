"""Hydra entry point for every LLM reward-model run: ``python -m responserank.llm.train``.

    python -m responserank.llm.train experiment=rr_agree seed=43 experiment.fraction=0.1
    python -m responserank.llm.train experiment=rr_agree dry_run=true
    python -m responserank.llm.train -m hydra/launcher=slurm experiment=bt,rr_agree seed=42,43

A run, top to bottom in :func:`run`: validate the composed config (``llm/config.py``), claim the
run or skip it (``llm/run_lifecycle.py``), prepare and tokenise the data (``llm/training/run_data.py``;
a dry run prints its statistics and stops there), build the model and the trainer, train with
held-out evaluation (and the configured suites) every epoch, save the model, finish the record.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hydra
import torch
from accelerate import PartialState
from hydra.utils import instantiate
from omegaconf import DictConfig
from transformers import set_seed

from responserank.cli_errors import exit_on_project_error
from responserank.errors import ConfigError, RunStopped
from responserank.llm.config import TrainConfig, validate
from responserank.llm.data.batching.pair_dataset import PairCollator
from responserank.llm.data.stats import format_stats
from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.evaluation.suites import build_suites, load_suite_data
from responserank.llm.models import build_reward_model, load_tokenizer
from responserank.llm.runs.lifecycle import RunLifecycle, RunOutcome, hydra_metadata
from responserank.llm.training.callbacks import EvalSuitesCallback, RunRecordCallback
from responserank.llm.training.objectives.base import PairwiseObjective
from responserank.llm.training.run_data import RunData, prepare_run_data
from responserank.llm.training.trainer import RewardModelTrainer

CONFIG_DIR = Path(__file__).resolve().parents[3] / "conf" / "llm"


def build_objective(cfg: DictConfig) -> PairwiseObjective:
    objective = instantiate(cfg.loss)
    if not isinstance(objective, PairwiseObjective):
        raise ConfigError(
            f"config group 'loss' built {type(objective).__name__}, which is not a PairwiseObjective"
        )
    return objective


def build_trainer(
    cfg: DictConfig,
    typed: TrainConfig,
    data: RunData,
    tokenizer,
    objective: PairwiseObjective,
    suites: list[EvalSuite],
    lifecycle: RunLifecycle,
) -> RewardModelTrainer:
    """The seeded reward model and its trainer, with the suites, record and stop callbacks."""
    set_seed(typed.seed)
    model = build_reward_model(cfg.model, tokenizer)
    t, rt = typed.training, typed.runtime
    suite_callback = EvalSuitesCallback(suites, rt.eval_batch_size, t.max_length, rt.progress_bar)
    record = lifecycle.record
    return RewardModelTrainer(
        model=model,
        args=typed.training_arguments(
            record.checkpoint_dir, record.path.name, data.eval is not None
        ),
        data_collator=PairCollator(tokenizer.pad_token_id, t.pad_to_multiple_of),
        train_dataset=data.train,
        eval_dataset=data.eval,
        processing_class=tokenizer,
        callbacks=[suite_callback, RunRecordCallback(record, lifecycle.mirror), lifecycle.stopper],
        objective=objective,
        center_rewards_coefficient=t.center_rewards_coefficient,
        lr_schedule=t.lr_scheduler,
        show_progress=rt.progress_bar,
        packing=t.packing,
    )


def train_model(
    cfg: DictConfig,
    typed: TrainConfig,
    data: RunData,
    tokenizer,
    objective: PairwiseObjective,
    lifecycle: RunLifecycle,
) -> dict[str, float]:
    """Train, save the model, tidy the checkpoints; return the final metrics."""
    suites = build_suites(cfg.eval)
    load_suite_data(suites)  # a missing benchmark fails now, not after the first epoch
    trainer = build_trainer(cfg, typed, data, tokenizer, objective, suites, lifecycle)
    output = trainer.train(resume_from_checkpoint=lifecycle.resumed)
    if lifecycle.stopper.requested:
        raise RunStopped(lifecycle.stopper.signum)
    record, state = lifecycle.record, lifecycle.state
    evaluations = record.read_metrics() if state.is_main_process else []
    last = evaluations[-1] if evaluations else {}
    final = {k: v for k, v in last.items() if k.startswith(("eval/", "train/"))}
    final.setdefault("train/loss", output.training_loss)
    if typed.save_model:
        trainer.save_model(str(record.model_dir))
    state.wait_for_everyone()
    keep = typed.runtime.keep_checkpoints
    if state.is_main_process and not keep and record.checkpoint_dir.exists():
        shutil.rmtree(record.checkpoint_dir)
    return final


def run(cfg: DictConfig, hydra_info: Mapping[str, Any] | None = None) -> RunOutcome:
    """One training (or dry) run for a composed config; see the module docstring."""
    typed = validate(cfg)
    objective = build_objective(cfg)
    state = PartialState(cpu=not torch.cuda.is_available())
    lifecycle = RunLifecycle(cfg, typed, hydra_info or {}, state)
    if (skipped := lifecycle.start()) is not None:
        return skipped
    with lifecycle:
        tokenizer = load_tokenizer(cfg.model)
        data = prepare_run_data(cfg, tokenizer, objective, lifecycle.show_progress)
        lifecycle.record_data_stats(data.stats)
        if typed.dry_run:
            if state.is_main_process:
                print(format_stats(data.stats))
            metrics = {}
        else:
            metrics = train_model(cfg, typed, data, tokenizer, objective, lifecycle)
        return lifecycle.finish(metrics, data.stats)
    return lifecycle.outcome  # after a stop signal


@hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    with exit_on_project_error():
        outcome = run(cfg, hydra_metadata())
    if outcome.exit_code:
        raise SystemExit(outcome.exit_code)


__all__ = ["RunOutcome", "build_objective", "build_trainer", "main", "run"]

if __name__ == "__main__":
    main()
