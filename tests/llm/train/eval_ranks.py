"""Held-out and suite evaluation of a seeded tiny reward model, in one process or under torchrun.

``python eval_ranks.py <out dir>`` (under ``torch.distributed.run``) writes ``rank<r>.json`` per
process: the metrics of ``RewardModelTrainer.evaluate`` (held-out pairs plus a suite through
:class:`EvalSuitesCallback`) and how many forward passes that process ran. ``evaluate_once``
gives the same in the calling process.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from transformers import TrainingArguments, set_seed

from responserank.llm.config import model_spec
from responserank.llm.data.batching.pair_dataset import PairCollator
from responserank.llm.modeling.models import build_reward_model, load_tokenizer
from responserank.llm.training.callbacks import EvalSuitesCallback
from responserank.llm.training.objectives.responserank import ResponseRankObjective
from responserank.llm.training.trainer import RewardModelTrainer
from responserank.testing.server import SAMPLE_WORDS

#: Uneven sizes: 21 held-out comparisons, 2 x 17 suite inputs, batches of 4, two processes.
HELDOUT_PARTITIONS = (4, 3, 1, 2, 5, 2, 4)
SUITE_PAIRS = 17


class PairSuite:
    """A suite whose metrics use every reward: accuracy, mean margin and the sum of rewards."""

    name = "pairs"

    def evaluate(self, scorer) -> dict[str, float]:
        rng = np.random.default_rng(7)

        def text() -> str:
            return " ".join(rng.choice(SAMPLE_WORDS, size=int(rng.integers(3, 30))))

        prompts = [text() for _ in range(SUITE_PAIRS)]
        chosen = [text() for _ in range(SUITE_PAIRS)]
        rejected = [text() for _ in range(SUITE_PAIRS)]
        rewards = scorer.score(prompts * 2, chosen + rejected)
        margins = rewards[:SUITE_PAIRS] - rewards[SUITE_PAIRS:]
        return {
            "pairs/accuracy": float((margins > 0).mean()),
            "pairs/mean_margin": float(margins.mean()),
            "pairs/reward_sum": float(rewards.sum()),
            "pairs/first_reward": float(rewards[0]),
        }


def evaluate_once() -> tuple[dict[str, float], int]:
    """Metrics of one evaluation and the number of forward passes this process ran."""
    from train_helpers import random_pairs, tiny_model_config

    model_cfg = tiny_model_config()
    tokenizer = load_tokenizer(model_spec(model_cfg))
    set_seed(0)
    model = build_reward_model(model_spec(model_cfg), tokenizer)
    forwards = [0]
    model.register_forward_pre_hook(lambda module, args: forwards.__setitem__(0, forwards[0] + 1))
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_eval_batch_size=4,
            report_to="none",
            disable_tqdm=True,
            remove_unused_columns=False,
            use_cpu=True,
            seed=0,
        )
        trainer = RewardModelTrainer(
            model=model,
            args=args,
            data_collator=PairCollator(tokenizer.pad_token_id),
            eval_dataset=random_pairs(HELDOUT_PARTITIONS, len(tokenizer), seed=3),
            processing_class=tokenizer,
            callbacks=[EvalSuitesCallback([PairSuite()], 4, 512, False)],
            objective=ResponseRankObjective(),
        )
        metrics = trainer.evaluate()
    return {k: float(v) for k, v in metrics.items()}, forwards[0]


if __name__ == "__main__":
    metrics, forwards = evaluate_once()
    rank = torch.distributed.get_rank()
    payload = {"metrics": metrics, "forwards": forwards}
    (Path(sys.argv[1]) / f"rank{rank}.json").write_text(json.dumps(payload))
