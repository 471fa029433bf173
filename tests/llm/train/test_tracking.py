"""Run identity, run record, claims and wandb mode selection."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from omegaconf import OmegaConf
from train_helpers import compose_config

from responserank.llm.config import plain_config, validate
from responserank.llm.runs.claims import claim_reason
from responserank.llm.runs.identity import config_hash, group_id, identity_config, run_name
from responserank.llm.runs.lifecycle import IGNORE_CLAIMS_ENV, resume_checkpoint, skip_reason
from responserank.llm.runs.record import RunRecord
from responserank.llm.runs.wandb_mirror import resolve_wandb_mode, wandb_claim_reason


def test_group_ignores_seed_fraction_and_operational_keys():
    base = compose_config(["experiment=rr_agree"])
    same = compose_config(
        [
            "experiment=rr_agree",
            "seed=7",
            "experiment.fraction=0.25",
            "dry_run=true",
            "force=true",
            "resume=never",
            "save_model=false",
            "runtime.eval_batch_size=4",
            "tracking.output_root=/elsewhere",
            "tracking.wandb.mode=disabled",
        ]
    )
    assert group_id(plain_config(base)) == group_id(plain_config(same))
    assert run_name(plain_config(same)) == f"{group_id(plain_config(same))}-0.25-7"
    assert run_name(plain_config(base)) == f"{group_id(plain_config(base))}-1.0-42"
    assert group_id(plain_config(base)).startswith("rr_agree_")


def test_export_settings_are_not_identity_and_best_model_selection_is():
    base = group_id(plain_config(compose_config(["experiment=rr_agree"])))
    exported = compose_config(
        ["experiment=rr_agree", "export.reward_stats=eval", "export.model_card=false"]
    )
    assert group_id(plain_config(exported)) == base
    # left at its defaults, best-model selection keeps the group ids of earlier runs
    assert "best_model" not in str(
        identity_config(plain_config(compose_config(["experiment=rr_agree"])))
    )
    best = compose_config(["experiment=rr_agree", "training.best_model.metric=eval/heldout/loss"])
    assert group_id(plain_config(best)) != base


@pytest.mark.parametrize(
    "override",
    ["training.learning_rate=2e-5", "loss.allow_ties=true", "model=minilm", "signal=consensus"],
)
def test_group_changes_with_anything_that_changes_training(override):
    assert config_hash(plain_config(compose_config(["experiment=rr_agree", override]))) != (
        config_hash(plain_config(compose_config(["experiment=rr_agree"])))
    )


def test_hash_does_not_depend_on_key_order():
    a = OmegaConf.create({"seed": 1, "x": {"a": 1, "b": 2}, "experiment": {"name": "e"}})
    b = OmegaConf.create({"experiment": {"name": "e"}, "x": {"b": 2, "a": 1}, "seed": 2})
    assert config_hash(plain_config(a)) == config_hash(plain_config(b))


def _stamp(seconds_ago: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)).isoformat()


def test_claims():
    assert claim_reason(None, 60) is None
    assert "finished" in claim_reason({"status": "finished"}, 60)
    assert claim_reason({"status": "finished", "dry_run": True}, 60) is None
    assert "running elsewhere" in claim_reason({"status": "running", "updated_at": _stamp(5)}, 60)
    assert claim_reason({"status": "running", "updated_at": _stamp(600)}, 60) is None
    assert claim_reason({"status": "stopped", "updated_at": _stamp(5)}, 60) is None


def test_wandb_claims_from_the_api():
    runs = {
        "done": [SimpleNamespace(summary={"status": "finished"}, state="finished", url="u1")],
        "live": [SimpleNamespace(summary={"status": "running"}, state="running", url="u2")],
        "crashed": [SimpleNamespace(summary={"status": "running"}, state="crashed", url="u3")],
    }

    class FakeApi:
        def runs(self, path, filters):
            assert path == "team/proj"
            return runs.get(filters["display_name"], [])

    assert "finished in wandb" in wandb_claim_reason("proj", "team", "done", FakeApi())
    assert "running in wandb" in wandb_claim_reason("proj", "team", "live", FakeApi())
    assert wandb_claim_reason("proj", "team", "crashed", FakeApi()) is None
    assert wandb_claim_reason("proj", "team", "new", FakeApi()) is None


def test_wandb_mode(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    assert resolve_wandb_mode("auto") == "offline"
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert resolve_wandb_mode("auto") == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert resolve_wandb_mode("auto") == "disabled"
    assert resolve_wandb_mode("offline") == "offline"
    with pytest.raises(ValueError, match="choose one of"):
        resolve_wandb_mode("sometimes")


def test_record_rejects_unknown_status_and_appends_metrics(tmp_path):
    record = RunRecord(tmp_path / "run")
    with pytest.raises(ValueError, match="status must be one of"):
        record.write_summary({"status": "done"})
    record.write_summary({"status": "running"})
    record.append_metrics({"epoch": 1.0, "step": 3, "eval/heldout/accuracy": 0.5})
    record.append_metrics({"epoch": 2.0, "step": 6, "eval/heldout/accuracy": 0.75})
    assert [r["step"] for r in record.read_metrics()] == [3, 6]
    assert record.update_summary(status="finished")["updated_at"]


def test_record_of_a_model_and_final_metrics_added_later(tmp_path):
    record = RunRecord(tmp_path / "group" / "run")
    record.write_summary({"status": "finished", "metrics": {"eval/heldout/accuracy": 0.5}})
    record.append_metrics({"epoch": 3.0, "step": 9, "eval/heldout/accuracy": 0.5})
    (record.model_dir).mkdir()
    assert RunRecord.holding_model(record.model_dir).path == record.path
    assert RunRecord.holding_model(tmp_path / "elsewhere" / "model") is None

    record.add_final_metrics({"eval/rb/overall": 0.25})
    assert record.read_summary()["metrics"] == {
        "eval/heldout/accuracy": 0.5,
        "eval/rb/overall": 0.25,
    }
    assert record.read_metrics()[-1] == {"epoch": 3.0, "step": 9, "eval/rb/overall": 0.25}
    assert record.read_summary()["status"] == "finished"


def test_malformed_record_files_name_the_file_and_line(tmp_path):
    record = RunRecord(tmp_path)
    record.summary_path.write_text('{"status": "finished", "metrics": [1]}')
    with pytest.raises(ValueError, match=r"summary\.json: expected a JSON object whose 'metrics'"):
        record.read_summary()
    record.summary_path.write_text("{")
    with pytest.raises(ValueError, match=r"summary\.json: not valid JSON"):
        record.read_summary()
    record.metrics_path.write_text('{"step": 1}\n[2]\n')
    with pytest.raises(ValueError, match=r"metrics\.jsonl: line 2: expected a JSON object"):
        record.read_metrics()


def test_force_and_the_environment_switch_ignore_claims(tmp_path, monkeypatch):
    cfg = compose_config(["experiment=bt", f"tracking.output_root={tmp_path}"])
    record = RunRecord(tmp_path / "run")
    record.write_summary({"status": "finished", "finished_at": "then"})
    assert "finished" in skip_reason(validate(cfg), record, "run", "offline")
    cfg.force = True
    assert skip_reason(validate(cfg), record, "run", "offline") is None
    cfg.force = False
    monkeypatch.setenv(IGNORE_CLAIMS_ENV, "1")
    assert skip_reason(validate(cfg), record, "run", "offline") is None


def test_resume_only_unfinished_runs_with_a_checkpoint(tmp_path):
    cfg = compose_config(["experiment=bt"])
    record = RunRecord(tmp_path / "run")
    (record.checkpoint_dir / "checkpoint-4").mkdir(parents=True)
    (record.checkpoint_dir / "checkpoint-4" / "trainer_state.json").write_text('{"global_step": 4}')
    record.write_summary({"status": "stopped"})
    assert resume_checkpoint(validate(cfg), record).endswith("checkpoint-4")
    cfg.resume = "never"
    assert resume_checkpoint(validate(cfg), record) is None
    cfg.resume = "auto"
    record.update_summary(status="finished")
    assert resume_checkpoint(validate(cfg), record) is None
