"""Command line for the synthetic analysis: find runs, collect their results, render the paper output.

    python -m responserank.synthetic.analysis.cli find outputs/experiment_runner results/synthetic
    python -m responserank.synthetic.analysis.cli collect results/synthetic \\
        --paths-file results/synthetic/experiment_paths.json
    python -m responserank.synthetic.analysis.cli generate results/synthetic paper/figures
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tqdm import tqdm

from responserank.atomic_io import write_bytes_atomic, write_json_atomic
from responserank.cli_errors import report
from responserank.errors import UsageError
from responserank.reading import read_json
from responserank.synthetic.analysis.generate import generate
from responserank.synthetic.results import (
    collect_run,
    find_finished_runs,
    load_results,
    write_results,
)
from responserank.synthetic.rundir import provenance_path, results_path

PATHS_FILE_NAME = "experiment_paths.json"


def run_find(exp_dir: Path, out_dir: Path) -> Path:
    """Write ``<out_dir>/experiment_paths.json``: the latest finished run directory per dataset."""
    runs = find_finished_runs(exp_dir)
    if not runs:
        raise UsageError(f"no finished experiment runs under {exp_dir}")
    paths = {dataset: str(run_dir) for dataset, run_dir in sorted(runs.items())}
    for dataset, run_dir in paths.items():
        print(f"{dataset}: {run_dir}")
    return write_json_atomic(out_dir / PATHS_FILE_NAME, paths)


def read_paths_file(path: Path) -> dict[str, Path]:
    """Dataset -> run directory from a ``find`` output; relative paths are taken from the cwd."""
    content = read_json(path, "a paths file mapping dataset names to run directories")
    if not isinstance(content, dict):
        raise UsageError(f"{path}: expected an object mapping dataset names to run directories")
    runs = {}
    for dataset, run_dir in content.items():
        if not isinstance(run_dir, str) or not run_dir:
            raise UsageError(
                f"{path}: key {dataset}: expected a run directory path, got {run_dir!r}"
            )
        runs[dataset] = Path(run_dir)
    return runs


GRID_KEYS = ("num_trials", "dataset_sizes", "learners", "master_seed")


def _grid(metadata: dict) -> dict:
    return {key: metadata.get(key) for key in GRID_KEYS}


def _refuse_another_grid(target: Path, results: dict, run_dir: Path) -> None:
    """A results file may be replaced by a run of the same grid only (unless --replace)."""
    if not target.is_file():
        return
    try:
        present = load_results(target)["metadata"]
    except ValueError:
        return  # not a readable results file: nothing of value to protect
    if _grid(present) != _grid(results["metadata"]):
        differences = ", ".join(
            f"{key} {present.get(key)!r} there, {results['metadata'].get(key)!r} in the run"
            for key in GRID_KEYS
            if present.get(key) != results["metadata"].get(key)
        )
        raise UsageError(
            f"{target} holds another grid than {run_dir} ({differences}); pass --replace to "
            "overwrite it, or collect into another folder"
        )


def run_collect(
    cache_dir: Path,
    run_dirs: Sequence[Path] = (),
    paths_file: Path | None = None,
    replace: bool = False,
) -> list[Path]:
    """Collect each run into ``<cache_dir>/<dataset>.json``; return the written results files.

    Every run is read and checked before anything is written. An existing results file of
    another grid (trial count, sizes, learners or master seed) is only replaced with
    ``replace``. The run's wall-clock provenance sidecar, when present, is copied beside the
    results file.
    """
    expected: list[tuple[str | None, Path]] = [(None, Path(run_dir)) for run_dir in run_dirs]
    if paths_file is not None:
        expected += list(read_paths_file(paths_file).items())
    if not expected:
        raise UsageError("nothing to collect: give run directories and/or --paths-file")
    collected: dict[str, tuple[Path, dict]] = {}
    for listed_dataset, run_dir in tqdm(expected, desc="collecting runs", unit="run"):
        if not run_dir.is_dir():
            where = f" (listed for {listed_dataset} in {paths_file})" if listed_dataset else ""
            raise UsageError(f"run directory {run_dir} does not exist{where}")
        results = collect_run(run_dir)
        dataset = results["metadata"]["dataset"]
        if listed_dataset is not None and dataset != listed_dataset:
            raise UsageError(
                f"{paths_file}: key {listed_dataset}: run {run_dir} holds dataset {dataset!r}"
            )
        if dataset in collected:
            raise UsageError(f"two runs for dataset {dataset!r}; give one run per dataset")
        if not replace:
            _refuse_another_grid(cache_dir / f"{dataset}.json", results, run_dir)
        collected[dataset] = (run_dir, results)
    written = []
    for dataset, (run_dir, results) in collected.items():
        target = cache_dir / f"{dataset}.json"
        write_results(results, target)
        sidecar = provenance_path(results_path(run_dir, dataset))
        if sidecar.is_file():
            write_bytes_atomic(provenance_path(target), sidecar.read_bytes())
        tqdm.write(f"{dataset}: {run_dir} -> {target}")
        written.append(target)
    return written


def run_generate(cache_dir: Path, fig_dir: Path, usetex: bool = False) -> None:
    """Render figures and tables; print the missing datasets and every part that was left out."""
    report = generate(cache_dir, fig_dir, usetex=usetex)
    for path in report.missing:
        print(f"missing: {path} (its panels and rows are left out)")
    for line in report.lacking:
        print(f"missing: {line}")
    for line in report.nan_trials:
        print(f"nan: {line} (left out of means, boxes and tests)")
    for note in report.notes:
        print(f"note: {note}")
    if (absent := report.absence_summary()) is not None:
        print(f"note: not in these results, left out: {absent}")
    print(f"wrote {len(report.written)} files to {fig_dir}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m responserank.synthetic.analysis.cli",
        description="Find finished synthetic runs, collect their results, and render the paper's "
        "figures, tables and statistics.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    find = commands.add_parser(
        "find",
        help="write EXP_DIR's latest finished run per dataset to OUT_DIR/experiment_paths.json",
        description="Find the latest finished run directory per dataset under EXP_DIR and write "
        f"them as OUT_DIR/{PATHS_FILE_NAME} (dataset -> run directory).",
    )
    find.add_argument(
        "exp_dir", type=Path, metavar="EXP_DIR", help="e.g. outputs/experiment_runner"
    )
    find.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="e.g. results/synthetic")

    collect = commands.add_parser(
        "collect",
        help="aggregate runs into CACHE_DIR/<dataset>.json",
        description="Aggregate the work-unit files of each run into one results file per dataset, "
        "CACHE_DIR/<dataset>.json (byte-reproducible for a given master seed). Runs come from "
        "--paths-file, from RUN_DIR arguments, or both.",
    )
    collect.add_argument("cache_dir", type=Path, metavar="CACHE_DIR", help="e.g. results/synthetic")
    collect.add_argument(
        "run_dirs", type=Path, nargs="*", metavar="RUN_DIR", help="run directories to collect"
    )
    collect.add_argument(
        "--paths-file",
        type=Path,
        help=f"a {PATHS_FILE_NAME} written by find; relative paths are read from the current directory",
    )
    collect.add_argument(
        "--replace",
        action="store_true",
        help="overwrite results files of another grid (trial count, sizes, learners, master seed)",
    )

    generate_parser = commands.add_parser(
        "generate",
        help="render figures (PDF+PNG), LaTeX tables and statistics into FIG_DIR",
        description="Render boxplots, metric-vs-size curves, Kendall-tau histograms, confusion "
        "matrices (PDF and PNG), LaTeX summary tables and paired Wilcoxon statistics for the "
        "datasets with and without stratum variability, from CACHE_DIR/<dataset>.json. Datasets "
        "that are absent are reported and left out.",
    )
    generate_parser.add_argument(
        "cache_dir", type=Path, metavar="CACHE_DIR", help="e.g. results/synthetic"
    )
    generate_parser.add_argument("fig_dir", type=Path, metavar="FIG_DIR", help="e.g. paper/figures")
    generate_parser.add_argument(
        "--usetex",
        action="store_true",
        help="typeset figure text with LaTeX (needs latex and dvipng); default: mathtext",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; input problems exit with status 2 and a message naming the culprit."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "find":
            run_find(args.exp_dir, args.out_dir)
        elif args.command == "collect":
            run_collect(args.cache_dir, args.run_dirs, args.paths_file, replace=args.replace)
        else:
            run_generate(args.cache_dir, args.fig_dir, usetex=args.usetex)
    except (ValueError, OSError, RuntimeError) as error:
        return report(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
