"""Which layouts a model may use, decided before any data or weights are loaded, and a training
run in a packed layout through the entry point."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf
from train_helpers import FAST, compose_config, tiny_model_config
from transformers import AutoConfig

from responserank.errors import ConfigError
from responserank.llm.modeling.reward_forward import configured_layout, resolve_batch_layout
from responserank.llm.train import CONFIG_DIR, run


def test_encoder_is_refused_on_one_line_naming_its_type():
    minilm = OmegaConf.load(CONFIG_DIR / "model" / "minilm.yaml")
    for layout in ("padding_free", "prefix_shared"):
        with pytest.raises(ConfigError) as error:
            configured_layout(layout, minilm, training=True)
        message = str(error.value)
        assert "\n" not in message and "'bert'" in message and "bidirectional" in message
    assert configured_layout("auto", minilm, training=True) == "padded"


def test_auto_picks_the_fastest_exact_layout():
    tiny = tiny_model_config()
    assert configured_layout("auto", tiny, training=True) == "prefix_shared"
    llama = AutoConfig.for_model("llama")
    assert resolve_batch_layout("auto", llama, "flash_attention_2") == "padding_free"
    with pytest.raises(ConfigError, match="flash_attention_2"):
        resolve_batch_layout("prefix_shared", llama, "flash_attention_2")
    mistral = AutoConfig.for_model("mistral", sliding_window=4096)
    assert resolve_batch_layout("auto", mistral, "sdpa") == "padding_free"
    with pytest.raises(ConfigError, match="sliding-window"):
        resolve_batch_layout("prefix_shared", mistral, "sdpa")
    assert resolve_batch_layout("padded", AutoConfig.for_model("bert"), "sdpa") == "padded"


def test_unknown_attention_is_refused():
    tiny = tiny_model_config()
    tiny.attn_implementation = "paged_magic"
    with pytest.raises(ConfigError, match=r"model\.attn_implementation"):
        configured_layout("auto", tiny, training=True)


def test_training_refuses_a_packed_encoder_before_the_data(multipref_fixture, tmp_path):
    cfg = compose_config(
        [
            "model=minilm",
            "runtime.batch_layout=prefix_shared",
            f"dataset.path={tmp_path / 'absent'}",  # never read: refused before the data
            f"tracking.output_root={tmp_path / 'runs'}",
            "tracking.wandb.mode=disabled",
        ]
    )
    with pytest.raises(ConfigError, match="'bert'"):
        run(cfg)
    assert not (tmp_path / "runs").exists()


def test_prefix_shared_training_run_end_to_end(fixture_overrides):
    """experiment=rr_agree on the MultiPref fixture, tiny Llama, prefix_shared batches for
    training, held-out evaluation and the suites callback."""
    cfg = compose_config(
        [
            "experiment=rr_agree",
            *FAST,
            *fixture_overrides,
            "training.num_epochs=1",
            "runtime.batch_layout=auto",
            "experiment.fraction=0.5",
            "eval.suites=[{_target_:train_helpers.ProbeSuite,name:probe}]",
        ]
    )
    outcome = run(cfg)
    assert outcome.exit_code == 0
    metrics = outcome.metrics
    assert 0.0 <= metrics["eval/heldout/accuracy"] <= 1.0
    assert metrics["eval/probe/prefers_helpful"] in (0.0, 1.0)
    assert metrics["train/loss"] == metrics["train/loss"]  # finite, not NaN
