"""The benchmark scripts still run against the current code (tiny sizes; timings not checked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_loss_benchmark_reports_a_ratio(tmp_path):
    _run(
        "bench_losses.py",
        *("--sizes", "64", "--layout-sizes", "200", "--layout-repeats", "3"),
        *("--out", str(tmp_path)),
    )
    record = json.loads((tmp_path / "losses.json").read_text())
    assert record["results"] and all(row["speedup"] > 0 for row in record["results"])
    assert [row["n"] for row in record["suffix_logsumexp"]] == [200]
    assert record["suffix_logsumexp"][0]["speedup"] > 0


def test_drift_diffusion_benchmark_reports_a_ratio(tmp_path):
    _run(
        "bench_drift_diffusion.py",
        *("--decisions", "2000", "--baseline-sample", "20", "--repeats", "1"),
        *("--out-dir", str(tmp_path)),
    )
    record = json.loads((tmp_path / "drift_diffusion.json").read_text())
    assert record["decisions"] == 2000 and record["speedup"] > 0


def test_llm_throughput_benchmark_compares_layouts(tmp_path):
    out = tmp_path / "rows.json"
    stdout = _run(
        "bench_llm_throughput.py",
        *("--presets", "bt", "--layouts", "dynamic", "padded", "--comparisons", "60"),
        *("--steps", "1", "--warmup", "1", "--output", str(out)),
    )
    rows = json.loads(out.read_text())
    assert [row["layout"] for row in rows] == ["dynamic", "padded"]
    assert all(row["tokens_per_s"] > 0 for row in rows)
    assert "bt: dynamic / padded tokens per second =" in stdout


def test_gpu_check_cpu_path_at_toy_size(tmp_path):
    """benchmarks/gpu_check.sh at toy size: the project trainer with LoRA, TRL's RewardTrainer,
    and QLoRA reported as skipped without CUDA; one JSON record."""
    done = subprocess.run(
        [
            str(BENCHMARKS / "gpu_check.sh"),
            *("--only", "rr_agree:lora", "trl:full", "rr_agree:qlora"),
            *("--out", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "RR_GPU_CHECK_TOY": "1", "PYTHON": sys.executable},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    record = json.loads((tmp_path / "gpu_check_toy.json").read_text())
    assert record["size"] == "toy" and record["gradient_checkpointing"] is True
    rows = {(r["trainer"], r["tuning"]): r for r in record["results"]}
    # in the script's order of configurations
    assert list(rows) == [("trl", "full"), ("rr_agree", "lora"), ("rr_agree", "qlora")]
    for key in (("rr_agree", "lora"), ("trl", "full")):
        row = rows[key]
        assert row["status"] == "measured", row
        assert row["steps_timed"] == record["steps"]["timed"]
        assert row["tokens_per_s"] > 0 and row["step_time_s"] > 0 and row["peak_memory_mib"] > 0
    # LoRA trains a small share of the weights; the full fine-tune trains all of them.
    assert rows["rr_agree", "lora"]["trainable_parameters"] < record["parameters"]
    assert rows["trl", "full"]["trainable_parameters"] == record["parameters"]
    if not __import__("torch").cuda.is_available():
        assert rows["rr_agree", "qlora"]["status"] == "skipped: needs a CUDA device"


def test_trl_benchmark_interleaves_and_reports_ratios(tmp_path):
    _run(
        "bench_vs_trl.py",
        *("--rounds", "2", "--steps", "1", "--warmup", "1", "--comparisons", "60"),
        *("--systems", "ours_bt", "trl", "--out-dir", str(tmp_path)),
    )
    record = json.loads((tmp_path / "bench_vs_trl.json").read_text())
    assert [row["system"] for row in record["rows"]] == ["ours_bt", "trl"] * 2
    assert record["summary"]["trl"]["comparisons_per_s_ratio_to_trl"]["median"] == 1.0
    assert record["summary"]["ours_bt"]["comparisons_per_s"]["median"] > 0
    assert (tmp_path / "bench_vs_trl.md").read_text().startswith("# Reward-model training")


def test_synthetic_grid_benchmark_compares_with_the_earlier_runner(tmp_path):
    stdout = _run(
        "bench_synthetic_grid.py",
        *("--datasets", "stochastic", "--num-trials", "1", "--rounds", "1"),
        *("--naive-trials", "1", "--num-processes", "1", "--out-dir", str(tmp_path)),
    )
    record = json.loads((tmp_path / "synthetic_grid.json").read_text())
    agreement = record["agreement"]
    assert agreement["current_variants_identical"] is True
    assert agreement["cells"] > 0
    assert record["ratio_cpu"] > 0 and record["ratio_wall"] > 0
    variants = ("baseline", "current", "current_per_dataset")
    assert [len(record["rounds"][v]) for v in variants] == [1, 1, 1]
    assert "ratio baseline / current" in stdout and "within 1 SE" in stdout


def test_serve_benchmark_compares_batching_and_checks_the_answers(tmp_path):
    _run(
        "bench_serve.py",
        *("--requests", "4", "--repeats", "1", "--robustness", "20", "--out", str(tmp_path)),
    )
    record = json.loads((tmp_path / "serve.json").read_text())
    assert {(r["server"], r["concurrency"]) for r in record["throughput"]} == {
        (server, c) for server in ("batched", "one_per_forward") for c in (1, 4, 16)
    }
    checked = record["robustness"]
    assert checked["malformed_answered_4xx"] == checked["malformed"] == 2
    assert checked["unexpected_statuses"] == [] and checked["health_after"] == "ok"
    assert (tmp_path / "serve.md").read_text().startswith("# Scoring server load test")


def test_batch_layout_benchmark_interleaves_every_layout_and_trl(tmp_path):
    _run(
        "bench_batch_layouts.py",
        *("--models", "tiny", "--datasets", "long_prompt", "--rounds", "2", "--tiny-steps", "1"),
        *("--batch-size", "2", "--systems", "trl", "padded", "prefix_shared"),
        *("--out-dir", str(tmp_path)),
    )
    record = json.loads((tmp_path / "batch_layouts.json").read_text())
    block = record["results"]["tiny / long_prompt"]
    # round 1 starts at the second system: interleaved, not one system after another
    assert [r["system"] for r in block["rows"]] == [
        *("trl", "padded", "prefix_shared"),
        *("padded", "prefix_shared", "trl"),
    ]
    summary = block["summary"]
    assert summary["trl"]["ratio_to_trl"]["median"] == 1.0
    assert summary["prefix_shared"]["tokens_ratio_to_padded"] < 1.0  # the prompt is shared
    assert summary["prefix_shared"]["training_rss_mib"] > 0
    assert (tmp_path / "batch_layouts.md").read_text().startswith("# Batch layouts")


def test_gpu_check_runs_the_batch_layouts_at_toy_size(tmp_path):
    """The layout configurations of benchmarks/gpu_check.sh on the CPU path: prefix_shared is
    measured, flash-attention 2 and flex attention are skipped with their reason when absent."""
    only = ("bt:full:prefix_shared", "bt:full:padding_free:flash_attention_2")
    only += ("bt:full:prefix_shared:flex_attention",)
    done = subprocess.run(
        [str(BENCHMARKS / "gpu_check.sh"), "--only", *only, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "RR_GPU_CHECK_TOY": "1", "PYTHON": sys.executable},
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    rows = json.loads((tmp_path / "gpu_check_toy.json").read_text())["results"]
    measured = rows[0]
    assert (measured["layout"], measured["attention"], measured["status"]) == (
        "prefix_shared",
        "sdpa",
        "measured",
    )
    assert measured["comparisons_per_s"] > 0 and measured["computed_tokens_per_comparison"] > 0
    import torch
    from transformers.utils import is_flash_attn_2_available

    if not is_flash_attn_2_available():
        assert rows[1]["status"].startswith("skipped: flash-attn 2 is not installed")
    if not torch.cuda.is_available():
        assert rows[2]["status"].startswith("skipped: needs a CUDA device")
