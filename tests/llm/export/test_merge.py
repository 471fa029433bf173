"""A LoRA reward model merged into its base scores with plain transformers, equal to the adapter."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from transformers import set_seed

from responserank.errors import ConfigError
from responserank.llm.config import model_spec
from responserank.llm.evaluation.reward_stats import (
    SIDECAR,
    RewardStatistics,
    read_reward_statistics,
    write_reward_statistics,
)
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.export.__main__ import main as export_main
from responserank.llm.export.hub import upload_manifest
from responserank.llm.export.model_card import read_facts, score_snippet, write_card
from responserank.llm.modeling.models import build_reward_model, load_tokenizer
from responserank.llm.train import CONFIG_DIR
from responserank.testing.plain_python import run_without_package
from responserank.testing.scoring import evaluate_rows

PAIRS = [
    {"prompt": "How do vaccines work?", "response": "They train the immune system safely."},
    {"prompt": "How do vaccines work?", "response": "No idea."},
    {"prompt": "Name a prime.", "response": "Seven: its only divisors are 1 and 7."},
]
FACTS = {
    "run_name": "lora-test",
    "base_model": "bundled:all-MiniLM-L6-v2",
    "dataset": "test pairs",
    "sizes": {"train": 3},
    "data_sha256": {"train": "0" * 64},
    "loss": "BradleyTerryObjective",
    "signal": "none",
    "stratifier": "global",
    "hyperparameters": {"learning rate": "1e-3"},
    "selection": "the last evaluated model",
    "metrics": {},
    "reward_statistics": None,
    "max_length": 128,
    "adapter": True,
}


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory):
    """MiniLM (no chat template) with LoRA adapters whose weights are not zero, as saved."""
    folder = tmp_path_factory.mktemp("adapter")
    cfg = OmegaConf.load(CONFIG_DIR / "model" / "minilm.yaml")
    cfg.lora.enabled = True
    tokenizer = load_tokenizer(model_spec(cfg))
    set_seed(0)
    model = build_reward_model(model_spec(cfg), tokenizer)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0.0, 0.05)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    stats = RewardStatistics(0.25, 1.5, 6, "train")
    write_reward_statistics(folder, stats)
    write_card(folder, {**FACTS, "reward_statistics": stats.as_dict()})
    return folder


def test_merged_model_scores_as_the_adapter_without_the_package(adapter_dir, tmp_path):
    assert (adapter_dir / SIDECAR).is_file() and "merge" in (adapter_dir / "README.md").read_text()
    merged = tmp_path / "merged"
    export_main(["merge", str(adapter_dir), str(merged)])
    assert not (merged / "adapter_config.json").exists()
    config = json.loads((merged / "config.json").read_text())
    assert (config["mean"], config["std"]) == (0.25, 1.5)
    assert read_reward_statistics(merged) == read_reward_statistics(adapter_dir)
    assert read_facts(merged)["adapter"] is False
    assert "AutoModelForSequenceClassification" in (merged / "README.md").read_text()
    upload_manifest(merged)  # a complete folder: card, config, weights, tokenizer

    adapter = [r["reward"] for r in evaluate_rows(adapter_dir, PAIRS, tmp_path)]
    code = "import json\n" + score_snippet(".", 128)
    code += (
        f"rows = {PAIRS!r}\nprint(json.dumps([reward(r['prompt'], r['response']) for r in rows]))\n"
    )
    plain = json.loads(run_without_package(code, cwd=merged).splitlines()[-1])
    np.testing.assert_allclose(plain, adapter, atol=1e-5)
    # the adapters matter: the same seeded model without them scores differently
    cfg = OmegaConf.load(CONFIG_DIR / "model" / "minilm.yaml")
    tokenizer = load_tokenizer(model_spec(cfg))
    set_seed(0)
    scorer = RewardModelScorer(
        build_reward_model(model_spec(cfg), tokenizer), tokenizer, show_progress=False
    )
    base = scorer.score([r["prompt"] for r in PAIRS], [r["response"] for r in PAIRS])
    assert np.abs(base - np.array(adapter)).max() > 1e-3


def test_merge_refuses_a_full_model_folder_and_an_occupied_target(adapter_dir, tmp_path):
    from responserank.llm.export.merge import merge_adapter

    with pytest.raises(ConfigError, match=r"no adapter_config\.json"):
        merge_adapter(tmp_path, tmp_path / "out")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "file").write_text("x")
    with pytest.raises(ConfigError, match="--force"):
        merge_adapter(adapter_dir, occupied)
