"""Trainer callbacks: evaluation suites (contract D) at every evaluation, and the run record."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback

from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.evaluation.suites import run_suites
from responserank.llm.tracking import RunRecord, WandbMirror


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
    evaluation (the epoch's training loss when evaluating once per epoch). It is read from the
    trainer state's log history, which a checkpoint carries, so an epoch interrupted and resumed
    in another process reports the same mean as an uninterrupted one.
    """

    def __init__(self, record: RunRecord, mirror: WandbMirror) -> None:
        self.record = record
        self.mirror = mirror

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        renamed = {TRAINER_LOG_KEYS.get(k, k): v for k, v in logs.items() if k != "epoch"}
        if any(k.startswith("eval/") for k in renamed):
            losses = _losses_since_last_evaluation(state.log_history)
            if losses:
                renamed["train/loss"] = sum(losses) / len(losses)
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


def _losses_since_last_evaluation(log_history: Sequence[dict[str, Any]]) -> list[float]:
    """Training losses logged after the previous evaluation entry (the trainer appends the
    current evaluation to the history before calling ``on_log``, so it is skipped)."""
    history = list(log_history)
    if history and any(str(k).startswith("eval/") for k in history[-1]):
        history = history[:-1]
    losses: list[float] = []
    for entry in reversed(history):
        if any(str(k).startswith("eval/") for k in entry):
            break
        if "loss" in entry:
            losses.append(float(entry["loss"]))
    return losses[::-1]
