"""Reading JSON-lines files whose every line must be one JSON object (records, metric rows)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read_json_objects(
    path: str | os.PathLike[str], error: type[Exception] = ValueError
) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file in order, blank lines skipped.

    A bad line raises ``error`` naming the file and the line number, so callers choose the
    exception type their users catch (for example the data-validation error of the loaders).
    """
    file = Path(path)
    objects = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{file}: line {number} is not valid JSON ({exc})") from exc
            if not isinstance(value, dict):
                raise error(
                    f"{file}: line {number}: expected a JSON object, got {type(value).__name__}"
                )
            objects.append(value)
    return objects
