"""TRL's ``RewardTrainer`` on this project's micro-batches, for side-by-side tests and benchmarks.

:func:`trl_reward_trainer` builds a ``trl.RewardTrainer`` (trl 1.16) that reads the same tokenised
comparisons (:class:`TokenizedPairs`) in a given list of micro-batches (dataset indices, in
order), so that both trainers see identical batches from identical initial weights. What remains
TRL's own is its collator (right padding, chosen rows first, as ours), its loss per micro-batch,
-log sigmoid(r_chosen - r_rejected) averaged over the micro-batch (with a ``margin`` column,
-log sigmoid(u - margin)), and its gradient accumulation: the optimizer step averages the
micro-batch means, where ours is the mean over all comparisons of the step
(``responserank.llm.training.trainer``). The two agree whenever a step's micro-batches have equal sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import datasets
from torch.utils.data import DataLoader
from transformers import PreTrainedModel, PreTrainedTokenizerBase
from trl import RewardConfig, RewardTrainer

from responserank.llm.data.batching.pair_dataset import TokenizedPairs

#: RewardConfig defaults that differ from TrainingArguments (trl 1.16), reset to the latter so
#: that shared arguments mean the same run.
NEUTRAL_REWARD_CONFIG = {
    "activation_checkpointing": False,
    "bf16": False,
    "max_length": None,
    "disable_dropout": True,
}


class FixedBatchRewardTrainer(RewardTrainer):
    """A ``RewardTrainer`` whose training dataloader yields the given micro-batches in order
    (every epoch the same), collated by TRL's own preference collator."""

    def __init__(self, *args: Any, batches: Sequence[Sequence[int]], **kwargs: Any) -> None:
        self.fixed_batches = [list(batch) for batch in batches]
        super().__init__(*args, **kwargs)

    def get_train_dataloader(self) -> DataLoader:
        return DataLoader(
            self.train_dataset,
            batch_sampler=self.fixed_batches,
            collate_fn=self.data_collator,
            num_workers=self.args.dataloader_num_workers,
        )


def trl_dataset(pairs: TokenizedPairs) -> datasets.Dataset:
    """Our tokenised comparisons in TRL's pre-tokenised layout (``chosen_ids``, ``rejected_ids``)."""
    return datasets.Dataset.from_dict(
        {"chosen_ids": pairs.chosen_ids, "rejected_ids": pairs.rejected_ids}
    )


def trl_reward_trainer(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    pairs: TokenizedPairs,
    batches: Sequence[Sequence[int]],
    callbacks: Sequence[Any] = (),
    **training_arguments: Any,
) -> FixedBatchRewardTrainer:
    """A TRL reward trainer over ``pairs`` in the micro-batches ``batches``.

    ``training_arguments`` are ``RewardConfig`` fields (``TrainingArguments`` plus TRL's own); the
    TRL-specific defaults in :data:`NEUTRAL_REWARD_CONFIG` apply unless given. ``tokenizer``
    supplies the pad token id for TRL's collator.
    """
    args = RewardConfig(**{**NEUTRAL_REWARD_CONFIG, **training_arguments})
    return FixedBatchRewardTrainer(
        model=model,
        args=args,
        train_dataset=trl_dataset(pairs),
        processing_class=tokenizer,
        callbacks=list(callbacks),
        batches=batches,
    )
