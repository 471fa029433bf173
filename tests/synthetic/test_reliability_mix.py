"""Annotators of differing reliability: the generator, its proxy, and the reliability-aware
learners (rapl_beta, rr_rapl and the permuted-proxy control) from the spec to the results file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.special import expit
from scipy.stats import kendalltau

from responserank.errors import ConfigError
from responserank.losses import rapl_beta_loss, responserank_loss
from responserank.seeding import torch_generator
from responserank.synthetic.ensemble import build_objective, fit_ensemble, pack_comparisons
from responserank.synthetic.experiment_runner import run_experiment
from responserank.synthetic.grid import Experiment
from responserank.synthetic.learner_spec import LearnerSpec
from responserank.synthetic.mlp import init_mlp
from responserank.synthetic.reliability_mix import MixedReliabilityResponses
from responserank.synthetic.strength import HyperbolicStrength
from responserank.synthetic.trial_data import DatasetSpec, generate_trial
from responserank.synthetic.utility import FixedNetUtility, UniformItems
from synthetic.runner_helpers import (
    compose_config,
    single_torch_thread,  # noqa: F401 -- autouse fixture
)

STRENGTH = HyperbolicStrength(0.0, 10.0)
F64 = torch.float64


def _spec(**generator) -> DatasetSpec:
    return DatasetSpec(
        name="mix",
        items=UniformItems(20),
        utility=FixedNetUtility((64, 64)),
        responses=MixedReliabilityResponses(**generator),
        strength=STRENGTH,
        num_train_samples=12,
        num_test_samples=10,
        num_strata=3,
    )


def test_reliable_annotators_follow_the_logistic_and_unreliable_ones_flip_coins():
    n = 40000
    rng = np.random.default_rng(5)
    u1 = rng.uniform(-1, 1, n)
    u2 = rng.uniform(-1, 1, n)
    gen = MixedReliabilityResponses(unreliable_share=0.3, proxy_quality=0.6)
    out = gen(u1, u2, STRENGTH, np.random.default_rng(6))
    reliable = out.reliable
    assert 1 - reliable.mean() == pytest.approx(0.3, abs=0.01)
    # Reliable: choices follow sigmoid((u1 - u2) / 0.2) in expectation.
    expected = expit((u1 - u2)[reliable] / 0.2).mean()
    assert out.choice[reliable].mean() == pytest.approx(expected, abs=0.01)
    # Unreliable: a coin flip, unrelated to the utilities.
    assert out.choice[~reliable].mean() == pytest.approx(0.5, abs=0.015)
    better = (u1 > u2)[~reliable]
    assert (out.choice[~reliable] == better).mean() == pytest.approx(0.5, abs=0.015)
    # RT orders strength for reliable annotators only.
    distance = np.abs(u1 - u2)
    assert kendalltau(out.rt[reliable], distance[reliable]).statistic < -0.3
    assert abs(kendalltau(out.rt[~reliable], distance[~reliable]).statistic) < 0.03
    # The proxy: q + (1 - q) v for reliable annotators, (1 - q) v for the others.
    assert out.reliability_proxy[reliable].min() >= 0.6
    assert out.reliability_proxy[~reliable].max() < 0.4
    assert out.reliability_proxy[~reliable].mean() == pytest.approx(0.2, abs=0.01)


def test_heavy_noise_option_and_the_extremes_of_the_knobs():
    n = 20000
    rng = np.random.default_rng(7)
    u1, u2 = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)
    noisy = MixedReliabilityResponses(unreliable_share=1.0, unreliable_temperature=2.0)
    out = noisy(u1, u2, STRENGTH, np.random.default_rng(8))
    assert out.choice.mean() == pytest.approx(expit((u1 - u2) / 2.0).mean(), abs=0.015)
    blind = MixedReliabilityResponses(unreliable_share=0.5, proxy_quality=0.0)
    out = blind(u1, u2, STRENGTH, np.random.default_rng(9))
    assert abs(np.corrcoef(out.reliability_proxy, out.reliable)[0, 1]) < 0.03
    perfect = MixedReliabilityResponses(unreliable_share=0.5, proxy_quality=1.0)
    out = perfect(u1, u2, STRENGTH, np.random.default_rng(9))
    np.testing.assert_array_equal(out.reliability_proxy, out.reliable.astype(float))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"unreliable_share": 1.5}, r"unreliable_share=1.5 \(expected in \[0, 1\]\)"),
        ({"proxy_quality": -0.1}, r"proxy_quality=-0.1 \(expected in \[0, 1\]\)"),
        ({"unreliable_temperature": 0.0}, r"unreliable_temperature=0.0"),
        ({"temperature": 0.0}, r"temperature"),
    ],
)
def test_bad_generator_settings_fail_naming_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MixedReliabilityResponses(**kwargs)


def test_trials_carry_the_proxy_and_other_datasets_do_not():
    trial = generate_trial(_spec(), 42, 3)
    train = trial.train(8)
    assert train["proxy"].shape == (8,) and train["reliable"].shape == (8,)
    assert ((train["proxy"] >= 0) & (train["proxy"] <= 1)).all()
    again = generate_trial(_spec(), 42, 3)
    np.testing.assert_array_equal(again.proxy, trial.proxy)
    cfg = compose_config(["dataset=stochastic"])
    plain = generate_trial(Experiment.from_config(cfg).dataset, 42, 0)
    assert "proxy" not in plain.train()


def _fit(spec: LearnerSpec, members):
    inits = [init_mlp(20, (16,), torch_generator(42, "init", k)) for k in range(len(members))]
    return fit_ensemble(pack_comparisons(members, F64), inits, spec, STRENGTH)


def _members(proxy_value: float | None = None):
    members = []
    for t in (0, 1):
        data = generate_trial(_spec(), 42, t).train()
        if proxy_value is not None:
            data = {**data, "proxy": np.full(data["proxy"].shape, proxy_value)}
        members.append(data)
    return members


def test_with_every_proxy_one_the_reliable_learners_are_their_parents_bit_for_bit():
    members = _members(proxy_value=1.0)
    common = {"hidden_layers": (16,), "num_epochs": 15}
    pairs = [
        (
            LearnerSpec("rr", "rr", **common),
            LearnerSpec("rr_rapl", "rr", reliability="proxy", **common),
        ),
        (
            LearnerSpec("bt", "bt", **common),
            LearnerSpec("rb", "rapl_beta", reliability="proxy", **common),
        ),
    ]
    for parent, child in pairs:
        a, b = _fit(parent, members), _fit(child, members)
        for (wa, ba), (wb, bb) in zip(a.params, b.params, strict=True):
            assert torch.equal(wa, wb) and torch.equal(ba, bb), child.name
        assert torch.equal(a.best_loss, b.best_loss)


def test_reliable_objectives_are_the_library_losses_per_member():
    members = _members()
    batch = pack_comparisons(members, F64)
    margin = torch.randn(
        batch.choice.numel(), dtype=F64, generator=torch.Generator().manual_seed(1)
    )
    oriented = torch.where(batch.choice, margin, -margin)
    rapl = build_objective(LearnerSpec("rb", "rapl_beta", reliability="proxy"), batch, STRENGTH)
    rr = build_objective(LearnerSpec("rr", "rr", reliability="proxy"), batch, STRENGTH)
    for member in range(2):
        mask = batch.member == member
        n = int(mask.sum())
        expected = rapl_beta_loss(oriented[mask], batch.proxy[mask], reduction="sum") / n
        assert float(rapl(margin)[member]) == pytest.approx(float(expected), rel=1e-12)
        expected = (
            responserank_loss(
                oriented[mask], batch.rt[mask], batch.stratum[mask], beta=batch.proxy[mask]
            )
            / n
        )
        assert float(rr(margin)[member]) == pytest.approx(float(expected), rel=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"loss": "bt", "reliability": "proxy"}, r"reliability applies to losses 'rr' and"),
        ({"loss": "rapl_beta"}, r"needs 'proxy' or 'permuted_proxy'"),
        ({"loss": "rr", "reliability": "confidence"}, r"unknown value 'confidence'"),
    ],
)
def test_bad_learner_settings_fail_naming_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LearnerSpec(name="x", **kwargs)


def test_a_reliability_learner_on_a_dataset_without_proxy_is_refused_before_work():
    cfg = compose_config(["dataset=stochastic", "+learner@learners.rr_rapl=rr_rapl"])
    with pytest.raises(ConfigError, match=r"learners \['rr_rapl'\].*'stochastic' has none"):
        Experiment.from_config(cfg)


LEARNER_OVERRIDES = [
    "~learners.rr_pooled",
    "~learners.rr_perm",
    "~learners.rt_regression",
    "~learners.rt_regression_perm",
    "+learner@learners.rapl_beta=rapl_beta",
    "+learner@learners.rr_rapl=rr_rapl",
    "+learner@learners.rr_rapl_proxyperm=rr_rapl_proxyperm",
]


@pytest.mark.parametrize("dataset", ["reliability_mix", "reliability_mix_no_variability"])
def test_the_reliability_grid_runs_end_to_end(tmp_path, dataset):
    overrides = [f"dataset={dataset}", "num_trials=2", "dataset_sizes=[1.0]"]
    overrides += LEARNER_OVERRIDES
    overrides += [f"learners.{n}.num_epochs=5" for n in LEARNERS]
    experiment = Experiment.from_config(compose_config(overrides))
    assert experiment.dataset.stratum_rt_variability == (0.0 if "no_var" in dataset else 3.0)
    run_experiment(experiment, tmp_path, num_processes=1, progress=False)
    results = json.loads((tmp_path / f"{dataset}.json").read_text())
    assert results["metadata"]["learners"] == list(LEARNERS)
    accuracy = {
        name: [
            e["value"] for e in results[name]["sizes"]["1.0"]["summary_metrics"]["choice_accuracy"]
        ]
        for name in LEARNERS
    }
    assert all(len(v) == 2 and all(0 <= x <= 1 for x in v) for v in accuracy.values())
    # The control trains on other comparisons' proxies, so it is a different fit.
    proxy, control = (
        results[name]["sizes"]["1.0"]["summary_metrics"]["best_train_loss"][0]["value"]
        for name in ("rr_rapl", "rr_rapl_proxyperm")
    )
    assert proxy != control


LEARNERS = ("bt", "rr", "rapl_beta", "rr_rapl", "rr_rapl_proxyperm")
