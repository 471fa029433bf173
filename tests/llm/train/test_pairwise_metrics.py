"""Held-out accuracy and calibrated loss read the target's side, so 0/1 labels are scored right."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from responserank.calibration import calibrated_loss
from responserank.llm.training.trainer import pairwise_metrics


def test_hard_labels_count_strict_wins():
    margins = torch.tensor([1.0, 0.0, -2.0, 3.0])
    metrics = pairwise_metrics(margins, torch.ones(4))
    assert metrics["accuracy"] == pytest.approx(0.5)
    assert metrics["calibrated_loss"] == pytest.approx(calibrated_loss(margins.numpy()))


def test_zero_labels_reward_negative_margins_and_ties_are_left_out():
    margins = torch.tensor([2.0, -1.0, -3.0, 5.0])
    target = torch.tensor([1.0, 0.0, 0.0, 0.5])
    assert pairwise_metrics(margins, target)["accuracy"] == pytest.approx(1.0)
    assert math.isnan(pairwise_metrics(margins[3:], target[3:])["accuracy"])


@given(
    st.lists(
        st.tuples(st.floats(-20, 20), st.sampled_from([0.0, 0.2, 0.5, 0.8, 1.0])),
        min_size=1,
        max_size=30,
    )
)
def test_matches_a_per_row_count(rows):
    margins = torch.tensor([m for m, _ in rows], dtype=torch.float64)
    target = torch.tensor([t for _, t in rows], dtype=torch.float64)
    hits = [m > 0 if t > 0.5 else m < 0 for m, t in rows if t != 0.5]  # strict either way
    accuracy = pairwise_metrics(margins, target)["accuracy"]
    if hits:
        assert accuracy == pytest.approx(np.mean(hits))
    else:
        assert math.isnan(accuracy)
