"""Plain text inside LaTeX tables: every analysis escapes names the same way."""

from __future__ import annotations

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
