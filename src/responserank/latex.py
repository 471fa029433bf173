"""Text inside LaTeX tables: every analysis escapes names and formats numbers the same way."""

from __future__ import annotations

import math

_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters in plain text (learner or dataset names)."""
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text)


P_FLOOR = 0.001


def format_number(value: float, decimals: int) -> str:
    """``value`` with ``decimals`` decimals, or ``n/a`` when it is NaN (an undefined statistic)."""
    return "n/a" if math.isnan(value) else f"{value:.{decimals}f}"


def format_p(p: float, bold_below: float | None = None) -> str:
    """A p-value in LaTeX math: ``$0.012$``, ``$<0.001$`` below 0.001, ``n/a`` for NaN.

    Bold (``$\\mathbf{0.012}$``) when ``bold_below`` is given and ``p`` is below it. Every table
    of the analysis prints p-values with this one format.
    """
    if math.isnan(p):
        return "n/a"
    text = f"<{P_FLOOR}" if p < P_FLOOR else f"{p:.3f}"
    return f"$\\mathbf{{{text}}}$" if bold_below is not None and p < bold_below else f"${text}$"
