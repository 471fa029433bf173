"""Training jobs through hydra-submitit-launcher's local executor (``hydra/launcher=submitit_local``,
the same launcher code as on SLURM): a two-job multirun, and a job that receives the time-limit
signal, is requeued by submitit and finishes with the metrics of an uninterrupted run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from train_helpers import FAST, compose_config

from responserank.llm.train import CONFIG_DIR, run

HERE = Path(__file__).parent
EPOCHS = 2
TIMING_KEYS = ("runtime", "per_second", "wall_time")


def _multirun(overrides: list[str], sweep_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    command = [
        sys.executable,
        "-m",
        "responserank.llm.train",
        "-m",
        "hydra/launcher=submitit_local",
    ]
    command += [*FAST, f"training.num_epochs={EPOCHS}", "save_model=false", *overrides]
    command += [f"hydra.sweep.dir={sweep_dir}"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done


def _rows(run_dir: Path) -> list[dict]:
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    return [
        {k: v for k, v in json.loads(line).items() if not any(t in k for t in TIMING_KEYS)}
        for line in lines
    ]


def _submitit_logs(sweep_dir: Path) -> str:
    return "\n".join(p.read_text() for p in sorted((sweep_dir / ".submitit").rglob("*_log.*")))


@pytest.mark.slow
def test_two_job_multirun_through_submitit(fixture_overrides, tmp_path):
    _multirun(["experiment=bt", "seed=1,2", *fixture_overrides], tmp_path / "sweep")
    (group_dir,) = (tmp_path / "runs").iterdir()
    run_dirs = sorted(group_dir.iterdir())
    assert [d.name for d in run_dirs] == [f"{group_dir.name}-1.0-{seed}" for seed in (1, 2)]
    for run_dir in run_dirs:
        summary = json.loads((run_dir / "summary.json").read_text())
        assert summary["status"] == "finished"
        assert [row["epoch"] for row in _rows(run_dir)] == [1.0, 2.0]
        overrides = (run_dir / "overrides.yaml").read_text()
        assert "hydra/launcher: submitit_local" in overrides
    # Each job ran in its own submitit process (one job folder per job, named by its id).
    job_dirs = [p for p in (tmp_path / "sweep" / ".submitit").iterdir() if p.name.isdigit()]
    assert len(job_dirs) == 2


@pytest.mark.slow
def test_timed_out_job_is_requeued_and_matches_an_uninterrupted_run(multipref_fixture, tmp_path):
    marker = tmp_path / "signalled"
    suites = f"eval.suites=[{{_target_:preempt_suite.PreemptOnce,marker:'{marker}'}}]"
    common = [
        "experiment=bt",
        f"dataset.path={multipref_fixture}",
        "dataset.test_size=30",
        suites,
    ]
    # The reference: the same configuration, never signalled (the marker already exists).
    marker.write_text("reference run")
    reference = run(
        compose_config(
            [
                *FAST,
                f"training.num_epochs={EPOCHS}",
                "save_model=false",
                *common,
                f"tracking.output_root={tmp_path / 'reference'}",
            ]
        )
    )
    assert reference.status == "finished"
    marker.unlink()

    # timeout_min=10 makes submitit count any signal as a time-out (its guaranteed walltime is
    # min(0.8 x limit, limit - 10 min)); the local controller itself would signal only at 9.5 min.
    sweep = tmp_path / "sweep"
    _multirun(
        [*common, f"tracking.output_root={tmp_path / 'runs'}", "hydra.launcher.timeout_min=10"],
        sweep,
    )
    assert marker.exists(), "the job was never signalled"
    logs = _submitit_logs(sweep)
    assert "this job is timed-out" in logs
    assert "Requeued job" in logs

    (group_dir,) = (tmp_path / "runs").iterdir()
    (run_dir,) = group_dir.iterdir()  # the requeued job continued the same run record
    assert run_dir.name == reference.run_dir.name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "finished"
    assert summary["resumed_from"] and "checkpoint-" in summary["resumed_from"]
    rows, expected = _rows(run_dir), _rows(reference.run_dir)
    assert [row["epoch"] for row in rows] == [1.0, 2.0]
    assert rows[0].keys() == expected[0].keys()
    for row, want in zip(rows, expected, strict=True):
        for key, value in want.items():
            assert row[key] == pytest.approx(value, rel=1e-5, abs=1e-7), key
    reference_summary = json.loads((reference.run_dir / "summary.json").read_text())
    for key, value in reference_summary["metrics"].items():
        assert summary["metrics"][key] == pytest.approx(value, rel=1e-5, abs=1e-7), key


def test_readme_job_array_command_composes_with_requeue():
    """The published README's cluster loop as one Hydra multirun on the SLURM launcher: 8 tasks
    of one job array, requeued on time limits."""
    from hydra import compose, initialize_config_dir
    from hydra.core.override_parser.overrides_parser import OverridesParser

    docs = HERE.parents[2] / "docs"
    readme = "\n".join((docs / page).read_text() for page in ("llm.md", "scaling.md"))
    line = next(
        line
        for line in readme.replace("\\\n", " ").splitlines()
        if line.startswith("python -m responserank.llm.train -m hydra/launcher=slurm")
    )
    overrides = [w for w in line.split("#")[0].split()[4:] if "=" in w]
    parsed = OverridesParser.create().parse_overrides(overrides)
    tasks = 1
    for override in parsed:
        if override.is_sweep_override():
            tasks *= len(list(override.sweep_string_iterator()))
    assert tasks == 8
    first = [
        o.key_or_group
        + "="
        + (next(iter(o.sweep_string_iterator())) if o.is_sweep_override() else o.get_value_string())
        for o in parsed
    ]
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=first, return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.max_num_timeout >= 1 and launcher.signal_delay_s > 0
    assert cfg.resume == "auto"
