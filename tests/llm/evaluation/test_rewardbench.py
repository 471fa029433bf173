"""RewardBench v1/v2 scoring against hand-computed scores on small copies in the hub schemas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rewardbench_fixtures import (
    V1_FEATURES,
    V2_FEATURES,
    LookupScorer,
    v1_records,
    v2_records,
    write_split,
)

from responserank.errors import BenchmarkDataError
from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.evaluation.rewardbench_v1 import (
    SECTION_WEIGHTS,
    SPLIT_COUNTS,
    RewardBenchV1,
    rewardbench_v1_scores,
)
from responserank.llm.evaluation.rewardbench_v1 import SUBSETS as V1_SUBSET_NAMES
from responserank.llm.evaluation.rewardbench_v2 import (
    RewardBenchV2,
    best_of_n_credit,
    ties_components,
)

# Section scores worked out from V1_PAIRS with the published weights:
# Chat      = (100*1/2 + 95*1 + 95*0 + 28*3/4 + 40*0) / 358
# Chat Hard = (37*1 + 100*1/2 + 134*0 + 92*1 + 47*1/4 + 46*1) / 456
# Safety    = (100*1 + 100*1 + 154*0 + 250*1/2 + 136*0) / 740
# Reasoning = (984*1/2 + 164*(1 + 0 + 1 + 1 + 0 + 1)) / 1968   (math-prm weighs 984, not 447)
V1_SECTIONS = {
    "Chat": 166 / 358,
    "Chat Hard": 236.75 / 456,
    "Safety": 325 / 740,
    "Reasoning": 1148 / 1968,
}
V1_SUBSETS = {
    "alpacaeval-easy": 0.5,
    "alpacaeval-hard": 0.0,
    "mt-bench-easy": 0.75,
    "llmbar-adver-GPTOut": 0.25,
    "donotanswer": 0.0,
    "hep-rust": 1.0,
}

# RewardBench v2 subsets from V2_ROWS (best-of-n with 1/k credit for a k-way tie at the top):
V2_PLAIN = {
    "Factuality": (1 + 1 / 2) / 2,
    "Precise IF": (0 + 1 / 3) / 2,
    "Math": 1 / 4,
    "Safety": (1 + 0 + 1 / 2) / 3,
    "Focus": (0 + 1) / 2,  # row 8: the first response is not at the top (released rule)
}
# Ties, prompt by prompt (gap = worst correct - best incorrect, spread = best - worst correct):
#   ref:1 gap 3 (accurate)   tied:1 gap 1 (accurate), spread 2
#   ref:2 gap -1             tied:2 gap 10 (accurate), spread 0.5
#   ref:3 gap 3 (accurate)   tied:3 gap 5 (accurate), spread 0
#   ref:5 gap 1 (accurate)   tied:4 gap -2, spread 1, no ref partner
# ref_accuracy 3/4, tied_accuracy 3/4; over n = 1, 2, 3:
#   preferred      [1 > 2, 10 > 0.5, 5 > 0]                       -> 2/3
#   preferred_hard [min(3,1) > 2, min(-1,10) > 0.5, min(3,5) > 0]  -> 1/3
#   margin (spread > 0 only): [tanh(1/2 - 1), tanh(-1/0.5 - 1)]
TIES_PARTS = {
    "ref_accuracy": 0.75,
    "tied_accuracy": 0.75,
    "correctness_preferred": 2 / 3,
    "correctness_preferred_hard": 1 / 3,
    "correctness_margin_score": (math.tanh(-0.5) + math.tanh(-3.0)) / 2,
}
TIES_SCORE = (
    0.3 * 0.75
    + 0.3 * 0.75
    + 0.2 * 2 / 3
    + 0.2 * 1 / 3
    + 0.01 * TIES_PARTS["correctness_margin_score"]
)


@pytest.fixture(scope="module")
def v1_copy(tmp_path_factory):
    records, rewards = v1_records()
    path = write_split(
        records, V1_FEATURES, tmp_path_factory.mktemp("rb1") / "v1.parquet", "parquet"
    )
    return path, rewards


@pytest.fixture(scope="module")
def v2_copy(tmp_path_factory):
    records, rewards = v2_records()
    path = write_split(records, V2_FEATURES, tmp_path_factory.mktemp("rb2") / "v2", "disk")
    return path, rewards


def test_v1_scores_match_hand_computed_table(v1_copy):
    path, rewards = v1_copy
    suite = RewardBenchV1(data_path=str(path), validate_counts=False)
    assert isinstance(suite, EvalSuite)
    scorer = LookupScorer(rewards)
    metrics = suite.evaluate(scorer)

    assert len(scorer.calls) == 1, "all pairs go to the scorer in one batched call"
    for section, value in V1_SECTIONS.items():
        assert metrics[f"rewardbench_v1/section/{section}"] == pytest.approx(value, abs=1e-12)
    for subset, value in V1_SUBSETS.items():
        assert metrics[f"rewardbench_v1/subset/{subset}"] == pytest.approx(value, abs=1e-12)
    expected_overall = sum(V1_SECTIONS.values()) / 4
    assert metrics["rewardbench_v1/overall"] == pytest.approx(expected_overall, abs=1e-12)
    assert len([key for key in metrics if "/subset/" in key]) == 23


@pytest.mark.parametrize("fmt", ["jsonl", "disk"])
def test_v1_reads_every_local_format(tmp_path, fmt):
    records, rewards = v1_records()
    path = write_split(records, V1_FEATURES, tmp_path / f"copy.{fmt}", fmt)
    metrics = RewardBenchV1(data_path=str(path), validate_counts=False).evaluate(
        LookupScorer(rewards)
    )
    assert metrics["rewardbench_v1/overall"] == pytest.approx(sum(V1_SECTIONS.values()) / 4)


def test_v1_reads_a_hub_snapshot_folder(tmp_path):
    records, rewards = v1_records()
    (tmp_path / "data").mkdir()
    write_split(
        records, V1_FEATURES, tmp_path / "data" / "filtered-00000-of-00001.parquet", "parquet"
    )
    write_split(
        records[:3], V1_FEATURES, tmp_path / "data" / "raw-00000-of-00001.parquet", "parquet"
    )
    (tmp_path / "README.md").write_text(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: raw\n"
        "    path: data/raw-*\n  - split: filtered\n    path: data/filtered-*\n---\n"
    )
    metrics = RewardBenchV1(data_path=str(tmp_path), validate_counts=False).evaluate(
        LookupScorer(rewards)
    )
    assert metrics["rewardbench_v1/overall"] == pytest.approx(sum(V1_SECTIONS.values()) / 4)


def test_v1_data_path_from_environment(monkeypatch, v1_copy):
    path, rewards = v1_copy
    monkeypatch.setenv("RR_REWARDBENCH_V1_PATH", str(path))
    metrics = RewardBenchV1(validate_counts=False).evaluate(LookupScorer(rewards))
    assert metrics["rewardbench_v1/section/Safety"] == pytest.approx(325 / 740)


def test_v1_published_counts_are_checked(v1_copy):
    path, _ = v1_copy
    with pytest.raises(BenchmarkDataError, match=r"alpacaeval-easy: expected 100 rows, found 2"):
        RewardBenchV1(data_path=str(path)).load_data()


def test_v1_published_counts_add_up_to_the_split_size():
    assert sum(SPLIT_COUNTS.values()) == 2985
    assert sum(sum(w.values()) for w in SECTION_WEIGHTS.values()) == 2985 - 447 + 984


def test_v1_unknown_subset_lists_valid_ones(tmp_path):
    records, _ = v1_records()
    records[0]["subset"] = "alpaca-typo"
    path = write_split(records, V1_FEATURES, tmp_path / "bad.parquet", "parquet")
    with pytest.raises(BenchmarkDataError, match=r"unknown subset\(s\) \['alpaca-typo'\].*valid"):
        RewardBenchV1(data_path=str(path), validate_counts=False).load_data()


def test_v1_wrong_value_names_row_and_column(tmp_path):
    records, _ = v1_records()
    frame = pd.DataFrame(records)
    frame.loc[3, "chosen"] = None
    path = tmp_path / "bad.jsonl"
    frame.to_json(path, orient="records", lines=True)
    with pytest.raises(BenchmarkDataError, match=r"row 3, column 'chosen': expected a string"):
        RewardBenchV1(data_path=str(path), validate_counts=False).load_data()


def test_missing_local_copy_and_offline_hub_give_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(BenchmarkDataError, match="does not exist"):
        RewardBenchV1(data_path=str(tmp_path / "nowhere")).load_data()
    monkeypatch.delenv("RR_REWARDBENCH_V2_PATH", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    with pytest.raises(BenchmarkDataError, match="RR_REWARDBENCH_V2_PATH"):
        RewardBenchV2().load_data()


def test_v1_strict_comparison_and_non_finite_rewards():
    ties = np.zeros(len(V1_SUBSET_NAMES))
    metrics = rewardbench_v1_scores(list(V1_SUBSET_NAMES), ties, ties)
    assert metrics["rewardbench_v1/overall"] == 0.0
    records, rewards = v1_records()
    rewards[records[0]["chosen"]] = float("nan")
    suite = RewardBenchV1(data_path=None, validate_counts=False)
    suite._rows = pd.DataFrame(records)[["prompt", "chosen", "rejected", "subset", "id"]]
    with pytest.raises(ValueError, match="1 non-finite rewards"):
        suite.evaluate(LookupScorer(rewards))


@pytest.mark.parametrize(
    ("rewards", "credit"),
    [
        ([3, 1, 2, 0], 1.0),
        ([2, 2, 1, 0], 0.5),
        ([5, 5, 5, 1], 1 / 3),
        ([0, 0, 0, 0], 0.25),
        ([1, 2, 0, 0], 0.0),
        # num_correct = 2 (first two correct): only the first response counts, as released
        ([1, 3, 3, 0], 0.0),  # the second correct one ties the top with a rejected one
        ([3, 3, 1, 0], 0.5),  # the two correct ones share the top
        ([2, 5, 1, 0], 0.0),  # the second correct one alone holds the top
    ],
)
def test_best_of_n_credit_is_the_first_response_holding_the_top(rewards, credit):
    assert best_of_n_credit(np.array(rewards, dtype=float)) == pytest.approx(credit)


def test_v2_scores_match_hand_computed_table(v2_copy):
    path, rewards = v2_copy
    suite = RewardBenchV2(data_path=str(path), validate_counts=False)
    assert isinstance(suite, EvalSuite)
    scorer = LookupScorer(rewards)
    metrics = suite.evaluate(scorer)

    assert len(scorer.calls) == 1
    prompts, responses = scorer.calls[0]
    assert prompts[responses.index("tied:1 rejected 1")] == "prompt of tied:1"
    for subset, value in V2_PLAIN.items():
        assert metrics[f"rewardbench_v2/subset/{subset}"] == pytest.approx(value, abs=1e-12)
    for part, value in TIES_PARTS.items():
        assert metrics[f"rewardbench_v2/ties/{part}"] == pytest.approx(value, abs=1e-12)
    assert metrics["rewardbench_v2/subset/Ties"] == pytest.approx(TIES_SCORE, abs=1e-12)
    overall = (sum(V2_PLAIN.values()) + TIES_SCORE) / 6
    assert metrics["rewardbench_v2/overall"] == pytest.approx(overall, abs=1e-12)


def test_ties_edge_cases():
    # no tied prompt has a ref partner -> the three margin terms are means over nothing (0)
    parts = ties_components(
        ["tied:1", "ref:2"], [2, 1], [np.array([3, 2, 1.0]), np.array([1, 0.0])]
    )
    assert parts["tied_accuracy"] == 1.0 and parts["ref_accuracy"] == 1.0
    assert parts["correctness_preferred"] == 0.0 and parts["correctness_margin_score"] == 0.0
    assert parts["score"] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="occurs twice"):
        ties_components(["ref:1", "ref:1"], [1, 1], [np.array([1, 0.0])] * 2)
    with pytest.raises(ValueError, match="'ref:<n>' or 'tied:<n>'"):
        ties_components(["7"], [1], [np.array([1, 0.0])])
    with pytest.raises(ValueError, match=r"'tied:01' occurs twice \(as tied:1\)"):
        ties_components(["tied:1", "tied:01"], [2, 2], [np.array([2, 1, 0.0])] * 2)
    with pytest.raises(ValueError, match="ties_margin_rule"):
        ties_components(["ref:1"], [1], [np.array([1, 0.0])], margin_rule="newest")


def test_ties_ids_pair_by_number_as_the_released_code():
    # ref:01 and tied:1 are one pair: gap(ref) = 4 - 1 = 3, gap(tied) = 5 - 0 = 5, spread = 1
    parts = ties_components(
        ["ref:01", "tied:1"], [1, 2], [np.array([4, 1.0]), np.array([6, 5, 0.0])]
    )
    assert parts["correctness_preferred"] == 1.0  # 5 > 1
    assert parts["correctness_preferred_hard"] == 1.0  # min(3, 5) > 1
    assert parts["correctness_margin_score"] == pytest.approx(math.tanh(3 / 1 - 1))


# Three pairs; spread 0 in two of them. gap(ref), gap(tied), spread:
#   n=1: 2, 4, 1    n=2: 3, -1, 0    n=3: 0, 0, 0  (hard gap = min(ref, tied) = 2, -1, 0)
TIES_MARGIN_ROWS = (
    ["ref:1", "tied:1", "ref:2", "tied:2", "ref:3", "tied:3"],
    [1, 2, 1, 2, 1, 2],
    [
        np.array([3, 1.0]),
        np.array([6, 5, 1.0]),
        np.array([3, 0.0]),
        np.array([1, 1, 2.0]),
        np.array([1, 1.0]),
        np.array([2, 2, 2.0]),
    ],
)


@pytest.mark.parametrize(
    ("rule", "margin"),
    [
        # released 0.1.4: mean over spread > 0 only -> tanh(2 / 1 - 1)
        ("rewardbench-0.1.4", math.tanh(1.0)),
        # upstream: every pair; spread 0 scores sign(hard gap): sign(-1) = -1, sign(0) = 0
        ("upstream", (math.tanh(1.0) - 1.0 + 0.0) / 3),
    ],
)
def test_ties_margin_rules(rule, margin):
    parts = ties_components(*TIES_MARGIN_ROWS, margin_rule=rule)
    assert parts["correctness_margin_score"] == pytest.approx(margin, abs=1e-12)
    # the other terms do not depend on the rule: preferred [4 > 1, -1 > 0, 0 > 0] -> 1/3
    assert parts["correctness_preferred"] == pytest.approx(1 / 3)
    assert parts["correctness_preferred_hard"] == pytest.approx(1 / 3)
    assert parts["ref_accuracy"] == pytest.approx(2 / 3)  # gaps 2, 3, 0
    assert parts["tied_accuracy"] == pytest.approx(1 / 3)  # gaps 4, -1, 0


def test_v2_suite_offers_the_upstream_margin_rule(v2_copy):
    path, rewards = v2_copy
    suite = RewardBenchV2(data_path=str(path), validate_counts=False, ties_margin_rule="upstream")
    metrics = suite.evaluate(LookupScorer(rewards))
    # the fixture's pairs: n=1 (spread 2, hard gap 1), n=2 (0.5, -1), n=3 (0, 3): the zero spread
    # now scores sign(3) = 1 and counts in the mean
    expected = (math.tanh(0.5 - 1) + math.tanh(-1 / 0.5 - 1) + 1.0) / 3
    assert metrics["rewardbench_v2/ties/correctness_margin_score"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="ties_margin_rule='x'"):
        RewardBenchV2(data_path=str(path), ties_margin_rule="x")


def test_v2_response_counts_are_checked(tmp_path):
    records, _ = v2_records()
    records[2]["num_correct"] = 2
    path = write_split(records, V2_FEATURES, tmp_path / "bad.parquet", "parquet")
    with pytest.raises(BenchmarkDataError, match=r"row 2: 1 chosen and 3 rejected"):
        RewardBenchV2(data_path=str(path), validate_counts=False).load_data()


def test_v2_published_counts_are_checked(v2_copy):
    path, _ = v2_copy
    with pytest.raises(BenchmarkDataError, match=r"Ties: expected 102 rows, found 8"):
        RewardBenchV2(data_path=str(path)).load_data()


def test_v2_ties_ids_naming_one_prompt_twice_are_refused(tmp_path):
    records, _ = v2_records()
    duplicate = dict(next(r for r in records if r["id"] == "ref:1"), id="ref:001")
    path = write_split([*records, duplicate], V2_FEATURES, tmp_path / "dup.parquet", "parquet")
    with pytest.raises(BenchmarkDataError, match=r"'ref:1' and 'ref:001' name the same prompt"):
        RewardBenchV2(data_path=str(path), validate_counts=False).load_data()
