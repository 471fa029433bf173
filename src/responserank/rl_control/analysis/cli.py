"""RL-control analysis: ``collect`` tables from wandb, ``generate`` figures and tables from them.

    python -m responserank.rl_control.analysis.cli collect CACHE_DIR \
        --mujoco-project P --highway-project Q [--entity E]
    python -m responserank.rl_control.analysis.cli generate CACHE_DIR FIG_DIR

``generate`` writes to ``FIG_DIR/rl_control/``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from responserank.cli_errors import report
from responserank.errors import CollectError, ResponseRankError
from responserank.plotting import FIGURE_FORMATS
from responserank.rl_control.analysis.collect import (
    HistoryKeys,
    collect,
)
from responserank.rl_control.analysis.generate import generate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m responserank.rl_control.analysis.cli")
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser(
        "collect", help="fetch runs from wandb into CACHE_DIR (needs login)"
    )
    fetch.add_argument("cache_dir", type=Path)
    fetch.add_argument("--mujoco-project", help="wandb project of the MuJoCo runs")
    fetch.add_argument("--highway-project", help="wandb project of the highway-env runs")
    fetch.add_argument("--entity", default=None, help="wandb entity (default: your default entity)")
    defaults = HistoryKeys()
    fetch.add_argument("--step-key", default=defaults.step, help="history key of the env step")
    fetch.add_argument(
        "--return-key", default=defaults.episode_return, help="history key of the evaluation return"
    )
    fetch.add_argument(
        "--accuracy-key", default=defaults.accuracy, help="summary key of the reward-model accuracy"
    )

    render = commands.add_parser("generate", help="figures and tables from CACHE_DIR into FIG_DIR")
    render.add_argument("cache_dir", type=Path)
    render.add_argument("fig_dir", type=Path)
    render.add_argument(
        "--final-fraction",
        type=float,
        default=0.1,
        help="final return = mean over this last fraction of training steps (0: last evaluation)",
    )
    render.add_argument(
        "--formats", nargs="+", default=list(FIGURE_FORMATS), help="figure file formats"
    )
    render.add_argument("--usetex", action="store_true", help="render text with LaTeX")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("responserank").setLevel(logging.INFO)
    try:
        if args.command == "collect":
            projects = {
                family: project
                for family, project in (
                    ("mujoco", args.mujoco_project),
                    ("highway", args.highway_project),
                )
                if project
            }
            if not projects:
                raise CollectError("give --mujoco-project and/or --highway-project")
            keys = HistoryKeys(args.step_key, args.return_key, args.accuracy_key)
            paths = collect(args.cache_dir, projects, args.entity, keys)
        else:
            paths = generate(
                args.cache_dir, args.fig_dir, args.final_fraction, args.formats, args.usetex
            )
    except ResponseRankError as exc:
        return report(exc)
    print(f"wrote {len(paths)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
