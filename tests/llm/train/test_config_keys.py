"""A wrong key in any config group fails when the run is settled, naming the key, the nearest
valid key and what that key expects; a wrong value of a component names the key and its type;
every key of every schema group carries one line of help."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import typing

import pytest
from train_helpers import compose_config

from responserank.errors import ConfigError
from responserank.llm.config import (
    EvalConfig,
    EvaluateConfig,
    ExperimentConfig,
    RunSpec,
    TrainConfig,
    top_level_keys,
    validate,
)

# (overrides, the key named, the nearest key suggested): one wrong key per config group.
WRONG_KEYS = [
    (["training.learnin_rate=1e-5"], "training.learnin_rate", "training.learning_rate"),
    (["runtime.eval_batch_sise=4"], "runtime.eval_batch_sise", "runtime.eval_batch_size"),
    (["tracking.output_rot=x"], "tracking.output_rot", "tracking.output_root"),
    (["tracking.wandb.projekt=x"], "tracking.wandb.projekt", "tracking.wandb.project"),
    (["export.model_cards=false"], "export.model_cards", "export.model_card"),
    (["model.dtyp=float32"], "model.dtyp", "model.dtype"),
    (["model.lora.alhpa=4"], "model.lora.alhpa", "model.lora.alpha"),
    (["experiment.fractoin=0.5"], "experiment.fractoin", "experiment.fraction"),
    (["dataset.test_sise=4"], "dataset.test_sise", "dataset.test_size"),
    (["loss.soft_target=true"], "loss.soft_target", "loss.soft_targets"),
    (
        ["signal=arm", "experiment.train_signal.colum=x"],
        "experiment.train_signal.colum",
        "experiment.train_signal.column",
    ),
    (
        ["stratifier=field", "experiment.train_stratifier.fields=x"],
        "experiment.train_stratifier.fields",
        "experiment.train_stratifier.field",
    ),
    (
        ["partitioner=round_robin", "experiment.train_partitioner.target_sise=4"],
        "experiment.train_partitioner.target_sise",
        "experiment.train_partitioner.target_size",
    ),
    (
        ["rank_transform=partial_shuffle", "experiment.train_rank_transform.fractoin=0.5"],
        "experiment.train_rank_transform.fractoin",
        "experiment.train_rank_transform.fraction",
    ),
    (
        ["filter=random_filter", "experiment.train_filter.roundin=floor"],
        "experiment.train_filter.roundin",
        "experiment.train_filter.rounding",
    ),
    (
        ["target=agreement", "experiment.train_target.fild=consensus"],
        "experiment.train_target.fild",
        "experiment.train_target.field",
    ),
    (
        ["eval=rewardbench", "eval.suites.1.validate_count=false"],
        "eval.suites.1.validate_count",
        "eval.suites.1.validate_counts",
    ),
]


@pytest.mark.parametrize(("overrides", "key", "nearest"), WRONG_KEYS)
def test_a_wrong_key_names_the_nearest_valid_key(overrides, key, nearest):
    cfg = compose_config(["experiment=bt", *overrides])
    with pytest.raises(ConfigError) as caught:
        validate(cfg)
    message = str(caught.value)
    assert f"did you mean {nearest}" in message, message
    assert message.startswith(f"config key '{key}'")
    assert message.endswith(")?"), "the suggestion says what the key expects"


def test_a_wrong_sampler_key_lists_the_valid_keys_when_none_is_close():
    cfg = compose_config(["experiment=bt", "experiment.sampler.weights=1"])
    with pytest.raises(ConfigError, match=r"'experiment.sampler.weights': .* valid keys: none"):
        validate(cfg)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "experiment.train_partitioner.target_size=abc",
            "'experiment.train_partitioner.target_size': expected int | None, got 'abc'",
        ),
        ("dataset.test_size=many", "'dataset.test_size': expected int, got 'many'"),
        (
            "dataset.slight_preference_value=2",
            "'dataset.slight_preference_value': slight_preference_value must be in",
        ),
        (
            "experiment.rank_filter_order=sometimes",
            r"experiment.rank_filter_order must be one of \['before_sampling', 'after_sampling'\]",
        ),
    ],
)
def test_a_wrong_component_value_names_the_key_and_the_type(override, message):
    cfg = compose_config(["experiment=rr_agree", override])
    with pytest.raises(ConfigError, match=message):
        validate(cfg)


@pytest.mark.parametrize(
    ("overrides", "start"),
    [
        (
            ["dataset=preference_table", "dataset.path=x.csv", "dataset.duplicates=maybe"],
            "config key 'dataset.duplicates': duplicates must be one of",
        ),
        (
            [
                "dataset=preference_table",
                "dataset.path=x.csv",
                "dataset.eval_path=y.csv",
                "dataset.test_size=4",
            ],
            "config keys 'dataset.eval_path', 'dataset.test_size': set either",
        ),
        (
            ["partitioner=round_robin", "experiment.train_partitioner.target_size=0"],
            "config key 'experiment.train_partitioner.target_size': target_size must be",
        ),
    ],
)
def test_a_refused_component_value_names_the_full_key(overrides, start):
    cfg = compose_config(["experiment=bt", *overrides])
    with pytest.raises(ConfigError) as caught:
        validate(cfg)
    assert str(caught.value).startswith(start), str(caught.value)


def test_the_settled_run_is_frozen_and_typed():
    spec = validate(compose_config(["experiment=rr_agree", "seed=43"]))
    assert isinstance(spec, RunSpec)
    assert type(spec.experiment.train_partitioner).__name__ == "AutoRoundRobinPartitioner"
    assert spec.run_name == f"{spec.group_id}-1.0-43"
    for frozen in (spec, spec.training, spec.model, spec.model.lora, spec.experiment):
        with pytest.raises(dataclasses.FrozenInstanceError):
            frozen.seed = 1  # type: ignore[misc]


def _schema_fields(schema: type, prefix: str = ""):
    hints = typing.get_type_hints(schema)
    for item in dataclasses.fields(schema):
        yield f"{prefix}{item.name}", item
        if dataclasses.is_dataclass(hints[item.name]):
            yield from _schema_fields(hints[item.name], f"{prefix}{item.name}.")


@pytest.mark.parametrize("schema", [TrainConfig, ExperimentConfig, EvalConfig, EvaluateConfig])
def test_every_schema_key_of_every_group_has_one_line_of_help(schema):
    keys = list(_schema_fields(schema))
    assert keys
    for key, item in keys:
        text = item.metadata.get("help", "")
        assert text and "\n" not in text, f"{schema.__name__}: {key} has no one-line help"


def test_the_command_line_names_the_nearest_top_level_key(tmp_path):
    assert "seed" in top_level_keys()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-m", "responserank.llm.train", "sed=43", f"hydra.run.dir={tmp_path}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2
    assert "config key 'sed': the run config has no key 'sed'; did you mean seed" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_abbreviated_key_suggests_the_key_its_initials_spell():
    from responserank.errors import nearest_key

    keys = ["learning_rate", "lr_scheduler", "weight_decay", "num_epochs"]
    assert nearest_key("lr", keys) == "learning_rate"
    assert nearest_key("WD", keys) == "weight_decay"
    assert nearest_key("num_epoch", keys) == "num_epochs"
    assert nearest_key("zzz", keys) is None
