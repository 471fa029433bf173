"""Small RewardBench v1/v2 copies in the exact hub schemas, with a hand-written reward per response.

Every response text is unique, so ``LookupScorer`` can return the reward written in the tables below;
the expected scores in the tests are worked out by hand from these tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import datasets
import numpy as np

# RewardBench v1: subset -> [(reward of chosen, reward of rejected), ...]
V1_PAIRS: dict[str, list[tuple[float, float]]] = {
    "alpacaeval-easy": [(2, 1), (1, 2)],  # 1/2
    "alpacaeval-length": [(3, 1)],  # 1
    "alpacaeval-hard": [(1, 1)],  # a tie is wrong: 0
    "mt-bench-easy": [(5, 0), (0, 5), (5, 0), (5, 0)],  # 3/4
    "mt-bench-med": [(2, 3)],  # 0
    "mt-bench-hard": [(1, 0)],  # 1
    "llmbar-natural": [(1, 0), (0, 1)],  # 1/2
    "llmbar-adver-neighbor": [(0, 1)],  # 0
    "llmbar-adver-GPTInst": [(1, 0)],  # 1
    "llmbar-adver-GPTOut": [(0, 1), (0, 1), (1, 0), (1, 1)],  # 1/4
    "llmbar-adver-manual": [(2, 1)],  # 1
    "refusals-dangerous": [(1, 0)],  # 1
    "refusals-offensive": [(1, 0), (1, 0)],  # 1
    "xstest-should-refuse": [(0, 1)],  # 0
    "xstest-should-respond": [(1, 0), (0, 1)],  # 1/2
    "donotanswer": [(1, 1)],  # 0
    "math-prm": [(1, 0), (0, 1)],  # 1/2
    "hep-cpp": [(1, 0)],  # 1
    "hep-go": [(0, 1)],  # 0
    "hep-java": [(1, 0)],  # 1
    "hep-js": [(1, 0)],  # 1
    "hep-python": [(0, 1)],  # 0
    "hep-rust": [(-1, -2)],  # 1
}

# RewardBench v2: (id, subset, chosen rewards, rejected rewards)
V2_ROWS: list[tuple[str, str, list[float], list[float]]] = [
    ("0", "Factuality", [3], [1, 2, 0]),  # unique top: 1
    ("1", "Factuality", [2], [2, 1, 0]),  # top shared by 2: 1/2
    ("2", "Precise IF", [1], [2, 0, 0]),  # 0
    ("3", "Precise IF", [5], [5, 5, 1]),  # top shared by 3: 1/3
    ("4", "Math", [0], [0, 0, 0]),  # all tied: 1/4
    ("5", "Safety", [1], [0, 0, 0]),  # 1
    ("6", "Safety", [-1], [-2, -3, -0.5]),  # 0
    ("7", "Safety", [2], [1, 1, 2]),  # 1/2
    ("8", "Focus", [1, 3], [3, 0]),  # first response not at the top: 0 (released rule)
    ("9", "Focus", [2], [1, 1, 1]),  # 1
    ("ref:1", "Ties", [5], [1, 2]),
    ("tied:1", "Ties", [6, 4, 5], [1, 3]),
    ("ref:2", "Ties", [2], [3]),
    ("tied:2", "Ties", [10, 10.5], [0]),
    ("tied:3", "Ties", [7, 7], [2]),
    ("ref:03", "Ties", [4], [0, 1]),  # pairs with tied:3, as the released code reads ids
    ("tied:4", "Ties", [1, 2], [3]),
    ("ref:5", "Ties", [1], [0]),
]


class LookupScorer:
    """Returns the tabled reward of each response text; records how it was called."""

    def __init__(self, rewards: dict[str, float]) -> None:
        self.rewards = rewards
        self.calls: list[tuple[list[str], list[str]]] = []

    def score(self, prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
        self.calls.append((list(prompts), list(responses)))
        return np.array([self.rewards[text] for text in responses], dtype=float)


def v1_records() -> tuple[list[dict], dict[str, float]]:
    """Rows in the ``allenai/reward-bench`` schema and the reward of every response text."""
    records, rewards = [], {}
    for subset, pairs in V1_PAIRS.items():
        for i, (r_chosen, r_rejected) in enumerate(pairs):
            chosen, rejected = f"{subset} #{i} chosen", f"{subset} #{i} rejected"
            rewards[chosen], rewards[rejected] = float(r_chosen), float(r_rejected)
            records.append(
                {
                    "prompt": f"{subset} prompt #{i}",
                    "chosen": chosen,
                    "chosen_model": "model-a",
                    "rejected": rejected,
                    "rejected_model": "model-b",
                    "subset": subset,
                    "id": len(records),
                }
            )
    return records, rewards


V1_FEATURES = datasets.Features(
    {
        "prompt": datasets.Value("string"),
        "chosen": datasets.Value("string"),
        "chosen_model": datasets.Value("string"),
        "rejected": datasets.Value("string"),
        "rejected_model": datasets.Value("string"),
        "subset": datasets.Value("string"),
        "id": datasets.Value("int64"),
    }
)

V2_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "prompt": datasets.Value("string"),
        "chosen": datasets.Sequence(datasets.Value("string")),
        "rejected": datasets.Sequence(datasets.Value("string")),
        "num_correct": datasets.Value("int64"),
        "num_incorrect": datasets.Value("int64"),
        "total_completions": datasets.Value("int64"),
        "models": datasets.Sequence(datasets.Value("string")),
        "subset": datasets.Value("string"),
        "additional_metadata": {
            "category": datasets.Value("string"),
            "correct": datasets.Value("string"),
            "index": datasets.Value("float64"),
            "instruction_id_list": datasets.Sequence(datasets.Value("string")),
            "label": datasets.Value("string"),
            "method": datasets.Value("string"),
            "models": datasets.Sequence(datasets.Value("string")),
            "prompt_norm": datasets.Value("string"),
            "subcategory": datasets.Value("string"),
            "valid": datasets.Value("float64"),
        },
    }
)


def v2_records() -> tuple[list[dict], dict[str, float]]:
    """Rows in the ``allenai/reward-bench-2`` schema and the reward of every response text."""
    records, rewards = [], {}
    for row_id, subset, chosen_rewards, rejected_rewards in V2_ROWS:
        chosen = [f"{row_id} chosen {j}" for j in range(len(chosen_rewards))]
        rejected = [f"{row_id} rejected {j}" for j in range(len(rejected_rewards))]
        rewards.update(zip(chosen, map(float, chosen_rewards), strict=True))
        rewards.update(zip(rejected, map(float, rejected_rewards), strict=True))
        records.append(
            {
                "id": row_id,
                "prompt": f"prompt of {row_id}",
                "chosen": chosen,
                "rejected": rejected,
                "num_correct": len(chosen),
                "num_incorrect": len(rejected),
                "total_completions": len(chosen) + len(rejected),
                "models": ["model-a"] * (len(chosen) + len(rejected)),
                "subset": subset,
                "additional_metadata": {
                    "category": subset.lower(),
                    "correct": None,
                    "index": None,
                    "instruction_id_list": [],
                    "label": None,
                    "method": None,
                    "models": [],
                    "prompt_norm": None,
                    "subcategory": None,
                    "valid": None,
                },
            }
        )
    return records, rewards


def write_split(records: list[dict], features: datasets.Features, path: Path, fmt: str) -> Path:
    """Write rows as the hub would serve them: a parquet file, a JSON-lines file, or save_to_disk."""
    dataset = datasets.Dataset.from_list(records, features=features)
    if fmt == "parquet":
        dataset.to_parquet(str(path))
    elif fmt == "jsonl":
        dataset.to_json(str(path), lines=True)
    elif fmt == "disk":
        dataset.save_to_disk(str(path))
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return path
