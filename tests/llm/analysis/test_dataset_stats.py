"""Dataset statistics: the annotation table from a MultiPref-schema copy and the RT correlations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from responserank.llm.analysis.dataset_stats import (
    annotation_table,
    correlation,
    read_annotations,
    rt_correlations,
)
from responserank.testing.fixtures import multipref_fixture_rows, write_multipref_fixture

ORDINAL = {
    "A-is-clearly-better": 1.0,
    "A-is-slightly-better": 0.5,
    "Tie": 0.0,
    "B-is-slightly-better": -0.5,
    "B-is-clearly-better": -1.0,
}


@pytest.fixture(scope="module")
def fixture_table(tmp_path_factory):
    path = write_multipref_fixture(tmp_path_factory.mktemp("mp"), 60, seed=3)
    return annotation_table(path)


def test_annotation_table_by_hand(fixture_table):
    rows, _ = multipref_fixture_rows(60, seed=3)
    expected = []
    for row in rows:
        annotations = row["normal_worker_annotations"] + row["expert_worker_annotations"]
        mean = np.mean([ORDINAL[a["overall_pref"]] for a in annotations])
        length = len(row["text"]) + len(row["completion_a"]) + len(row["completion_b"])
        for a in annotations:
            side = np.sign(ORDINAL[a["overall_pref"]])
            expected.append(
                (
                    a["evaluator"],
                    float(a["time_spent"]),
                    length,
                    math.nan if side == 0 else side * mean,
                )
            )
    frame = pd.DataFrame(
        expected, columns=["annotator", "response_time", "length_chars", "consensus"]
    )
    assert len(fixture_table) == 4 * 60
    pd.testing.assert_frame_equal(
        fixture_table[["annotator", "response_time", "length_chars", "consensus"]],
        frame,
        check_dtype=False,
    )


def test_correlations_equal_scipy(fixture_table):
    table = fixture_table
    result = correlation(table, "consensus", min_annotations=5)
    usable = table.dropna(subset=["consensus"])
    pooled = stats.spearmanr(usable["response_time"], usable["consensus"])
    assert result.pooled_rho == pytest.approx(pooled.statistic)
    assert result.pooled_p == pytest.approx(pooled.pvalue)
    assert result.n == len(usable)
    rhos = [
        stats.spearmanr(g["response_time"], g["consensus"]).statistic
        for _, g in usable.groupby("annotator")
        if len(g) >= 5
    ]
    assert result.annotators == len(rhos)
    assert result.mean_rho == pytest.approx(np.mean(rhos))
    assert result.median_rho == pytest.approx(np.median(rhos))
    assert result.share_negative == pytest.approx(np.mean(np.asarray(rhos) < 0))
    half = stats.t.ppf(0.975, len(rhos) - 1) * np.std(rhos, ddof=1) / np.sqrt(len(rhos))
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (np.mean(rhos) - half, np.mean(rhos) + half)
    )
    # the fixture makes clear-cut comparisons faster: consensus and response time anti-correlate
    assert result.mean_rho < 0
    length = rt_correlations(table)[0]
    assert length.variable == "length_chars" and length.n == len(table)


def test_cached_table_round_trip_and_bad_values(fixture_table, tmp_path):
    path = tmp_path / "dataset_annotations.csv"
    fixture_table.to_csv(path, index=False)
    pd.testing.assert_frame_equal(read_annotations(path), fixture_table, check_dtype=False)
    broken = fixture_table.astype({"response_time": object})
    broken.loc[2, "response_time"] = "slow"
    broken.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"row 3, column 'response_time': expected a number"):
        read_annotations(path)
