"""The flat-buffer ensemble's hand-written backward and optimizer against torch's own."""

from __future__ import annotations

import pytest
import torch

from responserank.synthetic.ensemble import _FusedAdamW
from responserank.synthetic.mlp import FlatEnsemble, ensemble_forward, init_mlp, stack_members
from synthetic.runner_helpers import single_torch_thread  # noqa: F401 -- autouse fixture

F64 = torch.float64


def _members(hidden: tuple[int, ...], count: int = 3, dim: int = 4) -> list:
    generator = torch.Generator().manual_seed(7)
    return [
        [(w.to(F64), b.to(F64)) for w, b in init_mlp(dim, hidden, generator)] for _ in range(count)
    ]


@pytest.mark.parametrize("hidden", [(), (6,), (6, 5)], ids=["linear", "one_hidden", "two_hidden"])
def test_forward_and_backward_equal_autograd(hidden):
    members = _members(hidden)
    x = torch.randn(3, 10, 4, dtype=F64, generator=torch.Generator().manual_seed(1))
    grad_utilities = torch.randn(3, 10, dtype=F64, generator=torch.Generator().manual_seed(2))
    grad_utilities[1, 6:] = 0.0  # padding rows: no loss, so no gradient may come from them

    ensemble = FlatEnsemble(members, F64)
    utilities, inputs = ensemble.forward(FlatEnsemble.with_ones(x))
    ensemble.backward(inputs, grad_utilities)

    stacked = [
        (w.clone().requires_grad_(), b.clone().requires_grad_()) for w, b in stack_members(members)
    ]
    reference = ensemble_forward(stacked, x)
    (reference * grad_utilities).sum().backward()

    torch.testing.assert_close(utilities, reference.detach(), rtol=1e-12, atol=1e-12)
    for (grad_w, grad_b), (w, b) in zip(ensemble.layers(ensemble.grad), stacked, strict=True):
        torch.testing.assert_close(grad_w, w.grad, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(grad_b, b.grad, rtol=1e-12, atol=1e-12)


def test_flat_buffer_round_trips_the_parameters():
    members = _members((6,))
    ensemble = FlatEnsemble(members, F64)
    for (w, b), (want_w, want_b) in zip(
        ensemble.layers(ensemble.params), stack_members(members), strict=True
    ):
        assert torch.equal(w, want_w) and torch.equal(b, want_b)


def test_fused_adamw_equals_torch_optimizer_bit_for_bit():
    start = torch.randn(4, 50, generator=torch.Generator().manual_seed(3))
    module_param = start.clone().requires_grad_()
    reference = torch.optim.AdamW([module_param], lr=0.01, weight_decay=0.01, fused=True)
    ours = _FusedAdamW(start.clone(), lr=0.01, weight_decay=0.01)
    generator = torch.Generator().manual_seed(4)
    for _ in range(30):
        grad = torch.randn(4, 50, generator=generator)
        module_param.grad = grad.clone()
        reference.step()
        ours.step(grad.clone())
    assert torch.equal(ours.params, module_param.detach())
