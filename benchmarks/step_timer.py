"""Wall time of a transformers Trainer's optimizer steps after a warm-up, shared by the LLM
benchmarks. On CUDA each step boundary synchronises, so the time covers the step's kernels."""

from __future__ import annotations

import time

import torch
from transformers import TrainerCallback


class StepTimer(TrainerCallback):
    """Times every optimizer step that starts at ``global_step >= warmup``.

    ``durations``: seconds of each timed step; ``elapsed``: seconds from the start of the first
    timed step to the end of the last (including the time between steps, e.g. data loading).
    """

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.durations: list[float] = []
        self.elapsed = 0.0
        self._first: float | None = None
        self._start = 0.0

    @staticmethod
    def _now() -> float:
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter()

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = self._now()
        if state.global_step >= self.warmup and self._first is None:
            self._first = self._start

    def on_step_end(self, args, state, control, **kwargs):
        now = self._now()
        if state.global_step > self.warmup and self._first is not None:
            self.durations.append(now - self._start)
            self.elapsed = now - self._first
