"""Gain of reliability-scaled ResponseRank over its parents across the reliability_mix knobs.

    python -m responserank.synthetic.analysis.reliability_sweep collect SWEEP_DIR OUT_JSON
    python -m responserank.synthetic.analysis.reliability_sweep plot OUT_JSON FIG_DIR

``collect`` reads every finished run of a Hydra multirun of the runner on ``reliability_mix``
(``scripts/reliability_sweep.sh``): its knobs (``dataset.generator.unreliable_share`` and
``proxy_quality``) from the run's ``run_config.yaml`` and, at the full training set, the per-trial
paired differences rr_rapl - rr and rr_rapl - rapl_beta of each metric. It writes their mean and
95% t-interval half-width per cell (plus each learner's mean) to one JSON file. ``plot`` draws
``synthetic_reliability_sweep.{pdf,png}`` from that file alone, so the figure regenerates from
the committed summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from responserank.atomic_io import write_json_atomic
from responserank.errors import ResultsFormatError
from responserank.plotting import method_label, save_figure, style_context
from responserank.stats import summarize
from responserank.synthetic.analysis.dataset_results import METRICS
from responserank.synthetic.results import load_results
from responserank.synthetic.rundir import RUN_CONFIG, read_run_config, results_path

DATASET = "reliability_mix"
COMBINED = "rr_rapl"
PARENTS = ("rr", "rapl_beta")
SIZE = "1.0"
FIGURE_STEM = "synthetic_reliability_sweep"


def _cell(run_dir: Path) -> dict[str, Any]:
    config = read_run_config(run_dir)
    generator = config["dataset"]["generator"]
    results_file = results_path(run_dir, config["dataset"]["name"])
    if config["dataset"]["name"] != DATASET or not results_file.is_file():
        raise ResultsFormatError(
            f"{run_dir}: expected a finished {DATASET} run (no {results_file.name})"
        )
    results = load_results(results_file)

    def values(learner: str, metric: str) -> np.ndarray:
        try:
            entries = results[learner]["sizes"][SIZE]["summary_metrics"][metric]
        except KeyError as err:
            raise ResultsFormatError.at(
                results_file, f"{learner}.sizes.{SIZE}.summary_metrics.{metric}", "missing"
            ) from err
        return np.array([e["value"] for e in entries], dtype=float)

    cell: dict[str, Any] = {
        "unreliable_share": float(generator["unreliable_share"]),
        "proxy_quality": float(generator["proxy_quality"]),
        "num_trials": int(results["metadata"]["num_trials"]),
        "means": {},
        "gains": {},
    }
    for metric in METRICS:
        combined = values(COMBINED, metric.key)
        cell["means"][metric.key] = {
            name: float(np.nanmean(values(name, metric.key))) for name in (COMBINED, *PARENTS)
        }
        for parent in PARENTS:
            summary = summarize(combined - values(parent, metric.key))
            cell["gains"].setdefault(f"over_{parent}", {})[metric.key] = {
                "mean": summary.mean,
                "ci_half_width": summary.ci_half_width,
                "n": summary.n,
            }
    return cell


def collect(sweep_dir: Path, out: Path) -> Path:
    """Summarise every run directory under ``sweep_dir`` into ``out`` (sorted by the knobs)."""
    runs = sorted(p.parent for p in Path(sweep_dir).glob(f"*/{RUN_CONFIG}"))
    if not runs:
        raise ResultsFormatError(f"{sweep_dir}: no run directories (*/{RUN_CONFIG})")
    cells = sorted(
        (_cell(run) for run in runs), key=lambda c: (c["unreliable_share"], c["proxy_quality"])
    )
    summary = {"dataset": DATASET, "size": SIZE, "combined": COMBINED, "cells": cells}
    return write_json_atomic(out, summary)


def plot(summary_file: Path, fig_dir: Path) -> list[Path]:
    """Gain of rr_rapl over each parent against proxy quality, one line per unreliable share."""
    summary = json.loads(Path(summary_file).read_text(encoding="utf-8"))
    cells = summary["cells"]
    shares = sorted({c["unreliable_share"] for c in cells})
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(shares)))
    with style_context():
        fig, axes = plt.subplots(
            len(METRICS), len(PARENTS), figsize=(6.4, 4.6), sharex=True, layout="constrained"
        )
        for row, metric in enumerate(METRICS):
            for col, parent in enumerate(PARENTS):
                ax = axes[row][col]
                ax.axhline(0.0, color="0.4", linewidth=0.8)
                for share, color in zip(shares, colors, strict=True):
                    line = sorted(
                        (c for c in cells if c["unreliable_share"] == share),
                        key=lambda c: c["proxy_quality"],
                    )
                    gains = [c["gains"][f"over_{parent}"][metric.key] for c in line]
                    ax.errorbar(
                        [c["proxy_quality"] for c in line],
                        [g["mean"] for g in gains],
                        yerr=[g["ci_half_width"] for g in gains],
                        color=color,
                        marker="o",
                        capsize=2,
                        label=f"unreliable share {share:g}",
                    )
                ax.set_title(f"{metric.abbreviation}: gain over {method_label(parent)}")
                if row == len(METRICS) - 1:
                    ax.set_xlabel("proxy quality")
                if col == 0:
                    ax.set_ylabel(f"{method_label(COMBINED)} $-$ parent")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncol=len(shares))
        return save_figure(fig, Path(fig_dir) / FIGURE_STEM)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collect_cmd = commands.add_parser("collect", help="summarise a sweep's runs into one JSON")
    collect_cmd.add_argument("sweep_dir", type=Path)
    collect_cmd.add_argument("out", type=Path)
    plot_cmd = commands.add_parser("plot", help="draw the gain figure from the summary JSON")
    plot_cmd.add_argument("summary", type=Path)
    plot_cmd.add_argument("fig_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "collect":
            print(collect(args.sweep_dir, args.out))
        else:
            for path in plot(args.summary, args.fig_dir):
                print(path)
    except (ResultsFormatError, OSError, KeyError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
