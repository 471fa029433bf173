"""Degenerate comparisons, repeated rows and steps that leave (almost) nothing to train on.

A comparison whose chosen and rejected responses are the same text carries no preference: the
margin r(chosen) - r(rejected) is 0 whatever the model, so it adds ln 2 to a Bradley-Terry loss and
nothing to its gradient. Such pairs are dropped and counted. Exact repeated rows of a table without
an id column are counted and, by option, kept or dropped. When a step removes every comparison the
error names the step and the counts before and after it; when a step leaves fewer than
:data:`HANDFUL` comparisons a warning says so. The counts go into the run's data statistics.

Rows that train but deserve a look are counted by :func:`text_checks` (the ``checks`` section of
the data statistics, printed by a dry run, a warning each): a NUL byte inside a text field, a
prompt repeated inside the chosen or rejected text (a response that already holds the prompt is
read with the prompt twice), and held-out pairs that also occur in the training data (the held-out
score then measures memory). Sources add their own (``responses_spoken_by_user``: a conversational
response whose turns include a ``user`` message).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from responserank.errors import DataValidationError

log = logging.getLogger(__name__)

#: Fewer training comparisons than this after a step is almost certainly not what was meant.
HANDFUL = 10
DUPLICATE_POLICIES = ("keep", "drop")


def test_size_hint(test_size: float, rows: int) -> str:
    """What to change when the held-out split took every comparison: ``dataset.test_size``."""
    return f"set dataset.test_size (held-out comparisons, now {test_size}) below {rows}"


def require_left(step: str, before: int, after: int, where: str, hint: str = "") -> None:
    """Refuse a step that removed every comparison; warn when it left fewer than a handful.

    Raises DataValidationError ``<where>: step '<step>' left no comparisons (<before> -> 0)``
    when ``before > 0`` and ``after == 0``; ``hint`` (the config key to change) is appended.
    """
    if before > 0 and after == 0:
        raise DataValidationError(
            f"{where}: step '{step}' left no comparisons ({before} -> 0); expected at least one "
            f"comparison to train on{f'; {hint}' if hint else ''}"
        )
    if 0 < after < HANDFUL <= before:
        log.warning(
            "%s: step '%s' left only %d comparison(s) (%d -> %d)", where, step, after, before, after
        )


def identical_pairs(table: pd.DataFrame) -> np.ndarray:
    """Boolean mask (n_rows,) of rows whose ``chosen`` and ``rejected`` are the same text."""
    chosen = table["chosen"].to_numpy(dtype=object)
    return np.asarray(chosen == table["rejected"].to_numpy(dtype=object), dtype=bool)


def drop_identical_pairs(table: pd.DataFrame, where: str) -> tuple[pd.DataFrame, int]:
    """The table without its chosen == rejected rows, and how many were dropped (logged).

    Raises DataValidationError (via :func:`require_left`) when no comparison is left.
    """
    same = identical_pairs(table)
    dropped = int(same.sum())
    if dropped:
        log.warning(
            "%s: dropped %d of %d comparison(s) whose chosen and rejected are identical",
            where,
            dropped,
            len(table),
        )
    kept = table[~same].reset_index(drop=True)
    require_left("identical_pairs", len(table), len(kept), where)
    return kept, dropped


def handle_duplicates(
    table: pd.DataFrame, columns: Sequence[str], policy: str, where: str
) -> tuple[pd.DataFrame, int]:
    """Count rows that repeat an earlier row exactly on ``columns``; drop them if ``policy`` is
    "drop", keep them if "keep". Returns the table and the count (logged when non-zero)."""
    if policy not in DUPLICATE_POLICIES:
        raise ValueError(f"duplicates must be one of {list(DUPLICATE_POLICIES)}, got {policy!r}")
    repeated = table.duplicated(subset=list(columns), keep="first").to_numpy()
    count = int(repeated.sum())
    if count:
        action = "dropped" if policy == "drop" else "kept (duplicates=drop removes them)"
        log.warning("%s: %d row(s) repeat an earlier row exactly; %s", where, count, action)
    if policy == "drop":
        table = table[~repeated].reset_index(drop=True)
    return table, count


#: A prompt shorter than this (stripped) is not looked for inside a response: "Hi" or "Why?"
#: occur inside answers by chance.
MIN_REPEATED_PROMPT_CHARS = 10
#: Counts a source may report (in ``SourceTables.counts``) that belong with :func:`text_checks`.
SOURCE_CHECKS = ("responses_spoken_by_user",)
TEXT_FIELDS = ("prompt", "chosen", "rejected")


def _repeats_prompt(prompts: pd.Series, responses: pd.Series) -> int:
    count = 0
    for prompt, response in zip(prompts, responses, strict=True):
        text = prompt.strip() if isinstance(prompt, str) else ""
        if (
            len(text) >= MIN_REPEATED_PROMPT_CHARS
            and isinstance(response, str)
            and text in response
        ):
            count += 1
    return count


def _pair_keys(table: pd.DataFrame) -> list[tuple[str, ...]]:
    """(prompt, response, response) per row, the responses sorted: a pair in either order."""
    return [
        (p, *sorted((c, r)))
        for p, c, r in zip(table["prompt"], table["chosen"], table["rejected"], strict=True)
    ]


def text_checks(train: pd.DataFrame, eval_table: pd.DataFrame) -> dict[str, int]:
    """Counts of rows that are kept but deserve a look (see the module docstring).

    ``nul_bytes``, ``prompt_in_chosen`` and ``prompt_in_rejected`` count rows of both tables;
    ``eval_pairs_in_train`` counts held-out rows whose prompt and pair of responses (in either
    order) also form a training row. Tables lacking a text column count 0 for it.
    """
    tables = [t for t in (train, eval_table) if set(TEXT_FIELDS) <= set(t.columns)]
    nul = sum(
        int(
            table[list(TEXT_FIELDS)]
            .map(lambda v: isinstance(v, str) and "\x00" in v)
            .any(axis=1)
            .sum()
        )
        for table in tables
    )
    counts = {
        "nul_bytes": nul,
        "prompt_in_chosen": sum(_repeats_prompt(t["prompt"], t["chosen"]) for t in tables),
        "prompt_in_rejected": sum(_repeats_prompt(t["prompt"], t["rejected"]) for t in tables),
        "eval_pairs_in_train": 0,
    }
    if len(tables) == 2 and len(eval_table):
        seen = set(_pair_keys(train))
        counts["eval_pairs_in_train"] = sum(key in seen for key in _pair_keys(eval_table))
    return counts


CHECK_MESSAGES = {
    "nul_bytes": "comparison(s) hold a NUL byte in prompt, chosen or rejected",
    "prompt_in_chosen": "comparison(s) repeat the prompt inside the chosen text",
    "prompt_in_rejected": "comparison(s) repeat the prompt inside the rejected text",
    "eval_pairs_in_train": "held-out comparison(s) also occur in the training data",
    "responses_spoken_by_user": "conversational response(s) include a turn spoken by 'user'",
}


def warn_checks(checks: dict[str, int], where: str) -> None:
    """One warning per non-zero count of :func:`text_checks` (and the sources' own checks)."""
    for name, count in checks.items():
        if count:
            log.warning("%s: %d %s (checks.%s)", where, count, CHECK_MESSAGES[name], name)
