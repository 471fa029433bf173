"""The experiment runner end to end: CLI overrides, worker-count independence, resuming an
interrupted run, and bad input failing before any work."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from hydra.errors import MissingConfigException

from responserank.errors import ConfigError
from responserank.synthetic.experiment_runner import resolve_experiment, run_experiment
from responserank.synthetic.grid import (
    Experiment,
)
from responserank.synthetic.rundir import read_manifest
from synthetic.runner_helpers import (
    REPO_ROOT,
    TINY,
    compose_config,
    single_torch_thread,  # noqa: F401 -- autouse fixture
)

pytestmark = pytest.mark.slow

# The README's override forms, on a grid of three learners with few epochs.
README_OVERRIDES = [
    "dataset=stochastic",
    "learners.bt.num_epochs=5",
    "+learner@learners.x=rr",
    "~learners.rr",
    "~learners.rr_pooled",
    "~learners.rr_perm",
    "~learners.rt_regression_perm",
    "learners.x.num_epochs=5",
    "learners.rt_regression.num_epochs=5",
]


def run_cli(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    return subprocess.run(
        [sys.executable, "-m", "responserank.synthetic.experiment_runner", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        **kwargs,
    )


def run_in_process(overrides: list[str], run_dir: Path) -> bytes:
    experiment = Experiment.from_config(compose_config(overrides))
    run_experiment(experiment, run_dir, num_processes=1, progress=False)
    return (run_dir / f"{experiment.dataset.name}.json").read_bytes()


def test_cli_overrides_and_byte_identical_results_with_one_and_two_workers(tmp_path):
    overrides = TINY + README_OVERRIDES
    one_worker = run_in_process(overrides, tmp_path / "one")

    run_dir = tmp_path / "two"
    proc = run_cli([*overrides, "execution_backend.num_processes=2", f"hydra.run.dir={run_dir}"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run_dir / "stochastic.json").read_bytes() == one_worker

    record = yaml.safe_load((run_dir / "run_config.yaml").read_text())
    assert list(record["learners"]) == ["bt", "rt_regression", "x"]
    assert record["learners"]["bt"]["num_epochs"] == 5
    assert record["learners"]["x"]["loss"] == "rr"
    assert record["dataset"]["name"] == "stochastic"
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "finished"
    assert manifest["sessions"][-1]["num_processes"] == 2
    assert (run_dir / "stochastic.provenance.json").is_file()
    units = sorted((run_dir / "cells").rglob("trials_*.json"))
    assert len(units) == 3 * 2 * 2  # learners x sizes x one-trial units
    assert "hit the decision-time cap" in proc.stderr + proc.stdout


def _cell_identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def test_killed_run_resumes_without_recomputing_finished_units(tmp_path):
    overrides = [
        "dataset=deterministic_all",
        "num_trials=4",
        "dataset_sizes=[0.5,1.0]",
        "execution_backend.trials_per_chunk=2",
        "execution_backend.progress=false",
        "~learners.rr_pooled",
        "~learners.rr_perm",
        "~learners.rt_regression_perm",
        "~learners.rt_regression",
        "learners.bt.num_epochs=150",
        "learners.rr.num_epochs=150",
    ]
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "responserank.synthetic.experiment_runner",
            *overrides,
            "execution_backend.num_processes=1",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while not list((run_dir / "cells").rglob("trials_*.json")):
        assert proc.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no work unit was written in time"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    assert read_manifest(run_dir)["status"] == "running"
    assert not (run_dir / "deterministic_all.json").exists()
    # A work unit is one learner x one size x two trials, one file written atomically.
    kept = {p: _cell_identity(p) for p in (run_dir / "cells").rglob("trials_*.json")}
    total = 2 * 2 * 2
    assert 0 < len(kept) < total

    resumed = run_cli([f"resume_dir={run_dir}", "execution_backend.num_processes=1"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert read_manifest(run_dir)["status"] == "finished"
    assert len(read_manifest(run_dir)["sessions"]) == 2
    for path, identity in kept.items():
        assert _cell_identity(path) == identity, f"{path} was recomputed"
    assert len(list((run_dir / "cells").rglob("trials_*.json"))) == total

    reference = run_in_process(overrides, tmp_path / "reference")
    assert (run_dir / "deterministic_all.json").read_bytes() == reference


def test_resume_refuses_overrides_that_change_the_experiment(tmp_path):
    run_dir = tmp_path / "run"
    run_in_process(TINY + README_OVERRIDES, run_dir)
    cfg = compose_config([f"resume_dir={run_dir}"])
    experiment = resolve_experiment(cfg, run_dir, [f"resume_dir={run_dir}"])
    assert experiment.dataset.name == "stochastic"  # the stored one, not the default dataset
    with pytest.raises(ConfigError, match="drop the override"):
        resolve_experiment(cfg, run_dir, [f"resume_dir={run_dir}", "num_trials=5"])
    with pytest.raises(ConfigError, match="already holds a run of another experiment"):
        resolve_experiment(compose_config(TINY), run_dir, [])
    # The same command again continues the run in that folder.
    again = resolve_experiment(compose_config(TINY + README_OVERRIDES), run_dir, [])
    assert again.to_record() == experiment.to_record()


def test_a_multirun_with_a_fixed_folder_continues_when_run_again(tmp_path):
    """Stopped after its first job, the same multirun command finishes the rest: the finished
    job is not recomputed, the missing one runs."""
    sweep = tmp_path / "sweep"
    command = [
        "-m",
        "dataset=deterministic_all,stochastic",
        *TINY,
        "~learners.rr_pooled",
        "~learners.rr_perm",
        "~learners.rt_regression_perm",
        "learners.bt.num_epochs=3",
        "learners.rr.num_epochs=3",
        "learners.rt_regression.num_epochs=3",
        f"hydra.sweep.dir={sweep}",
    ]
    first = run_cli(command)
    assert first.returncode == 0, first.stderr[-3000:]
    finished = sweep / "0_deterministic_all" / "deterministic_all.json"
    units = {p: _cell_identity(p) for p in (sweep / "0_deterministic_all").rglob("trials_*")}
    shutil.rmtree(sweep / "1_stochastic")  # as if stopped before the second job
    again = run_cli(command)
    assert again.returncode == 0, again.stderr[-3000:]
    (log_file,) = (sweep / "0_deterministic_all").glob("*.log")
    assert "holds this experiment already: continuing it" in log_file.read_text()
    assert all(_cell_identity(p) == identity for p, identity in units.items())
    assert finished.is_file() and (sweep / "1_stochastic" / "stochastic.json").is_file()
    assert read_manifest(sweep / "1_stochastic")["status"] == "finished"


def test_bad_input_fails_on_the_command_line_before_any_work(tmp_path):
    run_dir = tmp_path / "bad"
    proc = run_cli([*TINY, "dataset_sizes=[0.0,1.0]", f"hydra.run.dir={run_dir}"])
    assert proc.returncode == 2
    assert "dataset_sizes[0]: expected a fraction in (0, 1], got 0.0" in proc.stderr
    assert not (run_dir / "run_config.yaml").exists()
    assert not (run_dir / "cells").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["num_trials=0"], "num_trials: expected an integer >= 1, got 0"),
        (["dataset_sizes=[0.5,1.5]"], r"dataset_sizes\[1\]: expected a fraction in \(0, 1\]"),
        (["dataset_sizes=[]"], "dataset_sizes: expected a non-empty list"),
        (
            [
                "~learners.bt",
                "~learners.rr",
                "~learners.rr_pooled",
                "~learners.rr_perm",
                "~learners.rt_regression",
                "~learners.rt_regression_perm",
            ],
            r"learners: no learner configured; add one with \+learner@learners",
        ),
        (["learners.bt.loss=hinge"], "learners.bt.loss: unknown value 'hinge'; valid choices"),
        (["+learners.bt.epochs=3"], r"learners.bt: unknown key\(s\) \['epochs'\]"),
    ],
)
def test_bad_config_values_are_named(overrides, message):
    with pytest.raises(ConfigError, match=message):
        Experiment.from_config(compose_config(TINY + overrides))


@pytest.mark.parametrize(
    ("override", "listed"),
    [("dataset=nope", "stochastic_no_variability"), ("+learner@learners.y=nope", "rr_pooled")],
)
def test_unknown_preset_names_list_the_valid_choices(override, listed):
    with pytest.raises(MissingConfigException, match=listed):
        compose_config([override])


def test_a_damaged_unit_file_is_computed_again_on_resume(tmp_path, caplog):
    run_dir = tmp_path / "run"
    reference = run_in_process(TINY + README_OVERRIDES, run_dir)
    unit = sorted((run_dir / "cells").rglob("trials_*.json"))[0]
    unit.write_bytes(unit.read_bytes()[:40])  # cut short
    experiment = Experiment.from_config(compose_config(TINY + README_OVERRIDES))
    with caplog.at_level("WARNING"):
        run_experiment(experiment, run_dir, num_processes=1, progress=False)
    assert f"{unit}: unreadable" in caplog.text
    assert json.loads(unit.read_text())["cells"]
    assert (run_dir / "stochastic.json").read_bytes() == reference
