"""Seeded held-out split by comparison id."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from responserank.errors import DataValidationError


def holdout_mask(
    comparison_ids: Sequence[str], test_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Boolean mask selecting ``test_size`` comparisons for the test set.

    The ids are sorted before shuffling, so the split depends only on the set of ids and the seed,
    not on the order in which the source delivered them. A ``test_size`` of at least
    ``len(comparison_ids)`` selects every comparison; the sources refuse the empty training set
    that leaves, naming the step (:func:`responserank.llm.data.degenerate.require_left`).
    """
    ids = np.asarray(comparison_ids, dtype=object)
    if test_size < 0:
        raise DataValidationError(f"test_size must be >= 0, got {test_size}")
    order = np.argsort(ids, kind="stable")
    chosen = order[rng.permutation(len(ids))[:test_size]]
    mask = np.zeros(len(ids), dtype=bool)
    mask[chosen] = True
    return mask
