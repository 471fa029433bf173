"""The gradient of one optimizer step does not depend on how the step is cut into micro-batches
or spread over processes: every micro-batch loss is divided by the comparisons of the whole step."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from one_step import step_gradient
from train_helpers import run_torchrun_cpu

HERE = Path(__file__).parent


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    largest = max(float(v.abs().max()) for v in a.values())
    assert largest > 1e-4, "the step did not move the parameters"
    for name in a:
        torch.testing.assert_close(b[name], a[name], rtol=1e-4, atol=1e-6, msg=name)


@pytest.mark.parametrize("loss", ["bt", "responserank"])
def test_one_by_sixteen_equals_four_by_four(loss):
    _assert_same(step_gradient(loss, 16, 1), step_gradient(loss, 4, 4))


def test_uneven_micro_batches_are_weighted_per_comparison():
    # Partitions (3, 3, 2) in batches of 4 pack as [3], [3], [2]: a per-micro-batch mean would
    # weight the pair's comparisons more than the others.
    sizes = (3, 3, 2)
    _assert_same(
        step_gradient("responserank", 8, 1, sizes), step_gradient("responserank", 4, 3, sizes)
    )


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path):
    """2 processes x 2 accumulation steps x 4 comparisons (gloo on CPU) = 1 x 16."""
    out = tmp_path / "grad.pt"
    run_torchrun_cpu([str(HERE / "one_step.py"), "4", "2", str(out)], extra_path=[str(HERE)])
    distributed = torch.load(out)
    for loss in ("bt", "responserank"):
        _assert_same(step_gradient(loss, 16, 1), distributed[loss])
