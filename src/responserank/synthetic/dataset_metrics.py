"""How informative a trial's data are: label noise and how well RT orders true strength."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.stats import kendalltau, rankdata
from sklearn.metrics import confusion_matrix


def dataset_metrics(test: Mapping[str, np.ndarray]) -> dict[str, object]:
    """Per-trial properties of the test comparisons.

    test_confusion_matrix: [[tn, fp], [fn, tp]] of the true preference [u1 > u2] (rows) against
      the observed choice (columns).
    test_abs_logit_diff_rt_kendall_tau: Kendall tau-b between -rank(RT) and rank(|u1 - u2|):
      1 when faster responses always mean larger utility distances.
    test_label_agreement: share of choices that agree with the true preference.
    """
    better_first = test["u1"] > test["u2"]
    matrix = confusion_matrix(better_first, test["choice"], labels=[False, True])
    tau = kendalltau(-rankdata(test["rt"]), rankdata(np.abs(test["u1"] - test["u2"]))).statistic
    return {
        "test_confusion_matrix": matrix.astype(int).tolist(),
        "test_abs_logit_diff_rt_kendall_tau": float(tau),
        "test_label_agreement": float(np.mean(test["choice"] == better_first)),
    }
