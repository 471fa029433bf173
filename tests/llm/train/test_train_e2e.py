"""End-to-end runs of the training entry point on the MultiPref fixture with a tiny Llama."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from train_helpers import FAST, compose_config, run_torchrun_cpu

from responserank.llm.runs.interrupts import GracefulStop
from responserank.llm.train import CONFIG_DIR, run

EPOCHS = 2


def _train(overrides):
    return run(compose_config([*FAST, f"training.num_epochs={EPOCHS}", *overrides]))


@pytest.mark.slow
@pytest.mark.parametrize("experiment", ["bt", "rr_agree"])
def test_training_writes_the_record_and_the_loss_falls(experiment, fixture_overrides):
    suites = "eval.suites=[{_target_:train_helpers.ProbeSuite,name:probe}]"
    outcome = _train([f"experiment={experiment}", *fixture_overrides, suites])
    assert outcome.status == "finished"
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary["status"] == "finished"
    assert summary["run_name"] == outcome.run_dir.name == f"{summary['group_id']}-1.0-42"
    assert summary["experiment"] == experiment
    assert summary["dry_run"] is False
    assert summary["git"]["available"] is True
    for name in ("config.yaml", "overrides.yaml", "environment.json", "data_stats.json"):
        assert (outcome.run_dir / name).is_file(), name
    rows = [
        json.loads(line) for line in (outcome.run_dir / "metrics.jsonl").read_text().splitlines()
    ]
    assert [row["epoch"] for row in rows] == [1.0, 2.0]
    assert all(0.0 <= row["eval/heldout/accuracy"] <= 1.0 for row in rows)
    assert rows[-1]["train/loss"] < rows[0]["train/loss"]
    assert summary["metrics"]["eval/heldout/accuracy"] == rows[-1]["eval/heldout/accuracy"]
    assert summary["metrics"]["train/loss"] == rows[-1]["train/loss"]
    assert rows[-1]["train/packing/share_partitions_intact"] == 1.0
    assert all(row["eval/probe/prefers_helpful"] in (0.0, 1.0) for row in rows)
    assert "eval/probe/mean_reward" in summary["metrics"]
    assert (outcome.run_dir / "model" / "config.json").is_file()
    assert (outcome.run_dir / "model" / "tokenizer.json").is_file()
    assert not (outcome.run_dir / "checkpoints").exists()


def _run_again(overrides):
    return run(compose_config([*FAST, "training.num_epochs=2", "save_model=false", *overrides]))


@pytest.mark.slow
def test_stop_resume_and_skip(fixture_overrides, monkeypatch):
    base = ["experiment=bt", *fixture_overrides]

    # Interrupt the first attempt with SIGTERM after 3 optimizer steps.
    original = GracefulStop.on_step_end

    def terminate_at_step_3(self, args, state, control, **kwargs):
        if state.global_step == 3 and not self.requested:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, args, state, control, **kwargs)

    monkeypatch.setattr(GracefulStop, "on_step_end", terminate_at_step_3)
    stopped = _run_again(base)
    monkeypatch.setattr(GracefulStop, "on_step_end", original)
    assert stopped.status == "stopped"
    assert stopped.exit_code == 128 + signal.SIGTERM
    summary = json.loads((stopped.run_dir / "summary.json").read_text())
    assert summary["status"] == "stopped"
    assert (stopped.run_dir / "checkpoints" / "checkpoint-3").is_dir()
    assert signal.getsignal(signal.SIGTERM) is not None

    resumed = _run_again(base)
    assert resumed.status == "finished"
    summary = json.loads((resumed.run_dir / "summary.json").read_text())
    assert summary["resumed_from"].endswith("checkpoint-3")
    batches_per_epoch = json.loads((resumed.run_dir / "data_stats.json").read_text())[
        "packing_epoch0"
    ]["num_batches"]
    assert summary["global_step"] == 2 * batches_per_epoch
    epochs = [
        json.loads(line)["epoch"]
        for line in (resumed.run_dir / "metrics.jsonl").read_text().splitlines()
    ]
    assert epochs == [1.0, 2.0]

    skipped = _run_again(base)
    assert skipped.status == "skipped"
    assert json.loads((resumed.run_dir / "summary.json").read_text())["status"] == "finished"


def test_command_line_multirun_dry_run_writes_only_dry_records(multipref_fixture, tmp_path):
    """The contract's override example, as a two-seed sweep with the local launcher."""
    root = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "responserank.llm.train",
            "-m",
            "experiment=rr_agree",
            "seed=43,44",
            "experiment.fraction=0.5",
            "experiment.train_partitioner.target_size=4",
            "model=tiny_llama",
            f"dataset.path={multipref_fixture}",
            "dataset.test_size=30",
            f"tracking.output_root={root}",
            "tracking.wandb.mode=offline",
            "dry_run=true",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert done.stdout.count("packing_epoch0") == 2
    (group_dir,) = root.iterdir()
    run_dirs = sorted(group_dir.iterdir())
    assert [d.name for d in run_dirs] == [f"{group_dir.name}-0.5-{seed}" for seed in (43, 44)]
    for run_dir in run_dirs:
        assert [p.name for p in run_dir.iterdir()] == ["dry_run"]
        summary = json.loads((run_dir / "dry_run" / "summary.json").read_text())
        assert summary["dry_run"] is True and summary["status"] == "finished"
        assert summary["wandb_mode"] == "offline" and summary["wandb_id"]
        overrides = (run_dir / "dry_run" / "overrides.yaml").read_text()
        assert "experiment.train_partitioner.target_size=4" in overrides
        assert "partitioner: round_robin_auto" in overrides


def test_slurm_launcher_config_composes():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", overrides=["hydra/launcher=slurm"], return_hydra_config=True)
    assert cfg.hydra.launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert cfg.hydra.launcher.gpus_per_node == 1


@pytest.mark.slow
def test_two_process_training_writes_one_record(multipref_fixture, tmp_path):
    """torchrun with 2 CPU processes (gloo): one record, evaluation over the whole held-out set."""
    root = tmp_path / "runs"
    run_torchrun_cpu(
        [
            "-m",
            "responserank.llm.train",
            "experiment=rr_agree",
            *FAST,
            "training.per_device_batch_size=4",
            "training.gradient_accumulation_steps=2",
            "training.num_epochs=1",
            "save_model=false",
            f"dataset.path={multipref_fixture}",
            "dataset.test_size=30",
            f"tracking.output_root={root}",
        ]
    )
    (run_dir,) = [p for p in root.glob("*/*") if p.is_dir()]
    summary = json.loads((run_dir / "summary.json").read_text())
    data_stats = json.loads((run_dir / "data_stats.json").read_text())
    stats = data_stats["packing_epoch0"]
    assert summary["status"] == "finished"
    # every rank gets the same whole batches: (batches / 2 ranks) / 2 accumulation steps
    assert summary["global_step"] == -(-(stats["num_batches"] // 2) // 2)
    (row,) = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    # the whole held-out set: the 30-comparison split less the comparisons that mostly tied
    held_out = 30 - data_stats["dropped"]["test_common_ties"]
    assert row["eval/heldout/count"] == held_out == data_stats["sizes"]["eval"]
    # Per-step metrics are combined over both ranks: one row per optimizer step.
    steps = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == list(range(1, summary["global_step"] + 1))
    assert all(s["train/rewards/chosen_min"] <= s["train/rewards/chosen_max"] for s in steps)
