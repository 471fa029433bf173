"""Paired comparisons of LLM run groups over fold x seed, with per-fold means and a figure.

    python -m responserank.llm.analysis.cli paired runs/lie_rt_study \\
        --out-dir results/lie_rt_study --fig-dir paper/figures/llm --name lie_rt_study \\
        --baseline lie_rt_bt --pair lie_rt_rr_perm:lie_rt_rr

The runs are read by ``rapl_summary.collect_runs`` (one row per finished run: experiment, fold,
seed and the metrics of ``rapl_summary.METRICS``). A learner is an experiment (preset) name. Every
learner is compared with ``baseline`` and every ``--pair BASE:OTHER`` by the paired t-test of
``responserank.stats`` over the (fold, seed) cells both have: mean difference OTHER - BASE, its
95% t interval, two-sided p, Cohen's d_z; Holm's correction runs over all comparisons of one
metric. Outputs (all atomic): ``runs.csv``, ``learners.csv`` (mean and 95% CI over all runs),
``learners_by_fold.csv`` (the same per fold), ``paired.csv``, ``summary.md`` in ``out_dir`` and
``<name>.{pdf,png}`` in ``fig_dir`` (per-learner means with 95% CIs per fold and over all folds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from responserank.atomic_io import write_text_atomic
from responserank.errors import UsageError
from responserank.llm.rapl_summary import METRICS, collect_runs
from responserank.plotting import (
    FIGURE_FORMATS,
    method_style,
    registered_methods,
    save_figure,
    style_context,
)
from responserank.stats import holm_adjust, paired_t_test, summarize

#: Metrics of the paired table and the figure, with display names (``rapl_summary`` keys).
KEY_METRICS = {
    "lie_test_accuracy": "LIE test: correct > incorrect",
    "lie_test_accuracy_same_length": "LIE test: correct > incorrect of equal length",
    "ratio": "LIE test: correctness / length weight",
    "heldout_accuracy": "held-out accuracy",
    "heldout_calibrated_loss": "held-out calibrated loss",
}
ANALYSED = [m for m in METRICS if m != "train_loss"]
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
CELL = ["fold", "seed"]


def load_runs(root: Path, learners: Sequence[str] | None) -> pd.DataFrame:
    """Finished runs of ``learners`` (all when None) under ``root``; one row per (learner, fold,
    seed). Raises UsageError when a fold x seed cell of a learner holds two runs."""
    runs = collect_runs(root, learners).rename(columns={"experiment": "learner"})
    doubled = runs[runs.duplicated(["learner", *CELL], keep=False)]
    if not doubled.empty:
        row = doubled.iloc[0]
        raise UsageError(
            f"{root}: learner {row.learner} has {len(doubled)} runs for fold {row.fold} seed "
            f"{row.seed} and the like (two configurations under one preset name); expected one"
        )
    return runs


def _summary_rows(runs: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    rows = []
    for key, group in runs.groupby(by, sort=False):
        row = dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True))
        row["n_runs"] = len(group)
        for metric in ANALYSED:
            s = summarize(group[metric].to_numpy(dtype=float))
            row.update({f"{metric}_mean": s.mean, f"{metric}_ci": s.ci_half_width})
        rows.append(row)
    return pd.DataFrame(rows)


def learner_means(runs: pd.DataFrame, order: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean and 95% CI half-width of every metric per learner, over all runs and per fold."""
    ordered = runs.assign(learner=pd.Categorical(runs["learner"], list(order), ordered=True))
    ordered = ordered.sort_values(["learner", *CELL])
    overall = _summary_rows(ordered, ["learner"])
    by_fold = _summary_rows(ordered, ["learner", "fold"])
    return overall.astype({"learner": str}), by_fold.astype({"learner": str})


def paired_comparisons(
    runs: pd.DataFrame, pairs: Sequence[tuple[str, str]], metrics: Sequence[str] = ANALYSED
) -> pd.DataFrame:
    """Paired t-test of OTHER against BASE for every (BASE, OTHER) and metric, over the shared
    (fold, seed) cells; ``p_holm`` corrects over the pairs of one metric."""
    rows = []
    for metric in metrics:
        table = runs.pivot_table(index=CELL, columns="learner", values=metric, aggfunc="first")
        block = []
        for base, other in pairs:
            if base not in table or other not in table:
                continue
            shared = table[[base, other]].dropna()
            test = paired_t_test(shared[base].to_numpy(), shared[other].to_numpy())
            block.append({"metric": metric, "baseline": base, "learner": other, **asdict(test)})
        for row, p in zip(block, holm_adjust([r["p_value"] for r in block]), strict=True):
            row["p_holm"] = p
        rows.extend(block)
    return pd.DataFrame(rows)


def _fmt(value: float, digits: int) -> str:
    return "nan" if not np.isfinite(value) else f"{value:+.{digits}f}"


def markdown(runs: pd.DataFrame, overall: pd.DataFrame, paired: pd.DataFrame) -> str:
    """The learner table (mean ± 95% CI over fold x seed) and the paired table as Markdown."""
    folds = ", ".join(str(f) for f in sorted(runs["fold"].unique()))
    seeds = ", ".join(str(s) for s in sorted(runs["seed"].unique()))
    lines = [
        f"{len(runs)} finished runs; folds {folds}; seeds {seeds}. Mean ± 95% CI half-width "
        "over the runs of each learner; paired: OTHER - BASE over shared (fold, seed) cells, "
        "paired t-test, Holm over the comparisons of one metric.",
        "",
        "| learner | runs | LIE test acc. | same-length acc. | length w. | correctness w. | ratio "
        "| held-out acc. | held-out cal. loss |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in overall.itertuples(index=False):
        cells = [
            f"{getattr(row, m + '_mean'):.3f} ± {getattr(row, m + '_ci'):.3f}"
            for m in (
                "lie_test_accuracy",
                "lie_test_accuracy_same_length",
                "length_weight",
                "correctness_weight",
                "ratio",
                "heldout_accuracy",
                "heldout_calibrated_loss",
            )
        ]
        lines.append(f"| {row.learner} | {row.n_runs} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| metric | learner | baseline | pairs | mean diff. [95% CI] | p | p (Holm) | d_z |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in paired[paired["metric"].isin(list(KEY_METRICS))].itertuples(index=False):
        lines.append(
            f"| {row.metric} | {row.learner} | {row.baseline} | {row.n} | "
            f"{_fmt(row.mean_difference, 4)} [{_fmt(row.ci_low, 4)}, {_fmt(row.ci_high, 4)}] | "
            f"{row.p_value:.3g} | {row.p_holm:.3g} | {_fmt(row.effect_size, 2)} |"
        )
    return "\n".join(lines) + "\n"


def _look(learner: str, index: int) -> tuple[str, str, str]:
    """Colour, marker and label: the registered style, else the index-th of a 20-colour cycle."""
    if learner in registered_methods():
        style = method_style(learner)
        return style.color, style.marker, style.label
    color = plt.get_cmap("tab20")(index % 20)
    return color, MARKERS[index % len(MARKERS)], learner


def figure(by_fold: pd.DataFrame, overall: pd.DataFrame, order: Sequence[str]) -> plt.Figure:
    """One panel per key metric: each learner's mean and 95% CI per fold and over all folds."""
    folds = sorted(by_fold["fold"].unique())
    positions = [*range(len(folds)), len(folds) + 0.5]
    width = 0.8 / max(len(order), 1)
    fig, axes = plt.subplots(
        len(KEY_METRICS), 1, figsize=(9.0, 2.3 * len(KEY_METRICS)), layout="constrained"
    )
    for ax, (metric, title) in zip(np.atleast_1d(axes), KEY_METRICS.items(), strict=True):
        for i, learner in enumerate(order):
            per_fold = by_fold[by_fold["learner"] == learner].set_index("fold")
            total = overall[overall["learner"] == learner]
            means = [per_fold[f"{metric}_mean"].get(f, np.nan) for f in folds]
            cis = [per_fold[f"{metric}_ci"].get(f, np.nan) for f in folds]
            means.append(float(total[f"{metric}_mean"].iloc[0]) if len(total) else np.nan)
            cis.append(float(total[f"{metric}_ci"].iloc[0]) if len(total) else np.nan)
            color, marker, label = _look(learner, i)
            x = np.asarray(positions) - 0.4 + (i + 0.5) * width
            ax.errorbar(
                x, means, yerr=np.nan_to_num(cis), fmt=marker, color=color,
                markersize=3, elinewidth=0.8, capsize=1.5, label=label,
            )  # fmt: skip
        ax.set_xticks(positions, [f"fold {f}" for f in folds] + ["all folds"])
        ax.set_title(title, fontsize=9)
    handles, labels = np.atleast_1d(axes)[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=7)
    return fig


def write_paired_study(
    root: Path,
    out_dir: Path,
    fig_dir: Path,
    name: str,
    baseline: str,
    pairs: Sequence[tuple[str, str]],
    learners: Sequence[str] | None = None,
    formats: Sequence[str] = FIGURE_FORMATS,
) -> list[Path]:
    """Read the runs, write the tables and the figure; return the written paths.

    Raises UsageError when ``baseline`` or a paired learner has no finished run.
    """
    runs = load_runs(root, learners)
    found = list(dict.fromkeys(runs["learner"]))
    order = [x for x in (learners or found) if x in found]
    wanted = {baseline, *(x for pair in pairs for x in pair)}
    if missing := sorted(wanted - set(found)):
        raise UsageError(f"{root}: no finished runs of {', '.join(missing)}; found {found}")
    all_pairs = [(baseline, x) for x in order if x != baseline] + list(pairs)
    overall, by_fold = learner_means(runs, order)
    paired = paired_comparisons(runs, all_pairs)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [
        write_text_atomic(out_dir / "runs.csv", runs.to_csv(index=False)),
        write_text_atomic(out_dir / "learners.csv", overall.to_csv(index=False)),
        write_text_atomic(out_dir / "learners_by_fold.csv", by_fold.to_csv(index=False)),
        write_text_atomic(out_dir / "paired.csv", paired.to_csv(index=False)),
        write_text_atomic(out_dir / "summary.md", markdown(runs, overall, paired)),
    ]
    with style_context():
        fig = figure(by_fold, overall, order)
        written += save_figure(fig, fig_dir / name, formats)
    return written
