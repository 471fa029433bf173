"""MultiPref's hub schema: validation of raw rows and conversion to comparison/annotation tables.

Config ``default`` has one row per comparison (prompt ``text``, ``completion_a``/``completion_b``,
metadata) with the annotations nested in ``normal_worker_annotations`` and
``expert_worker_annotations``. Config ``human_overall_binarized`` has one row per comparison with the
aggregated ``chosen`` conversation and the ``tie_is_common`` flag.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from responserank.errors import DataValidationError, invalid_value, missing_columns
from responserank.llm.data.signals.labels import OVERALL_PREFERENCES
from responserank.llm.data.sources.raw_rows import RawRows
from responserank.llm.data.text_fields import expected_text, is_acceptable_text

TEXT_FIELDS = ("comparison_id", "text", "completion_a", "completion_b")
# The prompt and the two responses, under the text rule (``llm.data.text_fields``).
RESPONSE_FIELDS = {"text": True, "completion_a": False, "completion_b": False}
METADATA_FIELDS = ("prompt_id", "model_a", "model_b", "source", "category", "subject_study")
ANNOTATION_GROUPS = {"normal_worker_annotations": "normal", "expert_worker_annotations": "expert"}
DEFAULT_FIELDS = TEXT_FIELDS + METADATA_FIELDS + tuple(ANNOTATION_GROUPS)
BINARIZED_FIELDS = ("comparison_id", "chosen", "tie_is_common")


@dataclass(frozen=True)
class MultiPrefTables:
    """``comparisons``: one row per comparison; ``annotations``: one row per annotation, with
    ``comparison`` = positional index into ``comparisons``, in dataset order."""

    comparisons: pd.DataFrame
    annotations: pd.DataFrame


def _check_columns(raw: RawRows, required: tuple[str, ...]) -> None:
    for index, row in enumerate(raw.rows):
        missing = [name for name in required if name not in row]
        if missing:
            origin, position = raw.where(index)
            raise missing_columns(f"{origin} (data row {position})", missing, list(row))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _annotation_rows(raw: RawRows, index: int, group: str) -> list[dict[str, Any]]:
    origin, position = raw.where(index)
    annotations = raw.rows[index][group]
    if annotations is None:
        annotations = []
    if not isinstance(annotations, list | tuple | np.ndarray):
        raise invalid_value(origin, position, group, "a list of annotation objects", annotations)
    rows = []
    for k, annotation in enumerate(annotations):
        where = f"{group}[{k}]"
        if not isinstance(annotation, dict):
            raise invalid_value(origin, position, where, "an annotation object", annotation)
        label = annotation.get("overall_pref")
        if label not in OVERALL_PREFERENCES:
            raise invalid_value(
                origin,
                position,
                f"{where}.overall_pref",
                f"one of {list(OVERALL_PREFERENCES)}",
                label,
            )
        seconds = annotation.get("time_spent")
        if not _is_number(seconds) or not math.isfinite(seconds) or seconds < 0:
            raise invalid_value(
                origin, position, f"{where}.time_spent", "a non-negative number of seconds", seconds
            )
        evaluator = annotation.get("evaluator")
        if not isinstance(evaluator, str) or not evaluator:
            raise invalid_value(
                origin, position, f"{where}.evaluator", "a non-empty annotator id", evaluator
            )
        rows.append(
            {
                "comparison": index,
                "annotator": evaluator,
                "annotator_type": ANNOTATION_GROUPS[group],
                "label": label,
                "response_time": float(seconds),
            }
        )
    return rows


def parse_default(raw: RawRows) -> MultiPrefTables:
    """Validate config ``default`` rows and split them into comparisons and annotations."""
    _check_columns(raw, DEFAULT_FIELDS)
    seen: dict[str, int] = {}
    annotation_rows: list[dict[str, Any]] = []
    for index, row in enumerate(raw.rows):
        origin, position = raw.where(index)
        for name in TEXT_FIELDS:
            if not isinstance(row[name], str):
                raise invalid_value(origin, position, name, "a string", row[name])
        for name, allow_empty in RESPONSE_FIELDS.items():
            if not is_acceptable_text(row[name], allow_empty):
                raise invalid_value(origin, position, name, expected_text(allow_empty), row[name])
        comparison_id = row["comparison_id"]
        if comparison_id in seen:
            raise invalid_value(
                origin,
                position,
                "comparison_id",
                f"a unique id (also in data row {raw.where(seen[comparison_id])[1]})",
                comparison_id,
            )
        seen[comparison_id] = index
        found = [a for group in ANNOTATION_GROUPS for a in _annotation_rows(raw, index, group)]
        if not found:
            raise invalid_value(
                origin, position, "normal_worker_annotations", "at least one annotation", []
            )
        annotation_rows.extend(found)
    comparisons = pd.DataFrame(
        {
            name: [row[name] if row[name] is not None else "" for row in raw.rows]
            for name in TEXT_FIELDS + METADATA_FIELDS
        }
    )
    annotations = pd.DataFrame(
        annotation_rows,
        columns=["comparison", "annotator", "annotator_type", "label", "response_time"],
    )
    return MultiPrefTables(comparisons, annotations)


def _is_conversation(value: Any) -> bool:
    if not isinstance(value, list | tuple | np.ndarray):
        return False
    return all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in value)


def parse_binarized(raw: RawRows) -> pd.DataFrame:
    """Validate config ``human_overall_binarized``; one row per comparison_id (the index), with
    ``chosen`` (list of messages) and ``tie_is_common``."""
    _check_columns(raw, BINARIZED_FIELDS)
    seen: set[str] = set()
    for index, row in enumerate(raw.rows):
        origin, position = raw.where(index)
        if not isinstance(row["comparison_id"], str) or row["comparison_id"] in seen:
            raise invalid_value(
                origin, position, "comparison_id", "a unique id", row["comparison_id"]
            )
        seen.add(row["comparison_id"])
        if not _is_conversation(row["chosen"]):
            raise invalid_value(
                origin, position, "chosen", "a list of {role, content} messages", row["chosen"]
            )
        if not isinstance(row["tie_is_common"], bool | np.bool_):
            raise invalid_value(
                origin, position, "tie_is_common", "true or false", row["tie_is_common"]
            )
    return pd.DataFrame(
        {
            "chosen": [[dict(m) for m in row["chosen"]] for row in raw.rows],
            "tie_is_common": [bool(row["tie_is_common"]) for row in raw.rows],
            "origin": [
                f"{raw.where(i)[0]} (data row {raw.where(i)[1]})" for i in range(len(raw.rows))
            ],
        },
        index=pd.Index([row["comparison_id"] for row in raw.rows], name="comparison_id"),
    )


def conversation(prompt: str, response: str) -> list[dict[str, str]]:
    """The two-turn conversation MultiPref's binarized configs store for one response."""
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]


def binarized_chosen_is_a(comparisons: pd.DataFrame, binarized: pd.DataFrame) -> np.ndarray:
    """For each comparison, whether the binarized ``chosen`` equals conversation A (else B).

    Raises when a comparison is missing from the binarized config or its chosen conversation is
    neither A nor B.
    """
    result = np.empty(len(comparisons), dtype=bool)
    for i, (comparison_id, prompt, completion_a, completion_b) in enumerate(
        comparisons[["comparison_id", "text", "completion_a", "completion_b"]].itertuples(
            index=False
        )
    ):
        if comparison_id not in binarized.index:
            raise DataValidationError(
                f"comparison_id {comparison_id!r} from config 'default' is missing in config "
                "'human_overall_binarized', which provides the test labels"
            )
        chosen = binarized.at[comparison_id, "chosen"]
        if chosen == conversation(prompt, completion_a):
            result[i] = True
        elif chosen == conversation(prompt, completion_b):
            result[i] = False
        else:
            raise DataValidationError(
                f"{binarized.at[comparison_id, 'origin']}, field 'chosen': expected the "
                f"conversation of completion_a or completion_b of comparison {comparison_id!r}, "
                "got a conversation matching neither"
            )
    return result
