"""Cell-by-cell agreement of two synthetic grids (for changes that alter float rounding only)."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from responserank.synthetic.agreement import compare_dirs, main
from responserank.synthetic.experiment_runner import run_experiment
from responserank.synthetic.grid import Experiment
from synthetic.runner_helpers import (
    compose_config,
    single_torch_thread,  # noqa: F401 -- autouse fixture
)

OVERRIDES = [
    "num_trials=4",
    "dataset_sizes=[1.0]",
    "execution_backend.progress=false",
    "dataset=deterministic_all_no_variability",
    "~learners.rr_pooled",
    "~learners.rr_perm",
    "~learners.rt_regression_perm",
    "~learners.rt_regression",
    "~learners.rr",
    "learners.bt.num_epochs=3",
]
NAME = "deterministic_all_no_variability.json"
CELL = ("bt", "1.0", "choice_accuracy")


@pytest.fixture(scope="module")
def old_dir(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("grid") / "run"
    run_experiment(Experiment.from_config(compose_config(OVERRIDES)), run_dir, 1, False)
    folder = tmp_path_factory.mktemp("old")
    shutil.copy(run_dir / NAME, folder / NAME)
    return folder


def _entries(results, learner, size, metric):
    return results[learner]["sizes"][size]["summary_metrics"][metric]


def _new_dir(old_dir, tmp_path, edit=None):
    results = json.loads((old_dir / NAME).read_text())
    if edit:
        edit(_entries(results, *CELL))
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / NAME).write_text(json.dumps(results))
    return folder


def test_identical_grids_agree_in_every_cell(old_dir, tmp_path):
    grid = compare_dirs(old_dir, _new_dir(old_dir, tmp_path))
    assert grid.missing == [] and grid.agrees(1.0)
    cells = grid.cells
    assert {c.metric for c in cells} >= {"choice_accuracy", "best_train_loss"}
    assert all(c.difference == 0 and c.identical_trials == c.n == 4 for c in cells)


def test_a_shift_is_measured_in_standard_errors_of_the_old_mean(old_dir, tmp_path):
    old = [e["value"] for e in _entries(json.loads((old_dir / NAME).read_text()), *CELL)]
    se = np.std(old, ddof=1) / math.sqrt(len(old))
    assert se > 0, "the fixture needs a cell that varies over trials"

    def shift_first_trial(entries):
        entries[0]["value"] += 4 * se  # moves the mean by 4 SE / 4 trials = 1 SE

    grid = compare_dirs(old_dir, _new_dir(old_dir, tmp_path, shift_first_trial))
    (cell,) = [c for c in grid.cells if (c.learner, c.size, c.metric) == CELL]
    assert cell.difference == pytest.approx(se)
    assert cell.difference_in_se == pytest.approx(1.0)
    assert cell.identical_trials == 3


def test_cli_exits_1_when_a_cell_is_outside_and_names_it(old_dir, tmp_path, capsys):
    def shift_all(entries):
        for entry in entries:
            entry["value"] += 1.0

    new = _new_dir(old_dir, tmp_path, shift_all)
    with pytest.raises(SystemExit) as stop:
        main([str(old_dir), str(new), "--report", str(tmp_path / "r.md")])
    assert stop.value.code == 1
    out = capsys.readouterr().out
    assert "1 differ by more than 1 SE" in out and "bt size 1.0 choice_accuracy" in out
    assert (tmp_path / "r.md").read_text().strip() == out.strip()


def test_cli_exits_0_on_agreement_and_2_on_unusable_input(old_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main([str(old_dir), str(_new_dir(old_dir, tmp_path))])
    assert stop.value.code == 0

    with pytest.raises(SystemExit) as stop:
        main([str(old_dir), str(tmp_path / "absent")])
    assert stop.value.code == 2
    assert "absent: folder not found" in capsys.readouterr().err

    fewer = tmp_path / "fewer"
    fewer.mkdir()
    results = json.loads((old_dir / NAME).read_text())
    del _entries(results, *CELL)[-1]
    (fewer / NAME).write_text(json.dumps(results))
    with pytest.raises(SystemExit) as stop:
        main([str(old_dir), str(fewer)])
    assert stop.value.code == 2
    assert "3 trials, 4 in" in capsys.readouterr().err


def test_what_the_reference_has_must_be_there(old_dir, tmp_path, capsys):
    """A learner, size or whole dataset of the reference that the other grid lacks is a
    failure, not a smaller comparison."""
    results = json.loads((old_dir / NAME).read_text())
    del results["bt"]["sizes"]["1.0"]["summary_metrics"]["choice_accuracy"]
    fewer = tmp_path / "fewer"
    fewer.mkdir()
    (fewer / NAME).write_text(json.dumps(results))
    grid = compare_dirs(old_dir, fewer)
    assert grid.missing == [f"{NAME[:-5]}.bt.sizes.1.0.choice_accuracy"]
    assert not grid.agrees(1.0)

    other = tmp_path / "other"
    other.mkdir()
    (old_dir / "extra.json").write_text((old_dir / NAME).read_text())
    try:
        with pytest.raises(SystemExit) as stop:
            main([str(old_dir), str(_new_dir(old_dir, tmp_path))])
    finally:
        (old_dir / "extra.json").unlink()
    assert stop.value.code == 1
    assert "missing: extra.json (the whole dataset" in capsys.readouterr().out


def test_other_json_files_are_listed_not_compared(old_dir, tmp_path, capsys):
    new = _new_dir(old_dir, tmp_path)
    (new / "reliability_sweep.json").write_text(json.dumps({"cells": [], "dataset": "x"}))
    with pytest.raises(SystemExit) as stop:
        main([str(old_dir), str(new)])
    assert stop.value.code == 0
    assert "not compared: " in capsys.readouterr().out


def test_files_of_different_experiments_are_refused(old_dir, tmp_path, capsys):
    new = _new_dir(old_dir, tmp_path)
    results = json.loads((new / NAME).read_text())
    results["metadata"]["master_seed"] = 7
    (new / NAME).write_text(json.dumps(results))
    with pytest.raises(SystemExit) as stop:
        main([str(old_dir), str(new)])
    assert stop.value.code == 2
    assert "metadata.master_seed is 7" in capsys.readouterr().err
