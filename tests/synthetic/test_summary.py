"""The synthetic summary CLI: a NaN trial is left out of a mean and the printed n says so."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from responserank import plotting, stats
from responserank.synthetic import summary
from synthetic.analysis.results_factory import make_results, write_results_file

KEY = "rr.sizes.1.0.summary_metrics.pearson_distance_correlation"


def _run(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        summary.main(argv)
    return out.getvalue()


@pytest.fixture
def with_nan(tmp_path):
    """Six trials; rr's correlation at size 1.0 is NaN in one trial and null in another."""
    results = make_results("stochastic", num_trials=6, seed=2)
    entries = results["rr"]["sizes"]["1.0"]["summary_metrics"]["pearson_distance_correlation"]
    values = [e["value"] for e in entries]
    entries[1]["value"] = float("nan")
    entries[4]["value"] = None
    path = write_results_file(tmp_path, results)
    used = [v for i, v in enumerate(values) if i not in (1, 4)]
    return path, used


def test_cell_counts_the_trials_it_averages():
    found = summary.cell([0.5, None, 0.7, float("nan")])
    assert (found.used, found.trials, found.nan_trials) == (2, 4, 2)
    assert found.mean == pytest.approx(0.6)
    assert (found.mean, found.half_width) == summary.mean_ci([0.5, None, 0.7, float("nan")])


@pytest.mark.parametrize("layout", ["pivot", "long"])
def test_a_nan_trial_is_left_out_and_the_n_used_is_printed(with_nan, layout):
    path, used = with_nan
    mean, half = summary.mean_ci(used)
    assert mean == pytest.approx(np.mean(used))
    text = _run([str(path.parent), "--layout", layout, "--metrics", "pearson_distance_correlation"])
    assert f"{mean:.3f} ± {half:.3f} (n=4 of 6)" in text
    assert f"nan: {path}: {KEY}: 2 of 6 trials NaN (left out; the cell averages 4)" in text
    bt_row = next(line for line in text.splitlines() if "| bt |" in line)
    assert "(n=" not in bt_row.split("| bt |")[1], "complete cells keep the plain form"
    if layout == "pivot":
        assert "n = 6; fewer where a cell says (n=k of n)" in text


def test_no_nan_no_note(tmp_path):
    write_results_file(tmp_path, make_results("stochastic", num_trials=3))
    text = _run([str(tmp_path)])
    assert "nan:" not in text and "of 3)" not in text
    assert "(mean ± 95% CI half-width over trials; n = 3)" in text


@pytest.mark.parametrize("layout", ["pivot", "long"])
def test_no_interval_below_the_figures_band_threshold(tmp_path, layout):
    """Two trials: the mean and n, no ± (the figures draw no band below MIN_BAND_SAMPLES)."""
    assert plotting.MIN_BAND_SAMPLES is stats.MIN_BAND_SAMPLES == 3
    results = make_results("stochastic", num_trials=2)
    path = write_results_file(tmp_path, results)
    metric = "choice_accuracy"
    values = [e["value"] for e in results["rr"]["sizes"]["1.0"]["summary_metrics"][metric]]
    text = _run([str(path.parent), "--layout", layout, "--metrics", metric])
    assert "±" not in text.split("\n", 1)[1], text
    assert f"{np.mean(values):.3f} (n=2; no CI)" in text
    if layout == "pivot":
        assert "n = 2; no CI below 3 trials" in text


def test_three_trials_keep_the_interval():
    found = summary.cell([0.5, 0.6, 0.7])
    assert summary._cell(found) == f"{found.mean:.3f} ± {found.half_width:.3f}"
