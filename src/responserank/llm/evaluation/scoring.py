"""Batched reward scoring of (prompt, response) pairs with a sequence-classification model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from responserank.llm.data.text import encode_conversations
from responserank.llm.models import TRAINING_PADDING_SIDE


class RewardModelScorer:
    """Scores pairs in length-sorted batches, so padding (and wasted compute) stays small.

    The model's first logit is the reward. Batches are padded on the side training padded
    (:data:`responserank.llm.models.TRAINING_PADDING_SIDE`), whatever ``padding_side`` the saved
    tokenizer carries, so a reward does not depend on the batch it was scored in. Inputs longer
    than ``max_length`` tokens are cut there; ``truncated`` says which, and ``drop_truncated``
    asks the suites to leave those rows out. The model is put in eval mode while scoring and
    returned to its previous mode afterwards, so the scorer can run inside a training callback.
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        batch_size: int = 16,
        max_length: int | None = 1024,
        show_progress: bool = True,
        drop_truncated: bool = False,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length
        self.show_progress = show_progress
        self.drop_truncated = drop_truncated

    def truncated(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        """Bool array (n,): inputs with more than ``max_length`` tokens (always False without one)."""
        if self.max_length is None:
            return np.zeros(len(responses), dtype=bool)
        ids = encode_conversations(self.tokenizer, prompts, responses)
        return np.array([len(x) > self.max_length for x in ids], dtype=bool)

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        """Float64 rewards (n,) of the (prompt, response) pairs, in input order."""
        return self.score_ids(
            encode_conversations(self.tokenizer, prompts, responses, self.max_length)
        )

    @torch.no_grad()
    def score_ids(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Float64 rewards (n,) of already tokenised inputs, in input order."""
        order = np.argsort([-len(x) for x in ids], kind="stable")
        rewards = np.empty(len(ids), dtype=np.float64)
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        try:
            starts = range(0, len(ids), self.batch_size)
            for start in tqdm(starts, desc="scoring", disable=not self.show_progress, leave=False):
                index = order[start : start + self.batch_size]
                batch = self.tokenizer.pad(
                    {"input_ids": [list(ids[i]) for i in index]},
                    padding_side=TRAINING_PADDING_SIDE,
                    return_tensors="pt",
                ).to(device)
                logits = self.model(**batch).logits
                rewards[index] = logits[:, 0].float().cpu().numpy()
        finally:
            self.model.train(was_training)
        return rewards
