"""The synthetic MultiPref fixture: deterministic, hub schema, strength information present."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy.stats import spearmanr

from responserank.llm.data.signals.labels import OVERALL_PREFERENCES, SIDE, STRENGTH, TIE
from responserank.testing.fixture_vocabulary import GOOD_PHRASES
from responserank.testing.fixtures import (
    main,
    multipref_fixture_rows,
    write_multipref_fixture,
)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    first = write_multipref_fixture(tmp_path / "a", 20, seed=4)
    again = write_multipref_fixture(tmp_path / "b", 20, seed=4)
    other = write_multipref_fixture(tmp_path / "c", 20, seed=5)
    for config in ("data", "human_overall_binarized"):
        name = f"{config}/train-00000-of-00001.parquet"
        assert (first / name).read_bytes() == (again / name).read_bytes()
        assert (first / name).read_bytes() != (other / name).read_bytes()


def test_hub_schema_types(tmp_path):
    root = write_multipref_fixture(tmp_path, 5, seed=0)
    default = pq.read_schema(root / "data" / "train-00000-of-00001.parquet")
    annotation = default.field("normal_worker_annotations").type.value_type
    assert str(annotation.field("time_spent").type) == "int64"
    assert str(annotation.field("overall_pref").type) == "string"
    assert str(annotation.field("helpful_checked_reasons").type) == "list<element: string>"
    binarized = pq.read_schema(root / "human_overall_binarized" / "train-00000-of-00001.parquet")
    assert str(binarized.field("tie_is_common").type) == "bool"
    assert binarized.field("chosen").type.value_type.names == ["content", "role"]


def test_four_annotations_from_distinct_workers():
    default_rows, binarized_rows = multipref_fixture_rows(30, seed=1)
    assert [r["comparison_id"] for r in default_rows] == [
        r["comparison_id"] for r in binarized_rows
    ]
    normal_pool, expert_pool = set(), set()
    for row in default_rows:
        normal = [a["evaluator"] for a in row["normal_worker_annotations"]]
        expert = [a["evaluator"] for a in row["expert_worker_annotations"]]
        assert len(set(normal)) == len(set(expert)) == 2
        normal_pool.update(normal)
        expert_pool.update(expert)
        for a in row["normal_worker_annotations"] + row["expert_worker_annotations"]:
            assert a["overall_pref"] in OVERALL_PREFERENCES
            assert isinstance(a["time_spent"], int) and a["time_spent"] >= 1
    assert not normal_pool & expert_pool


def test_binarized_label_follows_the_summed_vote():
    default_rows, binarized_rows = multipref_fixture_rows(40, seed=2)
    for row, label in zip(default_rows, binarized_rows, strict=True):
        votes = [a["overall_pref"] for a in row["normal_worker_annotations"]]
        votes += [a["overall_pref"] for a in row["expert_worker_annotations"]]
        score = sum(SIDE[v] * (0.5 if "slightly" in v else 1.0) for v in votes)
        if score != 0:
            winner = "completion_a" if score > 0 else "completion_b"
            assert label["chosen"][1]["content"] == row[winner]
        sides = [SIDE[v] for v in votes]
        assert label["tie_is_common"] == (sides.count(0) >= max(sides.count(1), sides.count(-1)))


def test_signals_carry_strength_information():
    default_rows, _ = multipref_fixture_rows(300, seed=0)
    time_spent, clearly, agreement, good_gap = [], [], [], []
    for row in default_rows:
        annotations = row["normal_worker_annotations"] + row["expert_worker_annotations"]
        sides = [SIDE[a["overall_pref"]] for a in annotations]
        agreement.append(abs(sum(sides)) / len(sides))
        good_a, good_b = (sum(row[f"completion_{x}"].count(p) for p in GOOD_PHRASES) for x in "ab")
        good_gap.append(good_a - good_b)
        for a in annotations:
            if a["overall_pref"] != TIE:
                time_spent.append(
                    a["time_spent"] / len(row["text"] + row["completion_a"] + row["completion_b"])
                )
                clearly.append(STRENGTH[a["overall_pref"]] == "clearly")
    time_spent, clearly = np.array(time_spent), np.array(clearly)
    # Clear preferences are given faster (per character read) than slight ones.
    assert np.median(time_spent[clearly]) < np.median(time_spent[~clearly])
    # The text shows which side is better: the summed vote follows the "good phrase" gap.
    votes = [
        sum(
            SIDE[a["overall_pref"]]
            for a in r["normal_worker_annotations"] + r["expert_worker_annotations"]
        )
        for r in default_rows
    ]
    assert spearmanr(good_gap, votes).statistic > 0.5


def test_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="n_comparisons"):
        write_multipref_fixture(tmp_path, 0)
    with pytest.raises(ValueError, match=r"\['jsonl', 'parquet'\]"):
        write_multipref_fixture(tmp_path, 3, file_format="csv")


def test_command_line_writes_the_same_fixture(tmp_path, capsys):
    main([str(tmp_path / "cli"), "--comparisons", "7", "--seed", "2"])
    assert "wrote 7 comparisons" in capsys.readouterr().out
    direct = write_multipref_fixture(tmp_path / "direct", 7, seed=2)
    name = "data/train-00000-of-00001.parquet"
    assert (tmp_path / "cli" / name).read_bytes() == (direct / name).read_bytes()


@pytest.fixture
def isolated_datasets_cache(tmp_path, monkeypatch):
    """Keep ``datasets``' Arrow cache of the fixture inside the test's folder."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_cache")


@pytest.mark.parametrize("file_format", ["parquet", "jsonl"])
def test_dataset_card_lets_load_dataset_read_every_config(
    tmp_path, isolated_datasets_cache, file_format
):
    import datasets

    root = write_multipref_fixture(tmp_path / "mp", 12, seed=3, file_format=file_format)
    default_rows, binarized_rows = multipref_fixture_rows(12, seed=3)
    ids = [r["comparison_id"] for r in default_rows]
    for config, expected in (
        ("default", default_rows),
        ("human_overall_binarized", binarized_rows),
    ):
        loaded = datasets.load_dataset(str(root), config, split="train")
        assert loaded["comparison_id"] == ids
        assert loaded.to_list()[0]["comparison_id"] == expected[0]["comparison_id"]
    judged = datasets.load_dataset(str(root), "gpt4_overall_binarized", split="train").to_list()
    assert [r["comparison_id"] for r in judged] == ids
    for row, raw in zip(judged, default_rows, strict=True):
        pair = {row["chosen"][1]["content"], row["rejected"][1]["content"]}
        assert pair == {raw["completion_a"], raw["completion_b"]}
    assert (root / "README.md").read_text().startswith("---\nconfigs:\n- config_name: default\n")


def test_gpt4_judge_does_not_move_the_other_configs(tmp_path):
    root = write_multipref_fixture(tmp_path, 200, seed=6)
    default_rows, binarized_rows = multipref_fixture_rows(200, seed=6)
    assert pq.read_table(root / "data" / "train-00000-of-00001.parquet").to_pylist() == default_rows
    stored = pq.read_table(root / "human_overall_binarized" / "train-00000-of-00001.parquet")
    assert stored.to_pylist() == binarized_rows
    judged = pq.read_table(root / "gpt4_overall_binarized" / "train-00000-of-00001.parquet")
    human_first = [
        r["chosen"] == b["chosen"] for r, b in zip(judged.to_pylist(), binarized_rows, strict=True)
    ]
    assert 0.5 < np.mean(human_first) < 1.0  # a judge of the same qualities, with its own noise


def test_cli_refuses_a_count_below_one(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([str(tmp_path / "fx"), "--comparisons", "0"])
    assert stopped.value.code == 2
    assert "--comparisons must be at least 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "fx").exists()
