"""Resumes that cannot be poisoned: incomplete checkpoints are skipped, a checkpoint of another
configuration is refused (unless resume_mismatch=allow), a damaged summary is taken over or
refused naming the file, and a full disk during a checkpoint names the folder."""

from __future__ import annotations

import errno
import json
import logging
from pathlib import Path

import pytest
from accelerate import PartialState
from train_helpers import FAST, compose_config
from transformers import Trainer

from responserank.errors import ConfigError, InputFileError, WriteError
from responserank.llm.config import validate
from responserank.llm.runs.lifecycle import RunLifecycle
from responserank.llm.runs.resume import (
    check_explicit_resume,
    checkpoint_step,
    incomplete_reason,
    newest_complete_checkpoint,
)
from responserank.llm.train import run

#: Two short epochs on a fifth of the fixture: a checkpoint after each.
SHORT = [*FAST, "experiment=bt", "training.num_epochs=2", "experiment.fraction=0.2"]


def _checkpoint(folder: Path, step: int, state: str | None = None) -> Path:
    path = folder / f"checkpoint-{step}"
    path.mkdir(parents=True)
    (path / "model.safetensors").write_bytes(b"weights")
    if state is None:
        state = json.dumps({"global_step": step})
    if state:
        (path / "trainer_state.json").write_text(state)
    return path


def test_a_checkpoint_is_complete_once_its_trainer_state_is_written(tmp_path):
    assert incomplete_reason(_checkpoint(tmp_path, 2)) is None
    assert checkpoint_step(tmp_path / "checkpoint-2") == 2
    assert "no trainer_state.json" in incomplete_reason(_checkpoint(tmp_path, 4, state=""))
    truncated = _checkpoint(tmp_path, 6, state='{"global_step": 6, "log_hist')
    assert "not valid JSON" in incomplete_reason(truncated)
    assert "no integer global_step" in incomplete_reason(_checkpoint(tmp_path, 8, state="{}"))
    assert checkpoint_step(truncated) is None


def test_the_newest_complete_checkpoint_is_chosen_and_newer_partial_ones_removed(tmp_path, caplog):
    _checkpoint(tmp_path, 3)
    complete = _checkpoint(tmp_path, 12)
    partial = _checkpoint(tmp_path, 24, state="")
    with caplog.at_level(logging.WARNING):
        assert newest_complete_checkpoint(tmp_path) == complete
    assert not partial.exists()
    assert f"skipping the incomplete checkpoint {partial}" in caplog.text
    assert newest_complete_checkpoint(tmp_path / "checkpoint-3") is None  # no checkpoints there


def _record_with_checkpoint(root: Path, overrides: list[str]) -> Path:
    """A run record (its config.yaml) holding one complete checkpoint; returns the checkpoint."""
    spec = validate(compose_config(overrides))
    run_dir = root / spec.group_id / spec.run_name
    run_dir.mkdir(parents=True)
    (run_dir / "config.yaml").write_text(spec.resolved_yaml)
    return _checkpoint(run_dir / "checkpoints", 5)


def test_a_checkpoint_of_another_configuration_is_refused_naming_the_keys(
    fixture_overrides, tmp_path
):
    base = [*SHORT, *fixture_overrides]
    checkpoint = _record_with_checkpoint(tmp_path / "other", base)
    same = validate(compose_config([*base, f"resume={checkpoint}"]))
    assert check_explicit_resume(same, checkpoint) == []

    changed = [
        *base,
        f"resume={checkpoint}",
        "training.learning_rate=2e-3",
        "training.per_device_batch_size=4",
    ]
    with pytest.raises(ConfigError) as refused:
        check_explicit_resume(validate(compose_config(changed)), checkpoint)
    message = str(refused.value)
    assert str(checkpoint) in message
    assert "training.learning_rate (checkpoint 0.001, now 0.002)" in message
    assert "training.per_device_batch_size (checkpoint 8, now 4)" in message
    assert "resume_mismatch=allow" in message
    allowed = validate(compose_config([*changed, "resume_mismatch=allow"]))
    assert check_explicit_resume(allowed, checkpoint) == [
        "training.learning_rate",
        "training.per_device_batch_size",
    ]

    with pytest.raises(ConfigError, match=r"seed \(checkpoint 42, now 7\)"):
        check_explicit_resume(validate(compose_config([*base, "seed=7"])), checkpoint)

    loose = _checkpoint(tmp_path / "loose", 5)  # outside a run record: configuration unknown
    with pytest.raises(ConfigError, match="not inside a run record"):
        check_explicit_resume(same, loose)
    partial = _checkpoint(tmp_path / "other" / "partial", 9, state="")
    with pytest.raises(ConfigError, match=r"not a complete checkpoint: no trainer_state\.json"):
        check_explicit_resume(allowed, partial)


def test_a_refused_explicit_resume_writes_nothing(fixture_overrides, tmp_path):
    base = [*SHORT, *fixture_overrides]
    checkpoint = _record_with_checkpoint(tmp_path / "other", base)
    cfg = compose_config([*base, f"resume={checkpoint}", "training.learning_rate=2e-3"])
    with pytest.raises(ConfigError, match=r"training\.learning_rate"):
        run(cfg)
    assert not (tmp_path / "runs").exists()


def _lifecycle(overrides: list[str]) -> RunLifecycle:
    return RunLifecycle(validate(compose_config(overrides)), {}, PartialState(cpu=True))


def test_a_damaged_summary_is_set_aside_unless_the_run_saved_its_model(fixture_overrides, caplog):
    lifecycle = _lifecycle([*SHORT, *fixture_overrides])
    record = lifecycle.record
    record.path.mkdir(parents=True)
    record.summary_path.write_text('{"status": "runn')  # truncated by an earlier crash
    with caplog.at_level(logging.WARNING):
        assert lifecycle.start() is None  # taken over
    lifecycle.claim.release()
    assert not record.summary_path.exists()
    kept = list(record.path.glob("summary.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text() == '{"status": "runn'
    assert f"{record.summary_path}: not valid JSON" in caplog.text

    record.summary_path.write_text("{")
    record.model_dir.mkdir()
    again = _lifecycle([*SHORT, *fixture_overrides])
    with pytest.raises(InputFileError, match=r"summary\.json: not valid JSON.*may have finished"):
        again.start()
    assert not record.claim_path.exists(), "a refused start releases its claim"


@pytest.mark.slow
def test_a_full_disk_during_a_checkpoint_then_the_same_command_resumes(
    fixture_overrides, monkeypatch, caplog
):
    cfg = [*SHORT, *fixture_overrides, "save_model=false"]
    original = Trainer._save_rng_state
    saves: list[int] = []

    def disk_full_at_the_second_save(self, output_dir):
        saves.append(self.state.global_step)
        if len(saves) == 2:  # weights and optimizer are written, trainer_state.json is not
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, output_dir)

    monkeypatch.setattr(Trainer, "_save_rng_state", disk_full_at_the_second_save)
    with pytest.raises(WriteError) as failed:
        run(compose_config(cfg))
    first, second = saves
    run_dir = Path(str(failed.value).split(" under ")[1].split(":")[0])
    assert str(failed.value) == (
        f"cannot write the run's checkpoints under {run_dir}: No space left on device"
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "failed"
    partial = run_dir / "checkpoints" / f"checkpoint-{second}"
    assert partial.is_dir() and not (partial / "trainer_state.json").exists()

    monkeypatch.setattr(Trainer, "_save_rng_state", original)
    with caplog.at_level(logging.INFO):
        resumed = run(compose_config(cfg))
    assert resumed.status == "finished"
    assert f"skipping the incomplete checkpoint {partial}" in caplog.text
    complete = run_dir / "checkpoints" / f"checkpoint-{first}"
    assert f"resuming from {complete} at step {first}" in caplog.text
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["resumed_from"] == str(complete)
    assert summary["resumed_at_step"] == first
    assert summary["global_step"] == second


@pytest.mark.slow
def test_resume_mismatch_allow_resumes_and_the_record_says_so(fixture_overrides, tmp_path):
    first = run(compose_config([*SHORT, *fixture_overrides, "runtime.keep_checkpoints=true"]))
    (checkpoint,) = (first.run_dir / "checkpoints").glob("checkpoint-*")
    other = [
        *SHORT,
        *fixture_overrides,
        "training.num_epochs=3",
        f"resume={checkpoint}",
        "resume_mismatch=allow",
        "save_model=false",
    ]
    resumed = run(compose_config(other))
    assert resumed.status == "finished" and resumed.run_dir != first.run_dir
    summary = json.loads((resumed.run_dir / "summary.json").read_text())
    assert summary["resumed_from"] == str(checkpoint)
    assert summary["resumed_at_step"] == checkpoint_step(checkpoint)
    assert summary["resume_mismatch_allowed"] == ["training.num_epochs"]
