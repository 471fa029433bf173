"""Figures of the RL-control results in the project style: one panel per environment.

Callers wrap the calls in ``plotting.style_context`` and save with ``plotting.save_figure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from responserank.plotting import (
    method_style,
    plot_mean_band,
    register_method,
    shared_legend,
)
from responserank.rl_control.analysis.curves import curves_on_grid
from responserank.stats import summarize

NO_RT, RT = "rl_no_rt", "rl_rt"
register_method(NO_RT, "No RT", "#0072B2", marker="o")
register_method(RT, "RT", "#D55E00", marker="s", linestyle="--")
ARMS: tuple[tuple[str, bool], ...] = ((NO_RT, False), (RT, True))

PANEL_WIDTH_IN = 2.3
MARKERS_PER_CURVE = 8


def _steps_formatter(value: float, _position: int) -> str:
    if value >= 1e6:
        return f"{value / 1e6:g}M"
    if value >= 1e3:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _curve_panel(ax: Axes, runs: pd.DataFrame) -> None:
    grid, matrix = curves_on_grid(runs)
    is_rt = runs["is_rt"].to_numpy()
    for method, arm in ARMS:
        rows = matrix[is_rt == arm]
        if rows.size == 0:
            continue
        line = plot_mean_band(ax, grid, list(rows.T), method=method)
        line.set_markevery(max(1, len(grid) // MARKERS_PER_CURVE))
        line.set_markersize(3)
    ax.xaxis.set_major_formatter(FuncFormatter(_steps_formatter))
    ax.xaxis.set_major_locator(plt.MaxNLocator(4))


def learning_curves_figure(runs: pd.DataFrame, envs: Sequence[str]) -> Figure:
    """Mean evaluation return over training per environment, all noise levels pooled, 95% t-CI."""
    fig, axes = plt.subplots(
        1, len(envs), figsize=(PANEL_WIDTH_IN * len(envs), 2.5), squeeze=False, layout="constrained"
    )
    for ax, env in zip(axes[0], envs, strict=True):
        _curve_panel(ax, runs[runs["env"] == env])
        ax.set_title(env)
        ax.set_xlabel("Environment steps")
    axes[0, 0].set_ylabel("Evaluation return")
    shared_legend(fig, axes.flat)
    return fig


def learning_curves_by_noise_figure(runs: pd.DataFrame, envs: Sequence[str]) -> Figure:
    """The learning curves split by noise level: rows are environments, columns noise levels."""
    noises = sorted(runs["noise"].unique())
    fig, axes = plt.subplots(
        len(envs),
        len(noises),
        figsize=(PANEL_WIDTH_IN * len(noises), 1.9 * len(envs) + 0.6),
        squeeze=False,
        sharey="row",
        layout="constrained",
    )
    for row, env in enumerate(envs):
        for column, noise in enumerate(noises):
            ax = axes[row, column]
            cell = runs[(runs["env"] == env) & (runs["noise"] == noise)]
            if cell.empty:
                ax.set_axis_off()
                continue
            _curve_panel(ax, cell)
            if row == 0:
                ax.set_title(f"noise level {noise:g}")
            if column == 0:
                ax.set_ylabel(f"{env}\nreturn")
            if row == len(envs) - 1:
                ax.set_xlabel("Environment steps")
    shared_legend(fig, axes.flat)
    return fig


def by_noise_figure(
    frame: pd.DataFrame, value: str, ylabel: str, envs: Sequence[str], scale: float = 1.0
) -> Figure:
    """``value`` (times ``scale``) per noise level and environment for RT and no RT: mean and 95%
    t-CI over seeds."""
    fig, axes = plt.subplots(
        1, len(envs), figsize=(PANEL_WIDTH_IN * len(envs), 2.4), squeeze=False, layout="constrained"
    )
    noises = sorted(frame["noise"].unique())
    offsets = {NO_RT: -0.015, RT: 0.015}
    for ax, env in zip(axes[0], envs, strict=True):
        cell = frame[frame["env"] == env]
        for method, arm in ARMS:
            style = method_style(method)
            summaries = [
                summarize(scale * cell.loc[(cell["noise"] == n) & (cell["is_rt"] == arm), value])
                for n in noises
            ]
            means = np.array([s.mean for s in summaries])
            halves = np.array([s.ci_half_width for s in summaries])
            ax.errorbar(
                np.array(noises) + offsets[method],
                means,
                yerr=halves,
                color=style.color,
                marker=style.marker,
                linestyle=style.linestyle,
                capsize=2,
                label=style.label,
            )
        ax.set_title(env)
        ax.set_xticks(noises)
        ax.set_xticklabels([f"{n:g}" for n in noises])
        ax.set_xlabel("Feedback noise level")
    axes[0, 0].set_ylabel(ylabel)
    shared_legend(fig, axes.flat)
    return fig
