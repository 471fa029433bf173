"""Best-model selection settings: checked before anything runs, handed to transformers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from train_helpers import compose_config

from responserank.errors import ConfigError
from responserank.llm.config import validate
from responserank.llm.training.trainer import RewardModelTrainer


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("training.best_model.metric=heldout/accuracy", r"training\.best_model\.metric"),
        ("training.best_model.mode=median", r"training\.best_model\.mode"),
        ("training.best_model.keep=0", r"training\.best_model\.keep"),
        ("export.reward_stats_max=0", r"export\.reward_stats_max"),
        ("export.reward_stats=missing.jsonl", r"export\.reward_stats"),
        ("export.push_to_hub=true", r"export\.hub_repo_id"),
    ],
)
def test_bad_settings_fail_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        validate(compose_config(["experiment=bt", override]))


def test_selection_maps_to_transformers_and_needs_an_eval_split(tmp_path):
    spec = validate(
        compose_config(
            [
                "experiment=bt",
                "training.best_model.metric=eval/heldout/loss",
                "training.best_model.mode=min",
            ]
        )
    )
    args = spec.training_arguments(tmp_path, "run", has_eval=True)
    assert args.metric_for_best_model == "eval/heldout/loss"
    assert args.greater_is_better is False and args.load_best_model_at_end is True
    assert args.save_total_limit == 2
    with pytest.raises(ConfigError, match="an eval split"):
        spec.training_arguments(tmp_path, "run", has_eval=False)
    off = validate(compose_config(["experiment=bt"])).training_arguments(tmp_path, "run", True)
    assert off.metric_for_best_model is None and off.load_best_model_at_end is False
    assert off.save_total_limit == 1


def test_an_unknown_metric_fails_at_the_first_evaluation_naming_the_known_ones():
    trainer = SimpleNamespace(args=SimpleNamespace(metric_for_best_model="eval/probe/score"))
    metrics = {"eval/heldout/accuracy": 0.5, "train/packing/share_partitions_intact": 1.0}
    with pytest.raises(ConfigError, match=r"eval/heldout/accuracy.*got 'eval/probe/score'"):
        RewardModelTrainer._with_best_model_key(trainer, metrics)
    trainer.args.metric_for_best_model = "eval/heldout/accuracy"
    keyed = RewardModelTrainer._with_best_model_key(trainer, metrics)
    assert keyed["eval_eval/heldout/accuracy"] == 0.5  # the name transformers looks up
