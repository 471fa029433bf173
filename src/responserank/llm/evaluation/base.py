"""The two interfaces every evaluation suite is written against.

A suite never touches a model directly: it asks a ``Scorer`` for rewards of (prompt, response)
pairs, so the same suite runs inside a training callback, in the standalone evaluate command, and
in tests with a hand-written scorer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Scorer(Protocol):
    """Maps (prompt, response) pairs to scalar rewards, one float per pair, in input order."""

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class EvalSuite(Protocol):
    """A named evaluation; ``evaluate`` returns flat metric names (``<suite>/<metric>``) to floats."""

    name: str

    def evaluate(self, scorer: Scorer) -> dict[str, float]: ...


def checked_rewards(rewards: np.ndarray, expected: int, suite: str) -> np.ndarray:
    """The scorer's rewards as a flat float array; a wrong count or a NaN/inf reward is an error.

    A NaN would silently count as a lost comparison, hiding a broken model behind a low score.
    """
    values = np.asarray(rewards, dtype=float).reshape(-1)
    if values.size != expected:
        raise ValueError(
            f"{suite}: the scorer returned {values.size} rewards for {expected} inputs"
        )
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ValueError(f"{suite}: the scorer returned {bad} non-finite rewards")
    return values


def score_texts(
    scorer: Scorer, prompts: Sequence[str], responses: Sequence[str], suite: str
) -> np.ndarray:
    """Checked rewards of (prompt, response) pairs, one per response, in input order."""
    return checked_rewards(scorer.score(list(prompts), list(responses)), len(responses), suite)


def score_pairs(
    scorer: Scorer,
    prompts: Sequence[str],
    chosen: Sequence[str],
    rejected: Sequence[str],
    suite: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Rewards of the chosen and the rejected responses, scored in one call (one batching pass)."""
    n = len(prompts)
    scores = score_texts(scorer, list(prompts) * 2, list(chosen) + list(rejected), suite)
    return scores[:n], scores[n:]
