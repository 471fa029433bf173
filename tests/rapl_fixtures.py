"""Small files in the exact public schemas of the RAPL data sets, for offline tests.

LIE / TRUE / scale_* follow the published CSV headers; RM-Bench, the Anthropic attribute set,
HelpSteer2 (preference) and HH-RLHF follow their public releases. Texts are synthetic; detailed
responses are much longer than concise ones so that length-driven scorers behave predictably.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd

from responserank.llm.data.sources.anthropic_attributes import ATTRIBUTES

LIE_TYPES = ("correct_concise", "correct_detailed", "incorrect_concise", "incorrect_detailed")


def _responses(question_id: int) -> dict[str, str]:
    fact = f"fact {question_id}"
    return {
        "correct_concise": f"True: {fact}.",
        "incorrect_concise": f"False: {fact}.",
        "correct_detailed": f"True: {fact}. " + "It is well documented and verified. " * 6,
        "incorrect_detailed": f"False: {fact}. " + "Experts widely agree on this claim. " * 6,
    }


def lie_rows(ids: range, seed: int = 0) -> pd.DataFrame:
    """Rows in the LIE fold schema (32 columns, as published)."""
    rng = np.random.default_rng(seed)
    rows = []
    for item in ids:
        question = f"Human: Question number {item}?"
        texts = _responses(item)
        pair = rng.choice(len(LIE_TYPES), size=2, replace=False)
        type1, type2 = LIE_TYPES[pair[0]], LIE_TYPES[pair[1]]
        first_chosen = bool(rng.integers(2))
        chosen_type, rejected_type = (type1, type2) if first_chosen else (type2, type1)
        conf = float(rng.choice([0, 1 / 3, 2 / 3, 1]))
        group = "{q}\n\nResponse A: {a}\n\nResponse B: {b}"
        rows.append(
            {
                "categories": ["Health", "Law"][item % 2],
                **{t: texts[t] for t in LIE_TYPES},
                "choice1_type": type1,
                "choice2_type": type2,
                "correct_statements": texts["correct_concise"],
                "incorrect_statements": texts["incorrect_concise"],
                "IDs": item,
                "choice1": texts[type1],
                "choice2": texts[type2],
                "prompt": question,
                "chosen": f"{question}\n\nAssistant: {texts[chosen_type]}",
                "rejected": f"{question}\n\nAssistant: {texts[rejected_type]}",
                "chosen_type": chosen_type,
                "rejected_type": rejected_type,
                "confidence_scores": conf,
                "number_of_clicks": float(rng.uniform()),
                "scratch_space": np.nan,
                "raw_number_of_clicks": float(rng.integers(1, 6)),
                "raw_decision_time": float(rng.uniform(1, 60)),
                "prompt_response_group_1": group.format(q=question, a=texts[type1], b=texts[type2]),
                "prompt_response_group_2": group.format(q=question, a=texts[type2], b=texts[type1]),
                "90_percent_p": 0.9,
                "correct_chosen": int(chosen_type.startswith("correct")),
                "decision_time": float(rng.uniform()),
                "TRUE_calibrated_confidence_scores": 0.5 + 0.3 * conf,
                "TRUE_calibrated_decision_time": float(rng.uniform(0.6, 0.7)),
                "TRUE_calibrated_number_of_clicks": float(rng.uniform(0.6, 0.7)),
                "TRUE_probability_correct": float(rng.uniform(0.52, 0.8)),
                "type_pair": " | ".join(sorted([chosen_type, rejected_type])),
            }
        )
    return pd.DataFrame(rows)


def write_lie_folder(root: Path, folds: int = 2, rows_per_fold: int = 6) -> Path:
    """LIE folder: folds/LIE_{train,val}_k.csv (val folds partition the ids) + the test file."""
    (root / "folds").mkdir(parents=True, exist_ok=True)
    n = folds * rows_per_fold
    all_rows = lie_rows(range(1000, 1000 + n))
    for k in range(folds):
        val_mask = np.arange(n) // rows_per_fold == k
        all_rows[val_mask].to_csv(root / "folds" / f"LIE_val_{k}.csv", index=False)
        all_rows[~val_mask].to_csv(root / "folds" / f"LIE_train_{k}.csv", index=False)
    lie_test_rows(8).to_csv(root / "LIE_dataset_test.csv", index=False)
    return root


def lie_test_rows(n: int) -> pd.DataFrame:
    rows = []
    for item in range(n):
        question = f"Test question {item}?"
        texts = _responses(5000 + item)
        rows.append(
            {
                "categories": "Misconceptions",
                "correct_statements": texts["correct_concise"],
                "incorrect_statements": texts["incorrect_concise"],
                **{
                    t: f"Human: {question}\n\nAssistant: {texts[t]}"
                    for t in (
                        "incorrect_concise",
                        "correct_concise",
                        "incorrect_detailed",
                        "correct_detailed",
                    )
                },
                "prompt": question,
            }
        )
    return pd.DataFrame(rows)


def true_rows(ids: range, *, repeated: bool = False, scale: bool = False, seed: int = 0):
    """Rows in the TRUE (or scale_TRUE) schema; ``repeated`` adds both A/B orders."""
    rng = np.random.default_rng(seed)
    rows = []
    for item in ids:
        question = f"Human: Which option is right for item {item}?"
        right, wrong = f"Right answer {item}", f"Wrong answer {item}"
        correct = (item * 7) % 10 < 7  # 70% correct, both labels in any 3 consecutive ids
        chosen, rejected = (right, wrong) if correct else (wrong, right)
        orders = [(right, wrong, 1), (wrong, right, 2)] if repeated else [(right, wrong, None)]
        for a, b, ordering in orders:
            row = {
                "source": "trivia_qa",
                "difficulty": np.nan,
                "choice1": a,
                "choice2": b,
                "choice1_type": "correct" if a == right else "incorrect",
                "choice2_type": "correct" if b == right else "incorrect",
                "chosen": f"{question}\n\nAssistant: {chosen}",
                "rejected": f"{question}\n\nAssistant: {rejected}",
                "chosen_type": "correct" if correct else "incorrect",
                "rejected_type": "incorrect" if correct else "correct",
                "confidence_scores": float(rng.choice([0, 1 / 3, 2 / 3, 1])),
                "decision_time": float(rng.uniform()),
                "correct_chosen": correct,
                "raw_decision_time": float(rng.uniform(1, 100)),
                "prompt": question,
                "prompt_response_group": f"{question}\n\nResponse A: {a}\n\nResponse B: {b}",
                "other_info": np.nan,
                "IDs": item,
                "categories": np.nan,
                "correct_statements": right,
                "incorrect_statements": wrong,
            }
            if scale:
                row["vote"] = "choice1" if chosen == a else "choice2"
                row["accuracy"] = float(rng.choice([0, 1 / 3, 2 / 3, 1]))
                row["correct_chosen"] = int(correct)
                row["dataset_name"] = "trivia_qa"
            else:
                row.update(
                    {
                        "number_of_clicks": float(rng.uniform()),
                        "scratch_space": np.nan,
                        "raw_number_of_clicks": float(rng.integers(1, 5)),
                        "tags": 21,
                        "tag_IDs": f"MC{item}21",
                    }
                )
            if ordering is not None:
                row["ordering"] = ordering
            rows.append(row)
    return pd.DataFrame(rows)


def write_true_folder(root: Path, folds: int = 2, rows: int = 10, scale: bool = False) -> Path:
    """TRUE (or scale_TRUE) folder with no_repeats and repeated_orders train/val/cal files."""
    prefix = "scale_" if scale else ""
    for layout, suffix, repeated in (
        ("no_repeats", "single", False),
        ("repeated_orders", "double", True),
    ):
        (root / layout).mkdir(parents=True, exist_ok=True)
        for k in range(folds):
            for j, split in enumerate(("train", "val", "cal")):
                start = 2000 + 1000 * k + 100 * j
                df = true_rows(
                    range(start, start + rows), repeated=repeated, scale=scale, seed=k * 3 + j
                )
                df.to_csv(root / layout / f"{prefix}{split}_{suffix}_{k}.csv", index=False)
    return root


def write_scale_lie_folder(root: Path, folds: int = 2, rows_per_fold: int = 6) -> Path:
    """scale_LIE folder: folds/scale_LIE_{train,val}_k.csv in the published column set."""
    (root / "folds").mkdir(parents=True, exist_ok=True)
    n = folds * rows_per_fold
    base = lie_rows(range(1000, 1000 + n))
    first_chosen = [c.endswith(a) for c, a in zip(base["chosen"], base["choice1"], strict=True)]
    base["vote"] = np.where(first_chosen, "choice1", "choice2")
    columns = [
        "raw_decision_time",
        "prompt",
        "IDs",
        "choice1",
        "choice2",
        "choice1_type",
        "choice2_type",
        "confidence_scores",
        "vote",
        "correct_chosen",
        "type_pair",
        "chosen",
        "rejected",
        "chosen_type",
        "rejected_type",
        "decision_time",
        "90_percent_p",
        "categories",
        "correct_concise",
        "incorrect_concise",
        "correct_detailed",
        "correct_statements",
        "incorrect_statements",
        "incorrect_detailed",
        "prompt_response_group_1",
        "prompt_response_group_2",
    ]
    base = base[columns]
    for k in range(folds):
        val_mask = np.arange(n) // rows_per_fold == k
        base[val_mask].to_csv(root / "folds" / f"scale_LIE_val_{k}.csv", index=False)
        base[~val_mask].to_csv(root / "folds" / f"scale_LIE_train_{k}.csv", index=False)
    return root


def rm_bench_flat(n_ids: int = 4) -> pd.DataFrame:
    """Flat RM-Bench rows: one per (id, style); chosen = correct, rejected = wrong answer."""
    rows = []
    for item in range(n_ids):
        for style, pad in (("concise", 0), ("detailed", 5), ("markdown", 10)):
            body = " More explanation." * pad
            rows.append(
                {
                    "id": item,
                    "type": style,
                    "prompt": f"Question {item}?",
                    "chosen": f"Right {item}.{body}",
                    "rejected": f"Wrong {item}.{body}",
                }
            )
    return pd.DataFrame(rows)


def anthropic_rows(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Anthropic attribute rows with random A/B/C attributes and a random chosen side."""
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(n):
        row = {
            "chosen": f"Human: hi {item}\n\nAssistant: option one {item}",
            "rejected": f"Human: hi {item}\n\nAssistant: option two {item}",
            "chosen_choice": str(rng.choice(["A", "B"])),
        }
        row.update({a: str(rng.choice(["A", "B", "C"])) for a in ATTRIBUTES})
        rows.append(row)
    return pd.DataFrame(rows)


def helpsteer2_rows() -> pd.DataFrame:
    """HelpSteer2 preference rows (a tie included, to be dropped)."""
    strengths = [-3, -1, 0, 2, 3, -2]
    return pd.DataFrame(
        {
            "split": ["train", "train", "train", "train", "val", "val"],
            "prompt": [f"Prompt {i}" for i in range(6)],
            "response_1": [f"First {i}" for i in range(6)],
            "response_2": [f"Second {i}" for i in range(6)],
            "preference_strength": strengths,
            "preference_statement": ["@Response 1 is better." for _ in strengths],
            "preference_elaboration": ["Because." for _ in strengths],
        }
    )


def write_hh_rlhf_folder(root: Path, n: int = 3) -> Path:
    """HH-RLHF layout: <subset>/{train,test}.jsonl.gz with chosen/rejected transcripts."""
    for subset in ("harmless-base", "helpful-base"):
        (root / subset).mkdir(parents=True, exist_ok=True)
        for split in ("train", "test"):
            with gzip.open(root / subset / f"{split}.jsonl.gz", "wt") as handle:
                for i in range(n):
                    prefix = f"\n\nHuman: {subset} {split} {i}?\n\nAssistant: "
                    record = {"chosen": prefix + "Good answer.", "rejected": prefix + "Bad."}
                    handle.write(json.dumps(record) + "\n")
    return root
