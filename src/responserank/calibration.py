"""Calibration tools shared by training metrics, TRUE-model evaluation and ARM calibration.

- ``pairwise_accuracy`` / ``calibrated_loss``: held-out metrics of a reward model from the margins
  u = r(chosen) - r(rejected). The calibrated loss is the BT log-loss after the best temperature
  (a one-feature logistic regression on x = [u; -u], y = [1; 0]), so models trained with scaled
  losses (beta-RAPL) compare on equal footing.
- ``fit_probability_calibrator``: a monotone map from a score (an ARM, a model logit) to
  P(correct), by logistic or isotonic regression.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

CALIBRATION_METHODS = ("logistic", "isotonic")


def _margins(u: np.ndarray) -> np.ndarray:
    values = np.asarray(u, dtype=float).reshape(-1)
    if values.size == 0:
        raise ValueError("pairwise metrics need at least one comparison")
    if not np.isfinite(values).all():
        raise ValueError("reward margins contain NaN or infinite values")
    return values


def pairwise_accuracy(u: np.ndarray) -> float:
    """Share of comparisons where the chosen response gets the strictly higher reward."""
    return float(np.mean(_margins(u) > 0))


def calibrated_loss(u: np.ndarray) -> float:
    """BT log-loss after temperature scaling: logistic regression on x = [u; -u], y = [1; 0].

    scikit-learn's default logistic regression (L2, C = 1, lbfgs). All-zero margins carry no
    information and give log 2.
    """
    values = _margins(u)
    if not np.any(values):
        return float(np.log(2.0))
    x = np.concatenate([values, -values]).reshape(-1, 1)
    y = np.concatenate([np.ones_like(values), np.zeros_like(values)])
    model = LogisticRegression().fit(x, y)
    return float(log_loss(y, model.predict_proba(x)[:, 1], labels=[0, 1]))


def fit_probability_calibrator(
    score: np.ndarray, label: np.ndarray, method: str = "logistic"
) -> Callable[[np.ndarray], np.ndarray]:
    """Fit P(label | score) and return it as a function of the score.

    ``logistic``: scikit-learn's L2 logistic regression with C = 1 and its lbfgs defaults (tol
    1e-4, at most 100 iterations), for 0/1 labels; exactly these settings reproduce the published
    ``TRUE_calibrated_*`` LIE columns. ``isotonic``: a non-decreasing step fit clipped to the
    fitted range, which also takes soft labels in [0, 1].
    """
    x = np.asarray(score, dtype=float).reshape(-1)
    y = np.asarray(label, dtype=float).reshape(-1)
    if x.shape != y.shape or x.size == 0:
        raise ValueError(f"need equally many scores and labels, got {x.size} and {y.size}")
    if method == "logistic":
        if not np.isin(y, (0.0, 1.0)).all():
            raise ValueError("logistic calibration needs 0/1 labels; use isotonic for soft labels")
        if len(np.unique(y)) < 2:
            raise ValueError("calibration needs both correct and incorrect labels in the fit split")
        model = LogisticRegression(C=1.0, solver="lbfgs", tol=1e-4, max_iter=100)
        model.fit(x.reshape(-1, 1), y.astype(int))
        return lambda values: model.predict_proba(np.asarray(values, float).reshape(-1, 1))[:, 1]
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        iso.fit(x, y)
        return lambda values: iso.predict(np.asarray(values, dtype=float).reshape(-1))
    raise ValueError(f"unknown calibration method {method!r}; choose one of {CALIBRATION_METHODS}")
