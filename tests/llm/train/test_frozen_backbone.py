"""Frozen-backbone reward models: what trains, and that the memo changes the cost, not the rewards."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf
from train_helpers import tiny_model_config
from transformers import set_seed

from responserank.errors import ConfigError
from responserank.llm.config import model_spec
from responserank.llm.modeling.frozen_backbone import memo_for
from responserank.llm.modeling.models import build_reward_model, load_tokenizer, resolve_checkpoint
from responserank.llm.train import CONFIG_DIR

TEXTS = ["Human: Is the sky blue?\n\nAssistant: Yes.", "Human: 2+2?\n\nAssistant: 4, of course."]


def _minilm_node(**changes):
    """conf/llm/model/minilm.yaml with ``changes`` (dotted keys) applied."""
    cfg = OmegaConf.load(CONFIG_DIR / "model" / "minilm.yaml")
    for key, value in changes.items():
        OmegaConf.update(cfg, key, value, force_add=True)
    return cfg


def _minilm(frozen: bool):
    node = _minilm_node()
    if frozen:
        preset = OmegaConf.load(CONFIG_DIR / "model" / "minilm_frozen.yaml")
        preset.pop("defaults")
        node = OmegaConf.merge(node, preset)
    cfg = model_spec(node)
    tokenizer = load_tokenizer(cfg)
    set_seed(0)
    return build_reward_model(cfg, tokenizer), tokenizer


@pytest.fixture(scope="module")
def frozen_and_plain():
    return _minilm(True), _minilm(False)


def _rewards(model, tokenizer, texts):
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    return model(**batch).logits.squeeze(-1)


def test_only_pooler_and_score_head_train(frozen_and_plain):
    (model, _), _ = frozen_and_plain
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {
        "bert.pooler.dense.weight",
        "bert.pooler.dense.bias",
        "classifier.weight",
        "classifier.bias",
    }


def test_memoised_rewards_equal_the_plain_model_and_gradients_reach_the_head(frozen_and_plain):
    (model, tokenizer), (plain, _) = frozen_and_plain
    memo = memo_for(resolve_checkpoint("bundled:all-MiniLM-L6-v2"), torch.float32)
    memo.clear()
    with torch.no_grad():
        expected = _rewards(plain, tokenizer, TEXTS)
    first = _rewards(model, tokenizer, TEXTS)
    assert len(memo) == len(TEXTS)
    # a batch in another order and padding, one text repeated: read from the memo only
    again = _rewards(model, tokenizer, [TEXTS[1], TEXTS[0], TEXTS[1]])
    assert len(memo) == len(TEXTS)
    torch.testing.assert_close(first, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(again, expected[[1, 0, 1]], atol=1e-5, rtol=1e-5)
    again.sum().backward()
    assert model.classifier.weight.grad is not None
    assert model.bert.pooler.dense.weight.grad is not None
    assert model.bert.embeddings.word_embeddings.weight.grad is None
    # the state dict is the plain model's (saving and reloading are unchanged)
    assert set(model.state_dict()) == set(plain.state_dict())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"disable_dropout": False}, "disable_dropout"),
        ({"lora.enabled": True}, "lora"),
    ],
)
def test_refused_settings(change, message):
    cfg = model_spec(_minilm_node(frozen_backbone=True, **change))
    with pytest.raises(ConfigError, match=message):
        build_reward_model(cfg, load_tokenizer(cfg))


def test_random_architecture_and_decoders_are_refused():
    node = tiny_model_config()
    OmegaConf.update(node, "frozen_backbone", True, force_add=True)
    cfg = model_spec(node)
    with pytest.raises(ConfigError, match="pretrained weights"):
        build_reward_model(cfg, load_tokenizer(cfg))
