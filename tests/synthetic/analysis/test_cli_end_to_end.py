"""find -> collect -> generate on a real two-trial run of the experiment runner."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from responserank.synthetic.analysis.cli import main

REPO_ROOT = Path(__file__).resolve().parents[3]
LEARNERS = ("bt", "rr", "rr_pooled", "rr_perm", "rt_regression", "rt_regression_perm")
DATASET = "stochastic"


def run_cli(argv: list[str], expected_status: int = 0) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    assert status == expected_status, err.getvalue()
    return out.getvalue() + err.getvalue()


@pytest.fixture(scope="module")
def experiment_dir(tmp_path_factory) -> Path:
    """One finished tiny run (2 trials, sizes 0.5 and 1.0, 30 epochs) under a fresh output root."""
    output_root = tmp_path_factory.mktemp("e2e") / "experiment_runner"
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    )
    command = [
        sys.executable,
        "-m",
        "responserank.synthetic.experiment_runner",
        f"dataset={DATASET}",
        "num_trials=2",
        "dataset_sizes=[0.5,1.0]",
        f"output_root={output_root}",
        "execution_backend.num_processes=1",
        "execution_backend.progress=false",
        *(f"learners.{name}.num_epochs=30" for name in LEARNERS),
    ]
    completed = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return output_root


@pytest.mark.slow
def test_find_collect_generate(experiment_dir, tmp_path):
    cache = tmp_path / "results"
    run_cli(["find", str(experiment_dir), str(cache)])
    paths = json.loads((cache / "experiment_paths.json").read_text())
    assert list(paths) == [DATASET]
    run_dir = Path(paths[DATASET])
    assert run_dir.parent == experiment_dir / DATASET

    run_cli(["collect", str(cache), "--paths-file", str(cache / "experiment_paths.json")])
    collected = cache / f"{DATASET}.json"
    assert collected.read_bytes() == (run_dir / f"{DATASET}.json").read_bytes()
    assert (cache / f"{DATASET}.provenance.json").read_bytes() == (
        run_dir / f"{DATASET}.provenance.json"
    ).read_bytes()
    results = json.loads(collected.read_text())
    assert results["metadata"]["num_trials"] == 2
    assert sorted(results["bt"]["sizes"]) == ["0.5", "1.0"]

    direct = tmp_path / "direct"
    run_cli(["collect", str(direct), str(run_dir)])
    assert (direct / f"{DATASET}.json").read_bytes() == collected.read_bytes()

    figures = tmp_path / "figures"
    output = run_cli(["generate", str(cache), str(figures)])
    stems = ("boxplots", "dataset_size", "kendall_tau", "confusion")
    for stem in stems:
        for fmt in ("pdf", "png"):
            assert (figures / f"synthetic_with_variability_{stem}.{fmt}").stat().st_size > 0
    for name in (
        "accuracy_table.tex",
        "pdc_table.tex",
        "wilcoxon.tex",
        "wilcoxon.csv",
        "bt_level.csv",
    ):
        assert (figures / f"synthetic_with_variability_{name}").stat().st_size > 0
    assert not list(figures.glob("synthetic_no_variability_*"))
    assert f"missing: {cache / 'drift_diffusion.json'}" in output
    assert "no_variability: no dataset present" in output


@pytest.mark.slow
def test_collect_rejects_mismatched_and_duplicate_runs(experiment_dir, tmp_path):
    (run_dir,) = (experiment_dir / DATASET).iterdir()
    paths_file = tmp_path / "paths.json"
    paths_file.write_text(json.dumps({"drift_diffusion": str(run_dir)}))
    output = run_cli(["collect", str(tmp_path), "--paths-file", str(paths_file)], 2)
    assert f"{paths_file}: key drift_diffusion: run {run_dir} holds dataset 'stochastic'" in output
    output = run_cli(["collect", str(tmp_path), str(run_dir), str(run_dir)], 2)
    assert "two runs for dataset 'stochastic'" in output


def test_collect_reports_bad_paths_file_and_missing_run(tmp_path):
    paths_file = tmp_path / "paths.json"
    paths_file.write_text("{not json")
    assert f"{paths_file}: not valid JSON" in run_cli(
        ["collect", str(tmp_path), "--paths-file", str(paths_file)], 2
    )
    paths_file.write_text(json.dumps({"stochastic": str(tmp_path / "nowhere")}))
    output = run_cli(["collect", str(tmp_path), "--paths-file", str(paths_file)], 2)
    assert "nowhere does not exist (listed for stochastic" in output
    assert "nothing to collect" in run_cli(["collect", str(tmp_path)], 2)


def test_find_without_finished_runs_is_an_error(tmp_path):
    (tmp_path / "runs").mkdir()
    output = run_cli(["find", str(tmp_path / "runs"), str(tmp_path / "out")], 2)
    assert "no finished experiment runs" in output
    assert not (tmp_path / "out").exists()


def test_help_documents_every_command():
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["--help"])
    for command in ("find", "collect", "generate"):
        assert command in out.getvalue()
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["generate", "--help"])
    assert "--usetex" in out.getvalue()


def test_collect_keeps_a_results_file_of_another_grid_unless_told(experiment_dir, tmp_path):
    """A newer run of a smaller grid must not silently replace a dataset's results file."""
    run_dir = next(experiment_dir.rglob(f"{DATASET}.json")).parent
    cache = tmp_path / "cache"
    run_cli(["collect", str(cache), str(run_dir)])
    larger = json.loads((cache / f"{DATASET}.json").read_text())
    larger["metadata"]["num_trials"] = 100
    (cache / f"{DATASET}.json").write_text(json.dumps(larger))
    before = (cache / f"{DATASET}.json").read_bytes()

    output = run_cli(["collect", str(cache), str(run_dir)], 2)
    assert "holds another grid" in output and "num_trials 100 there, 2 in the run" in output
    assert "--replace" in output
    assert (cache / f"{DATASET}.json").read_bytes() == before

    run_cli(["collect", str(cache), str(run_dir), "--replace"])
    assert json.loads((cache / f"{DATASET}.json").read_text())["metadata"]["num_trials"] == 2
