"""Building blocks of the typed schema: a field with one line of help, and the range check.

Every schema class is a frozen dataclass whose fields carry ``metadata["help"]``; a failed range
check raises :class:`~responserank.errors.ConfigError` naming the key, the expected range and the
value (``config key 'training.learning_rate': expected a finite number > 0, got 0.0``).
"""

from __future__ import annotations

import math
from dataclasses import field
from typing import Any

from responserank.errors import ConfigError


def help_field(default: Any, text: str) -> Any:
    """A dataclass field with an immutable default and one line of help (``metadata["help"]``)."""
    return field(default=default, metadata={"help": text})


def require(condition: bool, key: str, expected: str, got: Any) -> None:
    """Raise ConfigError ``config key '<key>': expected <expected>, got <got>`` unless ``condition``."""
    if not condition:
        raise ConfigError(f"config key '{key}': expected {expected}, got {got!r}")


def finite(value: float | None) -> bool:
    """True for a finite number (not None, NaN or infinite)."""
    return value is not None and math.isfinite(value)
