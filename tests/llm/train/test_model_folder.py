"""What a finished run leaves in its model folder and record: the best checkpoint, reward
statistics, the model card (whose scoring code runs without this package), the hub upload."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from safetensors.torch import load_file
from train_helpers import FAST, compose_config

from responserank.errors import HubUploadError
from responserank.llm.config import validate
from responserank.llm.evaluation.reward_stats import read_reward_statistics
from responserank.llm.export import hub
from responserank.llm.export.hub import push_model_folder, upload_manifest
from responserank.llm.export.model_card import read_facts
from responserank.llm.modeling.models import load_tokenizer
from responserank.llm.train import run
from responserank.llm.training.run_data import prepare_run_data
from responserank.testing.plain_python import run_without_package
from responserank.testing.scoring import evaluate_rows

BEST = ["training.best_model.metric=eval/heldout/loss", "training.best_model.mode=min"]
PAIRS = [
    {"prompt": "How do vaccines work?", "response": "They train the immune system safely."},
    {"prompt": "How do vaccines work?", "response": "No idea."},
    {"prompt": "Name a prime.", "response": "Seven is prime: its only divisors are 1 and 7."},
]


@pytest.fixture(scope="module")
def trained(multipref_fixture, tmp_path_factory):
    """Two epochs of BT on the fixture, keeping the checkpoint with the lowest held-out loss."""
    root = tmp_path_factory.mktemp("runs")
    overrides = [
        *FAST,
        "experiment=bt",
        f"dataset.path={multipref_fixture}",
        "dataset.test_size=30",
        f"tracking.output_root={root}",
        "training.num_epochs=2",
        "runtime.keep_checkpoints=true",
        *BEST,
    ]
    cfg = compose_config(overrides)
    outcome = run(cfg)
    assert outcome.status == "finished"
    return cfg, outcome.run_dir


def evaluate_rewards(model_dir, tmp_path, rows, *overrides) -> list[float]:
    return [r["reward"] for r in evaluate_rows(model_dir, rows, tmp_path, *overrides)]


@pytest.mark.slow
def test_the_best_checkpoint_is_saved_and_the_record_names_it(trained):
    _, run_dir = trained
    summary = json.loads((run_dir / "summary.json").read_text())
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    losses = {row["step"]: row["eval/heldout/loss"] for row in rows}
    best_step = min(losses, key=losses.get)
    best = summary["best_model"]
    assert best["metric"] == "eval/heldout/loss" and best["mode"] == "min"
    assert best["step"] == best_step and best["value"] == pytest.approx(losses[best_step])
    assert summary["metrics"]["eval/heldout/loss"] == pytest.approx(losses[best_step])
    saved = load_file(run_dir / "model" / "model.safetensors")
    kept = load_file(run_dir / "checkpoints" / best["checkpoint"] / "model.safetensors")
    assert best["checkpoint"] == f"checkpoint-{best_step}"
    assert all(np.array_equal(saved[k].numpy(), kept[k].numpy()) for k in saved)
    # This seed's held-out loss is lowest before the last epoch: the last model was not saved.
    last_step = max(losses)
    assert best_step != last_step
    last = load_file(run_dir / "checkpoints" / f"checkpoint-{last_step}" / "model.safetensors")
    assert not all(np.array_equal(saved[k].numpy(), last[k].numpy()) for k in saved)


@pytest.mark.slow
def test_reward_statistics_are_those_of_the_training_responses(trained, tmp_path):
    cfg, run_dir = trained
    model_dir = run_dir / "model"
    stats = read_reward_statistics(model_dir)
    config = json.loads((model_dir / "config.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (config["mean"], config["std"]) == (stats.mean, stats.std)
    assert summary["reward_statistics"] == config["reward_statistics"] == stats.as_dict()
    assert stats.reference == "train"
    spec = validate(cfg)
    data = prepare_run_data(spec, load_tokenizer(spec.model), False)
    distinct = {tuple(x) for x in [*data.train.chosen_ids, *data.train.rejected_ids]}
    assert stats.count == len(distinct)
    # The statistics normalise evaluate's rewards: rewards=normalized is (raw - mean) / std.
    raw = evaluate_rewards(model_dir, tmp_path, PAIRS)
    normalised = evaluate_rewards(model_dir, tmp_path, PAIRS, "rewards=normalized")
    expected = (np.array(raw) - stats.mean) / stats.std
    np.testing.assert_allclose(normalised, expected, rtol=1e-12)


@pytest.mark.slow
def test_model_card_states_the_run_and_its_code_scores_without_the_package(trained, tmp_path):
    _, run_dir = trained
    model_dir = run_dir / "model"
    card = (model_dir / "README.md").read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    facts = read_facts(model_dir)
    assert facts["data_sha256"] == summary["data_sha256"]
    assert summary["data_sha256"]["train"] in card
    assert "BradleyTerryObjective" in card and "randomly initialised llama" in card
    assert f"{summary['reward_statistics']['std']:.6g}" in card
    assert f"at step {summary['best_model']['step']}" in card
    assert f"| `eval/heldout/loss` | {summary['metrics']['eval/heldout/loss']:.4f} |" in card
    # The card's own code, run where responserank cannot be imported, equals evaluate's rewards.
    (snippet,) = re.findall(r"```python\n(.*?)```", card, flags=re.S)
    code = f"import json\n{snippet}\nrows = {PAIRS!r}\n"
    code += "print(json.dumps([reward(r['prompt'], r['response']) for r in rows]))\n"
    plain = json.loads(run_without_package(code, cwd=model_dir).splitlines()[-1])
    np.testing.assert_allclose(plain, evaluate_rewards(model_dir, tmp_path, PAIRS), atol=1e-5)


@pytest.mark.slow
def test_hub_upload_sends_the_model_folder_and_nothing_else(trained, monkeypatch):
    _, run_dir = trained
    model_dir = run_dir / "model"
    files = upload_manifest(model_dir)
    assert {"README.md", "config.json", "model.safetensors", "tokenizer.json"} <= set(files)
    assert not [f for f in files if "checkpoint" in f or f.startswith(".")]

    class RecordingApi:  # stands in for huggingface_hub.HfApi: nothing leaves the machine
        def __init__(self):
            self.calls = []

        def create_repo(self, repo_id, **kwargs):
            self.calls.append(("create_repo", repo_id, kwargs))

        def upload_folder(self, **kwargs):
            self.calls.append(("upload_folder", kwargs))

    monkeypatch.setattr(hub, "hub_offline", lambda: False)  # as if online; the api is fake
    api = RecordingApi()
    result = push_model_folder(model_dir, "someone/rm", api=api)
    (create, upload) = api.calls
    assert create == ("create_repo", "someone/rm", {"private": True, "exist_ok": True})
    assert upload[1]["folder_path"] == str(model_dir)
    assert upload[1]["allow_patterns"] == files and result["files"] == len(files)
    # Offline (as in every test) the upload is refused on one line, before any call.
    monkeypatch.undo()
    with pytest.raises(HubUploadError, match="HF_HUB_OFFLINE=1"):
        push_model_folder(model_dir, "someone/rm", api=RecordingApi())
    failed = push_model_folder(model_dir, "someone/rm", raise_errors=False)
    assert "HF_HUB_OFFLINE" in failed["error"]
