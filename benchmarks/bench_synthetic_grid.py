"""The synthetic paper grid: the current runner against an earlier commit, in one run.

    python benchmarks/bench_synthetic_grid.py [--baseline-ref REF] [--rounds 2]
        [--datasets ...] [--num-trials 100] [--num-processes N] [--naive-trials 2]

Three variants per round, alternating A B C A B C so that all see the same competing load on a
shared machine, each exactly as a user would run it:

- ``baseline``: the code of ``--baseline-ref`` (extracted with ``git archive`` into a temporary
  folder), one ``python -m responserank.synthetic.experiment_runner dataset=<d>`` call per dataset
  (6 x 100 trials x 6 sizes x 6 learners = 21,600 fits with the defaults);
- ``current``: the current code, all datasets in one Hydra multirun (``-m dataset=a,b,...``), the
  README's command for the paper grid;
- ``current_per_dataset``: the current code, one call per dataset like the baseline, which
  separates the faster fits from the start-up the multirun saves.

It reports wall and CPU seconds (the runner and all its workers; CPU time is the steadier figure
under load), the ratios baseline / current, the peak resident memory (sum of RSS over the runner
and its workers, sampled every 0.2 s; shared pages count once per process, so this overstates the
footprint), whether the two current variants wrote byte-identical results (they must), and, per
cell (dataset x learner x size x metric), whether the current results agree with the baseline's
within the standard error of the baseline mean (``responserank.synthetic.agreement``: a change of
float rounding moves single trials, never a cell's mean beyond its SE).

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
from omegaconf import OmegaConf

import responserank.synthetic.experiment_runner  # noqa: F401 -- registers the config resolver
from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.seeding import numpy_rng, torch_generator
from responserank.synthetic.agreement import GridAgreement, compare_results, report
from responserank.synthetic.ensemble import fit_single
from responserank.synthetic.grid import Experiment
from responserank.synthetic.metrics import model_metrics
from responserank.synthetic.mlp import init_mlp, mlp_forward
from responserank.synthetic.results import load_results
from responserank.synthetic.rundir import size_key
from responserank.synthetic.summary import PAPER_DATASETS
from responserank.synthetic.trial_data import generate_trial

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = REPO_ROOT / "results" / "benchmarks"
# The runner before the flat-buffer ensemble, the CPU suffix log-sum-exp and the multirun.
BASELINE_REF = "b6f4875"


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
    return Experiment.from_config(OmegaConf.to_container(cfg, resolve=True))


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


def run_command(args_: list[str], code_root: Path, args: argparse.Namespace) -> dict:
    """One runner call with the code under ``code_root``: wall and CPU seconds, peak memory."""
    command = [
        sys.executable,
        "-m",
        "responserank.synthetic.experiment_runner",
        *args_,
        f"num_trials={args.num_trials}",
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
        raise RuntimeError(
            f"{' '.join(args_)}: runner failed ({proc.returncode}):\n{stderr[-3000:]}"
        )
    # CPU seconds of the runner and its (waited-for) workers: a figure that load hardly changes.
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": memory.peak}


def _results_of(output_root: Path, dataset: str) -> Path:
    (path,) = output_root.rglob(f"{dataset}.json")
    return path


def run_round(variant: str, code_root: Path, output_root: Path, args: argparse.Namespace) -> dict:
    """One variant's pass over the datasets: per-dataset calls, or one multirun."""
    if variant == "current":
        calls = [
            run_command(
                ["-m", f"dataset={','.join(args.datasets)}", f"output_root={output_root}"],
                code_root,
                args,
            )
        ]
    else:
        calls = [
            run_command(
                [f"dataset={dataset}", f"output_root={output_root / dataset}"], code_root, args
            )
            for dataset in args.datasets
        ]
    return {
        "wall_s": sum(c["wall_s"] for c in calls),
        "cpu_s": sum(c["cpu_s"] for c in calls),
        "peak_rss_bytes": max(c["peak_rss_bytes"] for c in calls),
        "calls": calls,
        "results_dir": str(output_root),
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


VARIANTS = ("baseline", "current", "current_per_dataset")


def _agreement(rounds: dict[str, list[dict]], datasets: list[str]) -> dict:
    """Byte identity of the two current variants; per-cell agreement of current and baseline."""
    identical = all(
        _results_of(Path(a["results_dir"]), d).read_bytes()
        == _results_of(Path(b["results_dir"]), d).read_bytes()
        for a, b in zip(rounds["current"], rounds["current_per_dataset"], strict=True)
        for d in datasets
    )
    cells, missing = [], []
    for dataset in datasets:
        old = _results_of(Path(rounds["baseline"][0]["results_dir"]), dataset)
        new = _results_of(Path(rounds["current"][0]["results_dir"]), dataset)
        found = compare_results(load_results(old), load_results(new), old, new)
        cells += found.cells
        missing += found.missing
    grid = GridAgreement(cells, missing, [])
    return {
        "current_variants_identical": identical,
        "cells": len(cells),
        "within_1_se": sum(c.difference_in_se <= 1 for c in cells),
        "within_2_se": sum(c.difference_in_se <= 2 for c in cells),
        "max_difference_in_se": max(c.difference_in_se for c in cells),
        "bit_identical_trials": sum(c.identical_trials for c in cells),
        "trials": sum(c.n for c in cells),
        "missing": missing,
        "report": report(grid, 1.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=list(PAPER_DATASETS))
    parser.add_argument("--num-trials", type=int, default=100)
    parser.add_argument("--num-processes", type=int, default=None)
    parser.add_argument("--naive-trials", type=int, default=2)
    parser.add_argument("--out-dir", type=Path, default=OUT_DIR)
    args = parser.parse_args()

    load_before = os.getloadavg()
    torch.set_num_threads(1)
    rounds: dict[str, list[dict]] = {variant: [] for variant in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="bench_synthetic_grid_") as tmp:
        work = Path(tmp)
        baseline_root = extract_code(args.baseline_ref, work / "baseline")
        for index in range(args.rounds):
            for variant in VARIANTS:
                root = baseline_root if variant == "baseline" else REPO_ROOT
                outcome = run_round(variant, root, work / "outputs" / f"{variant}_{index}", args)
                rounds[variant].append(outcome)
                print(
                    f"round {index + 1} {variant}: {outcome['wall_s']:.1f} s wall, "
                    f"{outcome['cpu_s']:.1f} s CPU, load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
        agreement = _agreement(rounds, args.datasets)

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
        "agreement": {k: v for k, v in agreement.items() if k != "report"},
        "peak_rss_bytes": max(o["peak_rss_bytes"] for o in rounds["current"]),
        "num_processes": args.num_processes or "default (usable CPUs)",
        "target_s": 120,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "torch": torch.__version__,
    }
    per_dataset = grid["current_per_dataset"]
    lines = [
        "# Synthetic grid benchmark",
        "",
        f"- grid: {len(args.datasets)} datasets x {args.num_trials} trials x "
        f"{len(experiment.dataset_sizes)} sizes x {len(experiment.learners)} learners = "
        f"{total_fits:,} fits with the CLI defaults ({record['num_processes']} worker "
        f"processes), {args.rounds} round(s) of the three variants in turn",
        f"- current code, one multirun: **{grid['current']['wall_s']:.0f} s** wall "
        f"({grid['current']['wall_s'] / 60:.1f} min; target <= 2 min), "
        f"{grid['current']['cpu_s']:.0f} s CPU; peak memory (sum of RSS over the runner and "
        f"its workers) {record['peak_rss_bytes'] / 2**20:.0f} MiB",
        f"- current code, one call per dataset: {per_dataset['wall_s']:.0f} s wall, "
        f"{per_dataset['cpu_s']:.0f} s CPU",
        f"- baseline `{args.baseline_ref}`, one call per dataset: "
        f"{grid['baseline']['wall_s']:.0f} s wall, {grid['baseline']['cpu_s']:.0f} s CPU",
        f"- ratio baseline / current: **{ratio_wall:.2f}x** wall, **{ratio_cpu:.2f}x** CPU "
        f"(per-dataset calls: {grid['baseline']['wall_s'] / per_dataset['wall_s']:.2f}x wall, "
        f"{grid['baseline']['cpu_s'] / per_dataset['cpu_s']:.2f}x CPU)",
        "- the two current variants wrote byte-identical results: "
        f"**{agreement['current_variants_identical']}**",
        f"- current against baseline, per cell (dataset x learner x size x metric, "
        f"{agreement['cells']} cells): {agreement['within_1_se']} within 1 SE of the baseline "
        f"mean, {agreement['within_2_se']} within 2 SE, largest "
        f"{agreement['max_difference_in_se']:.2f} SE; {agreement['bit_identical_trials']} of "
        f"{agreement['trials']} trial values bit-identical",
        f"- load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/"
        f"{load_before[2]:.1f}, after {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}"
        f" ({os.cpu_count()} cores; above {os.cpu_count()} the machine was shared)",
        "",
        "| round | " + " | ".join(VARIANTS) + " |",
        "|---|" + "---|" * len(VARIANTS),
    ]
    for index in range(args.rounds):
        cells = " | ".join(
            f"{rounds[v][index]['wall_s']:.0f} / {rounds[v][index]['cpu_s']:.0f}" for v in VARIANTS
        )
        lines.append(f"| {index + 1} | {cells} |")
    lines += ["", "Wall s / CPU s per round.", "", "Agreement per dataset:", ""]
    lines.append(agreement["report"])
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
    if not agreement["current_variants_identical"]:
        sys.exit("error: the multirun and the per-dataset calls wrote different results")


if __name__ == "__main__":
    main()
