"""Texts to score from a JSON-lines file, and their rewards written back beside them.

Each line is one object: ``{"prompt": str, "response": str}`` (a pair, rendered as training renders
it: the chat template, or the "Human: ... Assistant: ..." transcript) or ``{"text": str}`` (a full
transcript, see :meth:`RewardModelScorer.encode_transcripts`). Other keys are kept and copied to
the output. Used by ``python -m responserank.llm.evaluate score_file=...`` and by training's
reward statistics on a named reference file (``export.reward_stats=<file>``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from responserank.atomic_io import write_text_atomic
from responserank.errors import InputFileError
from responserank.jsonl import read_json_objects
from responserank.llm.data.text import encode_conversations
from responserank.llm.evaluation.reward_stats import RewardStatistics
from responserank.llm.evaluation.scoring import RewardModelScorer

WHAT = 'one JSON object per line with "prompt" and "response" strings, or a "text" string'


@dataclass(frozen=True)
class ScoringInputs:
    """The rows of a scoring file: ``prompts[i]`` is None for a full transcript in ``responses[i]``."""

    rows: list[dict[str, Any]]
    prompts: list[str | None]
    responses: list[str]

    def encode(self, scorer: RewardModelScorer, max_length: int | None) -> list[list[int]]:
        """Token ids per row (cut at ``max_length`` when given), in row order."""
        pairs = [i for i, p in enumerate(self.prompts) if p is not None]
        texts = [i for i, p in enumerate(self.prompts) if p is None]
        ids: list[list[int]] = [[] for _ in self.rows]
        encoded = encode_conversations(
            scorer.tokenizer,
            [self.prompts[i] for i in pairs],
            [self.responses[i] for i in pairs],
            max_length,
        )
        encoded += scorer.encode_transcripts([self.responses[i] for i in texts], max_length)
        for i, token_ids in zip(pairs + texts, encoded, strict=True):
            ids[i] = token_ids
        return ids


def _field(row: dict[str, Any], key: str, path: Path, number: int) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise InputFileError(
            f"{path}: object {number}: field {key!r} must be a string, got "
            f"{type(value).__name__}; expected {WHAT}"
        )
    return value


def read_scoring_inputs(path: str | Path) -> ScoringInputs:
    """The rows of a scoring file; InputFileError naming the file, the object and the field."""
    path = Path(path)
    rows = read_json_objects(path)
    if not rows:
        raise InputFileError(f"{path}: the file holds no rows; expected {WHAT}")
    prompts: list[str | None] = []
    responses: list[str] = []
    for number, row in enumerate(rows, start=1):
        if "text" in row and "response" not in row:
            prompts.append(None)
            responses.append(_field(row, "text", path, number))
        else:
            prompts.append(_field(row, "prompt", path, number))
            responses.append(_field(row, "response", path, number))
    return ScoringInputs(rows, prompts, responses)


def score_inputs(
    scorer: RewardModelScorer, inputs: ScoringInputs, stats: RewardStatistics | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 rewards (rows,) of every row, normalised with ``stats`` when given, and a bool
    array (rows,) of the rows longer than the scorer's ``max_length`` (scored cut there)."""
    limit = scorer.max_length
    full = inputs.encode(scorer, None)
    truncated = np.array([limit is not None and len(x) > limit for x in full], dtype=bool)
    cut = inputs.encode(scorer, limit) if truncated.any() else full
    rewards = scorer.score_ids(cut)
    return (rewards if stats is None else stats.normalise(rewards)), truncated


def write_scores(
    path: str | Path, inputs: ScoringInputs, rewards: np.ndarray, truncated: np.ndarray
) -> Path:
    """Every input row plus ``reward`` (float) and ``truncated`` (bool), as JSON lines, atomically."""
    lines = [
        json.dumps({**row, "reward": float(r), "truncated": bool(t)}, ensure_ascii=False)
        for row, r, t in zip(inputs.rows, rewards, truncated, strict=True)
    ]
    return write_text_atomic(path, "".join(line + "\n" for line in lines))
