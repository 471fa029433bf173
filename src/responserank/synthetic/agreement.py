"""Do two synthetic grids agree cell by cell? For changes that alter float rounding only.

    python -m responserank.synthetic.agreement OLD_DIR NEW_DIR [--report report.md] [--json out.json]

A faster kernel that sums in another order changes each fit's last bits, which can move a trial's
trajectory a little; the experiment is unchanged only if every cell (dataset x learner x size x
metric) keeps its mean within its standard error. For each cell present in both directories'
results files this reports the old and new mean over trials, the difference, the standard error
of the old mean (sd / sqrt(n), trials with an undefined value left out) and the ratio
|difference| / SE, plus how many trials are bit-identical. Exit status 1 when some cell differs
by more than ``--max-se`` standard errors (default 1), 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.cli_errors import exit_on_project_error
from responserank.errors import InputFileError
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


def compare_results(old: dict, new: dict) -> Iterator[CellAgreement]:
    """Every scalar cell present in both results dicts (one dataset each), in file order."""
    dataset = str(new["metadata"]["dataset"])
    for learner in (k for k in new if k not in RESERVED_KEYS and k in old):
        for size in new[learner]["sizes"]:
            old_metrics = _scalar_metrics(old, learner, size)
            for metric, entries in _scalar_metrics(new, learner, size).items():
                if metric not in old_metrics:
                    continue
                a, b = _values(old_metrics[metric]), _values(entries)
                if a.shape != b.shape:
                    raise InputFileError(
                        f"{dataset}.{learner}.sizes.{size}.{metric}: {a.size} trials in the old "
                        f"results, {b.size} in the new; compare grids of the same trials"
                    )
                summary_old, summary_new = summarize(a), summarize(b)
                se = summary_old.sd / math.sqrt(summary_old.n) if summary_old.n > 1 else math.nan
                difference = summary_new.mean - summary_old.mean
                in_se = abs(difference) / se if se > 0 else (0.0 if difference == 0 else math.inf)
                yield CellAgreement(
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


def compare_dirs(old_dir: Path, new_dir: Path) -> list[CellAgreement]:
    """Cells of every ``<dataset>.json`` results file found in both directories."""
    cells: list[CellAgreement] = []
    names = sorted(
        p.name
        for p in Path(new_dir).glob("*.json")
        if not p.name.endswith(".provenance.json") and (Path(old_dir) / p.name).is_file()
    )
    for name in names:
        new = load_results(Path(new_dir) / name)
        if "metadata" not in new:
            continue
        cells += compare_results(load_results(Path(old_dir) / name), new)
    if not cells:
        raise InputFileError(f"no results file with common cells in both {old_dir} and {new_dir}")
    return cells


def report(cells: Sequence[CellAgreement], max_se: float) -> str:
    """A Markdown summary: per dataset the count within 1 and 2 SE and the worst cell."""
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
        f"{len(cells)} cells; {len(outside)} differ by more than {max_se:g} SE of the old mean.",
    ]
    for cell in sorted(outside, key=lambda c: -c.difference_in_se)[:20]:
        lines.append(
            f"- {cell.dataset} {cell.learner} size {cell.size} {cell.metric}: "
            f"{cell.old_mean:.4g} -> {cell.new_mean:.4g} ({cell.difference_in_se:.2f} SE)"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_dir", type=Path, help="folder of the reference <dataset>.json files")
    parser.add_argument("new_dir", type=Path, help="folder of the files to check")
    parser.add_argument("--max-se", type=float, default=1.0, help="allowed abs(diff) / SE")
    parser.add_argument("--report", type=Path, help="also write the Markdown summary here")
    parser.add_argument("--json", type=Path, help="write every cell's figures here")
    args = parser.parse_args(argv)
    with exit_on_project_error():
        cells = compare_dirs(args.old_dir, args.new_dir)
        text = report(cells, args.max_se)
        print(text)
        if args.report:
            write_text_atomic(args.report, text + "\n")
        if args.json:
            write_json_atomic(args.json, [asdict(c) for c in cells])
    raise SystemExit(0 if all(c.difference_in_se <= args.max_se for c in cells) else 1)


if __name__ == "__main__":
    main()
