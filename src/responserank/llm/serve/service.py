"""The model behind the server: loading, rendering and tokenising requests as training did,
scoring through the batcher.

Inputs are tokenised exactly as ``python -m responserank.llm.evaluate`` tokenises them
(``RewardModelScorer``): a ``/get_reward`` text is a full transcript
(:meth:`RewardModelScorer.encode_transcripts`); a ``/score`` conversation is rendered with the
model's chat template, or, for a model without one, as the single (prompt, response) pair training
renders. An input longer than ``max_length`` tokens is cut there as in training and reported, or
refused (``overlong=refuse``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from responserank.errors import ConfigError, RequestRejected
from responserank.llm.data.text import encode_conversations
from responserank.llm.evaluation.reward_stats import (
    RewardStatistics,
    read_reward_statistics,
    reward_transform,
)
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.export.model_card import read_facts
from responserank.llm.modeling.models import load_reward_model
from responserank.llm.serve.batcher import RequestBatcher
from responserank.llm.serve.settings import ServeSettings

DEFAULT_MAX_LENGTH = 1024

Encoder = Callable[[int | None], list[list[int]]]


@dataclass
class Scored:
    """Rewards (raw or normalised, as the server is set) and which inputs were cut."""

    rewards: list[float]
    truncated: list[bool]


class RewardService:
    """A loaded reward model, its settings and its batcher.

    ``stats``: the model folder's reward statistics (None when it holds none), reported by
    ``/health`` in every mode; rewards are normalised with them only when ``rewards=normalized``.
    """

    def __init__(self, settings: ServeSettings, model, tokenizer, stats: RewardStatistics | None):
        self.settings = settings
        self.stats = stats
        self.normalise = settings.rewards == "normalized"
        self.max_length = _max_length(settings, model.config)
        self.scorer = RewardModelScorer(
            model, tokenizer, settings.max_batch_size, self.max_length, show_progress=False
        )
        self.batcher = RequestBatcher(
            self.scorer.score_ids, settings.max_batch_size, settings.max_wait_ms / 1000.0
        )
        self.requests = 0

    @classmethod
    def load(cls, settings: ServeSettings) -> RewardService:
        """Load the model of ``settings.model_dir``; ConfigError for a folder that holds none."""
        model_dir = Path(settings.model_dir).expanduser()
        try:
            # normalized: ConfigError without statistics; raw: report them when the folder has them
            stats = reward_transform(model_dir, settings.rewards) or read_reward_statistics(
                model_dir
            )
        except ValueError as error:  # a malformed statistics block, named with its file
            raise ConfigError(f"--model-dir {model_dir}: {error}") from error
        try:
            model, tokenizer = load_reward_model(model_dir, settings.device, settings.dtype)
        except (OSError, ValueError) as error:
            raise ConfigError(f"--model-dir {model_dir}: {error}") from error
        return cls(settings, model, tokenizer, stats)

    @property
    def tokenizer(self):
        return self.scorer.tokenizer

    def health(self) -> dict[str, Any]:
        s = self.settings
        return {
            "status": "ok",
            "model_dir": str(s.model_dir),
            "rewards": s.rewards,
            "reward_statistics": None if self.stats is None else self.stats.as_dict(),
            "max_length": self.max_length,
            "overlong": s.overlong,
            "max_batch_size": s.max_batch_size,
            "max_wait_ms": s.max_wait_ms,
            "chat_template": bool(self.tokenizer.chat_template),
            "requests": self.requests,
            "forward_batches": self.batcher.batches,
            "sequences_scored": self.batcher.sequences,
        }

    # ---- encoding ---------------------------------------------------------------------------

    def transcripts(self, texts: Sequence[str]) -> Encoder:
        """Full transcripts (``/get_reward``)."""
        return lambda limit: self.scorer.encode_transcripts(texts, limit)

    def conversations(self, prompts: list[list[dict]], responses: list[list[dict]]) -> Encoder:
        """Prompt and response messages (``/score``); see the module docstring."""
        tokenizer = self.tokenizer
        if tokenizer.chat_template:
            texts = [
                tokenizer.apply_chat_template([*p, *r], tokenize=False)
                for p, r in zip(prompts, responses, strict=True)
            ]
            return self.transcripts(texts)
        for i, (p, r) in enumerate(zip(prompts, responses, strict=True)):
            if [m["role"] for m in p] != ["user"] or [m["role"] for m in r] != ["assistant"]:
                raise RequestRejected(
                    422,
                    f"conversations[{i}]: this model has no chat template; send one user prompt "
                    "message and one assistant response message",
                )
        prompt_texts = [p[0]["content"] for p in prompts]
        response_texts = [r[0]["content"] for r in responses]
        return lambda limit: encode_conversations(tokenizer, prompt_texts, response_texts, limit)

    def encode(self, encoder: Encoder, field: str) -> tuple[list[list[int]], list[bool]]:
        """Token ids (cut at ``max_length`` as in training) and the over-long flags; RequestRejected 413
        for an over-long input when ``overlong=refuse``, 422 for an input without tokens."""
        full = encoder(None)
        over = [len(ids) > self.max_length for ids in full]
        for i, ids in enumerate(full):
            if not ids:
                raise RequestRejected(
                    422, f"'{field}[{i}]' has no tokens; expected a non-empty text"
                )
        if any(over) and self.settings.overlong == "refuse":
            first = over.index(True)
            raise RequestRejected(
                413,
                f"'{field}[{first}]' has {len(full[first])} tokens, more than max_length="
                f"{self.max_length} ({sum(over)} over-long input(s)); the server refuses them "
                "(--overlong truncate scores them cut)",
            )
        return (encoder(self.max_length) if any(over) else full), over

    async def score(self, encoder: Encoder, field: str) -> Scored:
        ids, over = self.encode(encoder, field)
        rewards = await self.batcher.score(ids)
        self.requests += 1
        if self.normalise and self.stats is not None:
            rewards = self.stats.normalise(rewards)
        return Scored([float(r) for r in rewards], over)


def _max_length(settings: ServeSettings, config) -> int:
    """``--max-length``, else the model card's (training's ``training.max_length``), else 1024,
    at most the model's position count; ConfigError for a ``--max-length`` above that count."""
    positions = getattr(config, "max_position_embeddings", None) or float("inf")
    if settings.max_length is not None:
        if settings.max_length > positions:
            raise ConfigError(
                f"--max-length: expected at most the model's {positions} positions, "
                f"got {settings.max_length}"
            )
        return settings.max_length
    facts = read_facts(Path(settings.model_dir).expanduser()) or {}
    return int(min(int(facts.get("max_length") or DEFAULT_MAX_LENGTH), positions))
