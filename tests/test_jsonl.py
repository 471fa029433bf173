"""JSON-lines reading: objects round-trip, blank lines are skipped, bad lines are named."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from responserank.jsonl import read_json_objects

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))
objects = st.dictionaries(st.text(max_size=8), scalars, max_size=4)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(objects, max_size=6), st.integers(0, 2))
def test_objects_round_trip_around_blank_lines(tmp_path, rows, blanks):
    path = tmp_path / "rows.jsonl"
    path.write_text(("\n" * blanks).join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert read_json_objects(path) == rows


class CustomError(ValueError):
    pass


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{broken", "line 2 is not valid JSON"),
        ("[1, 2]", "line 2: expected a JSON object, got list"),
    ],
)
def test_bad_line_names_file_and_line_with_the_callers_error(tmp_path, line, message):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(CustomError, match=rf"{path}: {message}"):
        read_json_objects(path, CustomError)
