"""Batched reward scoring of (prompt, response) pairs with a sequence-classification model."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from responserank.llm.data.batching.layouts import (
    pack_spans,
    prefix_groups,
    shared_span,
    single_span,
)
from responserank.llm.data.text import encode_conversations
from responserank.llm.evaluation.reward_stats import RewardStatistics
from responserank.llm.modeling.models import TRAINING_PADDING_SIDE
from responserank.llm.modeling.padding import align_pad_token
from responserank.llm.modeling.reward_forward import (
    attn_implementation,
    resolve_batch_layout,
    row_budget,
    sequence_rewards,
)

#: Most responses that share one prompt span when scoring with ``prefix_shared``.
MAX_SHARED = 8


class RewardModelScorer:
    """Scores pairs in length-sorted batches, so padding (and wasted compute) stays small.

    The model's first logit is the reward. Batches are padded on the side training padded
    (:data:`responserank.llm.modeling.models.TRAINING_PADDING_SIDE`), whatever ``padding_side`` the saved
    tokenizer carries, and with the token id the model reads the reward by
    (:func:`~responserank.llm.modeling.padding.align_pad_token`, which sets the tokenizer's pad token; a
    ConfigError when there is none), so a reward does not depend on the batch it was scored in. Inputs longer
    than ``max_length`` tokens are cut there; ``truncated`` says which, and ``drop_truncated``
    asks the suites to leave those rows out. The model is put in eval mode while scoring and
    returned to its previous mode afterwards, so the scorer can run inside a training callback.

    ``distributed=True`` (every process of a ``torch.distributed`` group calls ``score`` with the
    same inputs): the length-sorted batches are dealt round-robin to the processes, each scores
    its own, and one all-reduce puts every reward on every process. A batch holds the same inputs
    as in a single-process run, so the rewards are the same, and every process runs the same
    number of forward passes (a process with one batch fewer repeats a batch and discards it),
    which FSDP and ZeRO-3 need. Without an initialised group of more than one process it scores
    everything itself.

    ``layout`` (``padded``, ``padding_free``, ``prefix_shared`` or ``auto``; see
    :mod:`responserank.llm.data.batching.layouts`) and ``tokens_per_row`` lay out each forward
    pass as training does; the rewards are the same in every layout (float rounding aside). With
    ``prefix_shared`` the inputs that share a token prefix (responses to one prompt) are forwarded
    as one span, at most :data:`MAX_SHARED` of them; a forward pass holds about ``batch_size``
    inputs in every layout. ConfigError for a packed layout the model cannot use exactly.
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        batch_size: int = 16,
        max_length: int | None = 1024,
        show_progress: bool = True,
        drop_truncated: bool = False,
        distributed: bool = False,
        layout: str = "padded",
        tokens_per_row: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.max_length = max_length
        self.show_progress = show_progress
        self.drop_truncated = drop_truncated
        self.distributed = distributed
        self.pad_token_id = align_pad_token(model, tokenizer)
        attention = attn_implementation(model)
        self.layout = resolve_batch_layout(layout, model.config, attention)
        self.budget = row_budget(attention, tokens_per_row, model.config)

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

    def encode_transcripts(self, texts: Sequence[str], max_length: int | None) -> list[list[int]]:
        """Token ids of full transcripts (prompt and response already in one text).

        With a chat template the text is taken as its output (special tokens included, none
        added: the ids of ``apply_chat_template`` on the conversation); without one it is a plain
        transcript and gets the tokenizer's special tokens, as a pair with an empty prompt does.
        """
        flags = [bool(self.tokenizer.chat_template)] * len(texts)
        return encode_conversations(
            self.tokenizer, [""] * len(texts), texts, max_length, rendered=flags
        )

    def _shard(self) -> tuple[int, int]:
        """(rank, world size) of the scoring group: (0, 1) unless scoring is distributed."""
        dist = torch.distributed
        if self.distributed and dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1

    def _batches(self, ids: Sequence[Sequence[int]]) -> list[list[tuple[int, ...]]]:
        """Forward passes, longest inputs first: each a list of units, the input indices scored
        as one span (one input per unit unless prefix-shared)."""
        if self.layout == "prefix_shared":
            units = prefix_groups(ids, MAX_SHARED)
        else:
            units = [(i,) for i in range(len(ids))]
        size = [len(ids[u[0]]) + sum(len(ids[i]) for i in u[1:]) for u in units]
        order = np.argsort([-x for x in size], kind="stable")
        batches: list[list[tuple[int, ...]]] = []
        for k in order:
            if not batches or sum(len(u) for u in batches[-1]) >= self.batch_size:
                batches.append([])
            batches[-1].append(units[k])
        return batches

    def _rewards(self, ids: Sequence[Sequence[int]], units: list[tuple[int, ...]], device):
        """Float rewards of the inputs of ``units`` (flattened in order) from one forward pass."""
        if self.layout == "padded":
            batch = self.tokenizer.pad(
                {"input_ids": [list(ids[u[0]]) for u in units]},
                padding_side=TRAINING_PADDING_SIDE,
                return_tensors="pt",
            ).to(device)
            return self.model(**batch).logits[:, 0]
        spans, slot = [], 0
        for unit in units:
            if len(unit) == 1:
                spans.append(single_span(ids[unit[0]], slot))
            else:
                spans.append(shared_span([ids[i] for i in unit], range(slot, slot + len(unit))))
            slot += len(unit)
        packed = pack_spans(spans, self.pad_token_id, self.budget, self.layout == "prefix_shared")
        return sequence_rewards(self.model, {k: v.to(device) for k, v in packed.items()})

    @torch.no_grad()
    def score_ids(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Float64 rewards (n,) of already tokenised inputs, in input order."""
        batches = self._batches(ids)
        rank, world = self._shard()
        mine = batches[rank::world]
        rounds = -(-len(batches) // world)
        rewards = np.zeros(len(ids), dtype=np.float64)
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        try:
            show = self.show_progress and rank == 0
            for k in tqdm(range(rounds), desc="scoring", disable=not show, leave=False):
                units = mine[k] if k < len(mine) else batches[0]  # a repeat keeps the lockstep
                values = self._rewards(ids, units, device)
                if k < len(mine):
                    index = [i for unit in units for i in unit]
                    rewards[index] = values.float().cpu().numpy()
        finally:
            self.model.train(was_training)
        if world > 1:  # each reward is non-zero on one process only: the sum is exact
            total = torch.from_numpy(rewards).to(device)
            torch.distributed.all_reduce(total)
            rewards = total.cpu().numpy()
        return rewards


class NormalisedScorer:
    """A :class:`RewardModelScorer` whose rewards are ``(reward - mean) / std``.

    ``stats`` is a :class:`~responserank.llm.evaluation.reward_stats.RewardStatistics`; every
    other attribute (``max_length``, ``truncated``, ``drop_truncated``, ...) is the wrapped
    scorer's, so suites screen rows exactly as they do with raw rewards.
    """

    def __init__(self, scorer: RewardModelScorer, stats: RewardStatistics) -> None:
        self.scorer = scorer
        self.stats = stats

    def __getattr__(self, name: str):
        return getattr(self.scorer, name)

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        return self.stats.normalise(self.scorer.score(prompts, responses))

    def score_ids(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        return self.stats.normalise(self.scorer.score_ids(ids))
