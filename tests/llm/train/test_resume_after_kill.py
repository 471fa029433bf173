"""A run killed without a chance to clean up (kill -9) resumes at once on the same host, and the
resumed epoch reports the training loss of the whole epoch, as an uninterrupted run does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict

import pytest
from train_helpers import FAST, compose_config

from responserank.llm.config import plain_config
from responserank.llm.runs.claims import ClaimHolder, read_holder
from responserank.llm.runs.identity import group_id, run_name
from responserank.llm.runs.interrupts import GracefulStop
from responserank.llm.runs.record import RunRecord, utc_now
from responserank.llm.train import run
from responserank.provenance import hostname


def _config(fixture_overrides, root):
    overrides = [o for o in fixture_overrides if not o.startswith("tracking.output_root=")]
    return compose_config(
        [
            "experiment=bt",
            *FAST,
            *overrides,
            "training.num_epochs=2",
            "save_model=false",
            f"tracking.output_root={root}",
        ]
    )


def _epoch_rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def _leave_as_killed(record: RunRecord, pid: int) -> None:
    """What kill -9 leaves behind: status running, fresh timestamps, the claim of process ``pid``."""
    record.update_summary(status="running", finished_at=None)
    now = utc_now()
    holder = ClaimHolder(hostname(), pid, "killed-run", now, now)
    record.claim_path.write_text(json.dumps(asdict(holder)))


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.slow
def test_killed_run_is_taken_over_and_its_epoch_loss_covers_the_whole_epoch(
    fixture_overrides, tmp_path, monkeypatch
):
    uninterrupted = run(_config(fixture_overrides, tmp_path / "uninterrupted"))
    assert uninterrupted.status == "finished"

    original = GracefulStop.on_step_end

    def terminate_at_step_3(self, args, state, control, **kwargs):
        if state.global_step == 3 and not self.requested:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, args, state, control, **kwargs)

    monkeypatch.setattr(GracefulStop, "on_step_end", terminate_at_step_3)
    stopped = run(_config(fixture_overrides, tmp_path / "interrupted"))
    monkeypatch.setattr(GracefulStop, "on_step_end", original)
    assert stopped.status == "stopped"
    record = RunRecord(stopped.run_dir)
    assert not record.claim_path.exists(), "a clean stop releases the claim"
    _leave_as_killed(record, _dead_pid())

    resumed = run(_config(fixture_overrides, tmp_path / "interrupted"))
    assert resumed.status == "finished"
    summary = record.read_summary()
    assert summary["status"] == "finished"
    assert summary["resumed_from"].endswith("checkpoint-3")
    assert not record.claim_path.exists()

    expected, got = _epoch_rows(uninterrupted.run_dir), _epoch_rows(resumed.run_dir)
    assert [r["epoch"] for r in got] == [r["epoch"] for r in expected] == [1.0, 2.0]
    for row, reference in zip(got, expected, strict=True):
        assert row["train/loss"] == pytest.approx(reference["train/loss"], rel=1e-5)
    assert summary["metrics"]["train/loss"] == pytest.approx(
        uninterrupted.metrics["train/loss"], rel=1e-5
    )


def test_run_claimed_by_a_live_process_is_skipped(fixture_overrides, tmp_path):
    cfg = _config(fixture_overrides, tmp_path / "runs")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        record = RunRecord(
            tmp_path / "runs" / group_id(plain_config(cfg)) / run_name(plain_config(cfg))
        )
        record.path.mkdir(parents=True)
        record.write_summary({"status": "running", "metrics": {}})
        _leave_as_killed(record, sleeper.pid)
        outcome = run(cfg)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert outcome.status == "skipped"
    assert read_holder(record.claim_path).pid == sleeper.pid
    assert record.read_summary()["status"] == "running"
