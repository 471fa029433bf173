"""The synthetic paper grid: the current runner against an earlier commit, in one run.

    python benchmarks/bench_synthetic_grid.py [--baseline-ref REF] [--rounds 2]
        [--datasets ...] [--num-trials 100] [--num-processes N] [--naive-trials 2]

Each round runs ``python -m responserank.synthetic.experiment_runner dataset=<d>`` for the six
paper datasets (6 x 100 trials x 6 sizes x 6 learners = 21,600 fits with the defaults), exactly
as a user would, once with the code of ``--baseline-ref`` (extracted with ``git archive`` into a
temporary folder) and once with the current code, alternating A B A B so that both see the same
competing load on a shared machine. It reports wall and CPU seconds of each (the runner and all
its workers; CPU time is the steadier figure under load), the ratio baseline / current, the peak
resident memory (sum of RSS over the runner and its workers, sampled every 0.2 s; shared pages
count once per process, so this overstates the footprint) and whether both wrote byte-identical
results.

The naive baseline is one fit at a time: a plain ``nn.Sequential`` and a per-fit PyTorch loop
(``ensemble.fit_single``) followed by the same test metrics, in this process. It is timed on a
sample of fits (every learner, ``--naive-trials`` trials at the smallest and largest size) and
extrapolated to the grid; the output says so. Results go to results/benchmarks/synthetic_grid.*.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil
import torch
from hydra import compose, initialize_config_dir

import responserank.synthetic.experiment_runner  # noqa: F401 -- registers the config resolver
from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.seeding import numpy_rng, torch_generator
from responserank.synthetic.ensemble import fit_single
from responserank.synthetic.grid import Experiment
from responserank.synthetic.metrics import model_metrics
from responserank.synthetic.mlp import init_mlp, mlp_forward
from responserank.synthetic.rundir import size_key
from responserank.synthetic.summary import PAPER_DATASETS
from responserank.synthetic.trial_data import generate_trial

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "results" / "benchmarks"
# The runner before the speed work (spawned workers, per-fit scoring): the reference timing.
BASELINE_REF = "cf8f81d"


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


def extract_code(ref: str, into: Path) -> Path:
    """The ``src`` and ``conf`` folders of commit ``ref`` under ``into``; returns ``into``."""
    into.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", ref, "src", "conf"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run_grid(dataset: str, code_root: Path, output_root: Path, args: argparse.Namespace) -> dict:
    """One runner call with the code under ``code_root``: wall, CPU, peak memory, results."""
    command = [
        sys.executable,
        "-m",
        "responserank.synthetic.experiment_runner",
        f"dataset={dataset}",
        f"num_trials={args.num_trials}",
        f"output_root={output_root}",
        "execution_backend.progress=false",
    ]
    if args.num_processes:
        command.append(f"execution_backend.num_processes={args.num_processes}")
    env = {**os.environ, "PYTHONPATH": str(code_root / "src")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        cwd=code_root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    with TreeMemory(proc.pid) as memory:
        _, stderr = proc.communicate()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{dataset}: runner failed ({proc.returncode}):\n{stderr[-3000:]}")
    # CPU seconds of the runner and its (waited-for) workers: a figure that load hardly changes.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    (results,) = output_root.glob(f"{dataset}/*/{dataset}.json")
    return {
        "dataset": dataset,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_bytes": memory.peak,
        "results": results.read_bytes(),
    }


def run_round(code_root: Path, output_root: Path, args: argparse.Namespace) -> dict:
    runs = [run_grid(d, code_root, output_root, args) for d in args.datasets]
    return {
        "wall_s": sum(r["wall_s"] for r in runs),
        "cpu_s": sum(r["cpu_s"] for r in runs),
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
        "per_dataset": runs,
    }


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
    samples = time_naive_fits(experiment, args.naive_trials)
    fits = args.num_trials * len(experiment.dataset_sizes) * len(experiment.learners)
    return {
        "dataset": dataset,
        "sampled_fits": len(samples),
        "mean_s_per_fit": float(np.mean([s["s"] for s in samples])),
        "mean_cpu_s_per_fit": float(np.mean([s["cpu_s"] for s in samples])),
        "fits": fits,
    }


def _mean(rounds: list[dict], key: str) -> float:
    return float(np.mean([r[key] for r in rounds]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output-root", type=Path, default=None)
    parser.add_argument("--datasets", nargs="+", default=list(PAPER_DATASETS))
    parser.add_argument("--num-trials", type=int, default=100)
    parser.add_argument("--num-processes", type=int, default=None)
    parser.add_argument("--naive-trials", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()

    load_before = os.getloadavg()
    torch.set_num_threads(1)
    rounds: dict[str, list[dict]] = {"baseline": [], "current": []}
    with tempfile.TemporaryDirectory(prefix="bench_synthetic_grid_") as tmp:
        work = Path(tmp)
        output_root = args.output_root or work / "outputs"
        roots = {
            "baseline": extract_code(args.baseline_ref, (work / "baseline")),
            "current": REPO_ROOT,
        }
        for index in range(args.rounds):
            for variant in ("baseline", "current"):
                outcome = run_round(roots[variant], output_root / f"{variant}_{index}", args)
                rounds[variant].append(outcome)
                print(
                    f"round {index + 1} {variant}: {outcome['wall_s']:.1f} s wall, "
                    f"{outcome['cpu_s']:.1f} s CPU, load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    identical = all(
        run["results"] == reference["results"]
        for outcome in rounds["baseline"] + rounds["current"]
        for run, reference in zip(
            outcome["per_dataset"], rounds["baseline"][0]["per_dataset"], strict=True
        )
    )
    for outcome in rounds["baseline"] + rounds["current"]:
        for run in outcome["per_dataset"]:
            del run["results"]

    naive = {}
    if args.naive_trials:
        for dataset in args.datasets:
            naive[dataset] = baseline_for(dataset, args)
    load_after = os.getloadavg()
    grid = {
        variant: {"wall_s": _mean(r, "wall_s"), "cpu_s": _mean(r, "cpu_s")}
        for variant, r in rounds.items()
    }
    ratio_wall = grid["baseline"]["wall_s"] / grid["current"]["wall_s"]
    ratio_cpu = grid["baseline"]["cpu_s"] / grid["current"]["cpu_s"]
    experiment = compose_experiment(args.datasets[0], args.num_trials)
    total_fits = (
        len(args.datasets)
        * args.num_trials
        * len(experiment.dataset_sizes)
        * len(experiment.learners)
    )
    record = {
        "datasets": args.datasets,
        "num_trials": args.num_trials,
        "total_fits": total_fits,
        "baseline_ref": args.baseline_ref,
        "rounds": rounds,
        "mean": grid,
        "ratio_wall": ratio_wall,
        "ratio_cpu": ratio_cpu,
        "results_identical": identical,
        "peak_rss_bytes": max(o["peak_rss_bytes"] for o in rounds["current"]),
        "num_processes": args.num_processes or "default (usable CPUs)",
        "target_s": 120,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "torch": torch.__version__,
    }
    lines = [
        "# Synthetic grid benchmark",
        "",
        f"- grid: {len(args.datasets)} datasets x {args.num_trials} trials x "
        f"{len(experiment.dataset_sizes)} sizes x {len(experiment.learners)} learners = "
        f"{total_fits:,} fits, {len(args.datasets)} runner call(s) per round with the CLI defaults "
        f"({record['num_processes']} worker processes), {args.rounds} round(s) A B A B",
        f"- current code: **{grid['current']['wall_s']:.0f} s** wall "
        f"({grid['current']['wall_s'] / 60:.1f} min; target <= 2 min), "
        f"{grid['current']['cpu_s']:.0f} s CPU; peak memory (sum of RSS over the runner and "
        f"its workers) {record['peak_rss_bytes'] / 2**20:.0f} MiB",
        f"- baseline `{args.baseline_ref}`: {grid['baseline']['wall_s']:.0f} s wall, "
        f"{grid['baseline']['cpu_s']:.0f} s CPU",
        f"- ratio baseline / current: **{ratio_wall:.2f}x** wall, **{ratio_cpu:.2f}x** CPU",
        f"- results byte-identical between baseline and current: **{identical}**",
        f"- load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f}, after {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}"
        f" ({os.cpu_count()} cores; above {os.cpu_count()} the machine was shared)",
        "",
        "| round | variant | " + " | ".join(args.datasets) + " | total wall s | total CPU s |",
        "|---|---|" + "---|" * (len(args.datasets) + 2),
    ]
    for index in range(args.rounds):
        for variant in ("baseline", "current"):
            outcome = rounds[variant][index]
            cells = " | ".join(
                f"{r['wall_s']:.0f} / {r['cpu_s']:.0f}" for r in outcome["per_dataset"]
            )
            lines.append(
                f"| {index + 1} | {variant} | {cells} | {outcome['wall_s']:.0f} | "
                f"{outcome['cpu_s']:.0f} |"
            )
    lines.append("")
    lines.append("Per dataset: wall s / CPU s.")
    if naive:
        fits = sum(b["fits"] for b in naive.values())
        naive_s = sum(b["mean_s_per_fit"] * b["fits"] for b in naive.values())
        sampled = sum(b["sampled_fits"] for b in naive.values())
        record["naive"] = {
            "method": "fit_single (nn.Sequential, per-fit loop) + test metrics, one at a time, "
            "in-process, 1 torch thread; timed on a sample and extrapolated",
            "sampled_fits": sampled,
            "extrapolated_s": naive_s,
            "per_dataset": naive,
        }
        lines += [
            "",
            f"Naive baseline (one fit at a time, per-fit PyTorch loop): {sampled} fits timed, "
            f"extrapolated to {fits:,} fits: {naive_s:.0f} s "
            f"({naive_s / grid['current']['wall_s']:.1f}x the current wall time).",
        ]
    lines.append("")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(args.out_dir / "synthetic_grid.json", record)
    write_text_atomic(args.out_dir / "synthetic_grid.md", "\n".join(lines))
    print("\n".join(lines))
    if not identical:
        sys.exit("error: the current code wrote different results than the baseline")


if __name__ == "__main__":
    main()
