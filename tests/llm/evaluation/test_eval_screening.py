"""Suites count over-long inputs (``<suite>/truncated``, optionally dropped) and skip identical pairs."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from rewardbench_fixtures import LookupScorer, v1_records, v2_records

from responserank.llm.evaluation.base import screen_pairs
from responserank.llm.evaluation.rewardbench_v1 import RewardBenchV1
from responserank.llm.evaluation.rewardbench_v2 import RewardBenchV2


class TruncatingScorer(LookupScorer):
    """A lookup scorer that claims to cut the given response texts at ``max_length``."""

    max_length = 8

    def __init__(self, rewards: dict[str, float], too_long: set[str], drop: bool) -> None:
        super().__init__(rewards)
        self.too_long = too_long
        self.drop_truncated = drop

    def truncated(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        return np.array([text in self.too_long for text in responses], dtype=bool)


def v1_suite(records: list[dict]) -> RewardBenchV1:
    suite = RewardBenchV1(data_path=None, validate_counts=False)
    suite._rows = pd.DataFrame(records)[["prompt", "chosen", "rejected", "subset", "id"]]
    return suite


def v2_suite(records: list[dict]) -> RewardBenchV2:
    suite = RewardBenchV2(data_path=None, validate_counts=False)
    columns = ["id", "prompt", "chosen", "rejected", "num_correct", "num_incorrect"]
    suite._rows = pd.DataFrame(records)[[*columns, "total_completions", "subset"]]
    return suite


def test_v1_identical_pair_is_skipped_and_counted(caplog):
    records, rewards = v1_records()
    # mt-bench-easy holds (5, 0), (0, 5), (5, 0), (5, 0): make the wrong pair #1 degenerate
    wrong = next(r for r in records if r["chosen"] == "mt-bench-easy #1 chosen")
    wrong["rejected"] = wrong["chosen"]
    scorer = LookupScorer(rewards)
    with caplog.at_level(logging.WARNING):
        metrics = v1_suite(records).evaluate(scorer)
    assert metrics["rewardbench_v1/identical_skipped"] == 1.0
    assert metrics["rewardbench_v1/truncated"] == 0.0
    assert metrics["rewardbench_v1/subset/mt-bench-easy"] == 1.0  # 3 of the 3 pairs left
    assert "mt-bench-easy #1 chosen" not in scorer.calls[0][1]
    assert "skipped 1 of 34 pairs whose chosen and rejected responses are identical" in caplog.text


@pytest.mark.parametrize(("drop", "accuracy"), [(False, 3 / 4), (True, 1.0)])
def test_v1_truncated_pairs_are_counted_and_dropped_on_request(drop, accuracy, caplog):
    records, rewards = v1_records()
    scorer = TruncatingScorer(rewards, {"mt-bench-easy #1 rejected"}, drop)
    with caplog.at_level(logging.WARNING):
        metrics = v1_suite(records).evaluate(scorer)
    assert metrics["rewardbench_v1/truncated"] == 1.0
    assert metrics["rewardbench_v1/subset/mt-bench-easy"] == pytest.approx(accuracy)
    assert "1 of 34 rows have an input longer than max_length=8 tokens" in caplog.text
    assert ("dropped" in caplog.text) == drop


def test_v2_row_with_a_correct_response_among_the_incorrect_ones_is_skipped():
    records, rewards = v2_records()
    # Factuality rows: "0" scores 1, "1" scores 1/2; row "0" repeats a rejected text as correct
    records[0]["chosen"] = [records[0]["rejected"][1]]
    metrics = v2_suite(records).evaluate(LookupScorer(rewards))
    assert metrics["rewardbench_v2/identical_skipped"] == 1.0
    assert metrics["rewardbench_v2/subset/Factuality"] == pytest.approx(0.5)


def test_v2_truncated_row_dropped_whole():
    records, rewards = v2_records()
    # Safety rows "5" (1), "6" (0), "7" (1/2): one over-long response of row "6"
    scorer = TruncatingScorer(rewards, {"6 rejected 2"}, drop=True)
    metrics = v2_suite(records).evaluate(scorer)
    assert metrics["rewardbench_v2/truncated"] == 1.0
    assert metrics["rewardbench_v2/subset/Safety"] == pytest.approx((1 + 0.5) / 2)
    assert not any(text.startswith("6 ") for text in scorer.calls[0][1])


def test_nothing_left_to_score_is_an_error():
    scorer = TruncatingScorer({}, {"a", "b"}, drop=True)
    with pytest.raises(ValueError, match=r"demo: no rows left to score \(2 rows: 1 identical"):
        screen_pairs(scorer, "demo", ["p", "p"], ["a", "c"], ["b", "c"])
