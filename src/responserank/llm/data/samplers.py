"""Fraction samplers: which training rows a run at ``experiment.fraction`` < 1 keeps.

Each class is built from the Hydra group ``sampler`` (``experiment.sampler``). ``select`` returns the
kept row positions in ascending order; at fraction 1.0 every row is kept.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def target_count(n_rows: int, fraction: float) -> int:
    """Rows kept at ``fraction``: round(fraction * n), at least one when there is any row."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"experiment.fraction must be in (0, 1], got {fraction}")
    return min(n_rows, max(1, round(fraction * n_rows))) if n_rows else 0


class UniformSampler:
    """A uniformly random subset of the target size."""

    def select(self, table: pd.DataFrame, fraction: float, rng: np.random.Generator) -> np.ndarray:
        count = target_count(len(table), fraction)
        if count == len(table):
            return np.arange(len(table))
        return np.sort(rng.choice(len(table), size=count, replace=False))


class AnnotatorSampler:
    """Whole annotators in random order until the target size; the last one partially.

    Keeps per-annotator strata intact, as a smaller annotation budget would: fewer annotators, each
    with all of their labels. This is the default sampler; a source without an ``annotator``
    column (a preference table, a hub dataset) is sampled by :class:`UniformSampler` instead.
    """

    def select(self, table: pd.DataFrame, fraction: float, rng: np.random.Generator) -> np.ndarray:
        count = target_count(len(table), fraction)
        if count == len(table):
            return np.arange(len(table))
        if "annotator" not in table.columns:
            log.info("no annotator column: sampling %d of %d rows uniformly", count, len(table))
            return UniformSampler().select(table, fraction, rng)
        annotators = np.sort(table["annotator"].astype(str).unique())
        order = annotators[rng.permutation(annotators.size)]
        codes = pd.Categorical(table["annotator"].astype(str), categories=order).codes
        sizes = np.bincount(codes, minlength=order.size)
        whole = int(np.searchsorted(np.cumsum(sizes), count, side="right"))
        kept = np.flatnonzero(codes < whole)
        missing = count - kept.size
        if missing:
            partial = np.flatnonzero(codes == whole)
            kept = np.concatenate([kept, rng.choice(partial, size=missing, replace=False)])
        return np.sort(kept)
