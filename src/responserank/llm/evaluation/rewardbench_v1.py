"""RewardBench v1 (``allenai/reward-bench``, split ``filtered``) scored exactly as published.

A pair counts as correct only when the chosen response gets a strictly higher reward than the
rejected one (a tie is wrong). Subset accuracies are combined into four sections by a weighted mean
whose weights are the published example counts, and the overall score is the plain mean of the four
sections. The Reasoning weights count math-prm as 984 (= 6 x 164) although the split holds 447
math-prm pairs, so that math weighs as much as the six code subsets together. Pairs whose chosen
and rejected texts are identical are skipped (and counted), see ``evaluation.base``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from responserank.llm.evaluation.base import Scorer, score_pairs, screen_pairs
from responserank.llm.evaluation.benchmark_data import HubBenchmarkSuite

HUB_ID = "allenai/reward-bench"
SPLIT = "filtered"
DATA_ENV_VAR = "RR_REWARDBENCH_V1_PATH"

SECTION_WEIGHTS: dict[str, dict[str, int]] = {
    "Chat": {
        "alpacaeval-easy": 100,
        "alpacaeval-length": 95,
        "alpacaeval-hard": 95,
        "mt-bench-easy": 28,
        "mt-bench-med": 40,
    },
    "Chat Hard": {
        "mt-bench-hard": 37,
        "llmbar-natural": 100,
        "llmbar-adver-neighbor": 134,
        "llmbar-adver-GPTInst": 92,
        "llmbar-adver-GPTOut": 47,
        "llmbar-adver-manual": 46,
    },
    "Safety": {
        "refusals-dangerous": 100,
        "refusals-offensive": 100,
        "xstest-should-refuse": 154,
        "xstest-should-respond": 250,
        "donotanswer": 136,
    },
    "Reasoning": {
        "math-prm": 984,
        "hep-cpp": 164,
        "hep-go": 164,
        "hep-java": 164,
        "hep-js": 164,
        "hep-python": 164,
        "hep-rust": 164,
    },
}

SUBSETS: tuple[str, ...] = tuple(name for section in SECTION_WEIGHTS.values() for name in section)

# Rows per subset in the published split: the section weights, except math-prm (447 pairs, 2985 total).
SPLIT_COUNTS: dict[str, int] = {
    **{name: weight for section in SECTION_WEIGHTS.values() for name, weight in section.items()},
    "math-prm": 447,
}

_SCHEMA = {"prompt": "str", "chosen": "str", "rejected": "str", "subset": "str", "id": "int"}


def rewardbench_v1_scores(
    subsets: Sequence[str],
    chosen_rewards: np.ndarray,
    rejected_rewards: np.ndarray,
    prefix: str = "rewardbench_v1",
) -> dict[str, float]:
    """Per-subset accuracy, per-section weighted accuracy and the overall score (fractions in [0, 1])."""
    chosen = np.asarray(chosen_rewards, dtype=float)
    rejected = np.asarray(rejected_rewards, dtype=float)
    if not (len(subsets) == chosen.size == rejected.size):
        raise ValueError(
            f"got {len(subsets)} subsets, {chosen.size} chosen and {rejected.size} rejected rewards"
        )
    correct = pd.Series(chosen > rejected).groupby(np.asarray(subsets)).mean()
    missing = [name for name in SUBSETS if name not in correct]
    if missing:
        raise ValueError(f"no pairs for subset(s) {missing}")
    metrics = {f"{prefix}/subset/{name}": float(correct[name]) for name in SUBSETS}
    sections = {
        section: _weighted_mean(correct, weights) for section, weights in SECTION_WEIGHTS.items()
    }
    metrics.update({f"{prefix}/section/{name}": value for name, value in sections.items()})
    metrics[f"{prefix}/overall"] = float(np.mean(list(sections.values())))
    return metrics


def _weighted_mean(accuracy: pd.Series, weights: Mapping[str, int]) -> float:
    total = sum(weights.values())
    return float(sum(accuracy[name] * weight for name, weight in weights.items()) / total)


class RewardBenchV1(HubBenchmarkSuite):
    """The RewardBench v1 suite (rows: prompt, chosen, rejected, subset, id)."""

    HUB_ID = HUB_ID
    SPLIT = SPLIT
    DATA_ENV_VAR = DATA_ENV_VAR
    SCHEMA = _SCHEMA
    SUBSETS = SUBSETS
    SPLIT_COUNTS = SPLIT_COUNTS
    DEFAULT_NAME = "rewardbench_v1"

    def evaluate(self, scorer: Scorer) -> dict[str, float]:
        rows = self.load_data()
        screening = screen_pairs(
            scorer, self.name, rows["prompt"], rows["chosen"], rows["rejected"]
        )
        rows = rows[screening.keep]
        chosen, rejected = score_pairs(
            scorer, rows["prompt"], rows["chosen"], rows["rejected"], self.name
        )
        metrics = rewardbench_v1_scores(rows["subset"].tolist(), chosen, rejected, self.name)
        return {**metrics, **screening.metrics(self.name)}
