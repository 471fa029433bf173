"""Synthetic data: item distributions, utilities, the strength relation, responses, strata,
nested sizes and seeding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit
from scipy.stats import kstest, norm

from responserank.seeding import numpy_rng, torch_generator
from responserank.synthetic.generators import (
    DeterministicResponses,
    DriftDiffusionResponses,
    StochasticResponses,
)
from responserank.synthetic.rundir import size_key
from responserank.synthetic.strength import HyperbolicStrength
from responserank.synthetic.trial_data import DatasetSpec, generate_trial
from responserank.synthetic.utility import (
    FirstFeatureUtility,
    FixedNetUtility,
    GaussianItems,
    UniformItems,
)

STRENGTH = HyperbolicStrength(0.0, 10.0)


def make_spec(responses=None, variability: float = 3.0, **kwargs) -> DatasetSpec:
    return DatasetSpec(
        name="test",
        items=kwargs.pop("items", UniformItems(20)),
        utility=kwargs.pop("utility", FixedNetUtility((64, 64))),
        responses=responses or DeterministicResponses(),
        strength=STRENGTH,
        stratum_rt_variability=variability,
        **kwargs,
    )


def test_uniform_and_gaussian_items_follow_their_distributions():
    uniform = UniformItems(20).sample(2000, np.random.default_rng(0))
    assert uniform.shape == (2000, 20)
    assert uniform.min() >= 0 and uniform.max() < 1
    assert kstest(uniform[:, 3], "uniform").pvalue > 1e-3
    gaussian = GaussianItems(20).sample(2000, np.random.default_rng(0))
    assert kstest(gaussian[:, 3], "norm").pvalue > 1e-3


def test_fixed_net_matches_a_default_initialised_torch_mlp():
    items = np.random.default_rng(1).random((7, 20))
    got = FixedNetUtility((64, 64))(items, torch.Generator().manual_seed(5))
    # nn.Linear layers initialised from the same generator state in the same order.
    gen = torch.Generator().manual_seed(5)
    layers = []
    for fan_in, fan_out in [(20, 64), (64, 64), (64, 1)]:
        linear = torch.nn.Linear(fan_in, fan_out)
        torch.nn.init.kaiming_uniform_(linear.weight, a=math.sqrt(5), generator=gen)
        bound = 1 / math.sqrt(fan_in)
        torch.nn.init.uniform_(linear.bias, -bound, bound, generator=gen)
        layers += [linear.double(), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    with torch.no_grad():
        want = net(torch.from_numpy(items)).squeeze(-1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_first_feature_utility_is_x0():
    items = np.random.default_rng(2).random((5, 20))
    np.testing.assert_array_equal(FirstFeatureUtility()(items, torch.Generator()), items[:, 0])


@given(st.floats(0.0, 1e4, allow_nan=False))
def test_hyperbolic_relation_and_its_inverse(distance):
    rt = STRENGTH.rt_from_distance(distance)
    assert 0.0 < rt <= 10.0
    assert STRENGTH.distance_from_rt(rt) == pytest.approx(distance, rel=1e-9, abs=1e-9)


def test_hyperbolic_relation_values():
    np.testing.assert_allclose(STRENGTH.rt_from_distance([0.0, 1.0, 4.0]), [10.0, 5.0, 2.0])
    shifted = HyperbolicStrength(1.0, 3.0)
    np.testing.assert_allclose(shifted.rt_from_distance([0.0, 1.0]), [3.0, 2.0])
    with pytest.raises(ValueError, match="max_rt must exceed min_rt"):
        HyperbolicStrength(2.0, 1.0)


def test_deterministic_trial_utilities_choices_and_rts():
    spec = make_spec(variability=0.0)
    trial = generate_trial(spec, 42, 0)
    all_u = np.concatenate([trial.u1, trial.u2])
    assert all_u.size == 2 * 250
    assert np.std(all_u) == pytest.approx(1.0)
    assert abs(all_u.mean()) > 1e-3  # rescaled, not centred
    np.testing.assert_array_equal(trial.choice, trial.u1 > trial.u2)
    np.testing.assert_allclose(trial.rt, STRENGTH.rt_from_distance(np.abs(trial.u1 - trial.u2)))
    np.testing.assert_array_equal(trial.stratum_rt_scale, np.ones(5))


def test_stochastic_choices_follow_the_logistic_and_rts_the_lognormal():
    responses = StochasticResponses(temperature=0.2, rt_sd=0.4)
    n = 40000
    u1 = np.full(n, 0.1)
    u2 = np.zeros(n)
    out = responses(u1, u2, STRENGTH, np.random.default_rng(3))
    assert out.choice.mean() == pytest.approx(expit(0.1 / 0.2), abs=0.01)
    mean_rt = STRENGTH.rt_from_distance(0.1)
    assert out.rt.mean() == pytest.approx(mean_rt, rel=0.01)
    assert out.rt.std() == pytest.approx(0.4, rel=0.03)
    assert not out.capped.any()


def test_drift_diffusion_choices_favour_the_better_option():
    rng = np.random.default_rng(4)
    u1, u2 = rng.standard_normal(3000), rng.standard_normal(3000)
    out = DriftDiffusionResponses()(u1, u2, STRENGTH, np.random.default_rng(5))
    agree = np.mean(out.choice == (u1 > u2))
    assert 0.75 < agree < 0.99
    assert out.rt.min() > 0.3  # non-decision time plus at least one step
    # Faster decisions for larger distances (the strength signal RT carries).
    distance = np.abs(u1 - u2)
    assert np.corrcoef(distance, out.rt)[0, 1] < -0.2


def test_stratum_variability_scales_each_stratum_by_one_factor():
    base = generate_trial(make_spec(variability=0.0), 42, 3)
    varied = generate_trial(make_spec(variability=3.0), 42, 3)
    np.testing.assert_array_equal(base.stratum, varied.stratum)
    ratio = varied.rt / base.rt
    for p in range(5):
        in_p = varied.stratum == p
        np.testing.assert_allclose(ratio[in_p], varied.stratum_rt_scale[p])
    assert (varied.stratum_rt_scale > 0).all()
    assert np.ptp(varied.stratum_rt_scale) > 0.5
    assert set(np.unique(varied.stratum)) == set(range(5))


def test_stratum_multipliers_are_abs_normal():
    scales = np.concatenate(
        [
            generate_trial(
                make_spec(variability=3.0, utility=FirstFeatureUtility()), 7, t
            ).stratum_rt_scale
            for t in range(200)
        ]
    )
    # |N(1, 3)| has mean 3 * sqrt(2/pi) * exp(-1/18) + 1 * (1 - 2 Phi(-1/3)).
    expected = 3 * math.sqrt(2 / math.pi) * math.exp(-1 / 18) + (1 - 2 * norm.cdf(-1 / 3))
    assert scales.mean() == pytest.approx(expected, rel=0.1)


def test_train_test_split_and_nested_prefixes():
    spec = make_spec()
    trial = generate_trial(spec, 42, 1)
    assert [spec.train_size(f) for f in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)] == [25, 30, 35, 40, 45, 50]
    small, full = trial.train(25), trial.train()
    for key in ("x1", "x2", "choice", "rt", "stratum"):
        np.testing.assert_array_equal(small[key], full[key][:25])
    test = trial.test()
    assert test["u1"].size == 200
    np.testing.assert_array_equal(test["x1"], trial.x1[50:])
    # comparison i pairs item i with item N + i: option 2 items are not option 1 items
    assert not np.isin(trial.x1[:, 0], trial.x2[:, 0]).any()


def test_seeding_is_reproducible_and_trial_specific():
    spec = make_spec(responses=StochasticResponses())
    a, b = generate_trial(spec, 42, 0), generate_trial(spec, 42, 0)
    for key in ("x1", "u1", "choice", "rt", "stratum"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    other_trial = generate_trial(spec, 42, 1)
    other_master = generate_trial(spec, 43, 0)
    assert not np.allclose(a.u1, other_trial.u1)
    assert not np.allclose(a.u1, other_master.u1)


def test_utility_network_is_seeded_per_trial():
    items = np.random.default_rng(0).random((10, 20))
    net = FixedNetUtility((64, 64))
    first = net(items, torch_generator(42, "trial", 0, "utility"))
    again = net(items, torch_generator(42, "trial", 0, "utility"))
    other = net(items, torch_generator(42, "trial", 1, "utility"))
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)


def test_seed_streams_and_size_keys():
    assert numpy_rng(1, "a", 2).random() == numpy_rng(1, "a", 2).random()
    assert numpy_rng(1, "a", 2).random() != numpy_rng(1, "a", 3).random()
    assert size_key(0.5) == "0.5" and size_key(1) == "1.0"
    with pytest.raises(TypeError):
        numpy_rng(1, 2.5)


def test_dataset_spec_rejects_bad_values():
    with pytest.raises(ValueError, match="num_strata=0"):
        make_spec(num_strata=0)
    with pytest.raises(ValueError, match="stratum_rt_variability"):
        make_spec(variability=-1.0)


def test_feature_subset_makes_the_utility_ignore_the_other_features():
    rng = np.random.default_rng(0)
    items = rng.random((200, 20))
    utility = FixedNetUtility((64, 64), feature_subset=3)
    base = utility(items, torch.Generator().manual_seed(11))
    # Find the three features it reads: changing any other one leaves every utility unchanged.
    used = []
    for j in range(20):
        moved = items.copy()
        moved[:, j] = rng.random(200)
        if not np.allclose(utility(moved, torch.Generator().manual_seed(11)), base):
            used.append(j)
    assert len(used) == 3
    with pytest.raises(ValueError, match="feature_subset"):
        FixedNetUtility(feature_subset=21)(items, torch.Generator().manual_seed(0))


def test_first_feature_weight_emphasises_x0():
    items = np.random.default_rng(1).random((2000, 20))
    plain = FixedNetUtility((64, 64))(items, torch.Generator().manual_seed(2))
    heavy = FixedNetUtility((64, 64), first_feature_weight=5.0)(
        items, torch.Generator().manual_seed(2)
    )
    corr = lambda u: abs(np.corrcoef(u, items[:, 0])[0, 1])  # noqa: E731
    assert corr(heavy) > 0.95 > corr(plain)
