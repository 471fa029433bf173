"""``generate``: every output exists, tables and statistics agree with the JSON, partial input works."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from responserank.plotting import method_label
from responserank.synthetic.analysis.cli import main
from responserank.synthetic.analysis.dataset_results import GROUPS, METRICS, dataset_label
from responserank.synthetic.summary import PAPER_DATASETS
from synthetic.analysis.results_factory import make_results, write_results_file

FIGURES = ("boxplots", "dataset_size", "kendall_tau", "confusion")
TEXTS = ("accuracy_table.tex", "pdc_table.tex", "wilcoxon.tex", "wilcoxon.csv", "bt_level.csv")


def expected_files(group: str) -> list[str]:
    names = [f"synthetic_{group}_{figure}.{fmt}" for figure in FIGURES for fmt in ("pdf", "png")]
    return names + [f"synthetic_{group}_{text}" for text in TEXTS]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[Path, Path, str]:
    root = tmp_path_factory.mktemp("generate")
    cache = root / "results"
    cache.mkdir()
    every_dataset = [dataset for group in GROUPS for dataset in group.datasets]
    assert set(PAPER_DATASETS) <= set(every_dataset)
    for seed, dataset in enumerate(every_dataset):
        write_results_file(cache, make_results(dataset, seed=seed))
    figures = root / "figures"
    return cache, figures, _run_cli(["generate", str(cache), str(figures)])


def _run_cli(argv: list[str], expected_status: int = 0) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    assert status == expected_status, err.getvalue()
    return out.getvalue() + err.getvalue()


def raw_values(cache: Path, dataset: str, learner: str, size: str, metric: str) -> np.ndarray:
    raw = json.loads((cache / f"{dataset}.json").read_text())
    entries = raw[learner]["sizes"][size]["summary_metrics"][metric]
    return np.array([entry["value"] for entry in entries], dtype=float)


def test_every_output_exists(rendered):
    _, figures, output = rendered
    for group in GROUPS:
        for name in expected_files(group.name):
            path = figures / name
            assert path.is_file() and path.stat().st_size > 0, name
    assert sorted(p.name for p in figures.iterdir()) == sorted(
        name for group in GROUPS for name in expected_files(group.name)
    )
    assert (figures / "synthetic_no_variability_confusion.png").read_bytes()[:4] == b"\x89PNG"
    assert "missing" not in output


def _table_rows(tex: str) -> dict[tuple[str, str], list[str]]:
    rows, dataset = {}, None
    body = tex.split("\\midrule", 1)[1].split("\\bottomrule")[0]
    for line in body.splitlines():
        if not line.endswith("\\\\"):
            continue
        cells = [cell.strip() for cell in line.removesuffix("\\\\").split(" & ")]
        dataset = cells[0] or dataset
        rows[(dataset, cells[1])] = cells[2:]
    return rows


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.short)
def test_table_values_recompute_from_json(rendered, metric):
    cache, figures, _ = rendered
    group = GROUPS[0]
    rows = _table_rows((figures / f"synthetic_{group.name}_{metric.short}_table.tex").read_text())
    sizes = ["0.5", "0.75", "1.0"]
    learners = json.loads((cache / f"{group.datasets[0]}.json").read_text())["metadata"]["learners"]
    for dataset in group.datasets:
        for column, size in enumerate(sizes):
            printed_means = {}
            for learner in learners:
                values = raw_values(cache, dataset, learner, size, metric.key)
                low, high = stats.t.interval(
                    0.95, len(values) - 1, loc=values.mean(), scale=stats.sem(values)
                )
                cell = rows[(dataset_label(dataset), method_label(learner))][column]
                plain = re.sub(r"\\mathbf\{([^}]*)\}", r"\1", cell)
                assert plain == (
                    f"${values.mean():.3f} \\pm {values.std(ddof=1):.3f}"
                    f"\\,[\\pm {(high - low) / 2:.3f}]$"
                )
                printed_means[learner] = (f"{values.mean():.3f}", cell.startswith("$\\mathbf"))
            best = max(float(mean) for mean, _ in printed_means.values())
            for mean, bold in printed_means.values():
                assert bold == (float(mean) == best)


def test_statistics_equal_scipy_on_the_json(rendered):
    cache, figures, _ = rendered
    table = pd.read_csv(figures / "synthetic_with_variability_wilcoxon.csv")
    assert len(table) == 3 * 6 * len(METRICS)
    for row in table.itertuples():
        baseline = raw_values(cache, row.dataset, row.baseline, "1.0", row.metric)
        other = raw_values(cache, row.dataset, row.other, "1.0", row.metric)
        reference = stats.wilcoxon(other, baseline)
        assert row.statistic == pytest.approx(reference.statistic)
        assert row.p_value == pytest.approx(reference.pvalue)
        assert row.median_difference == pytest.approx(np.median(other - baseline))
        assert row.p_holm >= row.p_value
    smallest = table["p_value"].idxmin()
    assert table.loc[smallest, "p_holm"] == pytest.approx(
        min(1.0, len(table) * table.loc[smallest, "p_value"])
    )
    rr_vs_bt = table[(table.baseline == "bt") & (table.other == "rr")]
    assert (rr_vs_bt.rank_biserial > 0).all()
    tex = (figures / "synthetic_with_variability_wilcoxon.tex").read_text()
    assert "RR vs. BT & " in tex and "$\\uparrow$" in tex


def test_bt_level_reached_where_rr_curve_crosses(rendered):
    cache, figures, _ = rendered
    levels = pd.read_csv(figures / "synthetic_with_variability_bt_level.csv")
    for row in levels.itertuples():
        level = raw_values(cache, row.dataset, "bt", "1.0", row.metric).mean()
        assert row.reference_full_mean == pytest.approx(level)
        means = [
            raw_values(cache, row.dataset, "rr", s, row.metric).mean() for s in ("0.5", "0.75")
        ]
        if means[0] >= level:
            assert row.reached_at_fraction == 0.5
        elif means[1] >= level:
            fraction = 0.5 + (level - means[0]) / (means[1] - means[0]) * 0.25
            assert row.reached_at_fraction == pytest.approx(fraction)


def test_partial_dataset_set_renders_what_it_can(tmp_path):
    cache = tmp_path / "results"
    cache.mkdir()
    write_results_file(
        cache, make_results("stochastic", num_trials=2, learners=("bt", "rr", "rt_regression"))
    )
    figures = tmp_path / "figures"
    output = _run_cli(["generate", str(cache), str(figures)])
    for name in expected_files("with_variability"):
        assert (figures / name).is_file(), name
    assert not list(figures.glob("synthetic_no_variability_*"))
    # The group drawn from what is there names its absent files; everything these results never
    # had (a whole group, learners) is one summary line.
    for dataset in ("deterministic_all", "drift_diffusion"):
        assert f"missing: {cache / dataset}.json" in output
    summary = [line for line in output.splitlines() if line.startswith("note: not in these")]
    assert len(summary) == 1 and len([ln for ln in output.splitlines() if "note:" in ln]) == 1
    for dataset in PAPER_DATASETS:
        if dataset.endswith("_no_variability"):
            assert f"{dataset}.json" in summary[0]
            assert str(cache / dataset) not in output.replace(summary[0], "")
    assert "rr_pooled" in summary[0] and "paired tests skipped" in summary[0]
    table = pd.read_csv(figures / "synthetic_with_variability_wilcoxon.csv")
    pairs = set(zip(table.baseline, table.other, strict=True))
    assert pairs == {("bt", "rr"), ("rt_regression", "rr"), ("bt", "rt_regression")}


def test_no_results_at_all_is_an_error(tmp_path):
    output = _run_cli(["generate", str(tmp_path), str(tmp_path / "figures")], expected_status=2)
    assert "no results files" in output and "stochastic.json" in output


def test_a_metric_the_file_lacks_is_listed_with_file_and_key(tmp_path):
    results = make_results("drift_diffusion", num_trials=2)
    del results["rr"]["sizes"]["0.75"]["summary_metrics"]["choice_accuracy"]
    path = write_results_file(tmp_path, results)
    output = _run_cli(["generate", str(tmp_path), str(tmp_path / "figures")])
    assert f"missing: {path}: rr.sizes.0.75.summary_metrics.choice_accuracy" in output
    table = (tmp_path / "figures" / "synthetic_with_variability_accuracy_table.tex").read_text()
    rr_row = next(line for line in table.splitlines() if line.split(" & ")[1:2] == ["RR"])
    assert rr_row.split(" & ")[3] == "--", "the 0.75 cell it lacks"


def test_wrong_value_type_names_the_entry(tmp_path):
    results = make_results("stochastic", num_trials=2)
    results["bt"]["sizes"]["1.0"]["summary_metrics"]["pearson_distance_correlation"][1]["value"] = (
        "x"
    )
    write_results_file(tmp_path, results)
    output = _run_cli(["generate", str(tmp_path), str(tmp_path / "figures")], expected_status=2)
    assert "bt.sizes.1.0.summary_metrics.pearson_distance_correlation[1].value" in output


def test_file_must_hold_its_dataset(tmp_path):
    results = make_results("stochastic", num_trials=2)
    (tmp_path / "drift_diffusion.json").write_text(json.dumps(results))
    output = _run_cli(["generate", str(tmp_path), str(tmp_path / "figures")], expected_status=2)
    assert "drift_diffusion.json: key metadata.dataset" in output


def test_invalid_json_names_the_file(tmp_path):
    (tmp_path / "stochastic.json").write_text('{"metadata": ')
    output = _run_cli(["generate", str(tmp_path), str(tmp_path / "figures")], expected_status=2)
    assert f"{tmp_path / 'stochastic.json'}: not valid JSON" in output


def test_trial_count_must_match_metadata(tmp_path):
    results = make_results("stochastic", num_trials=3)
    del results["rr_perm"]["sizes"]["0.5"]["summary_metrics"]["choice_accuracy"][2]
    write_results_file(tmp_path, results)
    output = _run_cli(["generate", str(tmp_path), str(tmp_path / "figures")], expected_status=2)
    assert "key rr_perm.sizes.0.5.summary_metrics.choice_accuracy: expected 3 per-trial" in output


def test_confusion_matrices_must_be_2x2(tmp_path):
    results = make_results("stochastic", num_trials=2)
    for entry in results["dataset_metrics"]["test_confusion_matrix"]:
        entry["value"] = [[1, 2, 3], [4, 5, 6]]
    write_results_file(tmp_path, results)
    output = _run_cli(["generate", str(tmp_path), str(tmp_path / "figures")], expected_status=2)
    assert "key dataset_metrics.test_confusion_matrix: expected 2x2 matrices" in output


def test_undefined_values_are_left_out_of_summaries(tmp_path):
    results = make_results("stochastic", num_trials=3, sizes=(1.0,))
    pdc = results["rr"]["sizes"]["1.0"]["summary_metrics"]["pearson_distance_correlation"]
    pdc[0]["value"] = None
    write_results_file(tmp_path, results)
    _run_cli(["generate", str(tmp_path), str(tmp_path / "figures")])
    table = pd.read_csv(tmp_path / "figures" / "synthetic_with_variability_wilcoxon.csv")
    pdc_rows = table.metric == "pearson_distance_correlation"
    row = table[(table.baseline == "bt") & (table.other == "rr") & pdc_rows]
    assert row.n.item() == 2
    tex = (tmp_path / "figures" / "synthetic_with_variability_pdc_table.tex").read_text()
    tex = re.sub(r"\\mathbf\{([^}]*)\}", r"\1", tex)
    kept = [entry["value"] for entry in pdc[1:]]
    assert f"{np.mean(kept):.3f} \\pm {np.std(kept, ddof=1):.3f}" in tex
