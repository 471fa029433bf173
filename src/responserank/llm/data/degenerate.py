"""Degenerate comparisons, repeated rows and steps that leave (almost) nothing to train on.

A comparison whose chosen and rejected responses are the same text carries no preference: the
margin r(chosen) - r(rejected) is 0 whatever the model, so it adds ln 2 to a Bradley-Terry loss and
nothing to its gradient. Such pairs are dropped and counted. Exact repeated rows of a table without
an id column are counted and, by option, kept or dropped. When a step removes every comparison the
error names the step and the counts before and after it; when a step leaves fewer than
:data:`HANDFUL` comparisons a warning says so. The counts go into the run's data statistics.
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


def require_left(step: str, before: int, after: int, where: str) -> None:
    """Refuse a step that removed every comparison; warn when it left fewer than a handful.

    Raises DataValidationError ``<where>: step '<step>' left no comparisons (<before> -> 0)``
    when ``before > 0`` and ``after == 0``.
    """
    if before > 0 and after == 0:
        raise DataValidationError(
            f"{where}: step '{step}' left no comparisons ({before} -> 0); expected at least one "
            "comparison to train on"
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
