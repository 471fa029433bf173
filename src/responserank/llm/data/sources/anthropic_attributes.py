"""The Anthropic attribute set: response pairs labelled on 25 attributes besides the preference.

Schema: ``chosen``, ``rejected`` (full transcripts, or responses to an optional ``prompt``),
``chosen_choice`` ("A" or "B": which of the two presented options was chosen) and one column per
attribute holding "A" (option A has more of it), "B" (option B has more) or "C" (no difference).
"""

from __future__ import annotations

import os

import pandas as pd

from responserank.llm.data.sources.tables import (
    check_choice,
    check_text,
    read_local_or_hub,
    require_columns,
)

ATTRIBUTES = (
    "authoritative",
    "agree_human_explicit",
    "agree_human_implicit",
    "grammatically_sound",
    "well_written",
    "entertaining",
    "truthful",
    "higher_reading_age",
    "empathetic",
    "funny",
    "better_supported",
    "polite",
    "matches_human_style",
    "optimistic",
    "structured",
    "informative",
    "engaging",
    "friendly",
    "motivating",
    "concise",
    "persuasive",
    "rigorous",
    "logically_sound",
    "relevant",
    "longer",
)
ATTRIBUTE_VALUES = ("A", "B", "C")


def validate_anthropic_attributes(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Check the schema; return prompt, chosen, rejected, chosen_choice and the 25 attributes."""
    require_columns(df, ("chosen", "rejected", "chosen_choice", *ATTRIBUTES), where)
    out = df.copy()
    if "prompt" not in out.columns:
        out["prompt"] = ""
    check_text(out, "chosen", where)
    check_text(out, "rejected", where)
    check_text(out, "prompt", where, allow_empty=True)
    check_choice(out, "chosen_choice", ("A", "B"), where)
    for attribute in ATTRIBUTES:
        check_choice(out, attribute, ATTRIBUTE_VALUES, where)
    return out[["prompt", "chosen", "rejected", "chosen_choice", *ATTRIBUTES]].reset_index(
        drop=True
    )


def load_anthropic_attributes(
    path: str | os.PathLike[str] | None = None,
    hub_id: str | None = None,
    split: str = "train",
) -> pd.DataFrame:
    return validate_anthropic_attributes(
        *read_local_or_hub(path, hub_id, split, "Anthropic attributes")
    )
