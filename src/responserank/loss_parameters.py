"""Parameters of the preference losses: their validation and the ARM -> beta / p / offset maps.

``check_parameter`` is what every loss in :mod:`responserank.losses` runs on its parameters (beta,
p, offsets, soft targets): a Python number or a CPU tensor that is NaN or outside its domain raises
:class:`~responserank.errors.LossParameterError` naming the parameter, the index and the range; an
accelerator tensor is not inspected, since that would synchronise the device every step.

The maps turn an annotator reliability metric q = P(label correct) into the parameter of a RAPL
loss (source: RAPL, beta / p / margin methods).
"""

from __future__ import annotations

import math

import torch

from responserank.errors import LossParameterError

_LOGIT_EPS = 1e-7


def check_parameter(
    value: torch.Tensor | float,
    name: str,
    low: float | None = None,
    high: float | None = None,
) -> None:
    """Raise when ``value`` is NaN or outside [low, high]; skipped for accelerator tensors.

    A check on a CUDA (or other accelerator) tensor would copy a flag to the host and stall the
    device each step, so those values are checked where they are built (module docstring).
    """
    if torch.is_tensor(value):
        if value.device.type != "cpu" or value.numel() == 0:
            return
        t = value.detach()
        bad = torch.isnan(t)
        if low is not None:
            bad |= t < low
        if high is not None:
            bad |= t > high
        if not bool(bad.any()):
            return
        first = int(torch.nonzero(bad.reshape(-1))[0])
        shown = float(t.reshape(-1)[first])
        where = f"{name}[{first}]" if t.dim() > 0 else name
    else:
        shown = float(value)
        in_range = not math.isnan(shown)
        in_range = in_range and (low is None or shown >= low) and (high is None or shown <= high)
        if in_range:
            return
        where = name
    if low is not None and high is not None:
        expected = f"in [{low:g}, {high:g}]"
    elif low is not None:
        expected = f">= {low:g}"
    elif high is not None:
        expected = f"<= {high:g}"
    else:
        expected = "a number (not NaN)"
    raise LossParameterError(f"{where} = {shown}: expected {expected}")


def _probability(q: torch.Tensor | float) -> torch.Tensor:
    """q as a floating tensor, checked to be a probability (these run where parameters are built,
    once per table, so the check runs on every device)."""
    q = torch.as_tensor(q)
    if not q.is_floating_point():
        q = q.to(torch.float32)
    check_parameter(q.cpu(), "q", 0.0, 1.0)
    return q


def _clamped_logit(q: torch.Tensor) -> torch.Tensor:
    return torch.logit(q, eps=_LOGIT_EPS)


def beta_from_correctness(q: torch.Tensor) -> torch.Tensor:
    """beta = max(0, logit(q)): a label that is correct with probability q <= 0.5 gets no weight.

    q: probabilities in [0, 1] (logit clamped at 1e-7, so q = 1 gives a finite beta of 16.1).
    Raises LossParameterError for a NaN q or one outside [0, 1]. Source: RAPL (beta method).
    """
    return torch.clamp(_clamped_logit(_probability(q)), min=0.0)


def p_from_correctness(q: torch.Tensor) -> torch.Tensor:
    """p = max(0, 2q - 1): the probability of a rational (non-random) label.

    q: probabilities in [0, 1], so p is in [0, 1]. Raises LossParameterError for a NaN q or one
    outside [0, 1]. Source: RAPL (p method).
    """
    q = _probability(q)
    return torch.clamp(2.0 * q - 1.0, min=0.0)


def margin_from_correctness(q: torch.Tensor) -> torch.Tensor:
    """offset m = 1 for q <= 0.5, else max(0, 1 - logit(q)) (for ``margin_loss``).

    q: probabilities in [0, 1]; raises LossParameterError for a NaN q or one outside [0, 1].
    """
    q = _probability(q)
    logit = _clamped_logit(q)
    return torch.where(q <= 0.5, torch.ones_like(logit), torch.clamp(1.0 - logit, min=0.0))
