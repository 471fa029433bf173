"""Reward-model builders: padding, pooling, dropout, score-head scale, LoRA."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn
from train_helpers import tiny_model_config
from transformers import set_seed

from responserank.llm.config import model_spec
from responserank.llm.modeling.models import (
    LLAMA_FINETUNE_PAD,
    build_reward_model,
    choose_pad_token,
    load_tokenizer,
    resolve_checkpoint,
    score_head,
)
from responserank.llm.train import CONFIG_DIR


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(model_spec(tiny_model_config()))


def _model(tokenizer, **changes):
    cfg = tiny_model_config()
    for key, value in changes.items():
        OmegaConf.update(cfg, key, value)
    set_seed(0)
    return build_reward_model(model_spec(cfg), tokenizer)


def test_pad_token_prefers_llama_finetune_pad_then_own_pad_then_eos(tokenizer):
    assert choose_pad_token(tokenizer) == "[PAD]"
    tokenizer_with_pad = load_tokenizer(model_spec(tiny_model_config()))
    tokenizer_with_pad.add_special_tokens({"additional_special_tokens": [LLAMA_FINETUNE_PAD]})
    assert choose_pad_token(tokenizer_with_pad) == LLAMA_FINETUNE_PAD
    vocab_without = load_tokenizer(model_spec(tiny_model_config()))
    vocab_without.pad_token = None
    vocab_without.eos_token = "[SEP]"
    assert choose_pad_token(vocab_without) == "[SEP]"
    with pytest.raises(ValueError, match="not in the tokenizer's vocabulary"):
        choose_pad_token(tokenizer, "<nope>")


def test_reward_is_read_at_the_last_non_pad_token(tokenizer):
    model = _model(tokenizer).eval()
    ids = tokenizer(
        "[CLS] user : hello [SEP] assistant : hi there [SEP]", add_special_tokens=False
    )["input_ids"]
    padded = torch.tensor([ids + [tokenizer.pad_token_id] * 5])
    alone = torch.tensor([ids])
    with torch.no_grad():
        r_padded = model(
            input_ids=padded, attention_mask=(padded != tokenizer.pad_token_id).long()
        ).logits
        r_alone = model(input_ids=alone).logits
    torch.testing.assert_close(r_padded, r_alone, rtol=1e-5, atol=1e-6)
    assert model.config.pad_token_id == tokenizer.pad_token_id


def test_dropout_is_off_and_weight_scale_scales_the_head(tokenizer):
    plain = _model(tokenizer)
    scaled = _model(tokenizer, weight_scale=0.1)
    assert all(m.p == 0.0 for m in plain.modules() if isinstance(m, nn.Dropout))
    assert plain.config.attention_dropout == 0.0
    torch.testing.assert_close(score_head(scaled).weight, 0.1 * score_head(plain).weight)
    plain.train()
    x = torch.tensor([[101, 2054, 2003, 102]])
    torch.testing.assert_close(plain(input_ids=x).logits, plain(input_ids=x).logits)


def test_lora_trains_adapters_and_the_score_head_only(tokenizer):
    model = _model(tokenizer, **{"lora.enabled": True, "lora.r": 4, "lora.dropout": 0.0})
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "score" in n for n in trainable)
    assert any("score" in n for n in trainable)


def test_quantization_needs_pretrained_weights_and_cuda(tokenizer):
    with pytest.raises(ValueError, match=r"needs pretrained weights, not a random `architecture`"):
        _model(tokenizer, quantization="4bit")
    if not torch.cuda.is_available():
        minilm = OmegaConf.load(CONFIG_DIR / "model" / "minilm.yaml")
        minilm.quantization = "4bit"
        minilm.lora.enabled = True
        with pytest.raises(ValueError, match="needs a CUDA device"):
            build_reward_model(model_spec(minilm), load_tokenizer(model_spec(minilm)))


def test_bundled_checkpoint_names():
    assert resolve_checkpoint("org/model") == "org/model"
    with pytest.raises(ValueError, match="choose one of"):
        resolve_checkpoint("bundled:nope")
