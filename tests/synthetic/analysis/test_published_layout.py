"""Results files of the published layout: one reader, missing: lines, range checks, NaN counts."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest

from responserank.errors import ResultsFormatError
from responserank.synthetic import summary
from responserank.synthetic.analysis.cli import main
from responserank.synthetic.analysis.dataset_results import parse_results
from responserank.synthetic.analysis.generate import read_dataset_results
from responserank.synthetic.results import load_results, read_results
from responserank.synthetic.results_layout import PROJECT, PUBLISHED, dataset_key, normalise_layout
from synthetic.analysis.results_factory import make_results, write_results_file

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "published_format"
SAMPLE = SHARED / "synthetic" / "stochastic.json"


def run_cli(argv: list[str], expected_status: int = 0) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    assert status == expected_status, err.getvalue()
    return out.getvalue() + err.getvalue()


def to_published(results: dict, display_name: str) -> dict:
    """The same results in the published layout (see the module docstring of results_layout)."""
    published = copy.deepcopy(results)
    metadata = published["metadata"]
    metadata["dataset"] = display_name
    metadata["timestamp"] = "2025-01-02 03:04:05"
    del metadata["master_seed"]
    dataset_metrics = published["dataset_metrics"]
    for entry in dataset_metrics["test_confusion_matrix"]:
        entry["type"] = "confusion_matrix"
    for entry in dataset_metrics["test_abs_logit_diff_rt_kendall_tau"]:
        entry["type"] = "histogram"
        entry["value"] = {"x": [entry["value"]], "range": [0, 1]}
    return published


def test_published_file_reads_as_the_project_layout(tmp_path):
    project = make_results("stochastic_no_variability", num_trials=4, seed=3)
    published = to_published(project, "Stochastic")
    path = tmp_path / "stochastic_no_variability.json"
    path.write_text(json.dumps(published))
    normalised = read_results(path)
    assert normalised.layout == PUBLISHED
    assert normalised.results["metadata"]["dataset"] == "stochastic_no_variability"
    assert normalised.missing == ["metadata.master_seed (the grid cannot be rerun bit for bit)"]
    ours = parse_results(project, path)
    theirs = parse_results(normalised.results, path)
    np.testing.assert_array_equal(theirs.kendall_tau, ours.kendall_tau)
    np.testing.assert_array_equal(theirs.confusion, ours.confusion)
    assert theirs.metrics.keys() == ours.metrics.keys()
    assert published["metadata"]["dataset"] == "Stochastic", "the input is left unchanged"


def test_project_layout_passes_unchanged():
    project = make_results("stochastic", num_trials=3)
    normalised = normalise_layout(project, Path("stochastic.json"))
    assert normalised.layout == PROJECT and normalised.results is project and not normalised.missing


@pytest.mark.parametrize(
    ("name", "file", "key"),
    [
        ("Stochastic", "stochastic.json", "stochastic"),
        (
            "Deterministic",
            "deterministic_all_no_variability.json",
            "deterministic_all_no_variability",
        ),
        ("Drift-diffusion", "anything.json", "drift_diffusion"),
        ("Drift Diffusion", "drift_diffusion.json", "drift_diffusion"),
        (
            "drift diffusion",
            "drift_diffusion_no_variability.json",
            "drift_diffusion_no_variability",
        ),
        ("DETERMINISTIC", "deterministic_all.json", "deterministic_all"),
        (
            "Stochastic No Variability",
            "stochastic_no_variability.json",
            "stochastic_no_variability",
        ),
        ("stochastic", "stochastic.json", "stochastic"),
        ("custom_set", "custom_set.json", "custom_set"),
    ],
)
def test_display_name_maps_to_the_dataset_key(name, file, key):
    assert dataset_key(name, Path(file)) == key


@pytest.mark.parametrize(
    ("dataset", "display_name"),
    [
        ("drift_diffusion", "Drift Diffusion"),
        ("drift_diffusion_no_variability", "Drift Diffusion"),
        ("deterministic_all", "Deterministic"),
    ],
)
def test_published_display_names_are_accepted_as_they_are_written(tmp_path, dataset, display_name):
    """The published files carry display names spelled their own way ("Drift Diffusion", not
    this project's "Drift-diffusion"); the file still reads as its dataset."""
    path = tmp_path / f"{dataset}.json"
    path.write_text(json.dumps(to_published(make_results(dataset, num_trials=3), display_name)))
    assert read_dataset_results(path).dataset == dataset
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        summary.main([str(tmp_path), "--metrics", "choice_accuracy"])
    assert f"| {dataset} |" in out.getvalue()


def test_display_name_alone_marks_the_published_layout(tmp_path):
    """A file whose only published trait is the display name is converted too."""
    project = make_results("drift_diffusion", num_trials=3)
    project["metadata"]["dataset"] = "Drift Diffusion"
    path = tmp_path / "drift_diffusion.json"
    path.write_text(json.dumps(project))
    normalised = read_results(path)
    assert normalised.layout == PUBLISHED
    assert normalised.results["metadata"]["dataset"] == "drift_diffusion"


def test_histogram_with_several_points_is_refused_naming_the_key(tmp_path):
    published = to_published(make_results("stochastic", num_trials=2), "Stochastic")
    published["dataset_metrics"]["test_abs_logit_diff_rt_kendall_tau"][1]["value"]["x"] = [0.1, 0.2]
    path = tmp_path / "stochastic.json"
    path.write_text(json.dumps(published))
    with pytest.raises(ResultsFormatError, match=r"stochastic.json: key dataset_metrics\."
                       r"test_abs_logit_diff_rt_kendall_tau\[1\]\.value"):  # fmt: skip
        load_results(path)


def test_generate_on_layout_variants_lists_what_is_missing(tmp_path):
    """Published layout; a listed learner without results; a learner with only some sizes."""
    cache = tmp_path / "cache"
    cache.mkdir()
    project = make_results("stochastic", num_trials=5, learners=("bt", "rr", "rr_pooled"))
    del project["rr_pooled"]["sizes"]["0.5"]
    project["metadata"]["learners"].append("rt_regression")
    published = to_published(project, "Stochastic")
    (cache / "stochastic.json").write_text(json.dumps(published))
    output = run_cli(["generate", str(cache), str(tmp_path / "fig")])
    source = cache / "stochastic.json"
    assert f"missing: {source}: metadata.master_seed" in output
    assert f"missing: {source}: rt_regression (in metadata.learners, no results)" in output
    assert (
        f"missing: {source}: rr_pooled.sizes.0.5 (in metadata.dataset_sizes, no results)" in output
    )
    table = (tmp_path / "fig" / "synthetic_with_variability_accuracy_table.tex").read_text()
    rr_pooled_row = next(line for line in table.splitlines() if "RR (pooled)" in line)
    assert rr_pooled_row.split(" & ")[2] == "--", "the size it lacks is shown as --"
    for stem in ("kendall_tau", "confusion", "boxplots", "dataset_size"):
        assert (tmp_path / "fig" / f"synthetic_with_variability_{stem}.png").is_file()


def test_metric_outside_its_range_is_refused_naming_file_and_key(tmp_path):
    results = make_results("stochastic", num_trials=4)
    results["bt"]["sizes"]["1.0"]["summary_metrics"]["choice_accuracy"][2]["value"] = 7.5
    path = write_results_file(tmp_path, results)
    output = run_cli(["generate", str(tmp_path), str(tmp_path / "fig")], expected_status=2)
    assert (
        f"{path}: key bt.sizes.1.0.summary_metrics.choice_accuracy[2].value: expected a value "
        "in [0, 1], got 7.5 (1 of 4 trials outside)"
    ) in output
    assert not (tmp_path / "fig").exists()


def test_nan_trials_are_counted_and_reported(tmp_path):
    results = make_results("stochastic", num_trials=6)
    entries = results["rr"]["sizes"]["1.0"]["summary_metrics"]["pearson_distance_correlation"]
    entries[0]["value"] = entries[4]["value"] = None
    write_results_file(tmp_path, results)
    output = run_cli(["generate", str(tmp_path), str(tmp_path / "fig")])
    key = "rr.sizes.1.0.summary_metrics.pearson_distance_correlation"
    assert f"nan: {tmp_path / 'stochastic.json'}: {key}: 2 of 6 trials NaN" in output
    tests = (tmp_path / "fig" / "synthetic_with_variability_wilcoxon.csv").read_text().splitlines()
    header = tests[0].split(",")
    row = next(
        dict(zip(header, line.split(","), strict=True))
        for line in tests[1:]
        if ",pearson_distance_correlation,bt,rr," in line
    )
    assert row["n"] == "4", "the two NaN trials are left out of the paired test"


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"published-layout sample absent: {SAMPLE}")
def test_shared_published_sample_renders(tmp_path):
    output = run_cli(["generate", str(SAMPLE.parent), str(tmp_path)])
    assert f"missing: {SAMPLE.parent / 'stochastic.json'}: metadata.master_seed" in output
    assert "rendering with_variability: stochastic" in output
    for stem in ("kendall_tau", "confusion", "boxplots", "dataset_size"):
        assert (tmp_path / f"synthetic_with_variability_{stem}.pdf").is_file()
    raw = json.loads(SAMPLE.read_text())
    accuracy = [e["value"] for e in raw["bt"]["sizes"]["1.0"]["summary_metrics"]["choice_accuracy"]]
    mean, half = summary.mean_ci(accuracy)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        summary.main([str(SAMPLE.parent), "--size", "1.0", "--metrics", "choice_accuracy",
                      "spearman_distance_correlation"])  # fmt: skip
    text = out.getvalue()
    assert f"| bt | {mean:.3f} ± {half:.3f} |" in text
    assert "| stochastic |" in text
    assert f"missing: {SAMPLE}: bt.sizes.1.0.summary_metrics.spearman_distance_correlation" in text
