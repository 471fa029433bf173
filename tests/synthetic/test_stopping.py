"""Stopping the synthetic runner with real signals: SIGTERM and Ctrl-C stop it at once without a
traceback and mark the manifest stopped, its workers never outlive it, a resumed run gives the
same bytes, and a failed write names the file."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from responserank.synthetic.rundir import read_manifest
from synthetic.runner_helpers import REPO_ROOT
from synthetic.test_runner import run_cli, run_in_process

pytestmark = pytest.mark.slow

# Long enough that a signal arrives mid-run, short enough for a test: 2 learners x 2 sizes x 4
# one-trial units, 150 epochs each.
GRID = [
    "dataset=stochastic",
    "num_trials=4",
    "dataset_sizes=[0.5,1.0]",
    "execution_backend.trials_per_chunk=1",
    "execution_backend.progress=false",
    "~learners.rr_pooled",
    "~learners.rr_perm",
    "~learners.rt_regression",
    "~learners.rt_regression_perm",
    "learners.bt.num_epochs=150",
    "learners.rr.num_epochs=150",
]
# Generous for a loaded 2-core machine; the runner itself needs well under a second.
STOP_WITHIN_S = 10.0


def start_runner(run_dir: Path, workers: int, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "responserank.synthetic.experiment_runner",
            *GRID,
            f"execution_backend.num_processes={workers}",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def wait_for_first_cell(proc: subprocess.Popen, run_dir: Path) -> None:
    deadline = time.monotonic() + 240
    while not list((run_dir / "cells").rglob("trials_*.json")):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no cell was written in time"
        time.sleep(0.02)


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [
            p for p in alive if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"
        ]
        time.sleep(0.05)
    return alive


@pytest.mark.parametrize(
    ("signum", "to_group", "workers"),
    [(signal.SIGTERM, False, 2), (signal.SIGINT, True, 2), (signal.SIGTERM, False, 1)],
    ids=["sigterm-2-workers", "ctrl-c-2-workers", "sigterm-in-process"],
)
def test_signal_stops_at_once_marks_stopped_and_resumes_to_the_same_bytes(
    tmp_path, signum, to_group, workers
):
    run_dir = tmp_path / "run"
    proc = start_runner(run_dir, workers, start_new_session=True)
    wait_for_first_cell(proc, run_dir)
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    assert len(children) == (workers if workers > 1 else 0)

    sent = time.monotonic()
    # Ctrl-C in a terminal signals the whole foreground process group.
    os.killpg(proc.pid, signum) if to_group else proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    took = time.monotonic() - sent

    assert proc.returncode == 128 + signum
    assert took < STOP_WITHIN_S
    assert "Traceback" not in stderr
    assert f"stopped by {signal.Signals(signum).name}" in stderr
    assert wait_gone(children, 5.0) == []
    manifest = read_manifest(run_dir)
    assert manifest["status"] == "stopped"
    assert manifest["sessions"][-1]["ended_by"] == f"signal {signal.Signals(signum).name}"
    assert not (run_dir / "stochastic.json").exists()

    resumed = run_cli([f"resume_dir={run_dir}", "execution_backend.num_processes=1"])
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert read_manifest(run_dir)["status"] == "finished"
    reference = run_in_process(GRID, tmp_path / "reference")
    assert (run_dir / "stochastic.json").read_bytes() == reference


def test_workers_die_with_a_killed_runner(tmp_path):
    run_dir = tmp_path / "run"
    proc = start_runner(run_dir, 2, start_new_session=True)
    wait_for_first_cell(proc, run_dir)
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    assert len(children) == 2
    proc.kill()  # SIGKILL of the runner only, not of its process group
    proc.communicate(timeout=60)
    assert wait_gone(children, 5.0) == []


def _limit_file_size() -> None:
    # Files above 16 KiB cannot be written (EFBIG instead of SIGXFSZ): the cells and the run
    # record fit, the collected results do not, as on a disk that fills up at the end.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (16 * 1024, 16 * 1024))


def test_a_failed_write_names_the_file(tmp_path):
    run_dir = tmp_path / "run"
    proc = start_runner(run_dir, 1, preexec_fn=_limit_file_size)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 2, stderr[-3000:]
    assert f"error: cannot write {run_dir / 'stochastic.json'}: File too large" in stderr
    assert "Traceback" not in stderr
    assert read_manifest(run_dir)["status"] == "failed"
