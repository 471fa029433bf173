"""Errors for bad preference data, worded so the user can find and fix the offending value."""

from __future__ import annotations

from typing import Any

from responserank.errors import DataValidationError

__all__ = [
    "DataValidationError",
    "invalid_value",
    "missing_columns",
    "missing_fields",
    "require_columns",
]


def invalid_value(
    source: str, row: int, field: str, expected: str, got: Any
) -> DataValidationError:
    """An error for one bad cell: ``source`` is a file path or hub id, ``row`` counts from 0."""
    return DataValidationError(
        f"{source}: data row {row} (0-based), field '{field}': expected {expected}, got {got!r}"
    )


def missing_columns(source: str, missing: list[str], present: list[str]) -> DataValidationError:
    """An error for a table that lacks required columns."""
    return DataValidationError(
        f"{source}: missing required column(s) {sorted(missing)}; columns present: {sorted(present)}"
    )


def missing_fields(component: str, missing: list[str], present: list[str]) -> DataValidationError:
    """An error for a pipeline component that needs a column the data source does not provide."""
    return DataValidationError(
        f"{component} needs column(s) {sorted(missing)}, which this data source does not provide; "
        f"available columns: {sorted(present)}"
    )


def require_columns(component: str, frame_columns: Any, needed: list[str]) -> None:
    """Raise :func:`missing_fields` unless every column in ``needed`` is present."""
    present = [str(c) for c in frame_columns]
    missing = [c for c in needed if c not in present]
    if missing:
        raise missing_fields(component, missing, present)
