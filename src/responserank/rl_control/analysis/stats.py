"""RT vs no-RT comparisons: paired t-tests over matched runs, with Holm correction per family.

Runs with and without response times share environment, noise level and seed (same feedback
budget, same seeds for the simulated feedback and the agent), so the test is on per-pair
differences. Wilcoxon's signed-rank test cannot reach p < 0.0625 with the five pairs of one
(environment, noise) cell, so the paired t-test is used throughout. When no run has a partner the
comparison falls back to Welch's unpaired t-test, and the ``test`` field says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from responserank.stats import holm_adjust, paired_t_test, summarize

PAIRED_T = "paired t-test"
WELCH_T = "Welch t-test (unpaired)"


@dataclass(frozen=True)
class Comparison:
    """RT minus no-RT on one value, with a two-sided test and the 95% CI of the mean difference.

    ``n_no_rt``/``n_rt`` count all runs of each arm; a paired test uses the ``n_pairs`` runs that
    have a partner, and the means and sds then describe those.
    """

    n_pairs: int
    n_no_rt: int
    n_rt: int
    mean_no_rt: float
    mean_rt: float
    sd_no_rt: float
    sd_rt: float
    mean_difference: float
    ci_low: float
    ci_high: float
    effect_size: float  # Cohen's d_z (paired) or d with the pooled sd (unpaired)
    test: str
    statistic: float
    p_value: float


def compare_rt(frame: pd.DataFrame, value: str, pair_on: Sequence[str]) -> Comparison:
    """Compare ``value`` of RT runs (``is_rt``) against no-RT runs, paired on ``pair_on`` columns."""
    no_rt = frame.loc[~frame["is_rt"]].set_index(list(pair_on))[value]
    rt = frame.loc[frame["is_rt"]].set_index(list(pair_on))[value]
    shared = no_rt.index.intersection(rt.index)
    if len(shared) >= 2:
        base, other = no_rt.loc[shared].to_numpy(float), rt.loc[shared].to_numpy(float)
        return _paired(base, other, len(no_rt), len(rt))
    return _welch(no_rt.to_numpy(float), rt.to_numpy(float))


def _paired(base: np.ndarray, other: np.ndarray, n_no_rt: int, n_rt: int) -> Comparison:
    """Means and sds describe the paired runs only, so they match the tested difference."""
    test = paired_t_test(base, other)
    return Comparison(
        n_pairs=test.n,
        n_no_rt=n_no_rt,
        n_rt=n_rt,
        mean_no_rt=test.mean_baseline,
        mean_rt=test.mean_other,
        sd_no_rt=test.sd_baseline,
        sd_rt=test.sd_other,
        mean_difference=test.mean_difference,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        effect_size=test.cohens_dz,
        test=PAIRED_T,
        statistic=test.statistic,
        p_value=test.p_value,
    )


def _welch(base: np.ndarray, other: np.ndarray) -> Comparison:
    nan = math.nan
    if base.size < 2 or other.size < 2:
        mean_base = float(base.mean()) if base.size else nan
        mean_other = float(other.mean()) if other.size else nan
        return Comparison(
            0, base.size, other.size, mean_base, mean_other, summarize(base).sd, summarize(other).sd,
            mean_other - mean_base, nan, nan, nan, "not enough runs", nan, nan,
        )  # fmt: skip
    result = stats.ttest_ind(other, base, equal_var=False)
    ci = result.confidence_interval(0.95)
    pooled = math.sqrt((base.var(ddof=1) + other.var(ddof=1)) / 2)
    mean = float(other.mean() - base.mean())
    return Comparison(
        n_pairs=0,
        n_no_rt=base.size,
        n_rt=other.size,
        mean_no_rt=float(base.mean()),
        mean_rt=float(other.mean()),
        sd_no_rt=summarize(base).sd,
        sd_rt=summarize(other).sd,
        mean_difference=mean,
        ci_low=float(ci.low),
        ci_high=float(ci.high),
        effect_size=mean / pooled if pooled > 0 else nan,
        test=WELCH_T,
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
    )


def comparison_table(
    frame: pd.DataFrame, value: str, group_by: Sequence[str], pair_on: Sequence[str]
) -> pd.DataFrame:
    """One comparison per group, with Holm-adjusted p-values over the whole table (one family)."""
    rows = []
    for key, group in frame.groupby(list(group_by), sort=True):
        labels = dict(zip(group_by, key if isinstance(key, tuple) else (key,), strict=True))
        rows.append({**labels, **vars(compare_rt(group, value, pair_on))})
    table = pd.DataFrame(rows)
    table["p_holm"] = holm_adjust(table["p_value"].tolist())
    return table
