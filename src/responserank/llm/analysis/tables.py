"""Summary statistics, paired tests and their CSV / LaTeX tables for the LLM results.

CSV files keep full precision (values as fractions, not percent); the ``.tex`` files are complete
``table`` floats for ``\\input`` (booktabs and graphicx) showing percent. Numbers are formatted once,
so the bold "best" mark always matches what is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from responserank.latex import format_number, format_p, latex_escape
from responserank.llm.analysis.dataset_stats import Correlation
from responserank.llm.analysis.metrics import PERCENT, Metric
from responserank.llm.analysis.registry import Registry
from responserank.llm.analysis.runs_table import Results
from responserank.stats import holm_adjust, levene_test, paired_t_test, summarize

DECIMALS = 1
ALPHA = 0.05


def _number(value: float, decimals: int = DECIMALS) -> str:
    return format_number(value, decimals)


def summary_frame(
    results: Results, registry: Registry, configs: Sequence[str], metrics: Sequence[Metric]
) -> pd.DataFrame:
    """Mean, sd, 95% t-interval half-width and number of seeds per configuration, fraction, metric."""
    rows = []
    for name in configs:
        for metric in metrics:
            for fraction in results.fractions(name, metric.key):
                summary = summarize(results.values(name, fraction, metric.key))
                rows.append(
                    {
                        "config": name,
                        "label": registry.configs[name].style.label,
                        "fraction": fraction,
                        "metric": metric.key,
                        "n_seeds": summary.n,
                        "mean": summary.mean,
                        "sd": summary.sd,
                        "ci95_half_width": summary.ci_half_width,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "config",
            "label",
            "fraction",
            "metric",
            "n_seeds",
            "mean",
            "sd",
            "ci95_half_width",
        ],
    )


def fraction_table(
    summary: pd.DataFrame,
    registry: Registry,
    configs: Sequence[str],
    metrics: Sequence[Metric],
    fraction: float,
) -> str:
    """LaTeX: one row per configuration, one column per metric, at one training fraction.

    Cells are mean $\\pm$ 95% CI half-width in percent; the best printed mean per column is bold;
    "--" marks a configuration without runs for that metric.
    """
    at = summary[summary["fraction"] == fraction]
    cells: dict[tuple[str, str], tuple[str, str] | None] = {}
    seeds: set[int] = set()
    for name in configs:
        for metric in metrics:
            row = at[(at["config"] == name) & (at["metric"] == metric.key)]
            if row.empty:
                cells[(name, metric.key)] = None
                continue
            record = row.iloc[0]
            seeds.add(int(record["n_seeds"]))
            cells[(name, metric.key)] = (
                _number(PERCENT * record["mean"]),
                _number(PERCENT * record["ci95_half_width"]),
            )
    best = {}
    for metric in metrics:
        printed = [c[0] for name in configs if (c := cells[(name, metric.key)]) and c[0] != "n/a"]
        best[metric.key] = max(printed, key=float) if printed else None
    label_fraction = f"{fraction:g}".replace(".", "-")
    lines = [
        "% Requires \\usepackage{booktabs} and \\usepackage{graphicx}.",
        "\\begin{table}[t]",
        "\\centering",
        f"\\caption{{LLM reward models at training fraction {fraction}: mean $\\pm$ 95\\% "
        f"t-interval half-width over {' / '.join(map(str, sorted(seeds)))} seeds, in percent; "
        "the best mean per column is bold.}",
        f"\\label{{tab:llm-fraction-{label_fraction}}}",
        "\\resizebox{\\linewidth}{!}{%",
        f"\\begin{{tabular}}{{l{'c' * len(metrics)}}}",
        "\\toprule",
        " & ".join(["Method", *[latex_escape(m.label) for m in metrics]]) + " \\\\",
        "\\midrule",
    ]
    for name in configs:
        row = [latex_escape(registry.configs[name].style.label)]
        for metric in metrics:
            cell = cells[(name, metric.key)]
            if cell is None:
                row.append("--")
                continue
            mean, half = cell
            if mean == "n/a":
                row.append("n/a")
                continue
            shown = f"\\mathbf{{{mean}}}" if mean == best[metric.key] else mean
            row.append(f"${shown} \\pm {half}$" if half != "n/a" else f"${shown}$")
        lines.append(" & ".join(row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}}", "\\end{table}", ""]
    return "\n".join(lines)


@dataclass(frozen=True)
class PairComparison:
    """Paired t-test (by seed) and Levene test of ``other`` against ``baseline`` on one metric."""

    metric: str
    baseline: str
    other: str
    fraction: float
    n_pairs: int
    mean_baseline: float
    mean_other: float
    mean_difference: float
    ci_low: float
    ci_high: float
    cohens_dz: float
    t_statistic: float
    t_p: float
    t_p_holm: float
    sd_baseline: float
    sd_other: float
    levene_statistic: float
    levene_p: float
    levene_p_holm: float


def compare_pairs(
    results: Results,
    pairs: Sequence[tuple[str, str]],
    metrics: Sequence[Metric],
    fraction: float,
) -> tuple[list[PairComparison], list[str]]:
    """Every pair on every metric at ``fraction``; Holm over all t-tests, and over all Levene tests.

    The t-test pairs runs by seed; Levene's test uses every run of each configuration. Pairs
    without shared seeds are skipped with a note.
    """
    pending, notes = [], []
    for metric in metrics:
        for baseline, other in pairs:
            a, b = results.paired(baseline, other, fraction, metric.key)
            if a.size == 0:
                absent = [
                    n
                    for n in (baseline, other)
                    if results.values(n, fraction, metric.key).size == 0
                ]
                reason = f"no runs of {', '.join(absent)}" if absent else "no shared seeds"
                notes.append(f"test {other} vs {baseline} on {metric.key} at {fraction}: {reason}")
                continue
            t = paired_t_test(a, b)
            levene = levene_test(
                results.values(baseline, fraction, metric.key),
                results.values(other, fraction, metric.key),
            )
            pending.append((metric.key, baseline, other, t, levene))
    t_holm = holm_adjust([t.p_value for *_, t, _ in pending])
    levene_holm = holm_adjust([lev.p_value for *_, lev in pending])
    comparisons = [
        PairComparison(
            metric=metric,
            baseline=baseline,
            other=other,
            fraction=fraction,
            n_pairs=t.n,
            mean_baseline=t.mean_baseline,
            mean_other=t.mean_other,
            mean_difference=t.mean_difference,
            ci_low=t.ci_low,
            ci_high=t.ci_high,
            cohens_dz=t.effect_size,
            t_statistic=t.statistic,
            t_p=t.p_value,
            t_p_holm=t_holm[i],
            sd_baseline=levene.sd_baseline,
            sd_other=levene.sd_other,
            levene_statistic=levene.statistic,
            levene_p=levene.p_value,
            levene_p_holm=levene_holm[i],
        )
        for i, (metric, baseline, other, t, levene) in enumerate(pending)
    ]
    return comparisons, notes


def comparisons_frame(comparisons: Sequence[PairComparison]) -> pd.DataFrame:
    columns = list(PairComparison.__dataclass_fields__)
    return pd.DataFrame([vars(c) for c in comparisons], columns=columns)


def comparisons_table(
    comparisons: Sequence[PairComparison], registry: Registry, metrics: Sequence[Metric]
) -> str:
    """LaTeX: difference [95% CI] in points, Cohen's d_z, t-test p (Holm), sds, Levene p (Holm)."""
    labels = {m.key: m.label for m in metrics}
    fractions = sorted({c.fraction for c in comparisons})
    lines = [
        "% Requires \\usepackage{booktabs} and \\usepackage{graphicx}.",
        "\\begin{table}[t]",
        "\\centering",
        f"\\caption{{Paired comparisons at training fraction {', '.join(f'{f}' for f in fractions)}. "
        "$\\Delta$: mean difference (second minus first method) over seeds in percentage points "
        "with its 95\\% t interval; $d_z$: Cohen's $d$ of the paired differences; $p_t$: "
        "two-sided paired t-test (runs paired by seed); sd: standard deviation over seeds; "
        "$p_L$: Levene's test of equal variances (median-centred). Both $p$ columns are "
        f"Holm-corrected over all rows of this table, bold below {ALPHA}.}}",
        "\\label{tab:llm-paired-tests}",
        "\\resizebox{\\linewidth}{!}{%",
        "\\begin{tabular}{llrrrrrrr}",
        "\\toprule",
        "Metric & Comparison & $n$ & $\\Delta$ [95\\% CI] & $d_z$ & $p_t$ & sd$_1$ & sd$_2$ & "
        "$p_L$ \\\\",
    ]
    previous = None
    for c in comparisons:
        if c.metric != previous:
            lines.append("\\midrule")
        name = latex_escape(labels.get(c.metric, c.metric)) if c.metric != previous else ""
        pair = (
            f"{latex_escape(registry.configs[c.other].style.label)} vs. "
            f"{latex_escape(registry.configs[c.baseline].style.label)}"
        )
        delta = (
            f"{_number(PERCENT * c.mean_difference, 2)} "
            f"[{_number(PERCENT * c.ci_low, 2)}, {_number(PERCENT * c.ci_high, 2)}]"
        )
        cells = [
            name,
            pair,
            str(c.n_pairs),
            delta,
            _number(c.cohens_dz, 2),
            format_p(c.t_p_holm, ALPHA),
            _number(PERCENT * c.sd_baseline, 2),
            _number(PERCENT * c.sd_other, 2),
            format_p(c.levene_p_holm, ALPHA),
        ]
        lines.append(" & ".join(cells) + " \\\\")
        previous = c.metric
    lines += ["\\bottomrule", "\\end{tabular}}", "\\end{table}", ""]
    return "\n".join(lines)


def correlations_table(correlations: Sequence[Correlation], labels: dict[str, str]) -> str:
    """LaTeX: pooled and within-annotator Spearman correlations of response time."""
    lines = [
        "% Requires \\usepackage{booktabs}.",
        "\\begin{table}[t]",
        "\\centering",
        "\\caption{Spearman correlation of annotator response time with total text length (all "
        "annotations) and with consensus (mean preference of all annotators of the comparison "
        "towards the side the annotation chose; tie annotations left out). Pooled: over all "
        "annotations; within annotator: mean [95\\% t interval] and median of the per-annotator "
        "$\\rho$, share of annotators with $\\rho < 0$.}",
        "\\label{tab:llm-dataset-rt}",
        "\\begin{tabular}{lrrrrrrr}",
        "\\toprule",
        "Response time vs. & $n$ & pooled $\\rho$ & $p$ & annotators & mean $\\rho$ [95\\% CI] & "
        "median $\\rho$ & $\\rho<0$ \\\\",
        "\\midrule",
    ]
    for c in correlations:
        lines.append(
            " & ".join(
                [
                    latex_escape(labels[c.variable]),
                    str(c.n),
                    _number(c.pooled_rho, 3),
                    format_p(c.pooled_p),
                    str(c.annotators),
                    f"{_number(c.mean_rho, 3)} [{_number(c.ci_low, 3)}, {_number(c.ci_high, 3)}]",
                    _number(c.median_rho, 3),
                    f"{_number(100 * c.share_negative, 0)}\\%",
                ]
            )
            + " \\\\"
        )
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}", ""]
    return "\n".join(lines)
