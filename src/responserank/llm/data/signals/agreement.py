"""How much the annotators of one comparison agree, from all of its annotations.

For a comparison with counts of clearly/slightly preferences for A and B and ties:
w_X = clearly_X + s * slightly_X (s = ``slight_preference_value``),
``agreement_score = |w_A - w_B| / total`` with total = non-tie count (plus ties when
``ties_in_total``; 0 when total is 0), and ``mean_preference`` = mean A-relative ordinal
(+1, +s, 0, -s, -1) over all annotations, ties included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from responserank.llm.data.signals.labels import A_CLEARLY, A_SLIGHTLY, B_CLEARLY, B_SLIGHTLY, TIE

COUNT_COLUMNS = {
    A_CLEARLY: "clearly_a_count",
    A_SLIGHTLY: "slightly_a_count",
    TIE: "tie_count",
    B_SLIGHTLY: "slightly_b_count",
    B_CLEARLY: "clearly_b_count",
}


def agreement_statistics(
    comparison: pd.Series,
    label: pd.Series,
    slight_preference_value: float,
    ties_in_total: bool,
) -> pd.DataFrame:
    """Per-comparison counts, ``agreement_score`` and ``mean_preference``.

    ``comparison`` and ``label`` are aligned, one entry per annotation; the result is indexed by
    comparison key (sorted) with the count columns of :data:`COUNT_COLUMNS`, ``weight_a``,
    ``weight_b``, ``agreement_total``, ``agreement_score`` and ``mean_preference``.
    """
    keys, comparison_codes = np.unique(comparison.to_numpy(), return_inverse=True)
    label_codes = pd.Categorical(label.to_numpy(), categories=list(COUNT_COLUMNS)).codes
    if (label_codes < 0).any():
        unknown = label.to_numpy()[label_codes < 0][0]
        raise ValueError(
            f"unknown preference label {unknown!r}; expected one of {list(COUNT_COLUMNS)}"
        )
    cells = comparison_codes * len(COUNT_COLUMNS) + label_codes
    matrix = np.bincount(cells, minlength=keys.size * len(COUNT_COLUMNS))
    counts = pd.DataFrame(
        matrix.reshape(keys.size, len(COUNT_COLUMNS)).astype(np.int64),
        index=keys,
        columns=list(COUNT_COLUMNS.values()),
    )
    s = float(slight_preference_value)
    stats = counts.copy()
    stats["weight_a"] = counts["clearly_a_count"] + s * counts["slightly_a_count"]
    stats["weight_b"] = counts["clearly_b_count"] + s * counts["slightly_b_count"]
    non_tie = counts.drop(columns="tie_count").sum(axis=1)
    total = non_tie + counts["tie_count"] if ties_in_total else non_tie
    stats["agreement_total"] = total.astype(np.int64)
    difference = (stats["weight_a"] - stats["weight_b"]).abs()
    stats["agreement_score"] = np.where(total > 0, difference / total.where(total > 0, 1), 0.0)
    annotations = non_tie + counts["tie_count"]
    stats["mean_preference"] = (stats["weight_a"] - stats["weight_b"]) / annotations
    return stats


def directional_agreement(stats: pd.DataFrame, chosen_is_a: np.ndarray) -> np.ndarray:
    """Agreement signed towards the chosen side: (w_chosen - w_rejected) / total, on [-1, 1].

    Unlike ``agreement_score`` it is negative when the picked annotation contradicts the majority,
    so a contrarian label is never treated as a strong preference.
    """
    difference = (stats["weight_a"] - stats["weight_b"]).to_numpy(dtype=np.float64)
    total = stats["agreement_total"].to_numpy(dtype=np.float64)
    oriented = np.where(chosen_is_a, difference, -difference)
    return np.divide(oriented, total, out=np.zeros_like(oriented), where=total > 0)
