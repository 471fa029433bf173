"""The generic preference-table source: formats, column mapping, validation, eval split."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from responserank.atomic_io import write_text_atomic
from responserank.errors import DataValidationError
from responserank.llm.data.sources.preference_table import PreferenceTableSource

ROWS = [
    {
        "q": f"question {i}",
        "good": f"a fine answer {i}",
        "bad": f"meh {i}",
        "rt": 3.0 + i,
        "who": f"w{i % 2}",
        "grp": "x" if i < 3 else "y",
        "strength": "clearly" if i % 2 else "slightly",
    }
    for i in range(6)
]
COLUMNS = {
    "prompt_column": "q",
    "chosen_column": "good",
    "rejected_column": "bad",
    "annotator_column": "who",
    "stratum_column": "grp",
    "strength_column": "rt",
}


def _write(path, rows=ROWS):
    frame = pd.DataFrame(rows)
    if path.suffix == ".csv":
        write_text_atomic(path, frame.to_csv(index=False))
    elif path.suffix == ".jsonl":
        write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))
    else:
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_formats_map_to_canonical_columns(tmp_path, tokenizer, suffix):
    path = _write(tmp_path / f"prefs{suffix}")
    tables = PreferenceTableSource(path=str(path), **COLUMNS).load(tokenizer, 512, 0)
    train = tables.train
    assert train["comparison_id"].tolist() == [f"prefs-{i}" for i in range(6)]
    assert train["prompt"].tolist() == [r["q"] for r in ROWS]
    assert train["chosen"].tolist() == [r["good"] for r in ROWS]
    assert train["rejected"].tolist() == [r["bad"] for r in ROWS]
    assert train["annotator"].tolist() == [r["who"] for r in ROWS]
    assert train["stratum_key"].tolist() == [r["grp"] for r in ROWS]
    assert train["response_time"].tolist() == [r["rt"] for r in ROWS]
    assert tables.eval.empty


def test_stated_strength_signal_and_id_column(tmp_path, tokenizer):
    path = _write(tmp_path / "prefs.csv")
    source = PreferenceTableSource(
        path=str(path),
        prompt_column="q",
        chosen_column="good",
        rejected_column="bad",
        id_column="q",
        strength_column="strength",
        strength_kind="stated_strength",
    )
    train = source.load(tokenizer, 512, 0).train
    assert train["stated_strength"].tolist() == [r["strength"] for r in ROWS]
    assert train["comparison_id"].tolist() == [r["q"] for r in ROWS]


def test_seeded_test_split_drops_the_signal_from_eval(tmp_path, tokenizer):
    path = _write(tmp_path / "prefs.jsonl")
    source = PreferenceTableSource(path=str(path), test_size=2, **COLUMNS)
    first = source.load(tokenizer, 512, 7)
    assert len(first.train) == 4 and len(first.eval) == 2
    assert "response_time" not in first.eval.columns
    again = source.load(tokenizer, 512, 7)
    pd.testing.assert_frame_equal(first.eval, again.eval)


def test_eval_file(tmp_path, tokenizer):
    path = _write(tmp_path / "train.csv")
    eval_path = _write(tmp_path / "eval.csv", ROWS[:2])
    tables = PreferenceTableSource(path=str(path), eval_path=str(eval_path), **COLUMNS).load(
        tokenizer, 512, 0
    )
    assert len(tables.train) == 6
    assert tables.eval["comparison_id"].tolist() == ["eval-0", "eval-1"]


def test_length_filter(tmp_path, tokenizer):
    rows = [dict(ROWS[0]), dict(ROWS[1])]
    rows[1]["good"] = "word " * 300
    path = _write(tmp_path / "prefs.csv", rows)
    tables = PreferenceTableSource(path=str(path), **COLUMNS).load(tokenizer, 64, 0)
    assert tables.dropped == {"duplicate_rows": 0, "identical_pairs": 0, "length_filter": 1}
    assert tables.train["comparison_id"].tolist() == ["prefs-0"]


def test_every_row_too_long_names_the_step_and_counts(tmp_path, tokenizer):
    rows = [dict(r, good="word " * 300) for r in ROWS[:3]]
    path = _write(tmp_path / "prefs.csv", rows)
    source = PreferenceTableSource(path=str(path), **COLUMNS)
    with pytest.raises(
        DataValidationError,
        match=rf"{path}: step 'length_filter \(max_length=64\)' left no comparisons \(3 -> 0\)",
    ):
        source.load(tokenizer, 64, 0)


def test_identical_pairs_are_dropped_and_counted(tmp_path, tokenizer, caplog):
    rows = [dict(r) for r in ROWS]
    rows[1]["bad"] = rows[1]["good"]
    rows[4]["bad"] = rows[4]["good"]
    path = _write(tmp_path / "prefs.csv", rows)
    tables = PreferenceTableSource(path=str(path), **COLUMNS).load(tokenizer, 512, 0)
    assert tables.dropped["identical_pairs"] == 2
    assert tables.train["comparison_id"].tolist() == ["prefs-0", "prefs-2", "prefs-3", "prefs-5"]
    assert "dropped 2 of 6 comparison(s) whose chosen and rejected are identical" in caplog.text


def test_all_identical_pairs_are_refused(tmp_path, tokenizer):
    rows = [dict(r, bad=r["good"]) for r in ROWS]
    path = _write(tmp_path / "prefs.jsonl", rows)
    with pytest.raises(
        DataValidationError, match=rf"{path}: step 'identical_pairs' left no comparisons \(6 -> 0\)"
    ):
        PreferenceTableSource(path=str(path), **COLUMNS).load(tokenizer, 512, 0)


@pytest.mark.parametrize(("policy", "train_rows"), [("keep", 9), ("drop", 6)])
def test_exact_duplicate_rows_are_counted_and_kept_or_dropped(
    tmp_path, tokenizer, policy, train_rows
):
    # rows 0, 2 and 5 appear twice; a row differing only in its response time is no duplicate
    rows = [*ROWS, ROWS[0], ROWS[2], ROWS[5], dict(ROWS[1], rt=99.0)]
    path = _write(tmp_path / "prefs.csv", rows)
    source = PreferenceTableSource(path=str(path), duplicates=policy, **COLUMNS)
    tables = source.load(tokenizer, 512, 0)
    assert tables.counts["duplicate_rows"] == 3
    assert tables.dropped["duplicate_rows"] == (3 if policy == "drop" else 0)
    assert len(tables.train) == train_rows + 1


def test_duplicates_with_an_id_column_are_not_counted(tmp_path, tokenizer):
    path = _write(tmp_path / "prefs.csv", [*ROWS, ROWS[0]])
    source = PreferenceTableSource(path=str(path), test_size=0, **COLUMNS, id_column="rt")
    tables = source.load(tokenizer, 512, 0)
    assert "duplicate_rows" not in tables.counts


def test_a_test_split_taking_every_row_names_the_step(tmp_path, tokenizer):
    path = _write(tmp_path / "prefs.csv", ROWS[:1])
    source = PreferenceTableSource(path=str(path), test_size=1, **COLUMNS)
    with pytest.raises(
        DataValidationError,
        match=rf"{path}: step 'test_split \(test_size=1\)' left no comparisons \(1 -> 0\)",
    ):
        source.load(tokenizer, 512, 0)


def test_an_unknown_duplicates_policy_is_refused(tmp_path):
    with pytest.raises(
        ValueError, match=r"duplicates must be one of \['keep', 'drop'\], got 'skip'"
    ):
        PreferenceTableSource(path=str(tmp_path / "p.csv"), duplicates="skip")


@pytest.mark.parametrize("bad", [-1.0, "", "soon"])
def test_bad_response_time_names_file_row_and_column(tmp_path, tokenizer, bad):
    rows = [dict(r) for r in ROWS]
    rows[4]["rt"] = bad
    path = _write(tmp_path / "prefs.csv", rows)
    with pytest.raises(
        DataValidationError,
        match=rf"{path}: data row 4 \(0-based\), field 'rt': expected a non-negative response time",
    ):
        PreferenceTableSource(path=str(path), **COLUMNS).load(tokenizer, 512, 0)


def test_nan_response_time_in_parquet(tmp_path, tokenizer):
    rows = [dict(r) for r in ROWS]
    rows[2]["rt"] = float("nan")
    path = _write(tmp_path / "prefs.parquet", rows)
    with pytest.raises(DataValidationError, match=r"data row 2 \(0-based\), field 'rt'"):
        PreferenceTableSource(path=str(path), **COLUMNS).load(tokenizer, 512, 0)


def test_unknown_strength_label(tmp_path, tokenizer):
    rows = [dict(r) for r in ROWS]
    rows[1]["strength"] = "very"
    path = _write(tmp_path / "prefs.jsonl", rows)
    source = PreferenceTableSource(
        path=str(path),
        prompt_column="q",
        chosen_column="good",
        rejected_column="bad",
        strength_column="strength",
        strength_kind="stated_strength",
    )
    with pytest.raises(
        DataValidationError,
        match=r"data row 1 \(0-based\), field 'strength': expected one of \['clearly', 'slightly'\], got 'very'",
    ):
        source.load(tokenizer, 512, 0)


def test_missing_columns(tmp_path, tokenizer):
    path = _write(tmp_path / "prefs.csv")
    with pytest.raises(
        DataValidationError, match=rf"{path}: missing required column\(s\) \['prompt'\]"
    ):
        PreferenceTableSource(path=str(path), chosen_column="good", rejected_column="bad").load(
            tokenizer, 512, 0
        )


def test_non_text_response(tmp_path, tokenizer):
    rows = [dict(r) for r in ROWS]
    rows[3]["good"] = None
    path = _write(tmp_path / "prefs.jsonl", rows)
    with pytest.raises(
        DataValidationError,
        match=r"data row 3 \(0-based\), field 'good': expected a non-empty string",
    ):
        PreferenceTableSource(path=str(path), **COLUMNS).load(tokenizer, 512, 0)


def test_unknown_signal_kind_lists_choices():
    with pytest.raises(ValueError, match=r"\['response_time', 'stated_strength'\]"):
        PreferenceTableSource(path="x.csv", signal_kind="rt")
