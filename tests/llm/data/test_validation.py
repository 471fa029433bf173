"""Bad MultiPref input fails on load with file, row, field and what was expected."""

from __future__ import annotations

import json
import math

import pytest

from responserank.atomic_io import write_text_atomic
from responserank.errors import DataValidationError
from responserank.llm.data.sources.multipref import MultiPrefSource
from responserank.testing.fixtures import multipref_fixture_rows


def _write(root, default_rows, binarized_rows):
    for folder, rows in (("data", default_rows), ("human_overall_binarized", binarized_rows)):
        write_text_atomic(
            root / folder / "train.jsonl", "".join(json.dumps(r) + "\n" for r in rows)
        )
    return root / "data" / "train.jsonl"


def _load(root, tokenizer):
    return MultiPrefSource(path=str(root), test_size=4).load(tokenizer, 512, 0)


@pytest.fixture
def rows():
    return multipref_fixture_rows(8, seed=5)


def test_unknown_preference_label(tmp_path, tokenizer, rows):
    default_rows, binarized_rows = rows
    default_rows[3]["normal_worker_annotations"][1]["overall_pref"] = "A-is-better"
    path = _write(tmp_path, default_rows, binarized_rows)
    with pytest.raises(DataValidationError) as err:
        _load(tmp_path, tokenizer)
    message = str(err.value)
    assert str(path) in message
    assert "data row 3" in message
    assert "'normal_worker_annotations[1].overall_pref'" in message
    assert "'A-is-clearly-better'" in message and "'A-is-better'" in message


@pytest.mark.parametrize("bad_time", [math.nan, -4, None, "12"])
def test_bad_response_time(tmp_path, tokenizer, rows, bad_time):
    default_rows, binarized_rows = rows
    default_rows[5]["expert_worker_annotations"][0]["time_spent"] = bad_time
    path = _write(tmp_path, default_rows, binarized_rows)
    with pytest.raises(
        DataValidationError,
        match=rf"{path}: data row 5 .*'expert_worker_annotations\[0\]\.time_spent': expected a non-negative number of seconds",
    ):
        _load(tmp_path, tokenizer)


def test_missing_column(tmp_path, tokenizer, rows):
    default_rows, binarized_rows = rows
    del default_rows[2]["completion_b"]
    path = _write(tmp_path, default_rows, binarized_rows)
    with pytest.raises(
        DataValidationError,
        match=rf"{path} \(data row 2\): missing required column\(s\) \['completion_b'\]",
    ):
        _load(tmp_path, tokenizer)


def test_missing_evaluator(tmp_path, tokenizer, rows):
    default_rows, binarized_rows = rows
    default_rows[0]["normal_worker_annotations"][0]["evaluator"] = ""
    _write(tmp_path, default_rows, binarized_rows)
    with pytest.raises(
        DataValidationError, match=r"data row 0 .*evaluator': expected a non-empty annotator id"
    ):
        _load(tmp_path, tokenizer)


def test_duplicate_comparison_id(tmp_path, tokenizer, rows):
    default_rows, binarized_rows = rows
    default_rows[4]["comparison_id"] = default_rows[1]["comparison_id"]
    _write(tmp_path, default_rows, binarized_rows)
    with pytest.raises(
        DataValidationError,
        match=r"data row 4 .*'comparison_id': expected a unique id \(also in data row 1\)",
    ):
        _load(tmp_path, tokenizer)


def test_binarized_chosen_matching_neither_side(tmp_path, tokenizer, rows):
    default_rows, binarized_rows = rows
    for row in binarized_rows:
        row["chosen"][1]["content"] = "something else"
    _write(tmp_path, default_rows, binarized_rows)
    with pytest.raises(
        DataValidationError,
        match=r"human_overall_binarized/train.jsonl \(data row \d\), field 'chosen': expected the conversation of completion_a or completion_b",
    ):
        _load(tmp_path, tokenizer)


def test_comparison_missing_from_binarized_config(tmp_path, tokenizer, rows):
    default_rows, binarized_rows = rows
    _write(tmp_path, default_rows, binarized_rows[1:])
    with pytest.raises(DataValidationError, match="missing in config 'human_overall_binarized'"):
        _load(tmp_path, tokenizer)


def test_broken_json_line(tmp_path, tokenizer, rows):
    default_rows, binarized_rows = rows
    path = _write(tmp_path, default_rows, binarized_rows)
    write_text_atomic(path, path.read_text() + "{not json\n")
    with pytest.raises(DataValidationError, match=rf"{path}: line 9 is not valid JSON"):
        _load(tmp_path, tokenizer)


def test_missing_local_folder(tmp_path, tokenizer):
    with pytest.raises(
        DataValidationError, match=r"no dataset folder found; looked for: .*data, .*default"
    ):
        _load(tmp_path, tokenizer)
