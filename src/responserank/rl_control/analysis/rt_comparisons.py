"""RT vs no-RT comparisons: paired t-tests over matched runs, with Holm correction per family.

Runs with and without response times share environment, noise level and seed (same feedback
budget, same seeds for the simulated feedback and the agent), so the test is on per-pair
differences. Wilcoxon's signed-rank test cannot reach p < 0.0625 with the five pairs of one
(environment, noise) cell, so the paired t-test is used throughout. When no run has a partner the
comparison falls back to Welch's unpaired t-test, and the ``test`` column says so. The tests are
the shared ones of ``responserank.stats``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import pandas as pd

from responserank.stats import Comparison, holm_adjust, paired_t_test, welch_t_test

# Columns of a comparison table row: (column, Comparison field). The no-RT arm is the baseline.
ROW_FIELDS: tuple[tuple[str, str], ...] = (
    ("n_pairs", "n"),
    ("n_no_rt", "n_baseline"),
    ("n_rt", "n_other"),
    ("mean_no_rt", "mean_baseline"),
    ("mean_rt", "mean_other"),
    ("sd_no_rt", "sd_baseline"),
    ("sd_rt", "sd_other"),
    ("mean_difference", "mean_difference"),
    ("ci_low", "ci_low"),
    ("ci_high", "ci_high"),
    ("effect_size", "effect_size"),  # Cohen's d_z (paired) or d with the pooled sd (unpaired)
    ("test", "test"),
    ("statistic", "statistic"),
    ("p_value", "p_value"),
)


def compare_rt(frame: pd.DataFrame, value: str, pair_on: Sequence[str]) -> Comparison:
    """RT runs (``is_rt``) against no-RT runs on ``value``, paired on the ``pair_on`` columns.

    With at least two pairs: the paired t-test on them (means and sds describe the paired runs;
    ``n_baseline``/``n_other`` count all runs of each arm). Otherwise Welch's unpaired test.
    """
    no_rt = frame.loc[~frame["is_rt"]].set_index(list(pair_on))[value]
    rt = frame.loc[frame["is_rt"]].set_index(list(pair_on))[value]
    shared = no_rt.index.intersection(rt.index)
    if len(shared) >= 2:
        test = paired_t_test(no_rt.loc[shared].to_numpy(float), rt.loc[shared].to_numpy(float))
        return dataclasses.replace(test, n_baseline=len(no_rt), n_other=len(rt))
    return welch_t_test(no_rt.to_numpy(float), rt.to_numpy(float))


def comparison_row(comparison: Comparison) -> dict[str, object]:
    """The table columns of one comparison (``ROW_FIELDS``)."""
    return {column: getattr(comparison, name) for column, name in ROW_FIELDS}


def comparison_table(
    frame: pd.DataFrame, value: str, group_by: Sequence[str], pair_on: Sequence[str]
) -> pd.DataFrame:
    """One comparison per group, with Holm-adjusted p-values over the whole table (one family)."""
    rows = []
    for key, group in frame.groupby(list(group_by), sort=True):
        labels = dict(zip(group_by, key if isinstance(key, tuple) else (key,), strict=True))
        rows.append({**labels, **comparison_row(compare_rt(group, value, pair_on))})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm_adjust(table["p_value"].tolist())
    return table
