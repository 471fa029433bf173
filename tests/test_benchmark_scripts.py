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
    _run("bench_losses.py", "--sizes", "64", "--out", str(tmp_path))
    rows = json.loads((tmp_path / "losses.json").read_text())["results"]
    assert rows and all(row["speedup"] > 0 for row in rows)


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


def test_synthetic_grid_benchmark_compares_with_the_earlier_runner(tmp_path):
    stdout = _run(
        "bench_synthetic_grid.py",
        *("--datasets", "stochastic", "--num-trials", "1", "--rounds", "1"),
        *("--naive-trials", "1", "--num-processes", "1", "--out-dir", str(tmp_path)),
    )
    record = json.loads((tmp_path / "synthetic_grid.json").read_text())
    assert record["results_identical"] is True
    assert record["ratio_cpu"] > 0 and record["ratio_wall"] > 0
    assert [len(record["rounds"][v]) for v in ("baseline", "current")] == [1, 1]
    assert "ratio baseline / current" in stdout
