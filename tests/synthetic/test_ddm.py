"""Drift-diffusion simulation: boundary probabilities, decision times, the time cap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from responserank.synthetic.ddm import DDMParams, simulate_ddm


def upper_probability(v: float, a: float, z: float, s: float) -> float:
    """P(hit a before 0) of a Wiener process with drift v, noise s, start z (closed form)."""
    if v == 0:
        return z / a
    k = 2 * v / s**2
    return (1 - math.exp(-k * z)) / (1 - math.exp(-k * a))


def mean_decision_time(v: float, a: float, z: float, s: float) -> float:
    """Expected first-passage time (closed form, v != 0)."""
    p = upper_probability(v, a, z, s)
    return (a * p - z) / v


@pytest.mark.parametrize("drift", [-1.5, -0.5, 0.0, 0.5, 1.5])
def test_boundary_proportions_match_the_wiener_process(drift):
    params = DDMParams()
    n = 8000
    out = simulate_ddm(np.full(n, drift), np.random.default_rng(11), params)
    want = upper_probability(drift, params.threshold, 0.6, params.noise_sd)
    assert out.upper.mean() == pytest.approx(want, abs=4 * math.sqrt(want * (1 - want) / n) + 0.01)
    if drift > 0:
        assert out.upper.mean() > 0.5
    if drift < 0:
        assert out.upper.mean() < 0.5


def test_decision_times_match_the_wiener_process():
    params = DDMParams()
    out = simulate_ddm(np.full(8000, 1.0), np.random.default_rng(12), params)
    decision = out.rt - params.non_decision_time
    want = mean_decision_time(1.0, params.threshold, 0.6, params.noise_sd)
    assert decision.mean() == pytest.approx(want, rel=0.03)
    assert not out.capped.any()
    # times are whole Euler steps
    steps = decision / params.dt
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)


def test_time_cap_is_applied_and_counted():
    params = DDMParams(max_decision_time=1.0, block_steps=64)
    drift = np.zeros(2000)
    out = simulate_ddm(drift, np.random.default_rng(13), params)
    capped_rt = 1.0 + params.non_decision_time
    assert 0 < out.capped.sum() < drift.size
    np.testing.assert_allclose(out.rt[out.capped], capped_rt)
    assert (out.rt[~out.capped] <= capped_rt + 1e-12).all()
    # decisions that reached a boundary before the cap are not counted
    assert (out.rt[~out.capped] < capped_rt).mean() > 0.99


def test_variabilities_change_the_outcome_and_stay_reproducible():
    drift = np.linspace(-1, 1, 500)
    base = simulate_ddm(drift, np.random.default_rng(14), DDMParams())
    again = simulate_ddm(drift, np.random.default_rng(14), DDMParams())
    np.testing.assert_array_equal(base.rt, again.rt)
    varied = simulate_ddm(
        drift,
        np.random.default_rng(14),
        DDMParams(drift_variability=0.5, start_variability=0.2, non_decision_time_variability=0.1),
    )
    assert not np.array_equal(base.rt, varied.rt)
    assert varied.rt.min() >= 0.25


def test_block_size_does_not_bias_the_result():
    drift = np.full(6000, 0.8)
    small = simulate_ddm(drift, np.random.default_rng(15), DDMParams(block_steps=7))
    large = simulate_ddm(drift, np.random.default_rng(16), DDMParams(block_steps=1024))
    assert small.upper.mean() == pytest.approx(large.upper.mean(), abs=0.03)
    assert small.rt.mean() == pytest.approx(large.rt.mean(), rel=0.04)


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="threshold=-1"):
        DDMParams(threshold=-1)
    with pytest.raises(ValueError, match="drift must be 1-D"):
        simulate_ddm(np.zeros((2, 2)), np.random.default_rng(0), DDMParams())
