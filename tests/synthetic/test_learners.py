"""Batched ensemble training: each member trains exactly as it would alone."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from responserank.losses import bt_loss, responserank_loss, rt_regression_loss
from responserank.seeding import torch_generator
from responserank.synthetic.ensemble import (
    build_objective,
    fit_ensemble,
    fit_single,
    pack_comparisons,
)
from responserank.synthetic.generators import StochasticResponses
from responserank.synthetic.learner_spec import LearnerSpec
from responserank.synthetic.mlp import ensemble_forward, init_mlp, mlp_forward
from responserank.synthetic.strength import HyperbolicStrength
from responserank.synthetic.trial_data import DatasetSpec, generate_trial
from responserank.synthetic.utility import FixedNetUtility, UniformItems
from synthetic.runner_helpers import single_torch_thread  # noqa: F401 -- autouse fixture

STRENGTH = HyperbolicStrength(0.0, 10.0)
SPEC = DatasetSpec(
    name="t",
    items=UniformItems(20),
    utility=FixedNetUtility((64, 64)),
    responses=StochasticResponses(),
    strength=STRENGTH,
    num_train_samples=12,
    num_test_samples=10,
    num_strata=3,
)
F64 = torch.float64


def members_and_inits(sizes=(5, 12, 8), trials=(0, 1), hidden=(16,)):
    members, inits = [], []
    for t in trials:
        trial = generate_trial(SPEC, 42, t)
        for n in sizes:
            members.append(trial.train(n))
            inits.append(init_mlp(20, hidden, torch_generator(42, "init", t, n)))
    return members, inits


LEARNERS = [
    LearnerSpec(name="bt", loss="bt", hidden_layers=(16,), num_epochs=25),
    LearnerSpec(name="bt_ls", loss="bt", label_smoothing=0.1, hidden_layers=(16,), num_epochs=25),
    LearnerSpec(name="rtr", loss="rt_regression", hidden_layers=(16,), num_epochs=25),
    LearnerSpec(name="rr", loss="rr", hidden_layers=(16,), num_epochs=25),
    LearnerSpec(name="rrp", loss="rr", stratified=False, hidden_layers=(16,), num_epochs=25),
    LearnerSpec(
        name="rr_opts",
        loss="rr",
        worth_transform="sigmoid",
        singleton_strata="drop",
        misclassification_penalty=0.5,
        hidden_layers=(16,),
        num_epochs=25,
    ),
]


DEPTHS = [
    LearnerSpec(name="bt_linear", loss="bt", hidden_layers=(), num_epochs=25),
    LearnerSpec(name="rr_two_hidden", loss="rr", hidden_layers=(8, 4), num_epochs=25),
]


@pytest.mark.parametrize("spec", LEARNERS + DEPTHS, ids=lambda s: s.name)
def test_ensemble_equals_separate_single_fits(spec):
    members, inits = members_and_inits(hidden=spec.hidden_layers)
    fit = fit_ensemble(pack_comparisons(members, F64), inits, spec, STRENGTH)
    x = torch.as_tensor(np.random.default_rng(0).random((30, 20)), dtype=F64)
    with torch.no_grad():
        ensemble_pred = ensemble_forward(fit.params, x.expand(len(members), *x.shape))
    for e, (data, init) in enumerate(zip(members, inits, strict=True)):
        params, best_epoch, best_loss = fit_single(data, init, spec, STRENGTH, F64)
        assert int(fit.best_epoch[e]) == best_epoch
        assert float(fit.best_loss[e]) == pytest.approx(best_loss, rel=1e-10, abs=1e-12)
        with torch.no_grad():
            single_pred = mlp_forward(params, x)
        torch.testing.assert_close(ensemble_pred[e], single_pred, rtol=1e-7, atol=1e-8)


def test_objectives_equal_the_loss_library_per_member():
    members, _ = members_and_inits(sizes=(5, 12))
    batch = pack_comparisons(members, F64)
    margin = torch.as_tensor(np.random.default_rng(1).normal(size=batch.member.numel()))
    per_member = {
        spec.name: build_objective(spec, batch, STRENGTH)(margin) for spec in LEARNERS[:5]
    }
    start = 0
    for e, data in enumerate(members):
        n = data["choice"].size
        d = margin[start : start + n]
        start += n
        choice = torch.as_tensor(data["choice"])
        oriented = torch.where(choice, d, -d)
        rt = torch.as_tensor(data["rt"], dtype=F64)
        stratum = torch.as_tensor(data["stratum"])
        want = {
            "bt": bt_loss(oriented),
            "bt_ls": bt_loss(oriented, target=0.9),
            "rtr": rt_regression_loss(d, rt, choice.to(F64), 0.0, 10.0),
            "rr": responserank_loss(oriented, rt, stratum, reduction="sum") / n,
            "rrp": responserank_loss(oriented, rt, torch.zeros_like(stratum), "sum") / n,
        }
        for name, value in want.items():
            assert float(per_member[name][e]) == pytest.approx(float(value), rel=1e-12), name


def test_rr_options_sigmoid_worth_drop_singletons_and_penalty():
    data = {
        "x1": np.zeros((4, 2)),
        "x2": np.zeros((4, 2)),
        "choice": np.array([True, False, True, True]),
        "rt": np.array([1.0, 2.0, 3.0, 4.0]),
        "stratum": np.array([0, 0, 1, 2]),  # strata 1 and 2 hold one comparison each
    }
    batch = pack_comparisons([data], F64)
    d = torch.tensor([0.5, 0.3, -0.2, 1.0], dtype=F64)
    e = torch.tensor([0.5, -0.3, -0.2, 1.0], dtype=F64)

    def spec(**kw):
        return LearnerSpec(name="x", loss="rr", **kw)

    keep = build_objective(spec(), batch, STRENGTH)(d)
    want_keep = (
        responserank_loss(e[:2], torch.tensor([1.0, 2.0]), torch.tensor([0, 0]), "sum")
        + bt_loss(e[2:], reduction="sum")
    ) / 4
    assert float(keep[0]) == pytest.approx(float(want_keep))

    drop = build_objective(spec(singleton_strata="drop"), batch, STRENGTH)(d)
    want_drop = responserank_loss(e[:2], torch.tensor([1.0, 2.0]), torch.tensor([0, 0]), "sum") / 2
    assert float(drop[0]) == pytest.approx(float(want_drop))

    # sigmoid worth: PL over worths sigmoid(e) with the anchor's worth sigmoid(0) = 1/2
    sig = build_objective(spec(worth_transform="sigmoid"), batch, STRENGTH)(d)
    w = torch.sigmoid(e)
    pair = -(torch.log(w[0] / (w[0] + w[1] + 0.5)) + torch.log(w[1] / (w[1] + 0.5)))
    singles = -(torch.log(w[2] / (w[2] + 0.5)) + torch.log(w[3] / (w[3] + 0.5)))
    assert float(sig[0]) == pytest.approx(float((pair + singles) / 4))

    penalised = build_objective(spec(misclassification_penalty=2.0), batch, STRENGTH)(d)
    assert float(penalised[0]) == pytest.approx(float(want_keep) + 2.0 * (0.3 + 0.2))


def test_model_selection_keeps_the_weights_after_the_lowest_loss_epoch():
    members, inits = members_and_inits(sizes=(12,), trials=(0,))
    # A large learning rate makes the loss jump about, so the best epoch is not the last one.
    spec = LearnerSpec(name="bt", loss="bt", hidden_layers=(16,), num_epochs=30, lr=1.0)
    batch = pack_comparisons(members, F64)
    fit = fit_ensemble(batch, inits, spec, STRENGTH)

    objective = build_objective(spec, batch, STRENGTH)
    params = [(w.to(F64).requires_grad_(), b.to(F64).requires_grad_()) for w, b in inits[0]]
    flat = [t for layer in params for t in layer]
    optimizer = torch.optim.AdamW(flat, lr=spec.lr, weight_decay=spec.weight_decay)
    losses, snapshots = [], []
    for _ in range(spec.num_epochs):
        optimizer.zero_grad()
        x = batch.x[0]
        loss = objective(mlp_forward(params, x[:12]) - mlp_forward(params, x[12:]))[0]
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        snapshots.append([t.detach().clone() for t in flat])
    best = int(np.argmin(losses))
    assert best != len(losses) - 1, "test needs a best epoch before the last"
    assert int(fit.best_epoch[0]) == best
    assert float(fit.best_loss[0]) == pytest.approx(losses[best], rel=1e-10)
    selected = [t for layer in fit.params for t in layer]
    for got, want in zip(selected, snapshots[best], strict=True):
        torch.testing.assert_close(got[0], want, rtol=1e-7, atol=1e-8)
    assert not math.isclose(losses[best], losses[-1])


def test_learner_spec_validation_lists_choices():
    with pytest.raises(ValueError, match=r"learners\.x\.loss.*bt, rt_regression, rr"):
        LearnerSpec.from_config("x", {"loss": "hinge"})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['epochs'\]"):
        LearnerSpec.from_config("x", {"loss": "bt", "epochs": 3})
    with pytest.raises(ValueError, match=r"worth_transform.*exp, sigmoid"):
        LearnerSpec.from_config("x", {"loss": "rr", "worth_transform": "softplus"})
    with pytest.raises(ValueError, match="label_smoothing applies to loss 'bt' only"):
        LearnerSpec.from_config("x", {"loss": "rr", "label_smoothing": 0.1})
