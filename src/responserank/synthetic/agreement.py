"""Do two synthetic grids agree cell by cell? For changes that alter float rounding only.

    python -m responserank.synthetic.agreement OLD_DIR NEW_DIR [--report report.md] [--json out.json]

A faster kernel that sums in another order changes each fit's last bits, which can move a trial's
trajectory a little; the experiment is unchanged only if every cell (dataset x learner x size x
metric) keeps its mean within its standard error. For each cell present in both directories'
results files this reports the old and new mean over trials, the difference, the standard error
of the old mean (sd / sqrt(n), trials with an undefined value left out) and the ratio
|difference| / SE, plus how many trials are bit-identical. OLD_DIR is the reference: every cell
of its files must be in NEW_DIR (files of the same name, the same dataset, master seed and trial
count); JSON files that are not per-dataset results (e.g. a sweep summary) are listed as not
compared. Exit status 1 when some cell differs by more than ``--max-se`` standard errors
(default 1) or is missing, 2 on unreadable input or files of different experiments.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.cli_errors import exit_on_project_error
from responserank.errors import InputFileError
from responserank.reading import read_json
from responserank.stats import summarize
from responserank.synthetic.results import RESERVED_KEYS, load_results


@dataclass(frozen=True)
class CellAgreement:
    """One (dataset, learner, size, metric) cell of two grids; SE = standard error of the old mean."""

    dataset: str
    learner: str
    size: str
    metric: str
    n: int
    old_mean: float
    new_mean: float
    difference: float
    old_se: float
    difference_in_se: float
    identical_trials: int


def _values(entries: Sequence[dict]) -> np.ndarray:
    return np.array([math.nan if e["value"] is None else e["value"] for e in entries], dtype=float)


def _scalar_metrics(results: dict, learner: str, size: str) -> dict[str, list]:
    metrics = results[learner]["sizes"].get(size, {}).get("summary_metrics", {})
    return {
        name: entries
        for name, entries in metrics.items()
        if entries and all(e.get("type", "scalar") == "scalar" for e in entries)
    }


@dataclass(frozen=True)
class GridAgreement:
    """The common cells of two grids, and what the reference has that the other lacks."""

    cells: list[CellAgreement]
    missing: list[str]
    skipped: list[str]

    def agrees(self, max_se: float) -> bool:
        return not self.missing and all(c.difference_in_se <= max_se for c in self.cells)


def _cell(dataset: str, learner: str, size: str, metric: str, a: np.ndarray, b: np.ndarray):
    summary_old, summary_new = summarize(a), summarize(b)
    se = summary_old.sd / math.sqrt(summary_old.n) if summary_old.n > 1 else math.nan
    difference = summary_new.mean - summary_old.mean
    in_se = abs(difference) / se if se > 0 else (0.0 if difference == 0 else math.inf)
    return CellAgreement(
        dataset=dataset,
        learner=learner,
        size=size,
        metric=metric,
        n=summary_old.n,
        old_mean=summary_old.mean,
        new_mean=summary_new.mean,
        difference=difference,
        old_se=se,
        difference_in_se=in_se,
        identical_trials=int(np.sum((a == b) | (np.isnan(a) & np.isnan(b)))),
    )


def _check_same_experiment(old: dict, new: dict, old_source: object, new_source: object) -> None:
    for key in ("dataset", "master_seed", "num_trials"):
        if old["metadata"].get(key) != new["metadata"].get(key):
            raise InputFileError(
                f"{new_source}: metadata.{key} is {new['metadata'].get(key)!r}, but "
                f"{old['metadata'].get(key)!r} in {old_source}: these are different experiments, "
                "not the same grid computed twice"
            )


def compare_results(
    old: dict, new: dict, old_source: object = "old", new_source: object = "new"
) -> GridAgreement:
    """Every scalar cell of the reference ``old`` in ``new`` (one dataset's results each)."""
    _check_same_experiment(old, new, old_source, new_source)
    dataset = str(old["metadata"]["dataset"])
    cells, missing = [], []
    for learner in (k for k in old if k not in RESERVED_KEYS):
        for size in old[learner]["sizes"]:
            new_metrics = _scalar_metrics(new, learner, size) if learner in new else {}
            for metric, entries in _scalar_metrics(old, learner, size).items():
                if metric not in new_metrics:
                    missing.append(f"{dataset}.{learner}.sizes.{size}.{metric}")
                    continue
                a, b = _values(entries), _values(new_metrics[metric])
                if a.shape != b.shape:
                    raise InputFileError(
                        f"{new_source}: {learner}.sizes.{size}.{metric}: {b.size} trials, "
                        f"{a.size} in {old_source}; compare grids of the same trials"
                    )
                cells.append(_cell(dataset, learner, size, metric, a, b))
    return GridAgreement(cells, missing, [])


def _results_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The per-dataset results files of ``folder`` by file name, and the other JSON files."""
    if not folder.is_dir():
        raise InputFileError(f"{folder}: folder not found")
    found, skipped = {}, []
    for path in sorted(folder.glob("*.json")):
        if path.name.endswith(".provenance.json"):
            continue
        content = read_json(path, "a synthetic results file (a JSON object)")
        if isinstance(content, dict) and "metadata" in content:
            found[path.name] = path
        else:
            skipped.append(f"{path} (not a per-dataset results file)")
    return found, skipped


def compare_dirs(old_dir: Path, new_dir: Path) -> GridAgreement:
    """Every results file of the reference ``old_dir`` against its namesake in ``new_dir``."""
    old_files, skipped_old = _results_files(Path(old_dir))
    new_files, skipped_new = _results_files(Path(new_dir))
    if not old_files:
        raise InputFileError(f"{old_dir}: no synthetic results file (<dataset>.json) there")
    cells, missing = [], []
    for name, old_path in old_files.items():
        if name not in new_files:
            missing.append(f"{name} (the whole dataset: no such file in {new_dir})")
            continue
        new_path = new_files[name]
        found = compare_results(load_results(old_path), load_results(new_path), old_path, new_path)
        cells += found.cells
        missing += found.missing
    skipped = skipped_old + skipped_new
    skipped += [
        f"{new_files[n]} (no counterpart in {old_dir})" for n in new_files if n not in old_files
    ]
    return GridAgreement(cells, missing, skipped)


def report(grid: GridAgreement, max_se: float) -> str:
    """A Markdown summary: per dataset the count within 1 and 2 SE and the worst cell, then what
    the reference has that the other grid lacks and what was not compared."""
    cells = grid.cells
    lines = [
        "| dataset | cells | within 1 SE | within 2 SE | largest abs(diff) / SE (cell) | "
        "bit-identical trials |",
        "|---|---|---|---|---|---|",
    ]
    datasets = list(dict.fromkeys(c.dataset for c in cells))
    for dataset in datasets:
        group = [c for c in cells if c.dataset == dataset]
        worst = max(group, key=lambda c: c.difference_in_se)
        identical = sum(c.identical_trials for c in group)
        total = sum(c.n for c in group)
        lines.append(
            f"| {dataset} | {len(group)} | {sum(c.difference_in_se <= 1 for c in group)} | "
            f"{sum(c.difference_in_se <= 2 for c in group)} | {worst.difference_in_se:.2f} "
            f"({worst.learner}, size {worst.size}, {worst.metric}) | {identical} of {total} |"
        )
    outside = [c for c in cells if not c.difference_in_se <= max_se]
    lines += [
        "",
        f"{len(cells)} cells; {len(outside)} differ by more than {max_se:g} SE of the old mean; "
        f"{len(grid.missing)} of the reference missing.",
    ]
    for cell in sorted(outside, key=lambda c: -c.difference_in_se)[:20]:
        lines.append(
            f"- {cell.dataset} {cell.learner} size {cell.size} {cell.metric}: "
            f"{cell.old_mean:.4g} -> {cell.new_mean:.4g} ({cell.difference_in_se:.2f} SE)"
        )
    lines += [f"- missing: {where}" for where in grid.missing[:20]]
    if len(grid.missing) > 20:
        lines.append(f"- missing: ... and {len(grid.missing) - 20} more")
    lines += [f"- not compared: {where}" for where in grid.skipped]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m responserank.synthetic.agreement", description=__doc__.splitlines()[0]
    )
    parser.add_argument("old_dir", type=Path, help="folder of the reference <dataset>.json files")
    parser.add_argument("new_dir", type=Path, help="folder of the files to check")
    parser.add_argument("--max-se", type=float, default=1.0, help="allowed abs(diff) / SE")
    parser.add_argument("--report", type=Path, help="also write the Markdown summary here")
    parser.add_argument("--json", type=Path, help="write every cell's figures here")
    args = parser.parse_args(argv)
    with exit_on_project_error():
        grid = compare_dirs(args.old_dir, args.new_dir)
        text = report(grid, args.max_se)
        print(text)
        if args.report:
            write_text_atomic(args.report, text + "\n")
        if args.json:
            write_json_atomic(args.json, {**asdict(grid), "max_se": args.max_se})
    raise SystemExit(0 if grid.agrees(args.max_se) else 1)


if __name__ == "__main__":
    main()
