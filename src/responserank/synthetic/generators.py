"""Choice-and-response-time models: how a simulated annotator answers a comparison.

Each model maps the true utilities (u1, u2) of the options of every comparison to a choice
(True = option 1) and a response time. Configured in ``dataset.generator`` with ``_target_``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from responserank.synthetic.ddm import DDMParams, simulate_ddm
from responserank.synthetic.strength import HyperbolicStrength


@dataclass(frozen=True)
class Responses:
    """Per comparison: option 1 chosen, response time, whether a simulation cap was hit; models
    with annotators of differing reliability also give an observable reliability proxy in [0, 1]
    and the (hidden) truth of who was reliable."""

    choice: np.ndarray
    rt: np.ndarray
    capped: np.ndarray
    reliability_proxy: np.ndarray | None = None
    reliable: np.ndarray | None = None


def _no_cap(n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool)


@dataclass(frozen=True)
class DeterministicResponses:
    """The better option is always chosen; RT is exactly the hyperbolic RT of the distance."""

    def __call__(
        self,
        u1: np.ndarray,
        u2: np.ndarray,
        strength: HyperbolicStrength,
        rng: np.random.Generator,
    ) -> Responses:
        rt = strength.rt_from_distance(np.abs(u1 - u2))
        return Responses(choice=u1 > u2, rt=rt, capped=_no_cap(u1.size))


@dataclass(frozen=True)
class StochasticResponses:
    """Logistic choices with temperature; log-normal RTs around the hyperbolic RT.

    The log-normal has mean m = RT(|u1 - u2|) and standard deviation ``rt_sd``.
    """

    temperature: float = 0.2
    rt_sd: float = 0.4

    def __post_init__(self) -> None:
        if not (self.temperature > 0 and self.rt_sd > 0):
            raise ValueError(
                f"stochastic generator: temperature and rt_sd must be > 0, got "
                f"temperature={self.temperature}, rt_sd={self.rt_sd}"
            )

    def __call__(
        self,
        u1: np.ndarray,
        u2: np.ndarray,
        strength: HyperbolicStrength,
        rng: np.random.Generator,
    ) -> Responses:
        p_first = expit((u1 - u2) / self.temperature)
        choice = rng.random(u1.size) < p_first
        mean = strength.rt_from_distance(np.abs(u1 - u2))
        variance_ratio = 1.0 + (self.rt_sd / mean) ** 2
        mu = np.log(mean / np.sqrt(variance_ratio))
        sigma = np.sqrt(np.log(variance_ratio))
        rt = rng.lognormal(mu, sigma)
        return Responses(choice=choice, rt=rt, capped=_no_cap(u1.size))


@dataclass(frozen=True)
class DriftDiffusionResponses(DDMParams):
    """Drift-diffusion decisions with drift proportional to the utility difference.

    v = (u1 - u2) * drift_multiplier, divided by the standard deviation of v over the trial's
    comparisons when ``normalize_drift`` (so the difficulty does not depend on the utility
    scale). The upper boundary is option 1. The diffusion parameters (threshold, noise, time step,
    cap, ...) are the fields of :class:`~responserank.synthetic.ddm.DDMParams`, their one home,
    checked when the model is built.
    """

    drift_multiplier: float = 1.0
    normalize_drift: bool = True

    def __call__(
        self,
        u1: np.ndarray,
        u2: np.ndarray,
        strength: HyperbolicStrength,
        rng: np.random.Generator,
    ) -> Responses:
        drift = (u1 - u2) * self.drift_multiplier
        if self.normalize_drift:
            sd = drift.std()
            if sd > 0:
                drift = drift / sd
        outcome = simulate_ddm(drift, rng, self)
        return Responses(choice=outcome.upper, rt=outcome.rt, capped=outcome.capped)
