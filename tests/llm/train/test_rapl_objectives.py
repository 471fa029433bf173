"""RAPL loss adapters against their formulas, their table checks, centring and LR schedules."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from hydra.utils import instantiate
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from responserank.errors import TableError
from responserank.llm.training.objectives.base import ComparisonBatch
from responserank.llm.training.objectives.margin import MarginObjective
from responserank.llm.training.objectives.rapl_beta import RaplBetaObjective
from responserank.llm.training.objectives.rapl_eps import RaplEpsObjective
from responserank.llm.training.objectives.responserank import ResponseRankObjective
from responserank.llm.training.objectives.responserank_rapl import ResponseRankRaplObjective
from responserank.llm.training.schedules import scheduler_arguments, step_decay_scheduler
from responserank.llm.training.trainer import RewardModelTrainer
from responserank.losses import responserank_loss

CONF = Path(__file__).resolve().parents[3] / "conf" / "llm"


def _batch(reliability) -> ComparisonBatch:
    r = torch.as_tensor(reliability, dtype=torch.float32)
    n = r.numel()
    return ComparisonBatch(
        rank=torch.full((n,), float("nan"), dtype=torch.float64),
        partition=torch.arange(n),
        target=torch.ones(n),
        reliability=r,
    )


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


margins = st.lists(st.floats(-30, 30), min_size=1, max_size=16)


@settings(max_examples=50, deadline=None)
@given(margins, st.data())
def test_rapl_beta_is_the_sum_of_scaled_bt_terms(u, data):
    beta = data.draw(st.lists(st.floats(0, 5), min_size=len(u), max_size=len(u)))
    got = RaplBetaObjective()(torch.tensor(u, dtype=torch.float64), _batch(beta))
    expected = _softplus(-np.array(beta, dtype=np.float32) * np.array(u)).sum()
    assert float(got) == pytest.approx(expected, rel=1e-5, abs=1e-5)


@settings(max_examples=50, deadline=None)
@given(margins, st.data())
def test_rapl_eps_is_the_mixture_likelihood(u, data):
    p = data.draw(st.lists(st.floats(0, 1), min_size=len(u), max_size=len(u)))
    got = RaplEpsObjective()(torch.tensor(u, dtype=torch.float64), _batch(p))
    p32 = np.array(p, dtype=np.float32).astype(float)
    expected = -np.log(p32 * _sigmoid(np.array(u)) + (1 - p32) / 2).sum()
    assert float(got) == pytest.approx(expected, rel=1e-5, abs=1e-5)


@settings(max_examples=50, deadline=None)
@given(margins, st.data())
def test_margin_objective_shifts_the_margin(u, data):
    m = data.draw(st.lists(st.floats(-2, 2), min_size=len(u), max_size=len(u)))
    got = MarginObjective()(torch.tensor(u, dtype=torch.float64), _batch(m))
    expected = _softplus(-(np.array(u) - np.array(m, dtype=np.float32))).sum()
    assert float(got) == pytest.approx(expected, rel=1e-5, abs=1e-5)


def test_special_cases_bt_and_ignored_labels():
    u = torch.tensor([-2.0, 0.5, 3.0])
    bt = float(torch.nn.functional.softplus(-u).sum())
    assert float(RaplBetaObjective()(u, _batch([1, 1, 1]))) == pytest.approx(bt)
    assert float(RaplEpsObjective()(u, _batch([1, 1, 1]))) == pytest.approx(bt, rel=1e-6)
    assert float(MarginObjective()(u, _batch([0, 0, 0]))) == pytest.approx(bt)
    assert float(RaplBetaObjective()(u, _batch([0, 0, 0]))) == pytest.approx(3 * math.log(2))
    assert float(RaplEpsObjective()(u, _batch([0, 0, 0]))) == pytest.approx(3 * math.log(2))


@pytest.mark.parametrize("objective", [RaplBetaObjective(), RaplEpsObjective(), MarginObjective()])
def test_center_rewards_term_is_added_for_every_loss(objective):
    chosen = torch.tensor([1.0, -0.5, 2.0])
    rejected = torch.tensor([0.5, 0.5, -1.0])
    inputs = {
        "rank": torch.full((3,), float("nan"), dtype=torch.float64),
        "partition": torch.arange(3),
        "target": torch.ones(3),
        "reliability": torch.tensor([0.9, 0.2, 0.6]),
    }
    plain = SimpleNamespace(objective=objective, center_rewards_coefficient=0.0)
    centred = SimpleNamespace(objective=objective, center_rewards_coefficient=0.25)
    base = RewardModelTrainer._loss_sum(plain, chosen, rejected, inputs)
    total = RewardModelTrainer._loss_sum(centred, chosen, rejected, inputs)
    # The trainer divides sums by the comparisons in the step: 0.25 * mean((rc + rr)^2) per item.
    expected_extra = 0.25 * float(((chosen + rejected) ** 2).sum())
    assert float(total - base) == pytest.approx(expected_extra)


def _table(reliability, **extra) -> pd.DataFrame:
    n = len(reliability)
    return pd.DataFrame(
        {
            "comparison_id": [f"c{i}" for i in range(n)],
            "rank": np.nan,
            "partition": range(n),
            "target": 1.0,
            "reliability": reliability,
            **extra,
        }
    )


def test_table_checks_name_rows_and_fix():
    with pytest.raises(
        TableError, match=r"needs a finite 'reliability' \(beta\).*row 1.*signal=arm"
    ):
        RaplBetaObjective().check_table(_table([0.5, np.nan]), "lie")
    with pytest.raises(TableError, match=r"must lie in \[0.0, 1.0\] for loss rapl_eps.*row 0"):
        RaplEpsObjective().check_table(_table([1.2, 0.5]), "lie")
    with pytest.raises(TableError, match=r"must lie in \[0.0, None\] for loss rapl_beta"):
        RaplBetaObjective().check_table(_table([-0.1]), "lie")
    with pytest.raises(TableError, match=r"signal mapped it to \['beta'\].*signal.map_to=p"):
        RaplEpsObjective().check_table(_table([0.5], reliability_kind=["beta"]), "lie")
    with pytest.raises(TableError, match="soft labels"):
        RaplBetaObjective().check_table(_table([0.5], target=[0.7]), "lie")
    RaplEpsObjective().check_table(_table([0.0, 1.0], reliability_kind=["raw", "p"]), "lie")
    MarginObjective().check_table(_table([-3.0, 2.0]), "lie")


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("rapl_beta", RaplBetaObjective),
        ("rapl_eps", RaplEpsObjective),
        ("margin", MarginObjective),
        ("responserank_rapl", ResponseRankRaplObjective),
    ],
)
def test_loss_group_yaml_builds_the_adapter(name, cls):
    objective = instantiate(OmegaConf.load(CONF / "loss" / f"{name}.yaml"))
    assert isinstance(objective, cls) and objective.name == name


@pytest.mark.parametrize("path", sorted((CONF / "loss").glob("*.yaml")), ids=lambda p: p.stem)
def test_loss_option_names_meet_the_objective_modules(path):
    """loss=<name> builds an objective named <name> from module objectives/<name>.py (bt_soft:
    the soft-label setting of objectives/bt.py)."""
    node = OmegaConf.load(path)
    module = node["_target_"].rsplit(".", 1)[0]
    assert module == f"responserank.llm.training.objectives.{path.stem.removesuffix('_soft')}"
    assert instantiate(node).name == path.stem


def _ranked_batch(rank, partition, beta) -> ComparisonBatch:
    return ComparisonBatch(
        rank=torch.tensor(rank, dtype=torch.float64),
        partition=torch.tensor(partition),
        target=torch.ones(len(rank)),
        reliability=torch.tensor(beta, dtype=torch.float32),
    )


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-8, 8), st.floats(0, 3), st.integers(0, 3)), min_size=1, max_size=12
    )
)
def test_responserank_rapl_is_the_library_loss_and_reduces_to_both_parents(rows):
    u = torch.tensor([r[0] for r in rows], dtype=torch.float64)
    beta = [r[1] for r in rows]
    partition = [r[2] for r in rows]
    rank = [float(k) for k in range(len(rows))]
    objective = ResponseRankRaplObjective(allow_ties=False)
    got = objective(u, _ranked_batch(rank, partition, beta))
    expected = responserank_loss(
        u, torch.tensor(rank), torch.tensor(partition), beta=torch.tensor(beta, dtype=torch.float32)
    )
    assert float(got) == pytest.approx(float(expected), rel=1e-9, abs=1e-9)
    ones = _ranked_batch(rank, partition, [1.0] * len(rows))
    assert torch.equal(objective(u, ones), ResponseRankObjective()(u, ones))
    alone = _ranked_batch([math.nan] * len(rows), list(range(len(rows))), beta)
    assert float(objective(u, alone)) == pytest.approx(
        float(RaplBetaObjective()(u, alone)), rel=1e-6, abs=1e-6
    )


def test_responserank_rapl_table_checks_come_from_both_parents():
    def table(rank, partition, reliability, **extra):
        return _table(reliability, rank=rank, partition=partition, **extra)

    objective = ResponseRankRaplObjective(allow_ties=False)
    objective.check_table(table([0.0, 1.0, np.nan], [0, 0, 1], [0.5, 1.0, 0.0]), "lie")
    with pytest.raises(TableError, match=r"must lie in \[0.0, None\] for loss responserank_rapl"):
        objective.check_table(table([0.0, 1.0], [0, 0], [0.5, -1.0]), "lie")
    with pytest.raises(TableError, match=r"needs a finite 'reliability' \(beta\)"):
        objective.check_table(table([0.0, 1.0], [0, 0], [0.5, np.nan]), "lie")
    with pytest.raises(TableError, match=r"without 'rank' must be alone"):
        objective.check_table(table([0.0, np.nan], [0, 0], [0.5, 0.5]), "lie")
    with pytest.raises(TableError, match=r"tied 'rank' values"):
        objective.check_table(table([1.0, 1.0], [0, 0], [0.5, 0.5]), "lie")
    ResponseRankRaplObjective(allow_ties=True).check_table(
        table([1.0, 1.0], [0, 0], [0.5, 0.5]), "lie"
    )
    with pytest.raises(TableError, match=r"signal mapped it to \['p'\]"):
        objective.check_table(table([0.0], [0], [0.5], reliability_kind=["p"]), "lie")


def _lrs(scheduler, optimizer, steps: int) -> list[float]:
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_step_decay_and_cosine_with_floor():
    from transformers.optimization import get_scheduler

    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=1.0)
    rates = _lrs(step_decay_scheduler(optimizer, 9), optimizer, 9)
    assert rates == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01])

    optimizer = torch.optim.SGD([param], lr=1.0)
    args = scheduler_arguments("cosine_w_floor")
    scheduler = get_scheduler(
        args["lr_scheduler_type"],
        optimizer,
        num_warmup_steps=0,
        num_training_steps=10,
        scheduler_specific_kwargs=args["lr_scheduler_kwargs"],
    )
    rates = _lrs(scheduler, optimizer, 11)
    expected = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t / 10)) for t in range(11)]
    assert rates == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"unknown training\.lr_scheduler 'zigzag'"):
        scheduler_arguments("zigzag")
