"""MultiPref source on the synthetic hub-schema fixture: round trip, split, aggregation, lengths."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from responserank.atomic_io import write_text_atomic
from responserank.errors import DataValidationError
from responserank.llm.data.signals.labels import SIDE, TIE
from responserank.llm.data.sources.multipref import MultiPrefSource
from responserank.llm.data.text import encode_conversations
from responserank.testing.fixtures import multipref_fixture_rows, write_multipref_fixture

N, SEED = 60, 3  # what the multipref_dir fixture holds


def _load(path, tokenizer, seed=0, max_length=512, test_size=10, **options):
    return MultiPrefSource(path=str(path), test_size=test_size, **options).load(
        tokenizer, max_length, seed
    )


def _by_id():
    default_rows, binarized_rows = multipref_fixture_rows(N, SEED)
    return (
        {r["comparison_id"]: r for r in default_rows},
        {r["comparison_id"]: r for r in binarized_rows},
    )


def _agreement(labels, s, ties_in_total):
    weight = {"clearly": 1.0, "slightly": s}
    w_a = sum(weight[lab.split("-")[2]] for lab in labels if lab.startswith("A-"))
    w_b = sum(weight[lab.split("-")[2]] for lab in labels if lab.startswith("B-"))
    total = sum(lab != TIE for lab in labels) + (labels.count(TIE) if ties_in_total else 0)
    return abs(w_a - w_b) / total if total else 0.0


def test_train_rows_are_one_annotation_of_their_comparison(multipref_dir, tokenizer):
    tables = _load(multipref_dir, tokenizer)
    raw, _ = _by_id()
    assert tables.counts == {
        "comparisons_loaded": N,
        "annotations_loaded": 4 * N,
        "test_comparisons": 10,
        "train_comparisons": N - 10,
    }
    assert len(tables.train) + tables.dropped["ties"] == N - 10
    for row in tables.train.itertuples():
        item = raw[row.comparison_id]
        annotations = item["normal_worker_annotations"] + item["expert_worker_annotations"]
        matches = [
            a
            for a in annotations
            if a["evaluator"] == row.annotator
            and a["overall_pref"] == row.overall_pref
            and a["time_spent"] == row.response_time
        ]
        assert matches, row.comparison_id
        a_wins = SIDE[row.overall_pref] > 0
        assert row.chosen == item["completion_a" if a_wins else "completion_b"]
        assert row.rejected == item["completion_b" if a_wins else "completion_a"]
        assert row.prompt == item["text"]
        assert row.stated_strength == row.overall_pref.split("-")[2]
        labels = [a["overall_pref"] for a in annotations]
        assert row.agreement_score == pytest.approx(_agreement(labels, 0.5, False))
        sign = 1 if a_wins else -1
        assert row.agreement_directional == pytest.approx(
            sign
            * (
                row.clearly_a_count
                + 0.5 * row.slightly_a_count
                - row.clearly_b_count
                - 0.5 * row.slightly_b_count
            )
            / (4 - row.tie_count)
        )
        assert row.consensus == pytest.approx(sign * row.mean_preference)
    assert (tables.train["overall_pref"] != TIE).all()


def test_agreement_variants_follow_the_dataset_options(multipref_dir, tokenizer):
    tables = _load(
        multipref_dir, tokenizer, slight_preference_value=0.25, ties_in_agreement_total=True
    )
    raw, _ = _by_id()
    for row in tables.train.itertuples():
        item = raw[row.comparison_id]
        labels = [a["overall_pref"] for a in item["normal_worker_annotations"]]
        labels += [a["overall_pref"] for a in item["expert_worker_annotations"]]
        assert row.agreement_score == pytest.approx(_agreement(labels, 0.25, True))


def test_test_rows_carry_the_binarized_labels(multipref_dir, tokenizer):
    tables = _load(multipref_dir, tokenizer, keep_test_ties=True)
    _, binarized = _by_id()
    assert len(tables.eval) == 10
    assert not set(tables.eval["comparison_id"]) & set(tables.train["comparison_id"])
    for row in tables.eval.itertuples():
        label = binarized[row.comparison_id]
        assert row.chosen == label["chosen"][1]["content"]
        assert row.rejected == label["rejected"][1]["content"]
        assert row.tie_is_common == label["tie_is_common"]


def test_held_out_comparisons_that_mostly_tied_are_dropped_and_counted(multipref_dir, tokenizer):
    kept = _load(multipref_dir, tokenizer, seed=3, test_size=30, keep_test_ties=True)
    dropped = _load(multipref_dir, tokenizer, seed=3, test_size=30)
    _, binarized = _by_id()
    common = {c for c in kept.eval["comparison_id"] if binarized[c]["tie_is_common"]}
    assert 0 < len(common) < len(kept.eval)  # the fixture holds both kinds in the test split
    assert set(dropped.eval["comparison_id"]) == set(kept.eval["comparison_id"]) - common
    assert dropped.dropped["test_common_ties"] == len(common)
    assert kept.dropped["test_common_ties"] == 0
    assert dropped.counts["test_comparisons"] == kept.counts["test_comparisons"] == 30
    pd.testing.assert_frame_equal(dropped.train, kept.train)


def test_jsonl_and_saved_dataset_copies_load_identically(multipref_dir, tokenizer, tmp_path):
    import datasets

    write_multipref_fixture(tmp_path / "jsonl", N, seed=SEED, file_format="jsonl")
    default_rows, binarized_rows = multipref_fixture_rows(N, SEED)
    saved = tmp_path / "saved"
    datasets.Dataset.from_list(default_rows).save_to_disk(str(saved / "default"))
    datasets.DatasetDict({"train": datasets.Dataset.from_list(binarized_rows)}).save_to_disk(
        str(saved / "human_overall_binarized")
    )
    reference = _load(multipref_dir, tokenizer)
    for copy in (tmp_path / "jsonl", saved):
        tables = _load(copy, tokenizer)
        pd.testing.assert_frame_equal(tables.train, reference.train)
        pd.testing.assert_frame_equal(tables.eval, reference.eval)


def test_length_filter_drops_comparisons_with_a_long_conversation(multipref_dir, tokenizer):
    default_rows, _ = multipref_fixture_rows(N, SEED)
    prompts = [r["text"] for r in default_rows]
    len_a = [
        len(x)
        for x in encode_conversations(tokenizer, prompts, [r["completion_a"] for r in default_rows])
    ]
    len_b = [
        len(x)
        for x in encode_conversations(tokenizer, prompts, [r["completion_b"] for r in default_rows])
    ]
    limit = sorted(max(a, b) for a, b in zip(len_a, len_b, strict=True))[N // 2]
    too_long = {
        r["comparison_id"]
        for r, a, b in zip(default_rows, len_a, len_b, strict=True)
        if max(a, b) > limit
    }
    assert 0 < len(too_long) < N
    tables = _load(multipref_dir, tokenizer, max_length=limit)
    assert tables.dropped["length_filter"] == len(too_long)
    kept = set(tables.train["comparison_id"]) | set(tables.eval["comparison_id"])
    assert not kept & too_long
    assert tables.counts["train_comparisons"] + tables.counts["test_comparisons"] == N - len(
        too_long
    )


def test_split_and_aggregation_are_seeded(multipref_dir, tokenizer):
    first = _load(multipref_dir, tokenizer, seed=1)
    again = _load(multipref_dir, tokenizer, seed=1)
    other = _load(multipref_dir, tokenizer, seed=2)
    pd.testing.assert_frame_equal(first.train, again.train)
    pd.testing.assert_frame_equal(first.eval, again.eval)
    assert set(first.eval["comparison_id"]) != set(other.eval["comparison_id"])


def test_split_does_not_depend_on_row_order(multipref_dir, tokenizer, tmp_path):
    default_rows, binarized_rows = multipref_fixture_rows(N, SEED)
    write_text_atomic(
        tmp_path / "data" / "train.jsonl", "".join(json.dumps(r) + "\n" for r in default_rows[::-1])
    )
    write_text_atomic(
        tmp_path / "human_overall_binarized" / "train.jsonl",
        "".join(json.dumps(r) + "\n" for r in binarized_rows),
    )
    reversed_tables = _load(tmp_path, tokenizer)
    reference = _load(multipref_dir, tokenizer)
    assert set(reversed_tables.eval["comparison_id"]) == set(reference.eval["comparison_id"])


def test_zero_test_size_needs_no_binarized_config(tmp_path, tokenizer):
    write_multipref_fixture(tmp_path, 12, seed=0)
    for path in (tmp_path / "human_overall_binarized").iterdir():
        path.unlink()
    tables = _load(tmp_path, tokenizer, test_size=0)
    assert tables.eval.empty
    assert tables.counts["train_comparisons"] == 12


def test_test_size_must_leave_training_data(multipref_dir, tokenizer):
    with pytest.raises(
        DataValidationError,
        match=r"step 'test_split \(test_size=60\)' left no comparisons \(60 -> 0\).*"
        r"dataset\.test_size",
    ):
        _load(multipref_dir, tokenizer, test_size=60)


def _write_default(root, rows):
    write_text_atomic(root / "data" / "train.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    return root


def test_identical_completions_are_dropped_and_counted(tmp_path, tokenizer):
    rows, _ = multipref_fixture_rows(12, seed=0)
    for row in (rows[2], rows[7]):
        row["completion_b"] = row["completion_a"]
    tables = _load(_write_default(tmp_path, rows), tokenizer, test_size=0)
    assert tables.dropped["identical_pairs"] == 2
    assert tables.counts["train_comparisons"] == 10
    same = {rows[2]["comparison_id"], rows[7]["comparison_id"]}
    assert not same & set(tables.train["comparison_id"])


def test_only_ties_name_the_step_and_counts(tmp_path, tokenizer):
    rows, _ = multipref_fixture_rows(12, seed=0)
    for row in rows:
        for annotation in row["normal_worker_annotations"] + row["expert_worker_annotations"]:
            annotation["overall_pref"] = TIE
    with pytest.raises(
        DataValidationError, match=r"step 'ties .*' left no comparisons \(12 -> 0\)"
    ):
        _load(_write_default(tmp_path, rows), tokenizer, test_size=0)


def test_a_length_filter_removing_everything_names_the_step(multipref_dir, tokenizer):
    with pytest.raises(
        DataValidationError,
        match=r"step 'length_filter \(max_length=4\)' left no comparisons \(60 -> 0\)",
    ):
        _load(multipref_dir, tokenizer, max_length=4)


def test_unreachable_hub_points_to_a_local_copy(tokenizer):
    source = MultiPrefSource(hub_id="responserank-tests/does-not-exist", test_size=1)
    with pytest.raises(DataValidationError, match=r"dataset\.path"):
        source.load(tokenizer, 512, 0)


def test_hub_code_path_reads_the_fixture_like_a_local_copy(
    multipref_dir, tokenizer, tmp_path, monkeypatch
):
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_cache")
    local = _load(multipref_dir, tokenizer)
    hub = MultiPrefSource(hub_id=str(multipref_dir), path=None, test_size=10).load(
        tokenizer, 512, 0
    )
    pd.testing.assert_frame_equal(hub.train, local.train)
    pd.testing.assert_frame_equal(hub.eval, local.eval)
    assert hub.dropped == local.dropped
