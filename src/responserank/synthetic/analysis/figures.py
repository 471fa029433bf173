"""Figures of the synthetic results; each function draws one figure for one dataset group.

Columns are datasets, rows are metrics. Callers wrap the calls in ``plotting.style_context`` and
save with ``plotting.save_figure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from responserank.plotting import (
    MIN_BAND_SAMPLES,
    clamp_ylim,
    fewest_samples,
    integer_ticks,
    mark_crossing,
    method_style,
    no_band_entry,
    panel_note,
    plot_mean_band,
    reference_line_style,
    shared_legend,
)
from responserank.stats import LevelReach, level_reach, summarize
from responserank.synthetic.analysis.dataset_results import DatasetResults, Metric, dataset_label

COLUMN_WIDTH_IN = 2.35
#: Fewest trials a box (quartiles and whiskers) is drawn for; fewer are shown as dots.
MIN_BOX_TRIALS = 5
REFERENCE_LEARNER = "bt"
FOCUS_LEARNER = "rr"


def _grid(rows: int, columns: int, height_in: float) -> tuple[Figure, np.ndarray]:
    fig, axes = plt.subplots(
        rows,
        columns,
        figsize=(COLUMN_WIDTH_IN * columns, height_in),
        squeeze=False,
        layout="constrained",
    )
    return fig, axes


def _trial_dots(ax, data: Sequence[np.ndarray], learners: Sequence[str]) -> None:
    """Each trial as a dot and the mean as a bar: what few trials can show honestly."""
    for position, (values, learner) in enumerate(zip(data, learners, strict=True), start=1):
        color = method_style(learner).color
        ax.scatter(np.full(len(values), position), values, s=12, color=color, zorder=3)
        if len(values):
            mean = float(np.mean(values))
            ax.hlines(mean, position - 0.3, position + 0.3, color="black", linewidth=1.0)


def boxplot_figure(datasets: Sequence[DatasetResults], metrics: Sequence[Metric]) -> Figure:
    """Per-trial metric distribution of every learner at the full training set: boxes, or with
    fewer than ``MIN_BOX_TRIALS`` trials each trial as a dot with the mean as a bar."""
    fig, axes = _grid(len(metrics), len(datasets), 2.0 * len(metrics) + 0.7)
    fewest = None
    for column, results in enumerate(datasets):
        learners = results.learners
        for row, metric in enumerate(metrics):
            ax = axes[row, column]
            data = []
            for learner in learners:
                values = results.metrics.get((learner, results.full_size, metric.key))
                data.append(np.array([]) if values is None else values[np.isfinite(values)])
            counts = [len(values) for values in data if len(values)]
            if counts:
                fewest = min(counts) if fewest is None else min(fewest, *counts)
            if counts and min(counts) < MIN_BOX_TRIALS:
                _trial_dots(ax, data, learners)
            else:
                boxes = ax.boxplot(
                    data,
                    patch_artist=True,
                    widths=0.6,
                    medianprops={"color": "black", "linewidth": 1.0},
                    flierprops={"markersize": 2, "alpha": 0.6},
                )
                for patch, learner in zip(boxes["boxes"], learners, strict=True):
                    patch.set_facecolor(method_style(learner).color)
                    patch.set_alpha(0.75)
            clamp_ylim(ax, (metric.low, metric.high))
            ax.set_xticks(range(1, len(learners) + 1))
            ax.grid(axis="x", visible=False)
            if row == len(metrics) - 1:
                ax.set_xticklabels(
                    [method_style(name).label for name in learners],
                    rotation=40,
                    ha="right",
                    rotation_mode="anchor",
                )
            else:
                ax.tick_params(labelbottom=False)
            if row == 0:
                ax.set_title(dataset_label(results.dataset))
            if column == 0:
                ax.set_ylabel(metric.label)
    if fewest is not None and fewest < MIN_BOX_TRIALS:
        fig.suptitle(f"{fewest} trials: each dot is one trial, the bar their mean", fontsize=8)
    return fig


def _curve_means(results: DatasetResults, learner: str, metric: str) -> tuple[list[float], list]:
    sizes = [s for s in results.sizes if (learner, s, metric) in results.metrics]
    return [float(s) for s in sizes], [results.values(learner, s, metric) for s in sizes]


def size_curves_figure(
    datasets: Sequence[DatasetResults], metrics: Sequence[Metric]
) -> tuple[Figure, list[tuple[str, str, LevelReach]]]:
    """Metric against training fraction (mean and 95% band) per learner.

    A dashed line marks BT's mean at the full training set and a marker the interpolated fraction
    at which RR's mean reaches it. The y axis stays inside the metric's range; bands need
    ``MIN_BAND_SAMPLES`` trials (the legend says when there are fewer). Returns the figure and
    (dataset, metric, reach) per panel.
    """
    fig, axes = _grid(len(metrics), len(datasets), 1.9 * len(metrics) + 0.8)
    reaches = []
    fewest = None
    for column, results in enumerate(datasets):
        for row, metric in enumerate(metrics):
            ax = axes[row, column]
            bounds = (metric.low, metric.high)
            for learner in results.learners:
                sizes, samples = _curve_means(results, learner, metric.key)
                plot_mean_band(ax, sizes, samples, method=learner, bounds=bounds)
                n = fewest_samples(samples)
                fewest = n if fewest is None else min(fewest, n)
            clamp_ylim(ax, bounds)
            reach = _mark_reference_level(ax, results, metric)
            clamp_ylim(ax, bounds)
            if reach is not None:
                reaches.append((results.dataset, metric.key, reach))
            ax.set_xticks([float(s) for s in results.sizes], results.sizes)
            if row == 0:
                ax.set_title(dataset_label(results.dataset))
            if row == len(metrics) - 1:
                ax.set_xlabel("Training fraction")
            if column == 0:
                ax.set_ylabel(metric.label)
    reference = Line2D([], [], **reference_line_style(REFERENCE_LEARNER))
    extra = (
        [(reference, f"{method_style(REFERENCE_LEARNER).label} at full data")] if reaches else []
    )
    if fewest is not None and fewest < MIN_BAND_SAMPLES:
        extra.append(no_band_entry(fewest, "trials"))
    shared_legend(fig, axes.flat, extra)
    return fig, reaches


def _mark_reference_level(ax, results: DatasetResults, metric: Metric) -> LevelReach | None:
    full = results.full_size
    if (REFERENCE_LEARNER, full, metric.key) not in results.metrics:
        return None
    level = summarize(results.values(REFERENCE_LEARNER, full, metric.key)).mean
    reference = method_style(REFERENCE_LEARNER)
    ax.axhline(level, zorder=1, **reference_line_style(REFERENCE_LEARNER))
    if FOCUS_LEARNER not in results.learners:
        return None
    sizes, samples = _curve_means(results, FOCUS_LEARNER, metric.key)
    reach = level_reach(sizes, [summarize(s).mean for s in samples], level)
    focus = method_style(FOCUS_LEARNER)
    if reach.size is not None:
        mark_crossing(ax, reach.size, FOCUS_LEARNER)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.12 * (high - low))  # headroom for the note below
    panel_note(ax, f"{focus.label} reaches {reference.label}({full}): {reach.describe()}")
    return reach


def _tau_bins(taus: np.ndarray) -> np.ndarray | str:
    """Automatic bins; one narrow bin centred on the value when every trial has the same tau."""
    if taus.min() == taus.max():
        return np.array([taus[0] - 0.005, taus[0] + 0.005])
    return "auto"


def kendall_figure(datasets: Sequence[DatasetResults]) -> Figure:
    """Histogram over trials of Kendall's tau-b between response-time order and true strength."""
    fig, axes = _grid(1, len(datasets), 2.0)
    for ax, results in zip(axes[0], datasets, strict=True):
        finite = results.kendall_tau[np.isfinite(results.kendall_tau)]
        if finite.size:
            ax.hist(
                finite,
                bins=_tau_bins(finite),
                color="#7f7f7f",
                alpha=0.8,
                edgecolor="white",
                linewidth=0.4,
            )
            mean = float(finite.mean())
            if finite.min() == finite.max():
                ax.set_xlim(mean - 0.05, mean + 0.05)
            ax.axvline(mean, color="black", linestyle="--", linewidth=0.9)
            ax.set_title(f"{dataset_label(results.dataset)} (mean {mean:.2f})")
        else:
            ax.set_title(dataset_label(results.dataset))
        ax.set_xlabel(r"Kendall $\tau_b$ (fast RT vs. large $|u_1 - u_2|$)")
    axes[0, 0].set_ylabel("Trials")
    for ax in axes[0]:
        integer_ticks(ax.yaxis)
    return fig


def confusion_figure(datasets: Sequence[DatasetResults]) -> Figure:
    """Test-set confusion matrix of true preference vs. observed choice, summed over trials."""
    fig, axes = _grid(1, len(datasets), 2.2)
    for ax, results in zip(axes[0], datasets, strict=True):
        summed = results.confusion.sum(axis=0)
        total = summed.sum()
        ax.imshow(summed, cmap="Blues", vmin=0, vmax=summed.max() or 1)
        for (i, j), count in np.ndenumerate(summed):
            dark = count > 0.6 * summed.max()
            ax.text(
                j,
                i,
                f"{count:g} ({count / total:.2f})",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else "black",
            )
        agreement = np.trace(summed) / total
        ax.set_title(f"{dataset_label(results.dataset)} (agreement {agreement:.2f})")
        ax.set_xticks([0, 1], ["no", "yes"])
        ax.set_yticks([0, 1], ["no", "yes"])
        ax.set_xlabel(r"Observed choice $y = 1$")
        ax.grid(visible=False)
    axes[0, 0].set_ylabel(r"True $u_1 > u_2$")
    return fig
