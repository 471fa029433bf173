"""The hyperbolic relation between preference strength and response time.

A larger utility distance d = |u1 - u2| gives a faster response: RT(d) = min_rt + (max_rt -
min_rt) / (d + 1). The inverse recovers the distance that an observed RT implies, which is the
regression target of the RT-regression learner.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class HyperbolicStrength:
    """RT(d) = min_rt + (max_rt - min_rt) / (d + 1) and its inverse."""

    min_rt: float = 0.0
    max_rt: float = 10.0

    def __post_init__(self) -> None:
        if not self.max_rt > self.min_rt:
            raise ValueError(
                f"strength: max_rt must exceed min_rt, got min_rt={self.min_rt}, "
                f"max_rt={self.max_rt}"
            )

    def rt_from_distance(self, distance: np.ndarray) -> np.ndarray:
        """Expected response time for utility distance(s) ``distance`` >= 0."""
        distance = np.asarray(distance, dtype=np.float64)
        return self.min_rt + (self.max_rt - self.min_rt) / (distance + 1.0)

    def distance_from_rt(self, rt: np.ndarray) -> np.ndarray:
        """Utility distance implied by response time(s) ``rt`` > min_rt."""
        rt = np.asarray(rt, dtype=np.float64)
        return (self.max_rt - self.min_rt) / (rt - self.min_rt) - 1.0
