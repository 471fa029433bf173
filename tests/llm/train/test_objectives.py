"""Loss adapters: what they compute, and which tables they refuse before training."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from responserank.errors import TableError
from responserank.llm.training.objectives.base import ComparisonBatch
from responserank.llm.training.objectives.bt import BradleyTerryObjective
from responserank.llm.training.objectives.responserank import ResponseRankObjective
from responserank.losses import bt_loss, responserank_loss


def _batch(rank, partition, target=None):
    n = len(rank)
    return ComparisonBatch(
        rank=torch.tensor(rank, dtype=torch.float64),
        partition=torch.tensor(partition, dtype=torch.long),
        target=torch.tensor(target if target is not None else [1.0] * n),
        reliability=torch.full((n,), float("nan")),
    )


def _table(rank, partition, target=None):
    n = len(rank)
    return pd.DataFrame(
        {
            "comparison_id": [f"c{i}" for i in range(n)],
            "rank": rank,
            "partition": partition,
            "target": target if target is not None else [1.0] * n,
            "reliability": [np.nan] * n,
        }
    )


def test_bt_sums_the_per_comparison_terms():
    margin = torch.tensor([0.5, -1.0, 2.0])
    batch = _batch([np.nan] * 3, [0, 1, 2])
    assert BradleyTerryObjective()(margin, batch) == pytest.approx(float(3 * bt_loss(margin)))


def test_bt_soft_uses_the_targets():
    margin = torch.tensor([0.5, -1.0])
    batch = _batch([np.nan] * 2, [0, 1], target=[0.7, 0.4])
    expected = bt_loss(margin, torch.tensor([0.7, 0.4]), reduction="sum")
    assert BradleyTerryObjective(soft_targets=True)(margin, batch) == pytest.approx(float(expected))
    assert BradleyTerryObjective()(margin, batch) != pytest.approx(float(expected))


def test_hard_bt_refuses_soft_targets_naming_rows_and_field():
    table = _table([np.nan] * 3, [0, 1, 2], target=[1.0, 0.8, 1.0])
    with pytest.raises(
        TableError, match=r"data\.csv: .*'target'.*row 1 \(comparison_id=c1\).*bt_soft"
    ):
        BradleyTerryObjective().check_table(table, "data.csv")
    BradleyTerryObjective(soft_targets=True).check_table(table, "data.csv")


def test_soft_bt_refuses_targets_outside_unit_interval():
    with pytest.raises(TableError, match="row 0"):
        BradleyTerryObjective(soft_targets=True).check_table(_table([np.nan], [0], [1.5]), "t")


@settings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 5), min_size=1, max_size=6), seed=st.integers(0, 1000))
def test_responserank_matches_the_library_and_singletons_are_bt(sizes, seed):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    partition = np.repeat(np.arange(len(sizes)), sizes)
    rank = rng.permutation(n).astype(float)
    margin = torch.tensor(rng.normal(size=n))
    got = ResponseRankObjective()(margin, _batch(rank, partition))
    expected = responserank_loss(
        margin, torch.tensor(rank), torch.tensor(partition), reduction="sum"
    )
    assert float(got) == pytest.approx(float(expected))
    unranked = ResponseRankObjective()(margin, _batch([np.nan] * n, np.arange(n)))
    assert float(unranked) == pytest.approx(float(bt_loss(margin, reduction="sum")))


def test_responserank_refuses_ties_unless_allowed():
    table = _table([1.0, 1.0, 2.0, 1.0], [0, 0, 0, 1])
    with pytest.raises(
        TableError, match=r"tied 'rank'.*row 0 \(comparison_id=c0\), row 1.*allow_ties"
    ):
        ResponseRankObjective(allow_ties=False).check_table(table, "fixture")
    ResponseRankObjective(allow_ties=True).check_table(table, "fixture")


def test_responserank_refuses_unranked_rows_in_shared_partitions_and_soft_targets():
    with pytest.raises(TableError, match="alone in its 'partition'"):
        ResponseRankObjective().check_table(_table([np.nan, 1.0], [0, 0]), "t")
    with pytest.raises(TableError, match="soft labels"):
        ResponseRankObjective().check_table(_table([1.0, 2.0], [0, 0], [1.0, 0.6]), "t")
