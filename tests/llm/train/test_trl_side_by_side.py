"""loss=bt with our trainer against trl.RewardTrainer: same initial weights, same micro-batches.

With one micro-batch per optimizer step the two trainings are the same computation, so every
step's loss agrees to float32 rounding. Under gradient accumulation with micro-batches of unequal
size they differ as documented: ours is the mean over the step's comparisons, TRL's the mean of
the micro-batch means.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from train_helpers import random_pairs, tiny_model_config
from transformers import TrainerCallback, TrainingArguments, set_seed

from responserank.llm.config import model_spec
from responserank.llm.data.batching.pair_dataset import PairCollator
from responserank.llm.modeling.models import build_reward_model, load_tokenizer
from responserank.llm.training.objectives.bt import BradleyTerryObjective
from responserank.llm.training.trainer import RewardModelTrainer
from responserank.testing.trl_reference import trl_reward_trainer

TOLERANCE = 1e-5


class StepLosses(TrainerCallback):
    """The loss each trainer logs at every optimizer step (logging_steps=1)."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))


def _shared_arguments(out, batch_size, accumulation, steps=None):
    arguments = {
        "output_dir": str(out),
        "per_device_train_batch_size": batch_size,
        "gradient_accumulation_steps": accumulation,
        "num_train_epochs": 1,
        "learning_rate": 5e-3,
        "lr_scheduler_type": "linear",
        "warmup_steps": 0,
        "weight_decay": 0.1,
        "optim": "adamw_torch",
        "max_grad_norm": 1.0,
        "logging_strategy": "steps",
        "logging_steps": 1,
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "remove_unused_columns": False,
        "use_cpu": True,
        "seed": 0,
        "data_seed": 0,
    }
    if steps is not None:
        arguments["max_steps"] = steps
    return arguments


def _side_by_side(tmp_path, partition_sizes, batch_size, accumulation):
    """Train both trainers one epoch from the same weights on our batches; their step losses,
    the micro-batches, the initial model and the data."""
    model_cfg = tiny_model_config()
    tokenizer = load_tokenizer(model_spec(model_cfg))
    set_seed(0)
    model = build_reward_model(model_spec(model_cfg), tokenizer)
    initial = copy.deepcopy(model)
    pairs = random_pairs(partition_sizes, len(tokenizer), seed=1)

    ours_log = StepLosses()
    ours = RewardModelTrainer(
        model=model,
        args=TrainingArguments(**_shared_arguments(tmp_path / "ours", batch_size, accumulation)),
        data_collator=PairCollator(tokenizer.pad_token_id),
        train_dataset=pairs,
        objective=BradleyTerryObjective(),
        callbacks=[ours_log],
        show_progress=False,
    )
    batches = ours.make_batch_sampler(pairs).global_batches(0)

    trl_log = StepLosses()
    reference = trl_reward_trainer(
        copy.deepcopy(initial),
        copy.deepcopy(tokenizer),
        pairs,
        batches,
        callbacks=[trl_log],
        **_shared_arguments(tmp_path / "trl", batch_size, accumulation),
    )
    ours.train()
    reference.train()
    return ours_log.losses, trl_log.losses, batches, initial, pairs


def test_bt_equals_trl_step_by_step(tmp_path):
    # 24 singletons in micro-batches of 4, one micro-batch per step: 6 steps.
    ours, trl, batches, _, _ = _side_by_side(tmp_path, [1] * 24, 4, 1)
    assert [len(b) for b in batches] == [4] * 6
    assert len(ours) == len(trl) == 6
    for step, (a, b) in enumerate(zip(ours, trl, strict=True)):
        assert math.isfinite(a)
        assert abs(a - b) <= TOLERANCE, f"step {step + 1}: ours {a!r}, trl {b!r}"
    assert abs(ours[-1] - ours[0]) > 1e-3, "training did not move the loss"


def _micro_batch_losses(model, pairs, batches, pad_token_id):
    """Per micro-batch: (sum of -log sigmoid(u), number of comparisons) at the given weights."""
    collate = PairCollator(pad_token_id)
    model.eval()
    out = []
    with torch.no_grad():
        for batch in batches:
            inputs = collate([pairs[i] for i in batch])
            logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
            chosen, rejected = logits.logits[:, 0].chunk(2)
            out.append((float(F.softplus(-(chosen - rejected)).sum()), len(batch)))
    return out


def test_unequal_micro_batches_under_accumulation_pin_the_difference(tmp_path):
    # Partitions (3, 3, 2) in micro-batches of 4 pack whole as [3], [3], [2]; with 3
    # accumulation steps that is one optimizer step over 8 comparisons in unequal parts.
    ours, trl, batches, initial, pairs = _side_by_side(tmp_path, [3, 3, 2], 4, 3)
    assert sorted(len(b) for b in batches) == [2, 3, 3]
    assert len(ours) == len(trl) == 1
    parts = _micro_batch_losses(initial, pairs, batches, initial.config.pad_token_id)
    per_comparison = sum(s for s, _ in parts) / sum(n for _, n in parts)
    mean_of_means = sum(s / n for s, n in parts) / len(parts)
    assert abs(per_comparison - mean_of_means) > 1e-4, "the batches do not tell the two apart"
    assert ours[0] == pytest.approx(per_comparison, abs=TOLERANCE)
    assert trl[0] == pytest.approx(mean_of_means, abs=TOLERANCE)
