"""Learning-rate schedules by name: every transformers schedule plus the two RAPL ones.

- ``cosine_w_floor``: cosine from the full rate down to 10% of it, which is transformers'
  ``cosine_with_min_lr`` with ``min_lr_rate = 0.1`` (warmup as configured).
- ``step_decay``: the full rate for the first third of the steps, 10% for the second third, 1%
  for the rest: torch's ``MultiStepLR`` with milestones at T/3 and 2T/3 and gamma 0.1 (no warmup).

Any other name is passed to ``TrainingArguments.lr_scheduler_type`` unchanged.
"""

from __future__ import annotations

from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, MultiStepLR
from transformers.trainer_utils import SchedulerType

STEP_DECAY = "step_decay"
COSINE_W_FLOOR = "cosine_w_floor"
CUSTOM_SCHEDULES = (STEP_DECAY, COSINE_W_FLOOR)


def scheduler_arguments(name: str) -> dict[str, Any]:
    """``lr_scheduler_type`` / ``lr_scheduler_kwargs`` for TrainingArguments."""
    if name == COSINE_W_FLOOR:
        return {
            "lr_scheduler_type": "cosine_with_min_lr",
            "lr_scheduler_kwargs": {"min_lr_rate": 0.1},
        }
    if name == STEP_DECAY:
        # The trainer replaces this placeholder with step_decay_scheduler.
        return {"lr_scheduler_type": "constant", "lr_scheduler_kwargs": {}}
    valid = [s.value for s in SchedulerType]
    if name not in valid:
        raise ValueError(
            f"unknown training.lr_scheduler {name!r}; choose one of {valid + list(CUSTOM_SCHEDULES)}"
        )
    return {"lr_scheduler_type": name, "lr_scheduler_kwargs": {}}


def step_decay_scheduler(optimizer: Optimizer, num_training_steps: int) -> LRScheduler:
    """x1, then x0.1 from step T//3, then x0.01 from step 2T//3."""
    milestones = [num_training_steps // 3, (2 * num_training_steps) // 3]
    return MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
