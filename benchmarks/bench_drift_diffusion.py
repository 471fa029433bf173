"""Drift-diffusion simulation: 25,000 decisions, vectorised, against a per-decision Python loop.

    python benchmarks/bench_drift_diffusion.py [--decisions 25000] [--baseline-sample 300]

The baseline steps one decision at a time (one Gaussian draw per Euler step, as a plain Python
implementation does); it is timed on a sample of decisions and extrapolated to the full count
(the output says so). Both use the paper's parameters; their choice shares and mean response
times are printed side by side as a check that they simulate the same process. Results go to
results/benchmarks/drift_diffusion.{json,md}.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.synthetic.ddm import DDMParams, simulate_ddm

OUT_DIR = Path(__file__).resolve().parents[1] / "results" / "benchmarks"


def simulate_one(drift: float, rng: np.random.Generator, p: DDMParams) -> tuple[bool, float]:
    """One decision, one Euler step per loop iteration."""
    position = p.relative_start * p.threshold
    step_sd = p.noise_sd * math.sqrt(p.dt)
    steps = 0
    while 0.0 < position < p.threshold and steps < p.max_steps:
        position += drift * p.dt + step_sd * rng.standard_normal()
        steps += 1
    return position >= p.threshold, steps * p.dt + p.non_decision_time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=25_000)
    parser.add_argument("--baseline-sample", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()

    params = DDMParams(block_steps=128)
    differences = np.random.default_rng(0).standard_normal(args.decisions)
    drift = differences / differences.std()  # the generator's normalised drift

    vector_times = []
    for repeat in range(args.repeats):
        start = time.perf_counter()
        outcome = simulate_ddm(drift, np.random.default_rng(1 + repeat), params)
        vector_times.append(time.perf_counter() - start)
    vector_s = statistics.median(vector_times)

    sample = drift[: args.baseline_sample]
    rng = np.random.default_rng(99)
    start = time.perf_counter()
    loop = [simulate_one(float(v), rng, params) for v in sample]
    sample_s = time.perf_counter() - start
    per_decision = sample_s / sample.size
    baseline_s = per_decision * args.decisions

    loop_upper = np.array([u for u, _ in loop])
    loop_rt = np.array([rt for _, rt in loop])
    record = {
        "decisions": args.decisions,
        "vectorised_s_median": vector_s,
        "vectorised_s_runs": vector_times,
        "baseline_sample_decisions": int(sample.size),
        "baseline_sample_s": sample_s,
        "baseline_per_decision_ms": per_decision * 1e3,
        "baseline_extrapolated_s": baseline_s,
        "speedup": baseline_s / vector_s,
        "target_s": 2.0,
        "capped_decisions": int(outcome.capped.sum()),
        "check_same_decisions": {
            "vectorised_upper_share": float(outcome.upper[: sample.size].mean()),
            "loop_upper_share": float(loop_upper.mean()),
            "vectorised_mean_rt": float(outcome.rt[: sample.size].mean()),
            "loop_mean_rt": float(loop_rt.mean()),
        },
        "params": params.__dict__,
        "load_average_1min_after": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out_dir / "drift_diffusion.json", record)
    text = (
        "# Drift-diffusion simulation benchmark\n\n"
        f"- {args.decisions:,} decisions (paper parameters, dt = {params.dt}, cap "
        f"{params.max_decision_time} s; {record['capped_decisions']} capped)\n"
        f"- vectorised (`responserank.synthetic.ddm.simulate_ddm`): **{vector_s:.3f} s** "
        f"(median of {args.repeats}; target < 2 s)\n"
        f"- per-decision Python loop: {per_decision * 1e3:.2f} ms per decision, timed on "
        f"{sample.size} decisions and extrapolated to {baseline_s:.1f} s\n"
        f"- ratio: **{baseline_s / vector_s:.0f}x**\n"
        f"- 1-min load average after the run: {record['load_average_1min_after']:.2f} "
        f"({os.cpu_count()} CPUs, shared machine)\n"
    )
    write_text_atomic(args.out_dir / "drift_diffusion.md", text)
    print(text)


if __name__ == "__main__":
    main()
