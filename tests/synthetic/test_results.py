"""Collected results: finding finished runs, collecting cells, schema validation, writing."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from responserank.errors import ResultsFormatError
from responserank.synthetic.experiment_runner import run_experiment
from responserank.synthetic.grid import Experiment
from responserank.synthetic.results import (
    collect_run,
    find_finished_runs,
    load_results,
    write_results,
)
from responserank.synthetic.rundir import read_manifest, write_manifest
from responserank.synthetic.summary import markdown_table, mean_ci, pivot_tables
from synthetic.runner_helpers import (
    TINY,
    compose_config,
    single_torch_thread,  # noqa: F401 -- autouse fixture
)

OVERRIDES = [
    *TINY,
    "dataset=deterministic_all_no_variability",
    "~learners.rr_pooled",
    "~learners.rr_perm",
    "~learners.rt_regression_perm",
    "~learners.rt_regression",
    "learners.bt.num_epochs=3",
    "learners.rr.num_epochs=3",
]


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    run_dir = tmp_path_factory.mktemp("exp") / "deterministic_all_no_variability" / "run_a"
    run_experiment(Experiment.from_config(compose_config(OVERRIDES)), run_dir, 1, False)
    torch.set_num_threads(threads)
    return run_dir


def test_collected_results_follow_the_schema(finished_run):
    results = collect_run(finished_run)
    assert results["metadata"] == {
        "dataset": "deterministic_all_no_variability",
        "num_trials": 2,
        "learners": ["bt", "rr"],
        "dataset_sizes": [0.5, 1.0],
        "master_seed": 42,
    }
    matrices = results["dataset_metrics"]["test_confusion_matrix"]
    assert len(matrices) == 2
    assert matrices[0]["type"] == "matrix" and matrices[0]["dataset_metric"] is True
    assert sum(map(sum, matrices[0]["value"])) == 200
    tau = results["dataset_metrics"]["test_abs_logit_diff_rt_kendall_tau"][0]
    assert tau["type"] == "scalar" and tau["value"] == pytest.approx(1.0)  # deterministic RT
    accuracy = results["rr"]["sizes"]["0.5"]["summary_metrics"]["choice_accuracy"]
    assert [e["type"] for e in accuracy] == ["scalar", "scalar"]
    assert all(e["dataset_metric"] is False for e in accuracy)
    assert set(results["bt"]["sizes"]) == {"0.5", "1.0"}
    on_disk = load_results(finished_run / "deterministic_all_no_variability.json")
    assert json.loads(json.dumps(results)) == on_disk


def test_write_results_is_byte_reproducible_and_round_trips(finished_run, tmp_path):
    results = collect_run(finished_run)
    write_results(results, tmp_path / "a.json")
    write_results(load_results(tmp_path / "a.json"), tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert (tmp_path / "a.json").read_bytes() == (
        finished_run / "deterministic_all_no_variability.json"
    ).read_bytes()


def test_find_finished_runs_picks_the_latest_finished_run(finished_run):
    exp_dir = finished_run.parent.parent
    later = finished_run.parent / "run_b"
    unfinished = finished_run.parent / "run_c"
    shutil.copytree(finished_run, later)
    shutil.copytree(finished_run, unfinished)
    for path, started, status in (
        (later, "2099-01-01T00:00:00+00:00", "finished"),
        (unfinished, "2100-01-01T00:00:00+00:00", "running"),
    ):
        manifest = read_manifest(path)
        manifest.update(started_at=started, status=status)
        write_manifest(path, manifest)
    assert find_finished_runs(exp_dir) == {"deterministic_all_no_variability": later}
    with pytest.raises(FileNotFoundError, match="experiment directory not found"):
        find_finished_runs(exp_dir / "missing")


def test_collect_names_missing_cells(finished_run, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(finished_run, broken)
    next(iter((broken / "cells" / "rr").rglob("trials_0001-0001.json"))).unlink()
    with pytest.raises(
        FileNotFoundError, match=r"1 result file\(s\) missing or unreadable.*resume_dir="
    ):
        collect_run(broken)


def test_one_file_per_work_unit(finished_run):
    """TINY runs one trial per unit: 2 learners x 2 sizes x 2 units, each listing its fits."""
    units = sorted((finished_run / "cells").rglob("*.json"))
    assert [p.relative_to(finished_run / "cells").as_posix() for p in units][:2] == [
        "bt/size_0.5/trials_0000-0000.json",
        "bt/size_0.5/trials_0001-0001.json",
    ]
    assert len(units) == 8
    unit = json.loads(units[1].read_text())
    assert unit["learner"] == "bt" and unit["size"] == "0.5"
    assert [cell["trial"] for cell in unit["cells"]] == [1]
    dataset = json.loads((finished_run / "dataset_metrics.json").read_text())
    assert [t["trial"] for t in dataset["trials"]] == [0, 1]


def test_collect_reads_run_directories_of_the_per_trial_layout(finished_run, tmp_path):
    """Run directories written before work units had one file each still collect (and resume)."""
    legacy = tmp_path / "legacy"
    shutil.copytree(finished_run, legacy)
    for unit in list((legacy / "cells").rglob("trials_*.json")):
        for cell in json.loads(unit.read_text())["cells"]:
            (unit.parent / f"trial_{cell['trial']:04d}.json").write_text(json.dumps(cell))
        unit.unlink()
    metrics_file = legacy / "dataset_metrics.json"
    (legacy / "dataset_metrics").mkdir()
    for entry in json.loads(metrics_file.read_text())["trials"]:
        (legacy / "dataset_metrics" / f"trial_{entry['trial']:04d}.json").write_text(
            json.dumps(entry)
        )
    metrics_file.unlink()
    assert collect_run(legacy) == collect_run(finished_run)


def test_collect_names_the_file_and_key_of_a_bad_unit(finished_run, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(finished_run, broken)
    unit = next(iter((broken / "cells" / "rr").rglob("trials_0001-0001.json")))
    content = json.loads(unit.read_text())
    content["cells"][0]["trial"] = 7
    unit.write_text(json.dumps(content))
    with pytest.raises(ResultsFormatError, match=r"trials_0001-0001.json: key cells: expected"):
        collect_run(broken)

    swapped = broken / "cells" / "bt" / "size_1.0" / "trials_0001-0001.json"
    unit.write_text(swapped.read_text())  # bt's numbers in rr's place
    with pytest.raises(ResultsFormatError, match=r"rr/size_1.0/trials_0001-0001.json: key learner"):
        collect_run(broken)

    content["cells"][0].update(trial=1, metrics={"only_this": 1.0})
    unit.write_text(json.dumps(content))
    with pytest.raises(ResultsFormatError, match=r"trials_0001-0001.json: metrics \['only_this'\]"):
        collect_run(broken)


def test_load_accepts_reference_files_with_a_timestamp(finished_run, tmp_path):
    results = collect_run(finished_run)
    results["metadata"]["timestamp"] = "2025-05-01 12:00:00"
    del results["metadata"]["master_seed"]
    path = tmp_path / "reference.json"
    path.write_text(json.dumps(results))
    assert load_results(path)["metadata"]["timestamp"] == "2025-05-01 12:00:00"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("metadata"), "metadata: expected an object"),
        (
            lambda r: r["metadata"].update(num_trials="2"),
            "metadata.num_trials: expected an integer",
        ),
        (
            lambda r: r["bt"]["sizes"]["0.5"]["summary_metrics"]["choice_accuracy"][1].update(
                value="high"
            ),
            r"bt.sizes.0.5.summary_metrics.choice_accuracy\[1\].value: expected a number",
        ),
        (
            lambda r: r["dataset_metrics"]["test_confusion_matrix"][0].update(value=3),
            r"dataset_metrics.test_confusion_matrix\[0\].value: expected a matrix",
        ),
        (lambda r: r["rr"]["sizes"].update({"2.0": {}}), "rr.sizes: expected size keys"),
        (
            lambda r: r["rr"]["sizes"]["1.0"]["summary_metrics"]["choice_accuracy"][0].pop("type"),
            r"choice_accuracy\[0\]: expected key 'type'",
        ),
    ],
)
def test_load_names_the_file_and_key_path_of_schema_errors(finished_run, tmp_path, mutate, message):
    results = collect_run(finished_run)
    mutate(results)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(results))
    with pytest.raises(ResultsFormatError, match=message) as info:
        load_results(path)
    assert str(path) in str(info.value)


def test_summary_table_is_computed_from_the_json(finished_run):
    results_file = finished_run / "deterministic_all_no_variability.json"
    results = load_results(results_file)
    values = [
        e["value"] for e in results["rr"]["sizes"]["1.0"]["summary_metrics"]["choice_accuracy"]
    ]
    mean, _ = mean_ci(values)
    table = markdown_table([results_file])
    # two trials: the mean and n, no interval (as the figures draw no band below three)
    assert f"| deterministic_all_no_variability (n=2) | rr | {mean:.3f} (n=2; no CI) |" in table
    pivot = pivot_tables([results_file], metrics=["choice_accuracy"])
    assert pivot.index("| bt |") < pivot.index("| rr |")  # the run's learner order
    assert f"| rr | {mean:.3f} (n=2; no CI) |" in pivot
    mean, half = mean_ci([0.5, 0.7])
    assert mean == pytest.approx(0.6)
    assert half == pytest.approx(12.706 * 0.1414 / math.sqrt(2), rel=1e-3)


def test_summary_refuses_a_size_no_results_file_has(finished_run, capsys):
    from responserank.synthetic.summary import main

    with pytest.raises(SystemExit) as stopped:
        main([str(finished_run), "--size", "0.3"])
    assert stopped.value.code == 2
    assert "--size 0.3: no results file has that dataset size; sizes present: 0.5, 1.0" in (
        capsys.readouterr().err
    )
