"""Drift-diffusion simulation, vectorised across decisions.

Each decision accumulates evidence x_{k+1} = x_k + v dt + noise_sd sqrt(dt) xi_k (Euler steps)
from a start point between the lower (0) and upper (threshold) boundary until it leaves that
interval; upper = option 1. Instead of stepping one decision at a time, all still-undecided
decisions advance together in blocks of steps: a block draws its noise as one matrix, forms the
paths with a cumulative sum, and finds each row's first crossing. Decided rows drop out before the
next block, so the work follows the number of undecided decisions.

A configurable cap bounds the decision time. A decision still inside the boundaries at the cap
takes the boundary it is closer to (ties: the upper one) and the capped time; how many decisions
hit the cap is reported, so that a binding cap is never silent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DDMParams:
    """Parameters of the diffusion process (times in seconds)."""

    threshold: float = 1.2
    relative_start: float = 0.5
    noise_sd: float = 0.4
    dt: float = 0.001
    non_decision_time: float = 0.3
    drift_variability: float = 0.0
    start_variability: float = 0.0
    non_decision_time_variability: float = 0.0
    max_decision_time: float = 20.0
    block_steps: int = 128

    def __post_init__(self) -> None:
        checks = {
            "threshold": self.threshold > 0,
            "relative_start": 0.0 < self.relative_start < 1.0,
            "noise_sd": self.noise_sd > 0,
            "dt": self.dt > 0,
            "non_decision_time": self.non_decision_time >= 0,
            "drift_variability": self.drift_variability >= 0,
            "start_variability": 0 <= self.start_variability < self.threshold,
            "non_decision_time_variability": self.non_decision_time_variability >= 0,
            "max_decision_time": self.max_decision_time >= self.dt,
            "block_steps": self.block_steps >= 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ValueError(
                "drift-diffusion parameters out of range: "
                + ", ".join(f"{name}={getattr(self, name)!r}" for name in bad)
            )

    @property
    def max_steps(self) -> int:
        return math.ceil(self.max_decision_time / self.dt - 1e-9)


@dataclass(frozen=True)
class DDMOutcome:
    """Per decision: upper boundary reached (option 1 chosen), response time, hit the cap."""

    upper: np.ndarray
    rt: np.ndarray
    capped: np.ndarray


def simulate_ddm(drift: np.ndarray, rng: np.random.Generator, params: DDMParams) -> DDMOutcome:
    """Simulate one decision per entry of ``drift``."""
    drift = np.asarray(drift, dtype=np.float64)
    if drift.ndim != 1:
        raise ValueError(f"drift must be 1-D, got shape {drift.shape}")
    n = drift.size
    a = params.threshold
    if params.drift_variability > 0:
        drift = drift + params.drift_variability * rng.standard_normal(n)
    position = np.full(n, params.relative_start * a)
    if params.start_variability > 0:
        position += params.start_variability * (rng.random(n) - 0.5)

    step_drift = drift * params.dt
    step_sd = params.noise_sd * math.sqrt(params.dt)
    steps_taken = np.zeros(n, dtype=np.int64)
    upper = np.zeros(n, dtype=bool)
    undecided = np.arange(n)
    elapsed = 0
    while undecided.size and elapsed < params.max_steps:
        width = min(params.block_steps, params.max_steps - elapsed)
        increments = rng.standard_normal((undecided.size, width))
        increments *= step_sd
        increments += step_drift[undecided, None]
        increments[:, 0] += position[undecided]
        paths = np.cumsum(increments, axis=1)
        outside = (paths >= a) | (paths <= 0.0)
        crossed = outside.any(axis=1)
        first = outside.argmax(axis=1)[crossed]
        decided = undecided[crossed]
        upper[decided] = paths[crossed, first] >= a
        steps_taken[decided] = elapsed + first + 1
        position[undecided] = paths[:, -1]
        undecided = undecided[~crossed]
        elapsed += width

    capped = np.zeros(n, dtype=bool)
    capped[undecided] = True
    upper[undecided] = position[undecided] >= 0.5 * a
    steps_taken[undecided] = params.max_steps

    non_decision = np.full(n, params.non_decision_time)
    if params.non_decision_time_variability > 0:
        non_decision += params.non_decision_time_variability * (rng.random(n) - 0.5)
    rt = steps_taken * params.dt + non_decision
    return DDMOutcome(upper=upper, rt=rt, capped=capped)
