"""The full synthetic paper grid: wall time and peak memory, against a naive per-fit loop.

    python benchmarks/bench_synthetic_grid.py [--output-root outputs/experiment_runner]
        [--datasets ...] [--num-trials 100] [--num-processes N] [--baseline-trials 2]

Runs ``python -m responserank.synthetic.experiment_runner dataset=<d>`` for each of the six paper
datasets (6 x 100 trials x 6 sizes x 6 learners = 21,600 fits with the defaults) exactly as a
user would, sampling the resident memory of the runner and all its worker processes every 0.2 s
(peak of the sum of RSS; shared library pages count once per process, so this overstates the
true footprint somewhat).

The naive baseline is one fit at a time: a plain ``nn.Sequential`` and a per-fit PyTorch loop
(``ensemble.fit_single``) followed by the same test metrics, in this process, without any
process start. It is timed on a sample of fits (every learner, ``--baseline-trials`` trials at the
smallest and largest size) right after each dataset's grid run, so that both see similar
competing load, and extrapolated to the grid; the output says so. Wall and CPU times are both
reported: on a shared machine the CPU-time ratio is the steadier one. Results go to results/benchmarks/synthetic_grid.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import torch
from hydra import compose, initialize_config_dir

import responserank.synthetic.experiment_runner  # noqa: F401 -- registers the config resolver
from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.synthetic.data import generate_trial
from responserank.synthetic.ensemble import fit_single
from responserank.synthetic.grid import Experiment
from responserank.synthetic.metrics import model_metrics
from responserank.synthetic.mlp import init_mlp, mlp_forward
from responserank.synthetic.seeding import numpy_rng, size_key, torch_generator
from responserank.synthetic.summary import PAPER_DATASETS

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "results" / "benchmarks"


class TreeMemory:
    """Peak over time of the summed RSS of a process and all its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            total = 0
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except psutil.NoSuchProcess:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def compose_experiment(dataset: str, num_trials: int) -> Experiment:
    with initialize_config_dir(
        config_dir=str(REPO_ROOT / "conf" / "synthetic"), version_base="1.3"
    ):
        cfg = compose("config", overrides=[f"dataset={dataset}", f"num_trials={num_trials}"])
    return Experiment.from_config(cfg)


def run_grid(dataset: str, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        "-m",
        "responserank.synthetic.experiment_runner",
        f"dataset={dataset}",
        f"num_trials={args.num_trials}",
        f"output_root={args.output_root}",
        "execution_backend.progress=false",
    ]
    if args.num_processes:
        command.append(f"execution_backend.num_processes={args.num_processes}")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    with TreeMemory(proc.pid) as memory:
        _, stderr = proc.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{dataset}: runner failed ({proc.returncode}):\n{stderr[-3000:]}")
    # CPU seconds of the runner and its (waited-for) workers: a figure that load hardly changes.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"dataset": dataset, "wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": memory.peak}


def time_naive_fits(experiment: Experiment, trials: int) -> list[dict]:
    """Per-fit loop on a sample: every learner, ``trials`` trials, smallest and largest size.

    Returns wall and CPU seconds per fit (the CPU figure is less sensitive to competing load).
    """
    spec = experiment.dataset
    sizes = (min(experiment.dataset_sizes), max(experiment.dataset_sizes))
    samples = []
    for t in range(trials):
        trial = generate_trial(spec, experiment.master_seed, t)
        test = trial.test()
        x_test = torch.as_tensor(np.concatenate([test["x1"], test["x2"]]), dtype=torch.float32)
        null_pairing = numpy_rng(experiment.master_seed, "null_pairing", t).permutation(200)
        for learner in experiment.learners:
            for fraction in sizes:
                n = spec.train_size(fraction)
                data = trial.train(n)
                if learner.permute_rt:
                    perm = numpy_rng(
                        experiment.master_seed, "rt_permutation", t, size_key(fraction)
                    )
                    data = {**data, "rt": data["rt"][perm.permutation(n)]}
                gen = torch_generator(experiment.master_seed, "init", t, size_key(fraction))
                init = init_mlp(20, learner.hidden_layers, gen)
                start, cpu_start = time.perf_counter(), time.process_time()
                params, _, _ = fit_single(data, init, learner, spec.strength)
                with torch.no_grad():
                    u = mlp_forward(params, x_test).double().numpy()
                model_metrics(u[None, :200], u[None, 200:], test, null_pairing)
                samples.append(
                    {
                        "learner": learner.name,
                        "size": fraction,
                        "s": time.perf_counter() - start,
                        "cpu_s": time.process_time() - cpu_start,
                    }
                )
    return samples


def baseline_for(dataset: str, args: argparse.Namespace) -> dict:
    experiment = compose_experiment(dataset, args.num_trials)
    samples = time_naive_fits(experiment, args.baseline_trials)
    fits = args.num_trials * len(experiment.dataset_sizes) * len(experiment.learners)
    return {
        "dataset": dataset,
        "sampled_fits": len(samples),
        "mean_s_per_fit": float(np.mean([s["s"] for s in samples])),
        "mean_cpu_s_per_fit": float(np.mean([s["cpu_s"] for s in samples])),
        "fits": fits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-root", default="outputs/experiment_runner")
    parser.add_argument("--datasets", nargs="+", default=list(PAPER_DATASETS))
    parser.add_argument("--num-trials", type=int, default=100)
    parser.add_argument("--num-processes", type=int, default=None)
    parser.add_argument("--baseline-trials", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()

    load_before = os.getloadavg()
    torch.set_num_threads(1)
    time_naive_fits(compose_experiment(args.datasets[0], 1), 1)  # warm-up, not timed
    runs, baseline = [], {}
    grid_wall = 0.0
    for dataset in args.datasets:
        # The grid run and the baseline sample of a dataset follow each other, so that both see
        # similar competing load on a shared machine.
        runs.append(run_grid(dataset, args))
        grid_wall += runs[-1]["wall_s"]
        baseline[dataset] = baseline_for(dataset, args)
        print(
            f"{dataset}: {runs[-1]['wall_s']:.1f} s, peak RSS "
            f"{runs[-1]['peak_rss_bytes'] / 2**20:.0f} MiB, CPU {runs[-1]['cpu_s']:.0f} s; "
            f"naive {baseline[dataset]['mean_s_per_fit'] * 1e3:.0f} ms per fit",
            flush=True,
        )
    load_after = os.getloadavg()
    total_fits = sum(b["fits"] for b in baseline.values())
    baseline_s = sum(b["mean_s_per_fit"] * b["fits"] for b in baseline.values())
    baseline_cpu_s = sum(b["mean_cpu_s_per_fit"] * b["fits"] for b in baseline.values())
    grid_cpu_s = sum(r["cpu_s"] for r in runs)
    sampled = sum(b["sampled_fits"] for b in baseline.values())

    record = {
        "datasets": args.datasets,
        "num_trials": args.num_trials,
        "total_fits": total_fits,
        "grid_wall_s": grid_wall,
        "grid_cpu_s": grid_cpu_s,
        "per_dataset": runs,
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
        "num_processes": args.num_processes or "default (usable CPUs)",
        "baseline": {
            "method": "fit_single (nn.Sequential, per-fit loop) + test metrics, one at a time, "
            "in-process, 1 torch thread; timed on a sample and extrapolated",
            "sampled_fits": sampled,
            "extrapolated_s": baseline_s,
            "extrapolated_cpu_s": baseline_cpu_s,
            "per_dataset": baseline,
        },
        "speedup_wall": baseline_s / grid_wall,
        "speedup_cpu": baseline_cpu_s / grid_cpu_s,
        "target_s": 600,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "torch": torch.__version__,
    }
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out_dir / "synthetic_grid.json", record)
    lines = [
        "# Synthetic grid benchmark",
        "",
        f"- grid: {len(args.datasets)} datasets x {args.num_trials} trials x 6 sizes x 6 "
        f"learners = {total_fits:,} fits, run with the CLI defaults "
        f"({record['num_processes']} worker processes)",
        f"- wall time: **{grid_wall:.0f} s** ({grid_wall / 60:.1f} min; target < 10 min)",
        f"- CPU time of the runners and their workers: {grid_cpu_s:.0f} s "
        f"(CPU time / {os.cpu_count()} cores = "
        f"{grid_cpu_s / (os.cpu_count() or 1) / 60:.1f} min: an estimate, not a "
        "measurement, of the wall time without competing load)",
        f"- peak memory (sum of RSS over the runner and its workers): "
        f"**{record['peak_rss_bytes'] / 2**20:.0f} MiB**",
        f"- naive baseline (one fit at a time, per-fit PyTorch loop, no process start): "
        f"{sampled} fits timed right after each dataset's grid run, extrapolated to "
        f"{baseline_s:.0f} s ({baseline_s / 3600:.2f} h)",
        f"- ratio: **{baseline_s / grid_wall:.1f}x** wall time "
        f"(the grid uses {os.cpu_count()} cores, the baseline one); "
        f"**{baseline_cpu_s / grid_cpu_s:.1f}x** CPU time "
        f"({baseline_cpu_s:.0f} s extrapolated vs {grid_cpu_s:.0f} s, process start-up included)",
        f"- load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f}, after {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}"
        " (shared machine)",
        "",
        "| dataset | wall s | CPU s | peak RSS MiB | naive ms per fit |",
        "|---|---|---|---|---|",
        *(
            f"| {r['dataset']} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | "
            f"{r['peak_rss_bytes'] / 2**20:.0f} | "
            f"{baseline[r['dataset']]['mean_s_per_fit'] * 1e3:.0f} |"
            for r in runs
        ),
        "",
    ]
    write_text_atomic(args.out_dir / "synthetic_grid.md", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
