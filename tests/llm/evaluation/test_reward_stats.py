"""Reward statistics (mean, std, count) and the JSON-lines scoring inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from responserank.errors import ConfigError, InputFileError
from responserank.llm.evaluation.inputs import read_scoring_inputs
from responserank.llm.evaluation.reward_stats import (
    SIDECAR,
    RewardStatistics,
    read_reward_statistics,
    reward_transform,
    write_reward_statistics,
)

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(st.lists(finite, min_size=2, max_size=50))
def test_statistics_are_numpys_and_normalising_centres_and_scales(values):
    stats = RewardStatistics.of(values, "train")
    assert stats.count == len(values)
    assert stats.mean == pytest.approx(np.mean(values), abs=1e-6)
    assert stats.std == pytest.approx(np.std(values), abs=1e-6)
    if stats.std > 1e-3:
        normalised = stats.normalise(np.array(values))
        assert abs(normalised.mean()) < 1e-6 and normalised.std() == pytest.approx(1.0, abs=1e-6)


def test_empty_non_finite_and_constant_rewards_are_refused():
    with pytest.raises(ValueError, match="need finite rewards"):
        RewardStatistics.of([], "train")
    with pytest.raises(ValueError, match="1 are not finite"):
        RewardStatistics.of([1.0, float("nan")], "train")
    with pytest.raises(ValueError, match="std 0"):
        RewardStatistics.of([2.0, 2.0], "train").normalise(np.array([1.0]))


def test_full_models_keep_them_in_config_json_adapters_beside_it(tmp_path):
    stats = RewardStatistics(0.5, 2.0, 10, "train")
    full, adapter = tmp_path / "full", tmp_path / "adapter"
    full.mkdir()
    adapter.mkdir()
    (full / "config.json").write_text(json.dumps({"model_type": "llama", "num_labels": 1}))
    write_reward_statistics(full, stats)
    write_reward_statistics(adapter, stats)
    config = json.loads((full / "config.json").read_text())
    assert config["model_type"] == "llama"
    assert (config["mean"], config["std"]) == (0.5, 2.0)  # where OpenRLHF reads them
    assert not (full / SIDECAR).exists() and (adapter / SIDECAR).is_file()
    assert read_reward_statistics(full) == read_reward_statistics(adapter) == stats
    assert reward_transform(full, "raw") is None and reward_transform(full, "normalized") == stats


def test_normalised_rewards_need_statistics_and_a_known_mode(tmp_path):
    with pytest.raises(ConfigError, match="holds no reward statistics"):
        reward_transform(tmp_path, "normalized")
    with pytest.raises(ConfigError, match="expected one of"):
        reward_transform(tmp_path, "zscore")
    (tmp_path / SIDECAR).write_text(json.dumps({"mean": 1.0}))
    with pytest.raises(ValueError, match="mean, std, count and reference"):
        read_reward_statistics(tmp_path)


def test_scoring_inputs_take_pairs_and_transcripts_and_name_a_bad_field(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"prompt": "p", "response": "r", "id": 1}\n{"text": "Human: a\\n\\nAssistant: b"}\n'
    )
    inputs = read_scoring_inputs(path)
    assert inputs.prompts == ["p", None] and inputs.rows[0]["id"] == 1
    path.write_text('{"prompt": "p", "response": "r"}\n{"prompt": "p", "response": 3}\n')
    with pytest.raises(InputFileError, match=r"rows\.jsonl: object 2: field 'response'"):
        read_scoring_inputs(path)
    path.write_text("")
    with pytest.raises(InputFileError, match="holds no rows"):
        read_scoring_inputs(path)
