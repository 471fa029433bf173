"""Trainer callbacks: evaluation suites (contract D) at every evaluation, and the run record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback

from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.evaluation.suites import run_suites
from responserank.llm.run_record import RunRecord
from responserank.llm.wandb_mirror import WandbMirror


class EvalSuitesCallback(TrainerCallback):
    """Scores the configured suites with the model being trained.

    It runs in ``on_evaluate`` on the main process and adds ``eval/<suite>/<metric>`` entries to
    the evaluation's ``metrics``; the trainer logs that dict after all ``on_evaluate`` hooks, so
    held-out and suite metrics share one row of the run record.
    """

    def __init__(
        self, suites: Sequence[EvalSuite], batch_size: int, max_length: int, show_progress: bool
    ) -> None:
        self.suites = list(suites)
        self.batch_size = batch_size
        self.max_length = max_length
        self.show_progress = show_progress

    def on_evaluate(
        self, args, state, control, model=None, processing_class=None, metrics=None, **kwargs: Any
    ):
        if not self.suites or not state.is_world_process_zero or metrics is None:
            return
        scorer = RewardModelScorer(
            model, processing_class, self.batch_size, self.max_length, self.show_progress
        )
        for key, value in run_suites(self.suites, scorer).items():
            metrics[f"eval/{key}"] = value


TRAINER_LOG_KEYS = {
    "loss": "train/loss",
    "grad_norm": "train/grad_norm",
    "learning_rate": "train/learning_rate",
}


class RunRecordCallback(TrainerCallback):
    """Writes evaluations to ``metrics.jsonl`` and every log to wandb, and keeps the summary's
    heartbeat fresh so that a concurrent launch of the same run sees it is taken.

    Evaluation rows also carry ``train/loss``: the mean training loss logged since the previous
    evaluation (the epoch's training loss when evaluating once per epoch). A run resumed in the
    middle of an epoch takes the losses logged before the interruption from the checkpoint's
    ``trainer_state.json`` (its ``log_history``), so the epoch's mean is the one an uninterrupted
    run reports.
    """

    def __init__(self, record: RunRecord, mirror: WandbMirror) -> None:
        self.record = record
        self.mirror = mirror
        self._losses: list[float] = []

    def on_train_begin(self, args, state, control, **kwargs):
        """Losses logged since the last evaluation in a resumed state (empty on a fresh run)."""
        self._losses = []
        for entry in state.log_history:
            if any(key.startswith("eval/") for key in entry):
                self._losses = []
            elif "loss" in entry:
                self._losses.append(float(entry["loss"]))

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        renamed = {TRAINER_LOG_KEYS.get(k, k): v for k, v in logs.items() if k != "epoch"}
        if "train/loss" in renamed and not any(k.startswith("eval/") for k in renamed):
            self._losses.append(float(renamed["train/loss"]))
        if any(k.startswith("eval/") for k in renamed):
            if self._losses:
                renamed["train/loss"] = sum(self._losses) / len(self._losses)
                self._losses = []
            row = {
                "epoch": round(float(state.epoch or 0.0), 4),
                "step": state.global_step,
                **renamed,
            }
            self.record.append_metrics(row)
        self.mirror.log(
            {**renamed, "train/epoch": float(state.epoch or 0.0)}, step=state.global_step
        )
        self.record.update_summary(status="running", global_step=state.global_step)
