"""Summary tables of RAPL runs, read from their run records (``summary.json`` + ``config.yaml``).

    python -m responserank.llm.rapl_summary runs/llm --runs-csv results/rapl/runs.csv \\
        --summary-csv results/rapl/summary.csv --markdown results/rapl/summary.md

One row per finished (non-dry) run with its method, ARM, fold, seed and final metrics; then one row
per (experiment, loss, ARM, is_prob) with the count, mean and standard deviation over runs (seeds
and folds) of the LIE-test weights and the held-out metrics.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from responserank.atomic_io import write_text_atomic
from responserank.cli_errors import exit_on_project_error
from responserank.errors import InputFileError, UsageError
from responserank.llm.runs.record import config_value
from responserank.reading import read_json, read_yaml

METRICS = {
    "lie_test_accuracy": "eval/lie_test/accuracy",
    "lie_test_accuracy_same_length": "eval/lie_test/accuracy_same_length",
    "length_weight": "eval/lie_test/length_weight",
    "correctness_weight": "eval/lie_test/correctness_weight",
    "ratio": "eval/lie_test/ratio",
    "heldout_accuracy": "eval/heldout/accuracy",
    "heldout_calibrated_loss": "eval/heldout/calibrated_loss",
    "train_loss": "train/loss",
}
GROUP = ["experiment", "loss", "arm", "is_prob"]


def run_row(run_dir: Path) -> dict[str, Any] | None:
    """The summary row of one run directory, or None when it is not a finished training run.

    Raises InputFileError naming the file for a ``summary.json`` or ``config.yaml`` that cannot be
    read (truncated, not an object) and for a finished summary without ``run_name``.
    """
    summary_file, config_file = run_dir / "summary.json", run_dir / "config.yaml"
    if not summary_file.is_file() or not config_file.is_file():
        return None
    what = "a run summary (a JSON object with status, run_name and metrics)"
    summary = read_json(summary_file, what)
    if not isinstance(summary, dict) or not isinstance(summary.get("metrics", {}), dict):
        raise InputFileError(
            f"{summary_file}: not a JSON object with a 'metrics' object; expected {what}"
        )
    if summary.get("status") != "finished" or summary.get("dry_run"):
        return None
    if not isinstance(summary.get("run_name"), str):
        raise InputFileError(f"{summary_file}: key 'run_name' missing; expected {what}")
    raw_config = read_yaml(config_file, "the run's resolved config (a YAML mapping)")
    if not isinstance(raw_config, dict):
        raise InputFileError(
            f"{config_file}: not a YAML mapping; expected the run's resolved config"
        )
    cfg = raw_config
    signal = config_value(cfg, "experiment.train_signal") or {}
    column = signal.get("column") if isinstance(signal, dict) else None
    metrics = summary.get("metrics", {})
    return {
        "run_name": summary["run_name"],
        "experiment": summary.get("experiment"),
        "loss": str(config_value(cfg, "loss._target_")).rsplit(".", 1)[-1],
        "arm": column or "none",
        "is_prob": bool(signal.get("is_prob", False)) if column else False,
        "fold": config_value(cfg, "dataset.fold"),
        "seed": summary.get("seed"),
        "model": config_value(cfg, "model.name_or_path"),
        "learning_rate": config_value(cfg, "training.learning_rate"),
        "num_epochs": config_value(cfg, "training.num_epochs"),
        **{name: metrics.get(key, float("nan")) for name, key in METRICS.items()},
    }


def collect_runs(root: Path, experiments: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of all finished runs under ``root`` (``<root>/<group>/<run>/``), sorted.

    Raises InputFileError for a missing ``root``, one without finished runs, or an unreadable run
    record (naming the file).
    """
    if not root.is_dir():
        raise InputFileError(
            f"{root}: folder not found; expected the runs folder (tracking.output_root, "
            "holding <group>/<run>/summary.json)"
        )
    rows = [row for d in sorted(root.glob("*/*")) if d.is_dir() and (row := run_row(d))]
    table = pd.DataFrame(rows)
    if table.empty:
        raise InputFileError(
            f"{root}: no finished runs; expected <group>/<run>/summary.json with status finished "
            "(dry runs and unfinished runs are left out)"
        )
    if experiments:
        found = sorted(table["experiment"].dropna().unique())
        table = table[table["experiment"].isin(experiments)]
        if table.empty:
            raise UsageError(
                f"--experiments {' '.join(experiments)}: no finished run of these under {root}; "
                f"experiments found: {', '.join(found)}"
            )
    return table.sort_values([*GROUP, "fold", "seed"]).reset_index(drop=True)


def aggregate(runs: pd.DataFrame) -> pd.DataFrame:
    """Count, mean and sample standard deviation of every metric per method and ARM."""
    grouped = runs.groupby(GROUP, sort=True)
    parts = [grouped.size().rename("n_runs")]
    for name in METRICS:
        parts.append(grouped[name].mean().rename(f"{name}_mean"))
        parts.append(grouped[name].std(ddof=1).rename(f"{name}_std"))
    return pd.concat(parts, axis=1).reset_index()


def _mean_sd(row: object, name: str, digits: int) -> str:
    return f"{getattr(row, name + '_mean'):.{digits}f} ± {getattr(row, name + '_std'):.{digits}f}"


def markdown_table(summary: pd.DataFrame) -> str:
    """The LIE-test columns as a Markdown table (mean ± sd over runs)."""
    header = "| method | ARM | is_prob | runs | length weight | correctness weight | ratio | held-out acc. |"
    lines = [header, "|---|---|---|---|---|---|---|---|"]
    for row in summary.itertuples(index=False):
        lines.append(
            f"| {row.experiment} | {row.arm} | {row.is_prob} | {row.n_runs} | "
            f"{_mean_sd(row, 'length_weight', 4)} | {_mean_sd(row, 'correctness_weight', 4)} | "
            f"{_mean_sd(row, 'ratio', 3)} | {_mean_sd(row, 'heldout_accuracy', 3)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="tracking.output_root of the runs")
    parser.add_argument("--experiments", nargs="*", default=None)
    parser.add_argument("--runs-csv", type=Path, default=None)
    parser.add_argument("--summary-csv", type=Path, default=None)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args(argv)
    runs = collect_runs(args.root, args.experiments)
    summary = aggregate(runs)
    if args.runs_csv:
        write_text_atomic(args.runs_csv, runs.to_csv(index=False))
    if args.summary_csv:
        write_text_atomic(args.summary_csv, summary.to_csv(index=False))
    table = markdown_table(summary)
    if args.markdown:
        write_text_atomic(args.markdown, table)
    print(table)
    return summary


def cli() -> None:
    """The ``rr-rapl-summary`` command: :func:`main` with project errors on one line."""
    with exit_on_project_error():
        main()


if __name__ == "__main__":
    cli()
