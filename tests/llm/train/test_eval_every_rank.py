"""Evaluation under two processes: every rank scores its share, the numbers equal one process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_ranks import evaluate_once
from train_helpers import run_torchrun_cpu

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
def test_two_process_evaluation_equals_one_process_and_shards_the_forwards(tmp_path):
    single, single_forwards = evaluate_once()
    run_torchrun_cpu([str(HERE / "eval_ranks.py"), str(tmp_path)], extra_path=[str(HERE)])
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for rank in ranks:
        assert sorted(rank["metrics"]) == sorted(single)
        for key, value in single.items():
            assert rank["metrics"][key] == pytest.approx(value, rel=1e-6, abs=1e-6), key
    assert single["eval/heldout/count"] == 21
    assert any(key.startswith("eval/pairs/") for key in single)
    # Both processes ran forwards, the same number (lockstep), each fewer than one process alone.
    counts = [rank["forwards"] for rank in ranks]
    assert counts[0] == counts[1] > 0
    assert counts[0] < single_forwards <= sum(counts)
