"""Multi-layer perceptrons: the true utility network and the learners' models.

Parameters are drawn exactly like a default ``torch.nn.Linear`` (uniform in +-1/sqrt(fan_in) for
weights and biases), but from an explicit generator, so that every network of the grid is
reproducible from the master seed.

``FlatEnsemble`` trains E such networks at once with a hand-written backward pass: autograd's
ReLU backward and broadcast-bias handling cost more than the matrix products themselves at the
grid's sizes (profiled: ``threshold_backward`` alone was a quarter of a fit's CPU time).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _LayerSlice:
    """Where one layer lives in a member's row of the flat buffer: [weight rows; bias row]."""

    start: int
    fan_in: int
    fan_out: int

    @property
    def stop(self) -> int:
        return self.start + (self.fan_in + 1) * self.fan_out

    def augmented(self, flat: torch.Tensor) -> torch.Tensor:
        """The layer's (E, fan_in + 1, fan_out) view: the weight with the bias as its last row."""
        return flat[:, self.start : self.stop].view(-1, self.fan_in + 1, self.fan_out)


class FlatEnsemble:
    """E MLPs (ReLU between layers, scalar head) whose parameters share one (E, P) buffer.

    Member e's row holds, layer by layer, the weight (fan_in, fan_out) followed by the bias, so
    each layer is an "augmented" matrix and ``x @ W + b`` is one batched product of the input
    with a column of ones appended. One buffer means one optimizer tensor and one masked copy to
    keep a member's best parameters. ``grad`` is a buffer of the same shape that ``backward``
    fills (the optimizer reads it as ``params.grad``).
    """

    def __init__(self, members: Sequence[Sequence[LayerParams]], dtype: torch.dtype) -> None:
        slices, start = [], 0
        for weight, _ in members[0]:
            slices.append(_LayerSlice(start, weight.shape[0], weight.shape[1]))
            start = slices[-1].stop
        if slices[-1].fan_out != 1:
            raise ValueError(f"the last layer must have one output, got {slices[-1].fan_out}")
        self._slices = slices
        self.params = torch.empty(len(members), start, dtype=dtype)
        for layer, (weight, bias) in zip(slices, stack_members(members), strict=True):
            view = layer.augmented(self.params)
            view[:, :-1].copy_(weight)
            view[:, -1].copy_(bias)
        self.grad = torch.zeros_like(self.params)
        # Views stay valid: the optimizer and ``backward`` update both buffers in place.
        self._param_layers = self.layers(self.params)
        self._grad_layers = self.layers(self.grad)
        self._first = slices[0].augmented(self.params)
        self._first_grad = slices[0].augmented(self.grad)

    def layers(self, flat: torch.Tensor) -> list[LayerParams]:
        """(weight (E, in, out), bias (E, out)) views of a buffer shaped like ``params``."""
        views = [layer.augmented(flat) for layer in self._slices]
        return [(view[:, :-1], view[:, -1]) for view in views]

    @staticmethod
    def with_ones(x: torch.Tensor) -> torch.Tensor:
        """Inputs (E, M, D) -> (E, M, D + 1) with a last column of ones (the bias input)."""
        return torch.cat([x, x.new_ones(*x.shape[:-1], 1)], dim=-1)

    def forward(self, x_ones: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Utilities (E, M) for inputs ``with_ones(x)`` (E, M, D + 1), and the inputs of each
        layer (the first with its ones column, then the ReLU outputs) that ``backward`` needs."""
        if len(self._slices) == 1:
            return _row_times(self._first, x_ones), [x_ones]
        h = torch.bmm(x_ones, self._first).clamp_min_(0.0)
        inputs = [x_ones, h]
        for weight, bias in self._param_layers[1:-1]:
            h = torch.baddbmm(bias.unsqueeze(1), h, weight).clamp_min_(0.0)
            inputs.append(h)
        weight, bias = self._param_layers[-1]
        return _row_times(weight, h) + bias, inputs

    def backward(self, inputs: Sequence[torch.Tensor], grad_utilities: torch.Tensor) -> None:
        """Fill ``grad`` with d(sum of the losses)/d(parameters) from d/d(utilities) (E, M).

        From the head down: dW = input^T @ g and db = the sum of g over rows (for the first
        layer both in one product, through its ones column); the g of the layer below is
        (g @ W^T) where the ReLU passed its input (> 0), else 0. Rows whose utility gradient is
        0 (padding) add nothing.
        """
        g = grad_utilities.unsqueeze(1)  # (E, 1, M): the head in row form
        last = len(self._slices) - 1
        if last == 0:
            self._first_grad.copy_(torch.bmm(g, inputs[0]).transpose(1, 2))
            return
        h, (weight, _) = inputs[last], self._param_layers[last]
        grad_weight, grad_bias = self._grad_layers[last]
        grad_weight.copy_(torch.bmm(g, h).transpose(1, 2))
        grad_bias.copy_(g.sum(dim=2))
        active = torch.sign(h)  # 1 where the ReLU passed its input, else 0
        if last == 1:
            # One hidden layer (the grid's): its g is the rank-one g w^T masked, so
            # dW_aug[d, j] = w[j] * sum_m x[m, d] g[m] active[m, j]; scaling the narrow input
            # instead of the wide mask saves two passes over the (E, M, H) activations.
            scaled = inputs[0] * g.transpose(1, 2)
            product = torch.bmm(scaled.transpose(1, 2), active)
            self._first_grad.copy_(product.mul_(weight.transpose(1, 2)))
            return
        g = active.mul_(weight.transpose(1, 2)).mul_(g.transpose(1, 2))
        for index in range(last - 1, 0, -1):
            h, (weight, _) = inputs[index], self._param_layers[index]
            grad_weight, grad_bias = self._grad_layers[index]
            grad_weight.copy_(torch.bmm(h.transpose(1, 2), g))
            grad_bias.copy_(g.sum(dim=1))
            g = torch.sign(h).mul_(torch.bmm(g, weight.transpose(1, 2)))
        self._first_grad.copy_(torch.bmm(inputs[0].transpose(1, 2), g))


def _row_times(weight: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """h @ w for a one-output layer w (E, in, 1) and rows h (E, M, in), as (E, M).

    Computed as the row w^T (1, in) times h^T (in, M) per member: the batched product is several
    times faster in this orientation on CPU than the column form.
    """
    row = weight.transpose(1, 2).contiguous()  # a strided view is several times slower
    return torch.bmm(row, h.transpose(1, 2)).squeeze(1)
