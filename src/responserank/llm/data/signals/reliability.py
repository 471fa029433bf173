"""Annotator reliability (ARM) -> the per-comparison ``reliability`` used by the RAPL losses.

An ARM column is used either as is (``is_prob=False``: the value is beta, p or m directly) or as
a probability q that the label is correct (``is_prob=True``), which the loss library maps to
beta = max(0, logit q), p = max(0, 2q - 1) or m (``map_to`` names which one the loss consumes).
A raw behavioural ARM can first be calibrated against TRUE: a one-feature logistic (or isotonic)
regression of ``correct_chosen`` on the ARM over a TRUE split turns it into such a q.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from responserank.calibration import fit_probability_calibrator
from responserank.errors import DataValidationError, invalid_value
from responserank.llm.data.sources.scale import load_true_items
from responserank.loss_parameters import (
    beta_from_correctness,
    margin_from_correctness,
    p_from_correctness,
)

log = logging.getLogger(__name__)

MAPPINGS: dict[str, Callable[[torch.Tensor], torch.Tensor] | None] = {
    "raw": None,
    "beta": beta_from_correctness,
    "p": p_from_correctness,
    "margin": margin_from_correctness,
}
# Raw ARMs used directly must lie in the parameter's domain; values outside (validation rows
# scaled with training min/max) are clipped with a warning.
RAW_DOMAINS: dict[str, tuple[float | None, float | None]] = {
    "raw": (None, None),
    "beta": (0.0, None),
    "p": (0.0, 1.0),
    "margin": (None, None),
}


# Parameters that weight a comparison's loss: 0 means the comparison teaches nothing.
WEIGHT_PARAMETERS = ("beta", "p")


def check_weights(weights: np.ndarray, what: str) -> int:
    """Count the zero weights (beta = 0 or p = 0) of the training comparisons.

    A label judged no better than chance (q <= 0.5) gets beta = max(0, logit q) = 0 or
    p = max(0, 2q - 1) = 0 and adds nothing to the gradient (RAPL losses, responserank.losses).
    Raises DataValidationError when every weight is zero (the run would learn nothing); warns
    when more than half are. Returns the count.
    """
    zero = int((np.asarray(weights) == 0).sum())
    total = int(np.asarray(weights).size)
    if total and zero == total:
        raise DataValidationError(
            f"{what}: all {total} training comparisons get weight 0 (q <= 0.5 everywhere), so "
            "the run would learn nothing; expected some comparisons with q > 0.5"
        )
    if zero * 2 > total:
        log.warning("%s: %d of %d training comparisons get weight 0", what, zero, total)
    return zero


@dataclass(frozen=True)
class ArmCalibration:
    """Where and how to calibrate an ARM against TRUE (default: the fold's no_repeats cal split)."""

    true_path: str | os.PathLike[str] | None = None
    fold: int = 0
    split: str = "cal"
    layout: str = "no_repeats"
    method: str = "logistic"
    label: str = "correct_chosen"

    def fit(self, arm_column: str) -> Callable[[np.ndarray], np.ndarray]:
        table = load_true_items(self.true_path, self.fold, self.split, self.layout, self.label)
        where = f"TRUE {self.layout}/{self.split} fold {self.fold}"
        _check_arm(table, arm_column, where)
        return fit_probability_calibrator(table[arm_column], table[self.label], self.method)


def _check_arm(table: pd.DataFrame, column: str, where: str) -> np.ndarray:
    if column not in table.columns:
        numeric = [str(c) for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
        raise DataValidationError(
            f"{where}: no ARM column {column!r}; numeric columns available: {numeric}"
        )
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise invalid_value(where, row, column, "a finite ARM value", table[column].iloc[row])
    return values


@dataclass
class ReliabilitySignal:
    """Signal option ``arm``: fills ``reliability`` from the ARM ``column`` (module docstring).

    It ranks nothing (every comparison stays a singleton, as RAPL trains pairwise) and adds, on
    the train and eval tables alike: ``reliability`` (the loss parameter), ``reliability_kind``
    (``map_to`` when ``is_prob``, else "raw", so a loss can refuse a parameter meant for another
    loss) and ``arm_value`` (the ARM after calibration, for analysis). A calibration is fitted
    once and reused for both tables.
    """

    column: str
    is_prob: bool = False
    map_to: str = "raw"
    calibration: ArmCalibration | None = None
    _calibrator: Callable[[np.ndarray], np.ndarray] | None = field(
        default=None, init=False, repr=False
    )

    def __post_init__(self) -> None:
        if self.map_to not in MAPPINGS:
            raise ValueError(f"unknown map_to {self.map_to!r}; choose one of {list(MAPPINGS)}")
        if self.calibration is not None and not self.is_prob:
            raise ValueError(
                "a calibrated ARM is a probability of correctness: set is_prob=true with calibration"
            )

    @property
    def kind(self) -> str:
        return self.map_to if self.is_prob else "raw"

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        """No strength ranking: reliability weights each comparison on its own."""
        return np.full(len(table), np.nan)

    def extra_columns(self, table: pd.DataFrame, split: str) -> dict[str, np.ndarray]:
        """``reliability``, ``reliability_kind`` and ``arm_value`` for the rows of ``table``."""
        values = _check_arm(table, self.column, split)
        if self.calibration is not None:
            if self._calibrator is None:
                self._calibrator = self.calibration.fit(self.column)
            values = self._calibrator(values)
        reliability = self._map(values, split)
        if split == "train" and self.map_to in WEIGHT_PARAMETERS:
            check_weights(reliability, f"ARM {self.column!r} (map_to={self.map_to})")
        return {
            "reliability": reliability,
            "reliability_kind": np.full(len(table), self.kind, dtype=object),
            "arm_value": np.asarray(values, dtype=float),
        }

    def apply(self, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """The named tables with the extra columns filled (a convenience outside prepare_data)."""
        return {name: t.assign(**self.extra_columns(t, name)) for name, t in tables.items()}

    def _map(self, values: np.ndarray, name: str) -> np.ndarray:
        if self.is_prob:
            outside = (values < 0) | (values > 1)
            if outside.any():
                row = int(np.flatnonzero(outside)[0])
                expected = "a probability in [0, 1] (is_prob=true)"
                raise invalid_value(name, row, self.column, expected, float(values[row]))
            mapping = MAPPINGS[self.map_to]
            if mapping is None:
                return values.astype(float)
            return mapping(torch.tensor(values, dtype=torch.float64)).numpy()
        low, high = RAW_DOMAINS[self.map_to]
        clipped = np.clip(values, low, high) if (low, high) != (None, None) else values
        changed = int((clipped != values).sum())
        if changed:
            log.warning(
                "%s: %d value(s) of ARM %r fall outside the %s domain [%s, %s] and were clipped",
                name,
                changed,
                self.column,
                self.map_to,
                low,
                high,
            )
        return clipped.astype(float)


@dataclass
class RankedReliabilitySignal:
    """Strength ranks and annotator reliability together (for loss ``responserank_rapl``).

    ``strength`` is any strength signal (agreement, response time, ``ColumnRank`` over a decision
    time, ...) and gives the ranks; ``reliability`` (a :class:`ReliabilitySignal`, usually with
    ``map_to=beta``) fills ``reliability``/``reliability_kind``/``arm_value`` on the train and eval
    tables, as signal ``arm`` does. Ranked comparisons are then partitioned as usual.
    """

    strength: Any
    reliability: ReliabilitySignal

    def ranks(self, table: pd.DataFrame) -> np.ndarray:
        return self.strength.ranks(table)

    def extra_columns(self, table: pd.DataFrame, split: str) -> dict[str, np.ndarray]:
        own = getattr(self.strength, "extra_columns", None)
        extra = {} if own is None else dict(own(table, split))
        return {**extra, **self.reliability.extra_columns(table, split)}
