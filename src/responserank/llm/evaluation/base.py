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


def score_pairs(
    scorer: Scorer, prompts: Sequence[str], chosen: Sequence[str], rejected: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Rewards of the chosen and the rejected responses, scored in one call (one batching pass)."""
    n = len(prompts)
    scores = np.asarray(scorer.score(list(prompts) * 2, list(chosen) + list(rejected)), dtype=float)
    return scores[:n], scores[n:]
