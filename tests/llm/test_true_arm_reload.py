"""``true_arm`` reloads a LoRA true_value_head run and reproduces the run's own TRUE -> LIE scores."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from rapl_fixtures import write_lie_folder, write_true_folder

from responserank.llm.data.sources.lie import load_lie_full
from responserank.llm.evaluation.true_model import binary_cross_entropy
from responserank.llm.modeling.models import ADAPTER_BASE_DIR
from responserank.llm.train import run
from responserank.llm.true_arm import main as true_arm_main

CONF = Path(__file__).resolve().parents[2] / "conf" / "llm"


@pytest.mark.slow
def test_true_arm_on_a_lora_run_matches_the_runs_transfer_scores(tmp_path, monkeypatch):
    data = tmp_path / "data"
    write_lie_folder(data / "lie", folds=2, rows_per_fold=6)
    write_true_folder(data / "true", folds=1, rows=8)
    monkeypatch.setenv("RR_DATA_DIR", str(data))
    overrides = [
        "experiment=true_value_head",
        "model=tiny_llama",
        "model.lora.enabled=true",
        "model.lora.r=4",
        "model.lora.dropout=0.0",
        "training.max_length=256",
        "training.per_device_batch_size=4",
        "training.gradient_accumulation_steps=1",
        "training.num_epochs=1",
        "runtime.checkpoint=no",
        "runtime.progress_bar=false",
        "tracking.wandb.mode=disabled",
        f"tracking.output_root={tmp_path / 'runs'}",
    ]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        outcome = run(compose("config", overrides=overrides))
    assert outcome.status == "finished"
    assert (outcome.run_dir / "model" / "adapter_config.json").is_file()
    assert (outcome.run_dir / "model" / ADAPTER_BASE_DIR / "config.json").is_file()
    metrics = json.loads((outcome.run_dir / "summary.json").read_text())["metrics"]

    out = tmp_path / "arm.csv"
    true_arm_main([str(outcome.run_dir), "--out", str(out), "--column", "arm"])
    arm = pd.read_csv(out)
    labels = load_lie_full(None).set_index("IDs")["correct_chosen"]
    label = labels.loc[arm["IDs"]].to_numpy(dtype=float)
    # the run scored the same LIE comparisons with the in-memory model during its last evaluation
    for order in ("order1", "order2"):
        reloaded = binary_cross_entropy(arm[f"arm_{order}"].to_numpy(), label)
        assert reloaded == pytest.approx(metrics[f"eval/true_to_lie/bce_{order}"], abs=1e-5)
