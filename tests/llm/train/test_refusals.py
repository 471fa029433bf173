"""A run refused by its configuration or its data leaves no run record behind; entry points whose
configuration cannot work say so on one line with keys that exist."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_dir
from train_helpers import FAST, compose_config

from responserank.errors import ConfigError, DataValidationError, HubUnavailableError
from responserank.llm.config import validate
from responserank.llm.evaluate import CONF_DIR, evaluate
from responserank.llm.runs.wandb_mirror import WandbMirror
from responserank.llm.train import run, settle_max_length


def _files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def test_a_model_neither_cached_nor_reachable_is_refused_before_any_record(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    runs = tmp_path / "runs"
    cfg = compose_config(
        [
            *FAST,
            "experiment=rr_agree",
            "model=llama31_8b_instruct",
            "dry_run=true",
            f"tracking.output_root={runs}",
        ]
    )
    with pytest.raises(HubUnavailableError, match="model=minilm"):
        run(cfg)
    assert _files(runs) == []


@pytest.mark.parametrize("dry_run", [True, False])
def test_data_refused_while_loading_leaves_no_record(tmp_path, dry_run):
    empty = tmp_path / "empty_copy"
    empty.mkdir()
    runs = tmp_path / "runs"
    cfg = compose_config(
        [
            *FAST,
            "experiment=rr_agree",
            f"dataset.path={empty}",
            f"dry_run={str(dry_run).lower()}",
            f"tracking.output_root={runs}",
        ]
    )
    with pytest.raises(DataValidationError, match=str(empty)):
        run(cfg)
    assert _files(runs) == []


def test_evaluate_with_an_eval_option_without_suites_names_the_options(tmp_path):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("evaluate", overrides=[f"model_dir={tmp_path}", "eval=heldout"])
    with pytest.raises(ConfigError) as caught:
        evaluate(cfg)
    message = str(caught.value)
    assert "no suites to run" in message and "rewardbench" in message and "heldout" in message
    assert "\n" not in message


def test_max_length_above_the_position_limit_is_refused_before_any_record(tmp_path):
    runs = tmp_path / "runs"
    given = "training.max_length=4096"
    cfg = compose_config(
        [
            *FAST,
            "experiment=rr_agree",
            "model=minilm",
            given,
            f"dataset.path={tmp_path}",
            f"tracking.output_root={runs}",
        ]
    )
    with pytest.raises(ConfigError, match=r"training\.max_length=4096 .* position limit 512"):
        run(cfg, {"overrides": [given]})
    assert _files(runs) == []


def test_max_length_from_a_preset_is_capped_at_the_position_limit(tmp_path, caplog):
    model = ["model=minilm", "training.max_length=1024", f"dataset.path={tmp_path}"]
    cfg = compose_config([*FAST, "experiment=rr_agree", *model])
    spec = settle_max_length(validate(cfg), overrides=[])
    assert spec.training.max_length == 512
    assert "capped at 512" in caplog.text


def test_refused_data_opens_no_wandb_run(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(WandbMirror, "start", lambda self, *a, **k: started.append(a))
    runs = tmp_path / "runs"
    cfg = compose_config(
        [
            *FAST,
            "experiment=rr_agree",
            f"dataset.path={tmp_path / 'nope'}",
            "dry_run=true",
            "tracking.wandb.mode=offline",
            f"tracking.output_root={runs}",
        ]
    )
    with pytest.raises(DataValidationError):
        run(cfg)
    assert started == []
    assert _files(runs) == []
