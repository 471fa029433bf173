"""Multi-layer perceptrons: the true utility network and the learners' models.

Parameters are drawn exactly like a default ``torch.nn.Linear`` (uniform in +-1/sqrt(fan_in) for
weights and biases), but from an explicit generator, so that every network of the grid is
reproducible from the master seed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch

LayerParams = tuple[torch.Tensor, torch.Tensor]


def default_linear_init(
    in_features: int, out_features: int, generator: torch.Generator
) -> LayerParams:
    """Weight (in_features, out_features) and bias (out_features,) as nn.Linear would draw them.

    The weight is drawn in nn.Linear's (out, in) layout and then transposed, so the numbers equal
    those of ``nn.Linear(in_features, out_features)`` seeded the same way.
    """
    weight = torch.empty(out_features, in_features)
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5), generator=generator)
    bound = 1.0 / math.sqrt(in_features)
    bias = torch.empty(out_features)
    torch.nn.init.uniform_(bias, -bound, bound, generator=generator)
    return weight.t().contiguous(), bias


def layer_sizes(input_dim: int, hidden_layers: Sequence[int]) -> list[int]:
    """[input_dim, *hidden_layers, 1]: a scalar utility head."""
    return [int(input_dim), *(int(h) for h in hidden_layers), 1]


def init_mlp(
    input_dim: int, hidden_layers: Sequence[int], generator: torch.Generator
) -> list[LayerParams]:
    """Parameters of one MLP input_dim -> hidden... -> 1 (ReLU between layers)."""
    sizes = layer_sizes(input_dim, hidden_layers)
    return [default_linear_init(i, o, generator) for i, o in itertools.pairwise(sizes)]


def mlp_forward(params: Sequence[LayerParams], x: torch.Tensor) -> torch.Tensor:
    """Utilities of the rows of ``x`` (..., input_dim) -> (...,) for one MLP."""
    h = x
    for index, (weight, bias) in enumerate(params):
        h = torch.addmm(bias, h.reshape(-1, h.shape[-1]), weight).reshape(*h.shape[:-1], -1)
        if index < len(params) - 1:
            h = torch.relu(h)
    return h.squeeze(-1)


def stack_members(members: Sequence[Sequence[LayerParams]]) -> list[LayerParams]:
    """Stack E members' parameters: weights (E, in, out), biases (E, out)."""
    num_layers = len(members[0])
    return [
        (
            torch.stack([m[k][0] for m in members]),
            torch.stack([m[k][1] for m in members]),
        )
        for k in range(num_layers)
    ]


def ensemble_forward(params: Sequence[LayerParams], x: torch.Tensor) -> torch.Tensor:
    """Utilities (E, M) of E independent MLPs, member e applied to its own rows x[e] (E, M, D)."""
    h = x
    for index, (weight, bias) in enumerate(params):
        h = torch.baddbmm(bias.unsqueeze(1), h, weight)
        if index < len(params) - 1:
            h = torch.relu(h)
    return h.squeeze(-1)
