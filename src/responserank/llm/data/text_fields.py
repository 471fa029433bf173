"""The one rule for the text fields of a comparison, applied by every data source and again to the
prepared tables before tokenisation (``batching.pair_dataset.validate_table``).

- A response (``chosen``, ``rejected``; also an annotator id) must be a string holding text: not
  empty and not only whitespace (spaces, tabs, newlines). A response of only whitespace carries
  as little as an empty one: the reward model would compare the prompt with itself.
- A ``prompt`` may be ``""`` where the source allows it (chosen and rejected are then full
  transcripts, ``responserank.llm.data.text``); a prompt of only whitespace is refused wherever it
  appears: it is neither "no prompt" nor a prompt.

What counts as whitespace is Python's ``str.isspace`` (Unicode whitespace included).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

REQUIRED_TEXT = "a non-empty string (not only whitespace)"
OPTIONAL_TEXT = "a string: text, or '' for none (not only whitespace)"


def expected_text(allow_empty: bool) -> str:
    """How error messages describe an acceptable value of a field of this kind."""
    return OPTIONAL_TEXT if allow_empty else REQUIRED_TEXT


def is_acceptable_text(value: Any, allow_empty: bool = False) -> bool:
    """True when ``value`` is a string with text, or ``""`` when ``allow_empty``."""
    if not isinstance(value, str):
        return False
    return bool(value.strip()) or (allow_empty and value == "")


def unacceptable_text(values: Iterable[Any], allow_empty: bool = False) -> np.ndarray:
    """Boolean mask (n,) of the values :func:`is_acceptable_text` refuses."""
    return np.array([not is_acceptable_text(v, allow_empty) for v in values], dtype=bool)
