"""CSV and LaTeX versions of the RT vs no-RT comparison tables.

The CSV keeps every number at full precision (for further analysis); the LaTeX file is a complete
``table`` float for ``\\input`` (needs booktabs), rendered by pandas' Styler.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from responserank.atomic_io import write_text_atomic
from responserank.latex import format_number, format_p


@dataclass(frozen=True)
class TableSpec:
    """What one comparison table shows: file stem, caption text and how values are formatted."""

    stem: str
    caption: str
    label: str
    percent: bool  # show values (accuracies) as percentages


def _decimals(magnitude: float, percent: bool) -> int:
    if percent:
        return 1
    return 0 if magnitude >= 1000 else 1 if magnitude >= 100 else 2


def latex_table(table: pd.DataFrame, spec: TableSpec) -> str:
    """Environment (and noise) rows: mean $\\pm$ sd per arm, difference [95% CI], d, p, p (Holm)."""
    scale = 100.0 if spec.percent else 1.0
    magnitude = (
        table.groupby("env")[["mean_no_rt", "mean_rt"]]
        .transform(lambda column: column.abs().max())
        .max(axis=1)
        * scale
    )
    rows = []
    for (_, row), size in zip(table.iterrows(), magnitude, strict=True):
        digits = _decimals(size, spec.percent)
        cells = {"Environment": row["env"]}
        if "noise" in table.columns:
            cells["Noise"] = f"{row['noise']:g}"
        cells.update(
            {
                "Pairs": str(row["n_pairs"]),
                "No RT": f"{format_number(row['mean_no_rt'] * scale, digits)} $\\pm$ "
                f"{format_number(row['sd_no_rt'] * scale, digits)}",
                "RT": f"{format_number(row['mean_rt'] * scale, digits)} $\\pm$ "
                f"{format_number(row['sd_rt'] * scale, digits)}",
                "RT $-$ No RT [95\\% CI]": f"{format_number(row['mean_difference'] * scale, digits)} "
                f"[{format_number(row['ci_low'] * scale, digits)}, "
                f"{format_number(row['ci_high'] * scale, digits)}]",
                "$d$": format_number(row["effect_size"], 2),
                "$p$": format_p(row["p_value"]),
                "$p_{\\mathrm{Holm}}$": format_p(row["p_holm"]),
            }
        )
        rows.append(cells)
    frame = pd.DataFrame(rows)
    tests = sorted(set(table["test"]))
    caption = f"{spec.caption} Test: {', '.join(tests)} (two-sided); Holm correction over the rows of this table."
    styler = frame.style.hide(axis="index").format(escape="latex", subset=["Environment"])
    column_format = "l" * (2 if "noise" in table.columns else 1) + "r" * (len(frame.columns) - 1)
    column_format = column_format[: len(frame.columns)]
    return "% Requires \\usepackage{booktabs}.\n" + styler.to_latex(
        hrules=True,
        column_format=column_format,
        caption=caption,
        label=spec.label,
        position="t",
        position_float="centering",
    )


def write_table(table: pd.DataFrame, spec: TableSpec, out_dir: Path) -> list[Path]:
    """``<stem>.csv`` (full precision) and ``<stem>.tex``, both written atomically."""
    return [
        write_text_atomic(out_dir / f"{spec.stem}.csv", table.to_csv(index=False)),
        write_text_atomic(out_dir / f"{spec.stem}.tex", latex_table(table, spec)),
    ]
