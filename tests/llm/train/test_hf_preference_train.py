"""Training on dataset=hf_preference end to end: conversational rows, the default sampler for data
without annotators, TRL-style per-step metrics in the run record, and TRL's margin column."""

from __future__ import annotations

import json

import pytest
from train_helpers import FAST, compose_config

from responserank.atomic_io import write_text_atomic
from responserank.jsonl import read_json_objects
from responserank.llm.config import data_spec, model_spec
from responserank.llm.data.batching.pair_dataset import tokenize_table
from responserank.llm.data.prepare import prepare_data
from responserank.llm.modeling.models import load_tokenizer
from responserank.llm.train import run

ROWS = 24
TEST_SIZE = 4
STEP_KEYS = (
    "train/loss",
    "train/grad_norm",
    "train/learning_rate",
    "train/tokens_seen",
    "train/rewards/chosen_mean",
    "train/rewards/chosen_min",
    "train/rewards/chosen_max",
    "train/rewards/rejected_mean",
    "train/rewards/rejected_min",
    "train/rewards/rejected_max",
    "train/accuracy",
    "train/mean_margin",
)


def _conversations(path):
    rows = []
    for i in range(ROWS):
        prompt = [{"role": "system", "content": "be brief."}, {"role": "user", "content": f"q {i}"}]
        rows.append(
            {
                "chosen": [*prompt, {"role": "assistant", "content": f"good answer {i}"}],
                "rejected": [*prompt, {"role": "assistant", "content": f"bad {i} " * (1 + i % 3)}],
                "margin": 0.25 * (i % 4),
            }
        )
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    return path


def _overrides(tmp_path, *extra):
    data = _conversations(tmp_path / "prefs.jsonl")
    return [
        *FAST,
        "training.per_device_batch_size=4",
        "training.num_epochs=1",
        "dataset=hf_preference",
        f"dataset.path={data}",
        f"dataset.test_size={TEST_SIZE}",
        f"tracking.output_root={tmp_path / 'runs'}",
        *extra,
    ]


@pytest.mark.slow
def test_conversational_training_logs_trl_metrics(tmp_path):
    overrides = _overrides(tmp_path, "experiment.fraction=0.5", "save_model=false")
    outcome = run(compose_config(overrides))
    assert outcome.status == "finished"

    # No annotator column: the default annotator sampler falls back to uniform sampling.
    train_size = (ROWS - TEST_SIZE) // 2
    assert outcome.data_stats["sizes"]["train"] == train_size
    assert outcome.data_stats["source"]["conversational_rows"] == ROWS

    steps = read_json_objects(outcome.run_dir / "train_log.jsonl")
    assert [row["step"] for row in steps] == list(range(1, len(steps) + 1))
    for row in steps:
        assert set(STEP_KEYS) <= set(row)
        for side in ("chosen", "rejected"):
            low, mean, high = (row[f"train/rewards/{side}_{k}"] for k in ("min", "mean", "max"))
            assert low <= mean <= high
        assert 0.0 <= row["train/accuracy"] <= 1.0
        margin = row["train/rewards/chosen_mean"] - row["train/rewards/rejected_mean"]
        assert row["train/mean_margin"] == pytest.approx(margin, abs=1e-6)

    # tokens_seen: the non-pad tokens of both sides of every training comparison, once per epoch.
    cfg = compose_config(overrides)
    tokenizer = load_tokenizer(model_spec(cfg.model))
    table = prepare_data(data_spec(cfg), tokenizer).train
    pairs = tokenize_table(table, tokenizer, 512, "train", show_progress=False)
    assert steps[-1]["train/tokens_seen"] == int(pairs.num_tokens().sum())
    tokens = [row["train/tokens_seen"] for row in steps]
    assert tokens == sorted(tokens) and tokens[0] > 0

    evaluation = read_json_objects(outcome.run_dir / "metrics.jsonl")[-1]
    for key in ("eval/heldout/chosen_reward_mean", "eval/heldout/rejected_reward_mean"):
        assert key in evaluation
    mean_margin = (
        evaluation["eval/heldout/chosen_reward_mean"]
        - evaluation["eval/heldout/rejected_reward_mean"]
    )
    assert evaluation["eval/heldout/mean_margin"] == pytest.approx(mean_margin, abs=1e-5)


@pytest.mark.slow
def test_trl_margin_column_trains_the_margin_loss(tmp_path):
    overrides = _overrides(
        tmp_path,
        "dataset.margin_column=margin",
        "signal=margin_column",
        "loss=margin",
        "save_model=false",
    )
    cfg = compose_config(overrides)
    table = prepare_data(data_spec(cfg), load_tokenizer(model_spec(cfg.model))).train
    assert table["reliability"].tolist() == table["margin"].tolist()
    outcome = run(cfg)
    assert outcome.status == "finished"
