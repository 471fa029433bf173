"""Figures of the LLM results in the shared style (``responserank.plotting``).

Values are shown in percent. Callers wrap the calls in ``plotting.style_context``, register the
registry's styles first (``Registry.register_styles``) and save with ``plotting.save_figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from responserank.llm.analysis.metrics import PERCENT, SCORE_RANGES, Metric
from responserank.llm.analysis.registry import Registry, Study
from responserank.llm.analysis.runs_table import Results
from responserank.plotting import (
    clamp_ylim,
    mark_crossing,
    method_style,
    panel_note,
    plot_mean_band,
    reference_line_style,
    shared_legend,
)
from responserank.stats import LevelReach, level_reach, summarize

PANEL_WIDTH_IN = 2.6
PANEL_HEIGHT_IN = 2.1
SEED_DOTS_OFFSET = 0.2


@dataclass(frozen=True)
class Reach:
    """Where ``config``'s mean curve of ``metric`` reaches the baseline's full-data mean."""

    metric: str
    config: str
    baseline: str
    baseline_fraction: float
    reach: LevelReach


def _fraction_ticks(ax: Axes, fractions: Sequence[float]) -> None:
    ax.set_xticks(list(fractions), [f"{f:g}" for f in fractions])


def _curves(
    ax: Axes, results: Results, registry: Registry, configs: Sequence[str], metric: str
) -> list[float]:
    """Mean and 95% band per configuration; returns the fractions drawn."""
    drawn: set[float] = set()
    for name in configs:
        fractions = results.fractions(name, metric)
        if not fractions:
            continue
        samples = [PERCENT * results.values(name, f, metric) for f in fractions]
        plot_mean_band(
            ax, fractions, samples, method=registry.configs[name].method, bounds=_bounds(metric)
        )
        drawn.update(fractions)
    if drawn:
        clamp_ylim(ax, _bounds(metric))
    return sorted(drawn)


def _bounds(metric: str) -> tuple[float, float]:
    """The metric's possible range in percent (bands and axes stay inside it)."""
    low, high = SCORE_RANGES.get(metric, (0.0, 1.0))
    return PERCENT * low, PERCENT * high


def _baseline_level(
    ax: Axes, results: Results, registry: Registry, metric: str
) -> tuple[float, float] | None:
    """Draw the baseline's mean at its largest fraction; return (fraction, level in percent)."""
    baseline = registry.baseline
    if baseline not in registry.configs:
        return None
    fractions = results.fractions(baseline, metric)
    if not fractions:
        return None
    full = fractions[-1]
    level = summarize(PERCENT * results.values(baseline, full, metric)).mean
    ax.axhline(level, zorder=1, **reference_line_style(registry.configs[baseline].method))
    return full, level


def _reaches(
    ax: Axes, results: Results, registry: Registry, configs: Sequence[str], metric: Metric
) -> list[Reach]:
    """Mark the baseline level and where each other curve reaches it; note it in the panel."""
    found = _baseline_level(ax, results, registry, metric.key)
    if found is None:
        return []
    full, level = found
    baseline_label = registry.configs[registry.baseline].style.label
    reaches, lines = [], []
    for name in configs:
        fractions = results.fractions(name, metric.key)
        if name == registry.baseline or not fractions:
            continue
        means = [summarize(PERCENT * results.values(name, f, metric.key)).mean for f in fractions]
        reach = level_reach(fractions, means, level)
        reaches.append(Reach(metric.key, name, registry.baseline, full, reach))
        if reach.size is not None:
            mark_crossing(ax, reach.size, registry.configs[name].method)
        lines.append(
            f"{registry.configs[name].style.label} reaches {baseline_label}({full}): "
            f"{reach.describe()}"
        )
    if lines:
        panel_note(ax, "\n".join(lines), loc="lower right")
    return reaches


def _baseline_legend_entry(registry: Registry, results: Results, metrics: Sequence[Metric]):
    """The dashed line's legend entry, naming the fraction it was measured at."""
    baseline = registry.configs.get(registry.baseline)
    fractions = {f for m in metrics for f in results.fractions(registry.baseline, m.key)[-1:]}
    if baseline is None or not fractions:
        return []
    where = (
        "full data"
        if fractions == {1.0}
        else f"fraction {'/'.join(f'{f}' for f in sorted(fractions))}"
    )
    handle = Line2D([], [], **reference_line_style(baseline.method))
    return [(handle, f"{baseline.style.label} at {where}")]


def fraction_curves_figure(
    results: Results, registry: Registry, configs: Sequence[str], metrics: Sequence[Metric]
) -> tuple[Figure, list[Reach]]:
    """One panel per metric: mean and 95% t band over seeds against the training fraction.

    The dashed line is the baseline's mean at its largest fraction; a dotted line and the note in
    the panel give the (linearly interpolated) fraction at which each other curve reaches it.
    """
    fig, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(PANEL_WIDTH_IN * len(metrics) + 0.3, PANEL_HEIGHT_IN + 0.5),
        squeeze=False,
        layout="constrained",
    )
    reaches: list[Reach] = []
    for ax, metric in zip(axes[0], metrics, strict=True):
        fractions = _curves(ax, results, registry, configs, metric.key)
        reaches += _reaches(ax, results, registry, configs, metric)
        _fraction_ticks(ax, fractions)
        ax.set_xlabel("Training fraction")
        ax.set_ylabel(metric.axis_label())
    shared_legend(fig, axes.flat, _baseline_legend_entry(registry, results, metrics))
    return fig, reaches


def category_grid_figure(
    results: Results,
    registry: Registry,
    configs: Sequence[str],
    metrics: Sequence[Metric],
    columns: int = 3,
) -> Figure:
    """One panel per category (e.g. RewardBench v2 subsets), curves as in the fraction figure."""
    rows = -(-len(metrics) // columns)
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(PANEL_WIDTH_IN * columns, PANEL_HEIGHT_IN * rows + 0.5),
        squeeze=False,
        layout="constrained",
    )
    for index, ax in enumerate(axes.flat):
        if index >= len(metrics):
            ax.set_visible(False)
            continue
        metric = metrics[index]
        fractions = _curves(ax, results, registry, configs, metric.key)
        _baseline_level(ax, results, registry, metric.key)
        _fraction_ticks(ax, fractions)
        ax.set_title(metric.label)
        if index // columns == rows - 1 or index + columns >= len(metrics):
            ax.set_xlabel("Training fraction")
        if index % columns == 0:
            ax.set_ylabel("Score (%)")
    shared_legend(fig, axes.flat, _baseline_legend_entry(registry, results, metrics))
    return fig


def study_figure(
    results: Results,
    registry: Registry,
    study: Study,
    metrics: Sequence[Metric],
    fraction: float,
) -> Figure:
    """Mean over seeds per member at ``fraction`` (large marker) with its 95% t interval and the
    seeds as dots.

    Points rather than bars, because the value axis is zoomed to the data: a bar that does not
    start at 0 would misstate the ratios. The dashed line is the baseline's mean when the baseline
    is not itself a member.
    """
    members = [m for m in study.all_members if m in registry.configs]
    width = max(PANEL_WIDTH_IN, 0.45 * len(members) + 0.8)
    fig, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(width * len(metrics), PANEL_HEIGHT_IN + 0.6),
        squeeze=False,
        layout="constrained",
    )
    for ax, metric in zip(axes[0], metrics, strict=True):
        lows, highs = [], []
        for x, name in enumerate(members):
            values = PERCENT * results.values(name, fraction, metric.key)
            if values.size == 0:
                continue
            style = method_style(registry.configs[name].method)
            summary = summarize(values)
            error = None if np.isnan(summary.ci_half_width) else summary.ci_half_width
            ax.errorbar(
                x,
                summary.mean,
                yerr=error,
                color=style.color,
                marker=style.marker,
                markersize=7,
                capsize=4,
                lw=1.2,
                zorder=3,
            )
            # seeds to the right of the error bar, spread a little so equal values stay visible
            offsets = SEED_DOTS_OFFSET + np.linspace(-0.05, 0.05, values.size)
            ax.scatter(x + offsets, values, s=7, color="black", alpha=0.6, zorder=4, linewidths=0)
            lows.append(min(values.min(), summary.ci_low if error else summary.mean))
            highs.append(max(values.max(), summary.ci_high if error else summary.mean))
        if registry.baseline not in members:
            found = _baseline_level(ax, results, registry, metric.key)
            if found is not None:
                lows.append(found[1])
                highs.append(found[1])
        if lows:
            span = max(highs) - min(lows) or 1.0
            ax.set_ylim(min(lows) - 0.25 * span, max(highs) + 0.15 * span)
        ax.set_xticks(
            range(len(members)),
            [registry.configs[m].style.label for m in members],
            rotation=30 if len(members) > 2 else 0,
            ha="right" if len(members) > 2 else "center",
            rotation_mode="anchor",
        )
        ax.grid(axis="x", visible=False)
        ax.set_ylabel(metric.axis_label())
    fig.suptitle(f"{study.title} (training fraction {fraction})", fontsize=9)
    if registry.baseline not in members:
        shared_legend(fig, [], _baseline_legend_entry(registry, results, metrics))
    return fig


def rho_histogram_figure(rhos: dict[str, np.ndarray], labels: dict[str, str]) -> Figure:
    """Histogram of within-annotator Spearman correlations, one panel per variable."""
    fig, axes = plt.subplots(
        1,
        len(rhos),
        figsize=(PANEL_WIDTH_IN * len(rhos), PANEL_HEIGHT_IN),
        squeeze=False,
        layout="constrained",
    )
    for ax, (variable, values) in zip(axes[0], rhos.items(), strict=True):
        ax.hist(values, bins=np.linspace(-1, 1, 21), color="#7f7f7f", edgecolor="white", lw=0.4)
        if values.size:
            mean = float(values.mean())
            ax.axvline(mean, color="black", linestyle="--", linewidth=0.9)
            ax.set_title(rf"mean $\rho = {mean:.2f}$ over {values.size} annotators")
        ax.axvline(0.0, color="black", linewidth=0.5)
        ax.set_xlim(-1, 1)
        ax.set_xlabel(rf"Spearman $\rho$ (response time vs. {labels[variable]})")
    axes[0, 0].set_ylabel("Annotators")
    return fig
