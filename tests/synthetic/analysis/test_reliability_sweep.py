"""The reliability sweep summary: knobs from each run's config, paired gains from its results,
and a figure drawn from the summary alone (byte-identical when redrawn)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from responserank.errors import ResultsFormatError
from responserank.stats import summarize
from responserank.synthetic.analysis.reliability_sweep import collect, main, plot
from responserank.synthetic.rundir import write_run_config
from synthetic.analysis.results_factory import make_results, write_results_file

LEARNERS = ("rr", "rapl_beta", "rr_rapl")


def _sweep(root: Path) -> Path:
    knobs = [(0.2, 0.0), (0.2, 1.0), (0.6, 0.0), (0.6, 1.0)]
    for job, (share, quality) in enumerate(knobs):
        run = root / str(job)
        run.mkdir(parents=True)
        generator = {"unreliable_share": share, "proxy_quality": quality}
        write_run_config(run, {"dataset": {"name": "reliability_mix", "generator": generator}})
        results = make_results("reliability_mix", learners=LEARNERS, seed=job, sizes=(1.0,))
        write_results_file(run, results)
    return root


def test_collect_gives_the_paired_gains_per_cell_and_plot_redraws_identically(tmp_path):
    sweep = _sweep(tmp_path / "sweep")
    out = collect(sweep, tmp_path / "summary.json")
    summary = json.loads(out.read_text())
    cells = summary["cells"]
    assert [(c["unreliable_share"], c["proxy_quality"]) for c in cells] == [
        (0.2, 0.0),
        (0.2, 1.0),
        (0.6, 0.0),
        (0.6, 1.0),
    ]
    raw = json.loads((sweep / "0" / "reliability_mix.json").read_text())

    def values(learner, metric):
        entries = raw[learner]["sizes"]["1.0"]["summary_metrics"][metric]
        return np.array([e["value"] for e in entries])

    for metric in ("choice_accuracy", "pearson_distance_correlation"):
        for parent in ("rr", "rapl_beta"):
            expected = summarize(values("rr_rapl", metric) - values(parent, metric))
            got = cells[0]["gains"][f"over_{parent}"][metric]
            assert got["mean"] == pytest.approx(expected.mean, rel=1e-12)
            assert got["ci_half_width"] == pytest.approx(expected.ci_half_width, rel=1e-12)
            assert got["n"] == 6
    first = plot(out, tmp_path / "a")
    second = plot(out, tmp_path / "b")
    assert [p.name for p in first] == [
        "synthetic_reliability_sweep.pdf",
        "synthetic_reliability_sweep.png",
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()


def test_a_sweep_without_runs_or_with_a_missing_learner_fails_naming_it(tmp_path, capsys):
    with pytest.raises(ResultsFormatError, match="no run directories"):
        collect(tmp_path, tmp_path / "s.json")
    run = tmp_path / "0"
    run.mkdir()
    write_run_config(
        run,
        {
            "dataset": {
                "name": "reliability_mix",
                "generator": {"unreliable_share": 0.4, "proxy_quality": 0.5},
            }
        },
    )
    write_results_file(run, make_results("reliability_mix", learners=("rr", "rr_rapl")))
    assert main(["collect", str(tmp_path), str(tmp_path / "s.json")]) == 1
    assert "rapl_beta.sizes.1.0.summary_metrics.choice_accuracy: missing" in capsys.readouterr().err
