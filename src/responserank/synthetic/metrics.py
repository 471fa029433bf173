"""How well a learned utility recovers the true one.

Model metrics are computed for many fits at once: arrays are (E, T) for E members (fits) and T
test comparisons. Correlations of a constant prediction are NaN (undefined), as in scipy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from scipy.special import expit
from scipy.stats import rankdata

from responserank.losses import responserank_loss

CALIBRATION_BINS = 10


def batched_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r along the last axis."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    ac = a - a.mean(axis=-1, keepdims=True)
    bc = b - b.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (ac * bc).sum(axis=-1) / np.sqrt((ac * ac).sum(axis=-1) * (bc * bc).sum(axis=-1))
    constant = (a == a[..., :1]).all(axis=-1) | (b == b[..., :1]).all(axis=-1)
    return np.where(constant, np.nan, np.clip(r, -1.0, 1.0))


def batched_spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rho along the last axis (Pearson r of average ranks)."""
    return batched_pearson(rankdata(a, axis=-1), rankdata(b, axis=-1))


def choice_accuracy(pred_diff: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """Share of comparisons where the predicted order matches the observed choice (ties wrong)."""
    correct = np.where(choice, pred_diff > 0, pred_diff < 0)
    return correct.mean(axis=-1)


def calibration_error(prob_first: np.ndarray, choice: np.ndarray) -> np.ndarray:
    """Expected calibration error of P(option 1 chosen) against [option 1 chosen].

    Equal-width bins on [0, 1]; each bin contributes its share of comparisons times
    |mean predicted probability - observed frequency of option 1|.
    """
    prob_first = np.asarray(prob_first, dtype=np.float64)
    outcome = np.asarray(choice, dtype=np.float64)
    bins = np.clip((prob_first * CALIBRATION_BINS).astype(np.int64), 0, CALIBRATION_BINS - 1)
    n = prob_first.shape[-1]
    flat_bins = bins.reshape(-1, n)
    flat_p = prob_first.reshape(-1, n)
    flat_y = np.broadcast_to(outcome, prob_first.shape).reshape(-1, n)
    out = np.empty(flat_bins.shape[0])
    for row in range(flat_bins.shape[0]):
        p_sum = np.bincount(flat_bins[row], weights=flat_p[row], minlength=CALIBRATION_BINS)
        y_sum = np.bincount(flat_bins[row], weights=flat_y[row], minlength=CALIBRATION_BINS)
        out[row] = np.abs(p_sum - y_sum).sum() / n
    return out.reshape(prob_first.shape[:-1])


def pl_log_likelihood(
    pred_diff: np.ndarray, choice: np.ndarray, rt: np.ndarray, stratum: np.ndarray
) -> np.ndarray:
    """Mean anchored Plackett-Luce log-likelihood per comparison of the observed RT ranking.

    ``pred_diff`` is (E, T); ``choice``, ``rt`` and ``stratum`` are (T,) or (E, T).
    Within each stratum the comparisons are ranked by ascending RT (fastest = strongest) with
    log-worth = the predicted margin of the chosen option; the ResponseRank loss is its negative.
    All fits go through one loss call, each fit's strata as groups of their own: every segment of
    the loss depends on its own values only, so a fit scores the same bits beside any others.
    """
    pred = torch.as_tensor(np.asarray(pred_diff, dtype=np.float64))
    shape = tuple(pred.shape)

    def per_fit(values: np.ndarray, dtype: type) -> torch.Tensor:
        return torch.from_numpy(np.array(np.broadcast_to(np.asarray(values, dtype=dtype), shape)))

    chosen_first = per_fit(choice, bool)
    rank = per_fit(rt, np.float64)
    strata = per_fit(stratum, np.int64)
    if strata.numel():
        strata = strata - strata.min()
        strata = torch.arange(shape[0]).unsqueeze(1) * (int(strata.max()) + 1) + strata
    oriented = torch.where(chosen_first, pred, -pred)
    terms = responserank_loss(oriented.reshape(-1), rank.reshape(-1), strata.reshape(-1), "none")
    return -terms.reshape(shape).mean(dim=1).numpy()


def model_metrics(
    pred1: np.ndarray,
    pred2: np.ndarray,
    test: Mapping[str, np.ndarray],
    null_permutation: np.ndarray,
) -> dict[str, np.ndarray]:
    """All model metrics for E fits: predictions (E, T) on their test comparisons.

    ``test`` holds u1, u2, choice, rt and stratum, each (T,) when all fits share one trial's test
    set or (E, T) when fit e has its own (one trial per fit, as in a work unit of the grid). Every
    metric of row e depends on row e alone, so scoring E fits at once gives the same numbers as
    scoring each on its own.

    ``null_permutation`` ((T,) or (E, T)) re-pairs true and predicted distances (a fixed random
    permutation of the test comparisons): the ``*_shuffled`` correlations are what a model
    carrying no information scores on this test set, a chance-level yardstick.
    """
    u1, u2 = np.asarray(test["u1"]), np.asarray(test["u2"])
    true_diff = u1 - u2
    true_dist = np.abs(true_diff)
    pred_diff = np.asarray(pred1, dtype=np.float64) - np.asarray(pred2, dtype=np.float64)
    pred_dist = np.abs(pred_diff)
    true_util = np.concatenate([u1, u2], axis=-1)
    pred_util = np.concatenate([pred1, pred2], axis=-1)
    permutation = np.broadcast_to(null_permutation, pred_dist.shape)
    shuffled_dist = np.take_along_axis(pred_dist, permutation, axis=-1)
    return {
        "choice_accuracy": choice_accuracy(pred_diff, test["choice"]),
        "pearson_distance_correlation": batched_pearson(true_dist, pred_dist),
        "spearman_distance_correlation": batched_spearman(
            np.broadcast_to(true_dist, pred_dist.shape), pred_dist
        ),
        "pearson_difference_correlation": batched_pearson(true_diff, pred_diff),
        "spearman_difference_correlation": batched_spearman(
            np.broadcast_to(true_diff, pred_diff.shape), pred_diff
        ),
        "pearson_utility_correlation": batched_pearson(true_util, pred_util),
        "spearman_utility_correlation": batched_spearman(
            np.broadcast_to(true_util, pred_util.shape), pred_util
        ),
        "pearson_distance_correlation_shuffled": batched_pearson(true_dist, shuffled_dist),
        "spearman_distance_correlation_shuffled": batched_spearman(
            np.broadcast_to(true_dist, shuffled_dist.shape), shuffled_dist
        ),
        "test_pl_log_likelihood": pl_log_likelihood(
            pred_diff, test["choice"], test["rt"], test["stratum"]
        ),
        "bt_calibration_error": calibration_error(expit(pred_diff), test["choice"]),
    }
