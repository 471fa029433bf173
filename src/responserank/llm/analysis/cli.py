"""LLM analysis: ``collect`` run results into a cache folder, ``generate`` figures and tables.

    python -m responserank.llm.analysis.cli collect results/llm --runs-dir runs/llm
    python -m responserank.llm.analysis.cli collect results/llm --project-name rr-llm \
        --registry results/llm/registry.yaml
    python -m responserank.llm.analysis.cli generate results/llm paper/figures
    python -m responserank.llm.analysis.cli import-published SRC_DIR CACHE_DIR --allow-pickle
    python -m responserank.llm.analysis.cli registry --runs-dir runs/llm \
        --registry results/llm/registry.yaml
    python -m responserank.llm.analysis.cli paired runs/lie_rt_study --out-dir DIR \
        --fig-dir FIG_DIR --name NAME --baseline lie_rt_bt --pair lie_rt_rr_perm:lie_rt_rr

``generate`` writes to ``FIG_DIR/llm/``. The registry format is in ``registry.py`` and the README.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from responserank.cli_errors import report
from responserank.errors import ResponseRankError, UsageError, UsetexUnavailable
from responserank.llm.analysis import paired_runs
from responserank.llm.analysis.cache import (
    REGISTRY_FILE,
)
from responserank.llm.analysis.collect import (
    find_groups,
    from_runs_dir,
    from_wandb,
    write_collected,
)
from responserank.llm.analysis.generate import generate
from responserank.llm.analysis.published import import_published
from responserank.llm.analysis.registry import load_registry, update_from_runs
from responserank.plotting import FIGURE_FORMATS, style_context


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m responserank.llm.analysis.cli")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser(
        "collect",
        help="final metrics of finished, non-dry runs of every registered group -> CACHE_DIR",
    )
    fetch.add_argument("cache_dir", type=Path)
    source = fetch.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--runs-dir", type=Path, help="local run records (tracking.output_root, e.g. runs/llm)"
    )
    source.add_argument("--project-name", help="wandb project the runs mirrored to (needs login)")
    fetch.add_argument("--entity", default=None, help="wandb entity (default: your default one)")
    fetch.add_argument(
        "--registry",
        type=Path,
        default=None,
        help=f"registry YAML (default: CACHE_DIR/{REGISTRY_FILE}); copied into CACHE_DIR",
    )
    fetch.add_argument(
        "--dataset",
        type=Path,
        default=None,
        help="local MultiPref-schema copy for the dataset statistics (default: the runs' "
        "dataset.path when they all used one that exists here)",
    )

    render = commands.add_parser(
        "generate", help="figures and tables from CACHE_DIR into FIG_DIR/llm"
    )
    render.add_argument("cache_dir", type=Path)
    render.add_argument("fig_dir", type=Path)
    render.add_argument(
        "--registry", type=Path, default=None, help=f"default: CACHE_DIR/{REGISTRY_FILE}"
    )
    render.add_argument(
        "--formats", nargs="+", default=list(FIGURE_FORMATS), help="figure file formats"
    )
    render.add_argument("--usetex", action="store_true", help="typeset figure text with LaTeX")

    port = commands.add_parser(
        "import-published",
        help="a published cache folder (data.pkl, registry.yaml, meta.json) -> CACHE_DIR",
        description="Convert a cache folder of the published analysis into this project's cache "
        "(results.csv, meta.json, registry.yaml): finished runs only, a rerun seed keeps the last "
        "row of data.pkl, metric names mapped (eval_accuracy -> eval/heldout/accuracy, ...).",
    )
    port.add_argument("src_dir", type=Path, metavar="SRC_DIR")
    port.add_argument("cache_dir", type=Path, metavar="CACHE_DIR")
    port.add_argument(
        "--allow-pickle",
        action="store_true",
        help="read data.pkl (unpickling runs code from the file: only for a source you trust)",
    )

    paired = commands.add_parser(
        "paired",
        help="run records -> learner tables, paired comparisons over fold x seed and a figure",
        description=paired_runs.__doc__.split("\n\n")[-1],
    )
    paired.add_argument("runs_dir", type=Path, help="tracking.output_root of the runs")
    paired.add_argument("--out-dir", type=Path, required=True, help="folder of the tables")
    paired.add_argument("--fig-dir", type=Path, required=True, help="folder of the figure")
    paired.add_argument("--name", required=True, help="file name (stem) of the figure")
    paired.add_argument("--baseline", required=True, help="learner every other one is paired with")
    paired.add_argument(
        "--pair", action="append", default=[], metavar="BASE:OTHER", help="an extra comparison"
    )
    paired.add_argument(
        "--learners", nargs="+", default=None, help="learners in display order (default: all)"
    )
    paired.add_argument(
        "--formats", nargs="+", default=list(FIGURE_FORMATS), help="figure file formats"
    )

    update = commands.add_parser(
        "registry", help="(re)write registry group ids from local run records"
    )
    update.add_argument("--runs-dir", type=Path, required=True)
    update.add_argument("--registry", type=Path, required=True)
    update.add_argument(
        "--dry-run", action="store_true", help="print the new registry instead of writing it"
    )
    return parser


def _warn(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"warning: {line}")


def _collect(args: argparse.Namespace) -> list[Path]:
    registry = load_registry(args.registry or args.cache_dir / REGISTRY_FILE)
    _warn(registry.warnings)
    if args.runs_dir is not None:
        found = from_runs_dir(registry, args.runs_dir)
        source = {"kind": "runs_dir", "runs_dir": str(args.runs_dir)}
    else:
        found = from_wandb(registry, args.project_name, args.entity)
        source = {"kind": "wandb", "project": args.project_name, "entity": args.entity}
    written, notes = write_collected(args.cache_dir, registry, found, source, args.dataset)
    for note in notes:
        print(f"note: {note}")
    if found.skipped:
        print("skipped runs: " + ", ".join(f"{k}: {v}" for k, v in sorted(found.skipped.items())))
    print(f"collected {len({r['run_name'] for r in found.runs})} runs")
    return written


def _import_published(args: argparse.Namespace) -> list[Path]:
    imported = import_published(args.src_dir, args.cache_dir, args.allow_pickle)
    _warn(imported.warnings)
    for reason, count in sorted(imported.skipped.items()):
        print(f"skipped: {count} runs ({reason})")
    for line in imported.duplicates:
        print(f"duplicate seed: {line}")
    for metric, count in sorted(imported.nan_values.items()):
        print(f"nan: {metric}: {count} runs without a value (left out)")
    for note in imported.notes:
        print(f"note: {note}")
    print(f"imported {imported.runs} runs")
    return imported.written


def _registry(args: argparse.Namespace) -> list[Path]:
    text, notes = update_from_runs(args.registry, find_groups(args.runs_dir), args.dry_run)
    for note in notes:
        print(f"note: {note}")
    if args.dry_run:
        print(text)
        return []
    return [args.registry]


def _paired(args: argparse.Namespace) -> list[Path]:
    pairs = []
    for text in args.pair:
        base, sep, other = text.partition(":")
        if not (sep and base and other):
            raise UsageError(f"--pair {text!r}: expected BASE:OTHER (two learner names)")
        pairs.append((base, other))
    return paired_runs.write_paired_study(
        args.runs_dir, args.out_dir, args.fig_dir, args.name, args.baseline, pairs,
        args.learners, args.formats,
    )  # fmt: skip


def _check_usetex() -> None:
    """Fail before anything is written when LaTeX is missing (the style's own check)."""
    try:
        with style_context(usetex=True):
            pass
    except RuntimeError as exc:
        raise UsetexUnavailable(str(exc)) from exc


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "collect":
            written = _collect(args)
        elif args.command == "registry":
            written = _registry(args)
        elif args.command == "import-published":
            written = _import_published(args)
        elif args.command == "paired":
            written = _paired(args)
        else:
            if args.usetex:
                _check_usetex()
            output = generate(
                args.cache_dir, args.fig_dir, args.registry, args.formats, args.usetex
            )
            _warn(output.warnings)
            for note in output.notes:
                print(f"missing: {note}")
            written = output.written
    except (ResponseRankError, UsetexUnavailable) as exc:
        return report(exc)
    print(f"wrote {len(written)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
