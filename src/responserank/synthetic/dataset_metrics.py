"""How informative a trial's data are: label noise and how well RT orders true strength."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.stats import kendalltau, rankdata


def dataset_metrics(test: Mapping[str, np.ndarray]) -> dict[str, object]:
    """Per-trial properties of the test comparisons.

    test_confusion_matrix: [[tn, fp], [fn, tp]] of the true preference [u1 > u2] (rows) against
      the observed choice (columns).
    test_abs_logit_diff_rt_kendall_tau: Kendall tau-b between -rank(RT) and rank(|u1 - u2|):
      1 when faster responses always mean larger utility distances.
    test_label_agreement: share of choices that agree with the true preference.
    """
    better_first = np.asarray(test["u1"] > test["u2"], dtype=bool)
    chosen_first = np.asarray(test["choice"], dtype=bool)
    # A 2 x 2 count (numpy, not sklearn: its import costs the runner a second per dataset).
    matrix = np.zeros((2, 2), dtype=np.int64)
    np.add.at(matrix, (better_first.astype(np.int64), chosen_first.astype(np.int64)), 1)
    tau = kendalltau(-rankdata(test["rt"]), rankdata(np.abs(test["u1"] - test["u2"]))).statistic
    return {
        "test_confusion_matrix": matrix.astype(int).tolist(),
        "test_abs_logit_diff_rt_kendall_tau": float(tau),
        "test_label_agreement": float(np.mean(chosen_first == better_first)),
    }
