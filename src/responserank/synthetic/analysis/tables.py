"""LaTeX (and CSV) tables of the synthetic results: per-metric summaries and paired statistics.

The ``.tex`` files are complete ``table`` floats for ``\\input``; they need the booktabs and graphicx
packages. Numbers are formatted here once, so the bold "best" mark always matches what is printed.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import pandas as pd

from responserank.latex import format_number, format_p, latex_escape
from responserank.plotting import method_label
from responserank.stats import summarize
from responserank.synthetic.analysis.dataset_results import (
    DatasetGroup,
    DatasetResults,
    Metric,
    dataset_label,
)
from responserank.synthetic.analysis.learner_tests import LearnerComparison

DECIMALS = 3


def _number(value: float, decimals: int = DECIMALS) -> str:
    return format_number(value, decimals)


def _size_sort(sizes: set[str]) -> list[str]:
    return sorted(sizes, key=float)


def metric_table(group: DatasetGroup, datasets: Sequence[DatasetResults], metric: Metric) -> str:
    """Mean +- sd [+- 95% CI half-width] per learner (rows) and training fraction (columns).

    Datasets form blocks of rows; within a dataset and size the best mean (as printed) is bold.
    A learner without results at a size gets "--".
    """
    sizes = _size_sort({size for results in datasets for size in results.sizes})
    trial_counts = sorted({len(next(iter(r.metrics.values()))) for r in datasets})
    lines = [
        "% Requires \\usepackage{booktabs} and \\usepackage{graphicx}.",
        "\\begin{table}[t]",
        "\\centering",
        f"\\caption{{{metric.label} on the synthetic datasets {group.title}: mean $\\pm$ sd "
        f"[$\\pm$ 95\\% CI half-width] over {' / '.join(map(str, trial_counts))} trials per "
        "training fraction; the best mean per dataset and fraction is bold.}",
        f"\\label{{tab:synthetic-{group.name.replace('_', '-')}-{metric.short}}}",
        "\\resizebox{\\textwidth}{!}{%",
        f"\\begin{{tabular}}{{ll{'c' * len(sizes)}}}",
        "\\toprule",
        " & ".join(["Dataset", "Learner", *sizes]) + " \\\\",
    ]
    for results in datasets:
        lines.append("\\midrule")
        cells: dict[tuple[str, str], tuple[str, str, str] | None] = {}
        for learner in results.learners:
            for size in sizes:
                if (learner, size, metric.key) not in results.metrics:
                    cells[(learner, size)] = None
                    continue
                summary = summarize(results.values(learner, size, metric.key))
                cells[(learner, size)] = (
                    _number(summary.mean),
                    _number(summary.sd),
                    _number(summary.ci_half_width),
                )
        best = {}
        for size in sizes:
            printed = [c[0] for learner in results.learners if (c := cells[(learner, size)])]
            numeric = [float(m) for m in printed if m != "n/a"]
            best[size] = f"{max(numeric):.{DECIMALS}f}" if numeric else None
        for row, learner in enumerate(results.learners):
            label = latex_escape(dataset_label(results.dataset)) if row == 0 else ""
            row_cells = [label, latex_escape(method_label(learner))]
            for size in sizes:
                cell = cells[(learner, size)]
                if cell is None:
                    row_cells.append("--")
                    continue
                mean, sd, ci = cell
                if mean == "n/a":
                    row_cells.append("n/a")
                    continue
                shown = f"\\mathbf{{{mean}}}" if mean == best[size] else mean
                row_cells.append(f"${shown} \\pm {sd}\\,[\\pm {ci}]$")
            lines.append(" & ".join(row_cells) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}}", "\\end{table}", ""]
    return "\n".join(lines)


def _arrow(effect: float) -> str:
    if math.isnan(effect) or effect == 0:
        return "--"
    return "$\\uparrow$" if effect > 0 else "$\\downarrow$"


def wilcoxon_table(
    group: DatasetGroup,
    comparisons: Sequence[LearnerComparison],
    metrics: Sequence[Metric],
    alpha: float = 0.05,
) -> str:
    """The paired-test table: one row per dataset, metric and learner pair."""
    labels = {metric.key: metric.abbreviation for metric in metrics}
    sizes = sorted({c.size for c in comparisons}, key=float)
    lines = [
        "% Requires \\usepackage{booktabs} and \\usepackage{graphicx}.",
        "\\begin{table}[t]",
        "\\centering",
        f"\\caption{{Paired two-sided Wilcoxon signed-rank tests over trials, synthetic datasets "
        f"{group.title}, training fraction {', '.join(sizes)}. $\\Delta$: median per-trial "
        "difference (second minus first learner); $r_{rb}$: matched-pairs rank-biserial "
        "correlation; $p_{\\mathrm{Holm}}$: Holm-corrected over all tests of this table, bold "
        f"below {alpha}. All metrics are higher-is-better: $\\uparrow$ means the second learner "
        "is better, $\\downarrow$ that it is worse.}",
        f"\\label{{tab:synthetic-{group.name.replace('_', '-')}-wilcoxon}}",
        "\\resizebox{\\textwidth}{!}{%",
        "\\begin{tabular}{lllrrrrc}",
        "\\toprule",
        "Dataset & Metric & Comparison & $\\Delta$ & $W$ & $p_{\\mathrm{Holm}}$ & $r_{rb}$ & \\\\",
    ]
    previous: tuple[str, str] | None = None
    for comparison in comparisons:
        new_dataset = previous is None or comparison.dataset != previous[0]
        new_metric = new_dataset or comparison.metric != previous[1]
        if new_dataset:
            lines.append("\\midrule")
        test = comparison.test
        cells = [
            latex_escape(dataset_label(comparison.dataset)) if new_dataset else "",
            labels[comparison.metric] if new_metric else "",
            f"{latex_escape(method_label(comparison.other))} vs. "
            f"{latex_escape(method_label(comparison.baseline))}",
            _number(test.median_difference),
            _number(test.statistic, 1),
            format_p(comparison.p_holm, alpha),
            _number(test.effect_size, 2),
            _arrow(test.effect_size),
        ]
        lines.append(" & ".join(cells) + " \\\\")
        previous = (comparison.dataset, comparison.metric)
    lines += ["\\bottomrule", "\\end{tabular}}", "\\end{table}", ""]
    return "\n".join(lines)


def wilcoxon_csv(comparisons: Sequence[LearnerComparison]) -> str:
    """The same tests as a CSV with full precision, for checking and further use."""
    columns = [
        "dataset",
        "metric",
        "baseline",
        "other",
        "size",
        "n",
        "n_nonzero",
        "median_difference",
        "mean_difference",
        "statistic",
        "p_value",
        "p_holm",
        "rank_biserial",
    ]
    rows = [
        {
            "dataset": c.dataset,
            "metric": c.metric,
            "baseline": c.baseline,
            "other": c.other,
            "size": c.size,
            "n": c.test.n,
            "n_nonzero": c.test.n_nonzero,
            "median_difference": c.test.median_difference,
            "mean_difference": c.test.mean_difference,
            "statistic": c.test.statistic,
            "p_value": c.test.p_value,
            "p_holm": c.p_holm,
            "rank_biserial": c.test.effect_size,
        }
        for c in comparisons
    ]
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=columns).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()
