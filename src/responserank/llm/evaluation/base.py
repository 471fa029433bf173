"""The two interfaces every evaluation suite is written against.

A suite never touches a model directly: it asks a ``Scorer`` for rewards of (prompt, response)
pairs, so the same suite runs inside a training callback, in the standalone evaluate command, and
in tests with a hand-written scorer.

Before scoring, a suite screens its rows (``screen_rows``): a row whose input is longer than the
scorer's ``max_length`` is scored truncated and counted as ``<suite>/truncated`` (or dropped when
the scorer's ``drop_truncated`` is set, the way training refuses over-long pairs), and a pair whose
chosen and rejected responses are the same text is skipped and counted as
``<suite>/identical_skipped`` (its margin is 0 by construction and says nothing about the model).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from responserank.errors import ConfigError, DataValidationError

LOG = logging.getLogger(__name__)


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


def truncated_inputs(
    scorer: Scorer, prompts: Sequence[str], responses: Sequence[str]
) -> np.ndarray:
    """Bool array (n,): which (prompt, response) inputs the scorer would cut at its ``max_length``.

    A scorer without a ``truncated`` method (a hand-written one) never truncates.
    """
    check = getattr(scorer, "truncated", None)
    if not callable(check):
        return np.zeros(len(responses), dtype=bool)
    flags = np.asarray(check(list(prompts), list(responses)), dtype=bool).reshape(-1)
    if flags.size != len(responses):
        raise ValueError(f"the scorer flagged {flags.size} inputs for {len(responses)} responses")
    return flags


@dataclass(frozen=True)
class Screening:
    """Which rows of a suite are scored, and what was counted on the way.

    ``keep``: bool array (rows,); ``truncated``: rows with at least one over-long input (scored
    truncated, or dropped when ``dropped_truncated``); ``identical``: pairs skipped because chosen
    and rejected are the same text (None for suites without pairs).
    """

    keep: np.ndarray
    truncated: int
    identical: int | None
    dropped_truncated: bool

    def metrics(self, suite: str) -> dict[str, float]:
        """``<suite>/truncated`` and, for pair suites, ``<suite>/identical_skipped`` (counts)."""
        metrics = {f"{suite}/truncated": float(self.truncated)}
        if self.identical is not None:
            metrics[f"{suite}/identical_skipped"] = float(self.identical)
        return metrics


def screen_rows(
    scorer: Scorer,
    suite: str,
    prompts: Sequence[str],
    responses: Sequence[str],
    row_of_input: np.ndarray,
    num_rows: int,
    identical: np.ndarray | None = None,
) -> Screening:
    """Screen a suite's rows before scoring; warn about what was truncated, dropped or skipped.

    ``prompts``/``responses`` are every input of the suite, ``row_of_input`` (int array, same
    length) the row each belongs to, ``identical`` an optional bool array (rows,) marking pairs
    whose chosen and rejected responses are the same text.

    Raises ConfigError when ``drop_truncated`` left no row (naming max_length), and
    DataValidationError when every pair is identical.
    """
    rows = np.asarray(row_of_input, dtype=np.int64)
    over = truncated_inputs(scorer, prompts, responses)
    truncated = np.zeros(num_rows, dtype=bool)
    np.logical_or.at(truncated, rows, over)
    same = np.zeros(num_rows, dtype=bool) if identical is None else np.asarray(identical, bool)
    drop = bool(getattr(scorer, "drop_truncated", False))
    keep = ~same & ~(truncated if drop else np.zeros(num_rows, dtype=bool))
    if truncated.any():
        limit = getattr(scorer, "max_length", None)
        action = "dropped" if drop else "scored truncated (drop_truncated=true drops them)"
        LOG.warning(
            "%s: %d of %d rows have an input longer than max_length=%s tokens: %s",
            suite,
            int(truncated.sum()),
            num_rows,
            limit,
            action,
        )
    if same.any():
        LOG.warning(
            "%s: skipped %d of %d pairs whose chosen and rejected responses are identical",
            suite,
            int(same.sum()),
            num_rows,
        )
    if num_rows and not keep.any():
        counts = (
            f"{suite}: no rows left to score ({num_rows} rows: {int(same.sum())} identical pairs, "
            f"{int(truncated.sum())} over-long{' and dropped' if drop else ''})"
        )
        if drop and truncated.any():
            limit = getattr(scorer, "max_length", None)
            raise ConfigError(
                f"{counts}; raise max_length (now {limit}) or set drop_truncated=false to score "
                "the over-long rows truncated"
            )
        raise DataValidationError(f"{counts}; every pair compares a response with itself")
    return Screening(
        keep=keep,
        truncated=int(truncated.sum()),
        identical=None if identical is None else int(same.sum()),
        dropped_truncated=drop,
    )


def screen_pairs(
    scorer: Scorer,
    suite: str,
    prompts: Sequence[str],
    chosen: Sequence[str],
    rejected: Sequence[str],
) -> Screening:
    """``screen_rows`` for one (chosen, rejected) pair per row."""
    n = len(prompts)
    rows = np.concatenate([np.arange(n), np.arange(n)])
    same = np.array([c == r for c, r in zip(chosen, rejected, strict=True)], dtype=bool)
    return screen_rows(
        scorer, suite, list(prompts) * 2, list(chosen) + list(rejected), rows, n, same
    )


def screen_texts(scorer: Scorer, suite: str, texts: Sequence[str]) -> Screening:
    """``screen_rows`` for full-text inputs (no prompt), one per row."""
    n = len(texts)
    return screen_rows(scorer, suite, [""] * n, list(texts), np.arange(n), n)
