"""Render every RL-control figure and table from a cache folder of tables."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from responserank.plotting import FIGURE_FORMATS, save_figure, style_context
from responserank.rl_control.analysis.cache_tables import FAMILIES, load_cache
from responserank.rl_control.analysis.curves import final_returns
from responserank.rl_control.analysis.figures import (
    by_noise_figure,
    learning_curves_by_noise_figure,
    learning_curves_figure,
)
from responserank.rl_control.analysis.rt_comparisons import comparison_table
from responserank.rl_control.analysis.tables import TableSpec, write_table

LOG = logging.getLogger(__name__)
OUTPUT_SUBDIR = "rl_control"


def _environment_order(frame: pd.DataFrame) -> list[str]:
    family_rank = {family: i for i, family in enumerate(FAMILIES)}
    pairs = frame[["family", "env"]].drop_duplicates()
    return [
        env for _, env in sorted(zip(pairs["family"].map(family_rank), pairs["env"], strict=True))
    ]


def _final_return_caption(final_fraction: float, pooled: bool) -> str:
    window = (
        "the last evaluation"
        if final_fraction == 0
        else f"the evaluations in the last {final_fraction:.0%} of training steps".replace(
            "%", "\\%"
        )
    )
    pairs = (
        "pairs share noise level and seed, all noise levels pooled"
        if pooled
        else ("pairs share the seed")
    )
    return (
        f"Final evaluation return (mean over {window}) of agents trained on reward models learned "
        f"without and with response times (RT): mean $\\pm$ sd over runs; {pairs}; $d$ is Cohen's "
        "$d_z$ of the paired differences."
    )


def _accuracy_caption(pooled: bool) -> str:
    pairs = (
        "pairs share noise level and seed, all noise levels pooled"
        if pooled
        else ("pairs share the seed")
    )
    return (
        "Held-out preference accuracy (\\%) of the reward models learned without and with "
        f"response times (RT): mean $\\pm$ sd over runs; {pairs}; $d$ is Cohen's $d_z$."
    )


def generate(
    cache_dir: Path,
    fig_dir: Path,
    final_fraction: float = 0.1,
    formats: Sequence[str] = FIGURE_FORMATS,
    usetex: bool = False,
) -> list[Path]:
    """Write figures and tables to ``fig_dir/rl_control``; return the written paths."""
    data = load_cache(cache_dir)
    out_dir = fig_dir / OUTPUT_SUBDIR
    runs = data.runs.copy()
    runs["final_return"] = final_returns(runs, final_fraction)
    models = data.reward_models
    envs = _environment_order(runs)
    written: list[Path] = []

    specs = [
        (runs, "final_return", ["env", "noise"], ["seed"],
         TableSpec("final_return_by_noise", _final_return_caption(final_fraction, False),
                   "tab:rl-final-return-by-noise", percent=False)),
        (runs, "final_return", ["env"], ["noise", "seed"],
         TableSpec("final_return_by_env", _final_return_caption(final_fraction, True),
                   "tab:rl-final-return-by-env", percent=False)),
        (models, "val_accuracy", ["env", "noise"], ["seed"],
         TableSpec("reward_model_accuracy_by_noise", _accuracy_caption(False),
                   "tab:rl-reward-model-accuracy-by-noise", percent=True)),
        (models, "val_accuracy", ["env"], ["noise", "seed"],
         TableSpec("reward_model_accuracy_by_env", _accuracy_caption(True),
                   "tab:rl-reward-model-accuracy-by-env", percent=True)),
    ]  # fmt: skip
    for frame, value, group_by, pair_on, spec in specs:
        table = comparison_table(frame, value, group_by, pair_on)
        written += write_table(table, spec, out_dir)

    with style_context(usetex=usetex):
        figures = {
            "learning_curves": learning_curves_figure(runs, envs),
            "learning_curves_by_noise": learning_curves_by_noise_figure(runs, envs),
            "final_return_by_noise": by_noise_figure(runs, "final_return", "Final return", envs),
            "reward_model_accuracy_by_noise": by_noise_figure(
                models, "val_accuracy", "Reward-model accuracy (%)", envs, scale=100.0
            ),
        }
        for stem, figure in figures.items():
            written += save_figure(figure, out_dir / stem, formats)
    for path in written:
        LOG.info("wrote %s", path)
    return written
