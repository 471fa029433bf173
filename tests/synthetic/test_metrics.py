"""Model and dataset metrics against scipy and hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import kendalltau, pearsonr, spearmanr

from responserank.synthetic.dataset_metrics import dataset_metrics
from responserank.synthetic.metrics import (
    batched_pearson,
    batched_spearman,
    calibration_error,
    choice_accuracy,
    model_metrics,
    pl_log_likelihood,
)

# Values on a 0.001 grid: realistic magnitudes, and ties (which Spearman must average) occur.
finite = st.integers(-(10**6), 10**6).map(lambda v: v / 1000)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, (3, 12), elements=finite), arrays(np.float64, (3, 12), elements=finite))
def test_batched_correlations_match_scipy(a, b):
    got_p, got_s = batched_pearson(a, b), batched_spearman(a, b)
    for row in range(3):
        if np.ptp(a[row]) == 0 or np.ptp(b[row]) == 0:
            assert math.isnan(got_p[row])
            continue
        assert got_p[row] == pytest.approx(pearsonr(a[row], b[row]).statistic, abs=1e-9)
        want_s = spearmanr(a[row], b[row]).statistic
        if not math.isnan(want_s):
            assert got_s[row] == pytest.approx(want_s, abs=1e-9)


def test_choice_accuracy_counts_ties_as_wrong():
    pred = np.array([[1.0, -1.0, 0.0, 2.0]])
    choice = np.array([True, False, True, False])
    assert choice_accuracy(pred, choice)[0] == pytest.approx(0.5)


def reference_ece(p, y, bins=10):
    total = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = (p >= lo) & ((p < hi) if b < bins - 1 else (p <= hi))
        if inside.any():
            total += inside.mean() * abs(p[inside].mean() - y[inside].mean())
    return total


def test_calibration_error_uses_the_probability_of_the_chosen_option_one():
    rng = np.random.default_rng(0)
    p = rng.random(20000)
    y = rng.random(20000) < p  # option 1 chosen with probability p: perfectly calibrated
    assert calibration_error(p[None], y)[0] < 0.02
    assert calibration_error(p[None], y)[0] == pytest.approx(reference_ece(p, y.astype(float)))
    # Comparing the probability of option 2 with option 1's indicator (the sign error) is
    # far off for the same predictions.
    assert calibration_error((1 - p)[None], y)[0] > 0.3


def reference_pl(pred, choice, rt, stratum):
    """Anchored PL log-likelihood per comparison, written out with loops."""
    e = np.where(choice, pred, -pred)
    total = 0.0
    for s in np.unique(stratum):
        idx = np.flatnonzero(stratum == s)
        order = idx[np.argsort(rt[idx], kind="stable")]
        for k, i in enumerate(order):
            rest = order[k:]
            total += e[i] - math.log(np.exp(e[rest]).sum() + 1.0)
    return total / pred.size


def test_pl_log_likelihood_matches_the_written_out_formula():
    rng = np.random.default_rng(1)
    pred = rng.normal(size=(2, 15))
    choice = rng.random(15) < 0.5
    rt = rng.random(15)
    stratum = rng.integers(0, 3, 15)
    got = pl_log_likelihood(pred, choice, rt, stratum)
    for row in range(2):
        assert got[row] == pytest.approx(reference_pl(pred[row], choice, rt, stratum))


def test_pl_log_likelihood_of_a_fit_does_not_depend_on_the_others():
    """Scored beside fits with extreme margins (whose strata take the loss's fallback path) or
    alone, a fit gets the same bits."""
    rng = np.random.default_rng(3)
    pred = rng.normal(size=(3, 40))
    pred[1] *= 1e4
    choice, rt = rng.random((3, 40)) < 0.5, rng.random((3, 40))
    stratum = rng.integers(0, 4, (3, 40))
    together = pl_log_likelihood(pred, choice, rt, stratum)
    for row in range(3):
        alone = pl_log_likelihood(pred[row : row + 1], choice[row], rt[row], stratum[row])
        assert together[row] == alone[0]


def test_model_metrics_of_a_perfect_model():
    rng = np.random.default_rng(2)
    u1, u2 = rng.normal(size=50), rng.normal(size=50)
    test = {
        "u1": u1,
        "u2": u2,
        "choice": u1 > u2,
        "rt": 10 / (np.abs(u1 - u2) + 1),
        "stratum": np.zeros(50, dtype=int),
    }
    scores = model_metrics(u1[None] * 2, u2[None] * 2, test, rng.permutation(50))
    assert scores["choice_accuracy"][0] == 1.0
    for name in (
        "pearson_distance_correlation",
        "spearman_distance_correlation",
        "pearson_difference_correlation",
        "spearman_difference_correlation",
        "pearson_utility_correlation",
        "spearman_utility_correlation",
    ):
        assert scores[name][0] == pytest.approx(1.0), name
    assert abs(scores["pearson_distance_correlation_shuffled"][0]) < 0.5
    assert scores["test_pl_log_likelihood"][0] < 0
    assert 0 <= scores["bt_calibration_error"][0] <= 1


def test_dataset_metrics():
    u1 = np.array([3.0, 1.0, 0.0, 2.0])
    u2 = np.array([0.0, 2.0, 1.0, 0.0])
    choice = np.array([True, True, False, False])  # the last two: one right, one wrong
    rt = 10 / (np.abs(u1 - u2) + 1)
    out = dataset_metrics({"u1": u1, "u2": u2, "choice": choice, "rt": rt})
    # rows: true preference [u1 > u2] = F, T; columns: choice F, T
    assert out["test_confusion_matrix"] == [[1, 1], [1, 1]]
    assert out["test_label_agreement"] == pytest.approx(0.5)
    # RT is a decreasing function of the distance: -rank(RT) orders strength perfectly.
    assert out["test_abs_logit_diff_rt_kendall_tau"] == pytest.approx(1.0)
    noisy_rt = np.array([1.0, 2.0, 3.0, 0.5])
    out = dataset_metrics({"u1": u1, "u2": u2, "choice": choice, "rt": noisy_rt})
    want = kendalltau(-noisy_rt, np.abs(u1 - u2)).statistic
    assert out["test_abs_logit_diff_rt_kendall_tau"] == pytest.approx(want)


def test_scoring_fits_together_gives_the_bits_of_scoring_each_alone():
    # Enough fits that scoring them as one segmented loss would move some scores by an ulp.
    rng = np.random.default_rng(5)
    members, t = 400, 200
    tests = [
        {
            "u1": rng.normal(size=t),
            "u2": rng.normal(size=t),
            "choice": rng.random(t) < 0.5,
            "rt": rng.gamma(2.0, size=t),
            "stratum": rng.integers(0, 5, size=t),
        }
        for _ in range(members)
    ]
    pred1 = (3 * rng.normal(size=(members, t))).astype(np.float32).astype(np.float64)
    pred2 = (3 * rng.normal(size=(members, t))).astype(np.float32).astype(np.float64)
    pairings = np.stack([rng.permutation(t) for _ in range(members)])
    stacked = {key: np.stack([test[key] for test in tests]) for key in tests[0]}
    together = model_metrics(pred1, pred2, stacked, pairings)
    for e in range(members):
        alone = model_metrics(pred1[e : e + 1], pred2[e : e + 1], tests[e], pairings[e])
        for name, values in alone.items():
            assert together[name][e].tobytes() == values[0].tobytes(), (name, e)
