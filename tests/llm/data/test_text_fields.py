"""One rule for the text fields of every source: a whitespace-only prompt, chosen or rejected is
refused like an empty one, naming the file, the row and the field (llm/data/text_fields.py)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rapl_fixtures import write_lie_folder

from responserank.atomic_io import write_text_atomic
from responserank.errors import DataValidationError, TableError
from responserank.llm.data.batching.pair_dataset import validate_table
from responserank.llm.data.sources import lie
from responserank.llm.data.sources.hf_preference import HfPreferenceSource
from responserank.llm.data.sources.multipref import MultiPrefSource
from responserank.llm.data.sources.preference_table import PreferenceTableSource
from responserank.llm.data.text_fields import (
    OPTIONAL_TEXT,
    REQUIRED_TEXT,
    is_acceptable_text,
)
from responserank.testing.fixtures import multipref_fixture_rows

BLANKS = ["", " ", "\t", "\n\n", " \u00a0\u2003 "]


@given(st.text(alphabet=st.sampled_from(" \t\r\n\u00a0\u2003\u3000"), max_size=6))
def test_whitespace_is_never_text(blank):
    assert not is_acceptable_text(blank)
    assert is_acceptable_text(blank, allow_empty=True) == (blank == "")


@given(st.text(min_size=1).filter(str.strip))
def test_any_visible_character_is_text(text):
    assert is_acceptable_text(text) and is_acceptable_text(text, allow_empty=True)


def test_non_strings_are_never_text():
    for value in (None, 3, 1.5, ["a"], float("nan")):
        assert not is_acceptable_text(value) and not is_acceptable_text(value, allow_empty=True)


def _table_rows(n=6):
    return [{"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(n)]


@pytest.mark.parametrize("blank", BLANKS)
@pytest.mark.parametrize("field", ["chosen", "rejected"])
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_preference_table_refuses_blank_responses(tmp_path, tokenizer, blank, field, suffix):
    rows = _table_rows()
    rows[2][field] = blank
    path = tmp_path / f"prefs{suffix}"
    if suffix == ".csv":
        pd.DataFrame(rows).to_csv(path, index=False)
    else:
        write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataValidationError) as raised:
        PreferenceTableSource(path=str(path)).load(tokenizer, 512, 0)
    message = str(raised.value)
    assert message.startswith(f"{path}: data row 2 (0-based), field '{field}': expected ")
    assert REQUIRED_TEXT in message


def test_preference_table_prompt_may_be_empty_but_not_blank(tmp_path, tokenizer):
    rows = _table_rows()
    rows[1]["prompt"] = ""
    path = tmp_path / "prefs.jsonl"
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    assert len(PreferenceTableSource(path=str(path)).load(tokenizer, 512, 0).train) == 6
    rows[4]["prompt"] = "  \n"
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataValidationError, match=r"data row 4 \(0-based\), field 'prompt'") as err:
        PreferenceTableSource(path=str(path)).load(tokenizer, 512, 0)
    assert OPTIONAL_TEXT in str(err.value)


@pytest.mark.parametrize("field", ["prompt", "chosen", "rejected"])
def test_hf_preference_refuses_blank_standard_fields(tmp_path, tokenizer, field):
    rows = _table_rows()
    rows[3][field] = " \t "
    path = tmp_path / "prefs.jsonl"
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataValidationError, match=rf"row 3 .*field '{field}': expected") as err:
        HfPreferenceSource(path=str(path)).load(tokenizer, 512, 0)
    assert str(path) in str(err.value)


def test_hf_preference_refuses_a_blank_conversational_response(tmp_path, tokenizer):
    tokenizer = tokenizer.__class__.from_pretrained(tokenizer.name_or_path)
    tokenizer.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    )
    rows = [
        {
            "prompt": [{"role": "user", "content": f"question {i}"}],
            "chosen": [{"role": "assistant", "content": f"answer {i}"}],
            "rejected": [{"role": "assistant", "content": "   " if i == 2 else f"other {i}"}],
        }
        for i in range(4)
    ]
    path = tmp_path / "prefs.jsonl"
    write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DataValidationError, match=r"row 2 .*field 'rejected': expected a response"):
        HfPreferenceSource(path=str(path)).load(tokenizer, 512, 0)


@pytest.mark.parametrize("field", ["prompt", "chosen", "rejected"])
def test_lie_refuses_blank_fields(tmp_path, field):
    write_lie_folder(tmp_path, folds=1, rows_per_fold=4)
    file = tmp_path / "folds" / "LIE_val_0.csv"
    frame = pd.read_csv(file)
    frame[field] = frame[field].astype(object)
    frame.loc[1, field] = "   "
    frame.to_csv(file, index=False)
    with pytest.raises(DataValidationError) as raised:
        lie.load_lie_split(tmp_path, 0, "val")
    assert str(raised.value).startswith(f"{file}: data row 1 (0-based), field '{field}'")
    assert REQUIRED_TEXT in str(raised.value)


@pytest.mark.parametrize("field", ["completion_a", "text"])
def test_multipref_refuses_blank_fields(tmp_path, tokenizer, field):
    default_rows, binarized_rows = multipref_fixture_rows(8, seed=5)
    default_rows[3][field] = "\n \n"
    for folder, rows in (("data", default_rows), ("human_overall_binarized", binarized_rows)):
        write_text_atomic(
            tmp_path / folder / "train.jsonl", "".join(json.dumps(r) + "\n" for r in rows)
        )
    with pytest.raises(DataValidationError, match=rf"data row 3 .*field '{field}'") as raised:
        MultiPrefSource(path=str(tmp_path), test_size=2).load(tokenizer, 512, 0)
    assert str(tmp_path / "data" / "train.jsonl") in str(raised.value)


@pytest.mark.parametrize(("field", "value"), [("chosen", " "), ("rejected", "\t"), ("prompt", " ")])
def test_prepared_tables_are_checked_by_the_same_rule(field, value):
    """The last gate before tokenisation, whatever the source, applies the rule again."""
    table = pd.DataFrame(
        {
            "comparison_id": ["a", "b"],
            "prompt": ["", "q"],
            "chosen": ["x", "y"],
            "rejected": ["z", "w"],
            "rank": [1.0, 2.0],
            "partition": [0, 1],
            "target": [1.0, 1.0],
            "reliability": [float("nan")] * 2,
        }
    )
    validate_table(table, "dataset d")
    table.loc[1, field] = value
    with pytest.raises(TableError, match=rf"dataset d: field '{field}' must be .*row 1"):
        validate_table(table, "dataset d")
