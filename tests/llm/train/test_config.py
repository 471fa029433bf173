"""Typed training config: wrong types fail while composing, wrong values before any work, naming
the key and the expected range; one method maps the config to TrainingArguments."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
import sys

import pytest
from hydra.errors import ConfigCompositionException
from train_helpers import FAST, compose_config

from responserank.errors import ConfigError
from responserank.llm.config import (
    ModelConfig,
    RuntimeConfig,
    TrackingConfig,
    TrainConfig,
    TrainingConfig,
    validate,
)
from responserank.llm.train import run


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a bad config must fail before the model is built")

    monkeypatch.setattr("responserank.llm.train.build_reward_model", refuse)


@pytest.mark.parametrize(
    ("override", "key"),
    [("seed=abc", "seed"), ("training.num_epochs=2.5", "training.num_epochs")],
)
def test_wrong_type_fails_while_composing(override, key):
    with pytest.raises(ConfigCompositionException) as caught:
        compose_config(["experiment=bt", override])
    cause = caught.value.__cause__
    assert f"full_key: {key}" in str(cause)
    assert "could not be converted to Integer" in str(cause)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("training.learning_rate=inf", "'training.learning_rate': expected a finite number > 0"),
        ("training.learning_rate=0", "'training.learning_rate': expected a finite number > 0"),
        ("training.weight_decay=-5", "'training.weight_decay': expected a finite number >= 0"),
        ("training.weight_decay=nan", "'training.weight_decay': expected a finite number >= 0"),
        (
            "training.max_grad_norm=-1",
            "'training.max_grad_norm': expected a finite number > 0, or null",
        ),
        (
            "training.max_grad_norm=0",
            "'training.max_grad_norm': expected a finite number > 0, or null",
        ),
        ("training.warmup_ratio=1", r"'training.warmup_ratio': expected a ratio in \[0, 1\)"),
        (
            "training.per_device_batch_size=0",
            "'training.per_device_batch_size': expected an integer >= 1",
        ),
        ("training.optimizer=sgdx", "'training.optimizer': expected a transformers optimizer name"),
        ("training.lr_scheduler=wobbly", "'training.lr_scheduler': unknown training.lr_scheduler"),
        (
            "training.packing=tight",
            "'training.packing': expected one of \\['capacity', 'balanced'\\]",
        ),
        ("runtime.checkpoint=steps", "'runtime.checkpoint': expected 'epoch' or 'no'"),
        ("runtime.claim_timeout_s=0", "'runtime.claim_timeout_s': expected seconds > 0"),
        ("tracking.wandb.mode=sometimes", "'tracking.wandb.mode': expected one of"),
        ("model.dtype=float8", "'model.dtype': expected one of"),
        ("model.lora.r=x", "'model.lora.r': Value 'x' of type 'str' could not be converted"),
        ("resume=/no/such/checkpoint", "'resume': expected one of \\['auto', 'never'\\]"),
    ],
)
def test_wrong_value_fails_before_any_work_naming_key_and_range(override, message, tmp_path):
    cfg = compose_config(["experiment=bt", *FAST, f"tracking.output_root={tmp_path}", override])
    with pytest.raises(ConfigError, match=message):
        run(cfg)
    assert not any(tmp_path.iterdir()), "nothing may be written for a refused config"


def test_clipping_is_off_only_by_an_explicit_null(tmp_path):
    typed = validate(compose_config(["experiment=bt", "training.max_grad_norm=null"]))
    assert typed.training.max_grad_norm is None
    args = typed.training_arguments(tmp_path, "run", has_eval=False)
    assert args.max_grad_norm == 0.0  # transformers clips only for a norm > 0
    clipped = validate(compose_config(["experiment=bt", "training.max_grad_norm=0.5"]))
    assert clipped.training_arguments(tmp_path, "run", has_eval=True).max_grad_norm == 0.5


def test_training_arguments_follow_the_typed_config(tmp_path):
    typed = validate(
        compose_config(
            [
                "experiment=rapl_lie_bt",
                "seed=7",
                "runtime.checkpoint=no",
                "runtime.logging_steps=5",
                "training.weight_decay=0.25",
            ]
        )
    )
    args = typed.training_arguments(tmp_path / "checkpoints", "name", has_eval=True)
    assert args.output_dir == str(tmp_path / "checkpoints")
    assert (args.seed, args.data_seed) == (7, 7)
    assert args.per_device_train_batch_size == 2
    assert args.gradient_accumulation_steps == 16
    assert args.learning_rate == pytest.approx(1e-5)
    assert args.lr_scheduler_type.value == "cosine"
    assert args.num_train_epochs == 2.0
    assert args.weight_decay == 0.25
    assert args.save_strategy.value == "no"
    assert args.logging_steps == 5
    assert args.eval_strategy.value == "epoch"
    assert args.remove_unused_columns is False


@pytest.mark.parametrize(
    "schema", [TrainConfig, TrainingConfig, RuntimeConfig, TrackingConfig, ModelConfig]
)
def test_every_typed_key_has_one_line_of_help(schema):
    open_groups = ("experiment", "dataset", "loss", "eval")  # keys defined by the group's YAML
    for item in dataclasses.fields(schema):
        nested = (
            dataclasses.is_dataclass(item.default_factory)
            if callable(item.default_factory)
            else False
        )
        if item.name in open_groups or nested or item.name == "model":
            continue
        text = item.metadata.get("help", "")
        assert text and "\n" not in text, f"{schema.__name__}.{item.name}"


def test_the_defaults_pass_their_own_checks():
    typed = validate(compose_config([]))
    assert typed.training.learning_rate == pytest.approx(1.5e-5)
    assert math.isfinite(typed.runtime.claim_timeout_s)
    assert isinstance(typed.model, ModelConfig)


def test_command_line_prints_the_key_without_a_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "responserank.llm.train",
            "training.weight_decay=-5",
            f"tracking.output_root={tmp_path}",
            f"hydra.run.dir={tmp_path / 'hydra'}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert (
        "config key 'training.weight_decay': expected a finite number >= 0, got -5.0" in done.stderr
    )
    assert "Traceback" not in done.stderr
