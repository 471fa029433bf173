"""Trainer callbacks: evaluation suites (contract D) at every evaluation, and the run record."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback

from responserank.atomic_io import write_text_atomic
from responserank.jsonl import read_json_objects
from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.evaluation.suites import run_suites
from responserank.llm.runs.record import RunRecord
from responserank.llm.runs.wandb_mirror import WandbMirror


class EvalSuitesCallback(TrainerCallback):
    """Scores the configured suites with the model being trained.

    It runs in ``on_evaluate`` on every process: each scores its share of the suites' inputs
    (``RewardModelScorer(distributed=True)``: whole length-sorted batches dealt round-robin, the
    rewards all-reduced), so every process computes the same metrics from every reward and no
    forward pass runs on one process alone (FSDP and ZeRO-3 need all of them). The
    ``eval/<suite>/<metric>`` entries go into the evaluation's ``metrics``; the trainer logs that
    dict after all ``on_evaluate`` hooks, so held-out and suite metrics share one row of the run
    record. ``batch_layout`` and ``tokens_per_row`` lay out the scoring passes as training's
    (``runtime.batch_layout``).
    """

    def __init__(
        self,
        suites: Sequence[EvalSuite],
        batch_size: int,
        max_length: int,
        show_progress: bool,
        batch_layout: str = "padded",
        tokens_per_row: int | None = None,
    ) -> None:
        self.suites = list(suites)
        self.batch_size = batch_size
        self.max_length = max_length
        self.show_progress = show_progress
        self.batch_layout = batch_layout
        self.tokens_per_row = tokens_per_row

    def on_evaluate(
        self, args, state, control, model=None, processing_class=None, metrics=None, **kwargs: Any
    ):
        if not self.suites or metrics is None:
            return
        show = self.show_progress and state.is_world_process_zero
        scorer = RewardModelScorer(
            model,
            processing_class,
            self.batch_size,
            self.max_length,
            show,
            distributed=True,
            layout=self.batch_layout,
            tokens_per_row=self.tokens_per_row,
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

    Every training log row (loss, grad norm, learning rate, tokens seen, reward statistics,
    accuracy, mean margin) goes to ``train_log.jsonl`` in the run record; the rows are buffered and
    written atomically at each evaluation and at the end of training, so a step is not a file
    rewrite. A run that starts from step 0 starts a new file.
    """

    STEP_LOG = "train_log.jsonl"

    def __init__(self, record: RunRecord, mirror: WandbMirror) -> None:
        self.record = record
        self.mirror = mirror
        self._step_rows: list[dict[str, Any]] = []

    @property
    def step_log_path(self):
        return self.record.path / self.STEP_LOG

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero and state.global_step == 0:
            self.step_log_path.unlink(missing_ok=True)

    def on_train_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self._flush_steps()

    def _flush_steps(self) -> None:
        if not self._step_rows:
            return
        path = self.step_log_path
        rows = [*(read_json_objects(path) if path.is_file() else []), *self._step_rows]
        write_text_atomic(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
        self._step_rows = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        renamed = {TRAINER_LOG_KEYS.get(k, k): v for k, v in logs.items() if k != "epoch"}
        if "train/loss" in renamed and not any(k.startswith("eval/") for k in renamed):
            self._step_rows.append(
                {"epoch": round(float(state.epoch or 0.0), 4), "step": state.global_step, **renamed}
            )
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
            self._flush_steps()
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
