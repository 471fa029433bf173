"""Figure details that the file-existence tests cannot see."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from responserank.plotting import style_context
from responserank.synthetic.analysis.dataset_results import METRICS, parse_results
from responserank.synthetic.analysis.figures import kendall_figure, size_curves_figure
from synthetic.analysis.results_factory import make_results


def test_rr_below_bt_everywhere_is_reported_not_reached():
    results = make_results("stochastic", num_trials=4)
    for size in results["rr"]["sizes"]:
        for metric, entries in results["rr"]["sizes"][size]["summary_metrics"].items():
            bt_entries = results["bt"]["sizes"][size]["summary_metrics"][metric]
            for entry, bt_entry in zip(entries, bt_entries, strict=True):
                entry["value"] = bt_entry["value"] - 0.2
    parsed = parse_results(results, Path("stochastic.json"))
    with style_context():
        fig, reaches = size_curves_figure([parsed], METRICS)
    assert [reach.size for _, _, reach in reaches] == [None, None]
    notes = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert notes == ["RR reaches BT(1.0): not reached"] * 2
    assert [t.get_text() for t in fig.legends[0].get_texts()][-1] == "BT at full data"
    plt.close(fig)


def test_constant_kendall_tau_gets_one_narrow_bar():
    results = make_results("deterministic_all_no_variability", num_trials=3)
    for entry in results["dataset_metrics"]["test_abs_logit_diff_rt_kendall_tau"]:
        entry["value"] = 1.0
    parsed = parse_results(results, Path("deterministic_all_no_variability.json"))
    with style_context():
        fig = kendall_figure([parsed])
    (ax,) = fig.axes
    heights = [patch.get_height() for patch in ax.patches]
    assert heights == [3.0]
    left = ax.patches[0].get_x()
    assert np.isclose(left + ax.patches[0].get_width() / 2, 1.0)
    assert ax.get_title() == "Deterministic (mean 1.00)"
    plt.close(fig)
