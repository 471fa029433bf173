"""Item distributions and true utility functions of the synthetic world.

Both are configured through Hydra groups (``item_distribution``, ``true_utility``) and
instantiated with ``_target_``; each draws from the generator it is handed, never from global
random state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from responserank.synthetic.mlp import init_mlp, mlp_forward


@dataclass(frozen=True)
class UniformItems:
    """Items x ~ U[0, 1)^dim."""

    dim: int = 20

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.random((n, self.dim))


@dataclass(frozen=True)
class GaussianItems:
    """Items x ~ N(0, 1)^dim."""

    dim: int = 20

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.standard_normal((n, self.dim))


@dataclass(frozen=True)
class FixedNetUtility:
    """A random MLP dim -> hidden... -> 1 (ReLU), drawn afresh for every trial from its seed.

    Options (off by default, as in the paper):
    - ``feature_subset``: the network reads only this many features, chosen at random per trial;
      the others do not affect the utility.
    - ``first_feature_weight``: adds the first feature, standardised over the trial's items, with
      this weight relative to the standardised network output, so x0 matters more than the rest.
    The reference's optional normalisation by the mean utility of 1000 probe items is not offered:
    the utilities are rescaled to ``utility_sd`` afterwards and every quantity of the experiment
    depends on utility differences, which a shift or positive rescaling cannot change.
    """

    hidden_layers: Sequence[int] = field(default=(64, 64))
    feature_subset: int | None = None
    first_feature_weight: float = 0.0

    def __call__(self, items: np.ndarray, generator: torch.Generator) -> np.ndarray:
        inputs = items
        if self.feature_subset is not None:
            if not 1 <= self.feature_subset <= items.shape[1]:
                raise ValueError(
                    f"true_utility.feature_subset={self.feature_subset}: expected 1.."
                    f"{items.shape[1]} (the item dimension)"
                )
            chosen = torch.randperm(items.shape[1], generator=generator)[: self.feature_subset]
            inputs = items[:, np.sort(chosen.numpy())]
        params = init_mlp(inputs.shape[1], self.hidden_layers, generator)
        params64 = [(w.double(), b.double()) for w, b in params]
        with torch.no_grad():
            utilities = mlp_forward(params64, torch.from_numpy(inputs)).numpy()
        if self.first_feature_weight:
            utilities = _standardised(utilities) + self.first_feature_weight * _standardised(
                items[:, 0]
            )
        return utilities


def _standardised(values: np.ndarray) -> np.ndarray:
    sd = float(np.std(values))
    return (values - np.mean(values)) / sd if sd > 0 else values - np.mean(values)


@dataclass(frozen=True)
class FirstFeatureUtility:
    """u = x_0: the utility is the first feature."""

    def __call__(self, items: np.ndarray, generator: torch.Generator) -> np.ndarray:
        return np.array(items[:, 0], dtype=np.float64)
