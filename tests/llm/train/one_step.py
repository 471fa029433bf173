"""One SGD step (lr 1) of the reward-model trainer, returning the gradient it applied.

Used in-process by the gradient tests and, under ``torch.distributed.run``, as the worker of the
two-process test: ``python one_step.py <per_device> <accumulation> <out.pt>`` saves the gradients
of both losses as ``{"bt": {...}, "responserank": {...}}``.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Sequence

import torch
from transformers import TrainingArguments, set_seed

from responserank.llm.config import model_spec
from responserank.llm.data.batching.pair_dataset import PairCollator
from responserank.llm.modeling.models import build_reward_model, load_tokenizer
from responserank.llm.training.objectives.bt import BradleyTerryObjective
from responserank.llm.training.objectives.responserank import ResponseRankObjective
from responserank.llm.training.trainer import RewardModelTrainer

#: 16 comparisons whose partitions pack into four micro-batches of 4 without a split.
PARTITION_SIZES = (4, 3, 1, 2, 2, 2, 2)
OBJECTIVES = {"bt": BradleyTerryObjective, "responserank": ResponseRankObjective}


def step_gradient(
    loss: str, per_device: int, accumulation: int, sizes: Sequence[int] = PARTITION_SIZES
) -> dict[str, torch.Tensor]:
    from train_helpers import random_pairs, tiny_model_config

    model_cfg = tiny_model_config()
    tokenizer = load_tokenizer(model_spec(model_cfg))
    set_seed(0)
    model = build_reward_model(model_spec(model_cfg), tokenizer)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=per_device,
            gradient_accumulation_steps=accumulation,
            max_steps=1,
            learning_rate=1.0,
            optim="sgd",
            lr_scheduler_type="constant",
            weight_decay=0.0,
            max_grad_norm=0.0,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="no",
            report_to="none",
            disable_tqdm=True,
            remove_unused_columns=False,
            ddp_find_unused_parameters=False,
            use_cpu=True,
            seed=0,
        )
        trainer = RewardModelTrainer(
            model=model,
            args=args,
            data_collator=PairCollator(tokenizer.pad_token_id),
            train_dataset=random_pairs(sizes, len(tokenizer)),
            objective=OBJECTIVES[loss](),
        )
        trainer.train()
        stats = trainer.cohesion(0)
        assert stats.share_partitions_intact == 1.0, stats
    return {k: before[k] - v.detach() for k, v in trainer.model.named_parameters()}


if __name__ == "__main__":
    per_device_size, accumulation_steps, path = sys.argv[1:4]
    gradients = {
        loss: step_gradient(loss, int(per_device_size), int(accumulation_steps))
        for loss in OBJECTIVES
    }
    if torch.distributed.get_rank() == 0:
        torch.save(gradients, path)
