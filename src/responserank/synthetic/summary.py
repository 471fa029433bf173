"""Mean and 95% confidence interval per learner, straight from collected results files.

    python -m responserank.synthetic.summary results/synthetic [--size 1.0]

Prints a Markdown table (one row per dataset and learner) so that the numbers quoted in the
README come from the JSON, not from hand copying. The interval is the t-interval of the mean over
trials; a cell of fewer than ``MIN_BAND_SAMPLES`` (3) trials shows the mean and its n without one,
as the figures draw no band for it. A trial whose value is missing (NaN or null, e.g. an undefined correlation) is left out of
its cell: the cell then says how many trials it averages (``(n=4 of 6)``) and a ``nan:`` line
after the tables names the file, the key and the count.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from responserank.cli_errors import exit_on_project_error
from responserank.stats import MIN_BAND_SAMPLES, summarize
from responserank.synthetic.results import RESERVED_KEYS, load_results

DEFAULT_METRICS = ("choice_accuracy", "pearson_distance_correlation")
PAPER_DATASETS = (
    "deterministic_all",
    "stochastic",
    "drift_diffusion",
    "deterministic_all_no_variability",
    "stochastic_no_variability",
    "drift_diffusion_no_variability",
)


def mean_ci(values: Sequence[float | None], level: float = 0.95) -> tuple[float, float]:
    """(mean, half-width of the t-interval) as every analysis computes it; missing values
    (None or NaN, e.g. an undefined correlation) are left out."""
    summary = summarize([math.nan if v is None else v for v in values], level)
    return summary.mean, summary.ci_half_width


@dataclass(frozen=True)
class Cell:
    """One table cell: mean and t-interval half-width over the ``used`` of ``trials`` trials
    whose value is a number (the others are NaN or null)."""

    mean: float
    half_width: float
    used: int
    trials: int

    @property
    def nan_trials(self) -> int:
        return self.trials - self.used


def cell(values: Sequence[float | None], level: float = 0.95) -> Cell:
    """The :class:`Cell` of one learner, size and metric from its per-trial values."""
    summary = summarize([math.nan if v is None else v for v in values], level)
    return Cell(summary.mean, summary.ci_half_width, summary.n, len(values))


def _entries(results: dict, learner: str, size: str, metric: str) -> list | None:
    """The per-trial entries of one cell, or None when the file does not record it."""
    summary = results[learner]["sizes"].get(size, {}).get("summary_metrics", {})
    return summary.get(metric)


def missing_cells(results: dict, size: str, metrics: Sequence[str]) -> list[str]:
    """Key paths of the asked cells a results file lacks (e.g. a metric its layout does not record)."""
    return [
        f"{learner}.sizes.{size}.summary_metrics.{metric}"
        for learner in _learners(results)
        for metric in metrics
        if _entries(results, learner, size, metric) is None
    ]


def nan_cells(results: dict, size: str, metrics: Sequence[str]) -> list[str]:
    """``<key path>: k of n trials NaN (left out; the cell averages n - k)`` per asked cell with
    missing values."""
    lines = []
    for learner in _learners(results):
        for metric in metrics:
            entries = _entries(results, learner, size, metric)
            found = None if entries is None else cell([e["value"] for e in entries])
            if found is not None and found.nan_trials:
                lines.append(
                    f"{learner}.sizes.{size}.summary_metrics.{metric}: {found.nan_trials} of "
                    f"{found.trials} trials NaN (left out; the cell averages {found.used})"
                )
    return lines


def summary_rows(
    results: dict, size: str, metrics: Sequence[str] = DEFAULT_METRICS
) -> list[tuple[str, list[Cell | None]]]:
    """Per learner (run order): [the :class:`Cell`, or None when absent, per metric] at dataset
    size ``size``."""
    rows = []
    for learner in _learners(results):
        cells = []
        for metric in metrics:
            entries = _entries(results, learner, size, metric)
            cells.append(None if entries is None else cell([e["value"] for e in entries]))
        rows.append((learner, cells))
    return rows


def _learners(results: dict) -> list[str]:
    listed = results["metadata"].get("learners")
    present = [k for k in results if k not in RESERVED_KEYS]
    if isinstance(listed, list):
        return [name for name in listed if name in results] + sorted(set(present) - set(listed))
    return sorted(present)


def _cell(found: Cell | None) -> str:
    if found is None:
        return "-"
    if found.used < MIN_BAND_SAMPLES:
        of = f" of {found.trials}" if found.nan_trials else ""
        return f"{found.mean:.3f} (n={found.used}{of}; no CI)"
    text = f"{found.mean:.3f} ± {found.half_width:.3f}"
    return text + (f" (n={found.used} of {found.trials})" if found.nan_trials else "")


def pivot_tables(
    files: Sequence[Path], size: str = "1.0", metrics: Sequence[str] = DEFAULT_METRICS
) -> str:
    """One Markdown table per metric: learners as rows, datasets as columns."""
    loaded = [load_results(path) for path in files]
    learners: list[str] = []
    for results in loaded:
        learners += [name for name in _learners(results) if name not in learners]
    datasets = [r["metadata"]["dataset"] for r in loaded]
    blocks = []
    for metric in metrics:
        rows = []
        for learner in learners:
            found = []
            for results in loaded:
                entries = _entries(results, learner, size, metric) if learner in results else None
                found.append(None if entries is None else cell([e["value"] for e in entries]))
            rows.append((learner, found))
        trials = ", ".join(sorted({str(r["metadata"]["num_trials"]) for r in loaded}))
        if any(c is not None and c.nan_trials for _, found in rows for c in found):
            trials += "; fewer where a cell says (n=k of n): NaN trials left out"
        if any(c is not None and c.used < MIN_BAND_SAMPLES for _, found in rows for c in found):
            trials += f"; no CI below {MIN_BAND_SAMPLES} trials"
        lines = [
            f"{metric} at size {size} (mean ± 95% CI half-width over trials; n = {trials})",
            "",
            "| learner | " + " | ".join(datasets) + " |",
            "|---|" + "---|" * len(datasets),
        ]
        for learner, found in rows:
            lines.append(f"| {learner} | " + " | ".join(_cell(c) for c in found) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def markdown_table(
    files: Sequence[Path], size: str = "1.0", metrics: Sequence[str] = DEFAULT_METRICS
) -> str:
    header = "| dataset | learner | " + " | ".join(metrics) + " |"
    lines = [header, "|" + "---|" * (2 + len(metrics))]
    for path in files:
        results = load_results(path)
        dataset = results["metadata"]["dataset"]
        trials = results["metadata"]["num_trials"]
        for learner, cells in summary_rows(results, size, metrics):
            shown = " | ".join(_cell(found) for found in cells)
            lines.append(f"| {dataset} (n={trials}) | {learner} | {shown} |")
    return "\n".join(lines)


def _results_files(directory: Path) -> list[Path]:
    """The paper datasets' files in paper order, then any other results file by name."""
    paper = [directory / f"{name}.json" for name in PAPER_DATASETS]
    present = [p for p in paper if p.is_file()]
    others = [
        p
        for p in sorted(directory.glob("*.json"))
        if p not in present and not p.name.endswith(".provenance.json") and _is_results_file(p)
    ]
    return present + others


def _is_results_file(path: Path) -> bool:
    """True for a valid per-dataset results file (other JSON files may share the folder)."""
    try:
        load_results(path)
    except ValueError:
        return False
    return True


def _sizes(results: dict) -> set[str]:
    """Every dataset size key some learner of ``results`` has."""
    return {
        size
        for name, learner in results.items()
        if name not in ("metadata", "dataset_metrics")
        for size in learner.get("sizes", {})
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results_dir", type=Path, help="folder of <dataset>.json files")
    parser.add_argument("--size", default="1.0", help="dataset size key (default 1.0)")
    parser.add_argument("--metrics", nargs="+", default=list(DEFAULT_METRICS))
    parser.add_argument(
        "--layout",
        choices=("pivot", "long"),
        default="pivot",
        help="pivot: one table per metric, datasets as columns; long: one row per dataset+learner",
    )
    args = parser.parse_args(argv)
    files = _results_files(args.results_dir)
    if not files:
        parser.error(f"{args.results_dir}: no results files (<dataset>.json) found")
    available = sorted({size for path in files for size in _sizes(load_results(path))}, key=float)
    if args.size not in available:
        parser.error(
            f"--size {args.size}: no results file has that dataset size; sizes present: "
            f"{', '.join(available)}"
        )
    render = pivot_tables if args.layout == "pivot" else markdown_table
    print(render(files, args.size, args.metrics))
    for path in files:
        results = load_results(path)
        for key in missing_cells(results, args.size, args.metrics):
            print(f"missing: {path}: {key} (shown as -)")
        for line in nan_cells(results, args.size, args.metrics):
            print(f"nan: {path}: {line}")


def cli() -> None:
    """The ``rr-synthetic-summary`` command: :func:`main` with project errors on one line."""
    with exit_on_project_error():
        main()


if __name__ == "__main__":
    cli()
