"""Annotators of differing reliability, with an observable but noisy reliability proxy.

Each comparison is answered by one annotator, reliable with probability 1 - ``unreliable_share``:

- a reliable annotator answers like the ``stochastic`` dataset: P(option 1) =
  sigmoid((u1 - u2) / ``temperature``), RT log-normal with mean RT(|u1 - u2|) and sd ``rt_sd``,
  so a fast answer is a strong preference;
- an unreliable annotator picks option 1 with probability 1/2 (or, with ``unreliable_temperature``
  set, sigmoid((u1 - u2) / unreliable_temperature): heavy noise), and its RT is the RT drawn for a
  random other comparison of the trial: the same distribution, no strength information.

The proxy (think self-reported confidence) is proxy = q * [reliable] + (1 - q) * v with
v ~ U[0, 1) and q = ``proxy_quality``: q = 1 reveals who is reliable, q = 0 is pure noise; it lies in
[0, 1] and the reliability-aware learners use it directly as beta (RAPL's raw-ARM use).
Stratum RT factors are applied afterwards by the trial generator, as for every dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import expit

from responserank.synthetic.generators import Responses, StochasticResponses
from responserank.synthetic.strength import HyperbolicStrength


@dataclass(frozen=True)
class MixedReliabilityResponses:
    """Reliable stochastic annotators mixed with random ones, plus a noisy reliability proxy."""

    unreliable_share: float = 0.4
    proxy_quality: float = 0.5
    temperature: float = 0.2
    rt_sd: float = 0.4
    unreliable_temperature: float | None = None

    #: The trial generator stores ``Responses.reliability_proxy`` for the learners.
    provides_reliability_proxy: ClassVar[bool] = True

    def __post_init__(self) -> None:
        problems = []
        if not 0.0 <= self.unreliable_share <= 1.0:
            problems.append(f"unreliable_share={self.unreliable_share} (expected in [0, 1])")
        if not 0.0 <= self.proxy_quality <= 1.0:
            problems.append(f"proxy_quality={self.proxy_quality} (expected in [0, 1])")
        if self.unreliable_temperature is not None and not self.unreliable_temperature > 0:
            problems.append(
                f"unreliable_temperature={self.unreliable_temperature} (expected > 0 or null)"
            )
        if problems:
            raise ValueError("reliability_mix generator: " + "; ".join(problems))
        StochasticResponses(self.temperature, self.rt_sd)  # validates temperature and rt_sd

    def __call__(
        self,
        u1: np.ndarray,
        u2: np.ndarray,
        strength: HyperbolicStrength,
        rng: np.random.Generator,
    ) -> Responses:
        n = u1.size
        reliable = rng.random(n) >= self.unreliable_share
        careful = StochasticResponses(self.temperature, self.rt_sd)(u1, u2, strength, rng)
        if self.unreliable_temperature is None:
            p_first = np.full(n, 0.5)
        else:
            p_first = expit((u1 - u2) / self.unreliable_temperature)
        careless_choice = rng.random(n) < p_first
        careless_rt = careful.rt[rng.permutation(n)]
        proxy = self.proxy_quality * reliable + (1.0 - self.proxy_quality) * rng.random(n)
        return Responses(
            choice=np.where(reliable, careful.choice, careless_choice),
            rt=np.where(reliable, careful.rt, careless_rt),
            capped=careful.capped,
            reliability_proxy=proxy,
            reliable=reliable,
        )
