"""Reading JSON-lines files whose every line must be one JSON object (records, metric rows)."""

from __future__ import annotations

import os
from typing import Any

from responserank.errors import InputFileError
from responserank.reading import read_json_lines


def read_json_objects(
    path: str | os.PathLike[str], error: type[Exception] = InputFileError
) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file in order, blank lines skipped, an empty file allowed.

    Parsing is :func:`responserank.reading.read_json_lines`; a bad line raises ``error`` (default
    InputFileError) naming the file and the line number, so callers choose the exception type
    their users catch.
    """
    try:
        return read_json_lines(path, "one JSON object per line", allow_empty=True)
    except InputFileError as exc:
        if error is InputFileError:
            raise
        raise error(str(exc)) from exc
