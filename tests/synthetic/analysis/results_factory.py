"""Results files in the collected-results schema, built from a seeded generator for the tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

LEARNER_SHIFT = {
    "bt": 0.0,
    "rr": 0.05,
    "rr_pooled": -0.01,
    "rr_perm": -0.06,
    "rt_regression": -0.02,
    "rt_regression_perm": -0.08,
}
TEST_COMPARISONS = 200


def _entries(values, kind: str, dataset_metric: bool) -> list[dict]:
    return [{"value": v, "type": kind, "dataset_metric": dataset_metric} for v in values]


def make_results(
    dataset: str,
    *,
    num_trials: int = 6,
    sizes: Sequence[float] = (0.5, 0.75, 1.0),
    learners: Sequence[str] = tuple(LEARNER_SHIFT),
    seed: int = 0,
) -> dict:
    """A results dict in which learners differ by LEARNER_SHIFT and grow with the training size."""
    rng = np.random.default_rng(seed)
    trial_level = rng.normal(0.0, 0.02, size=num_trials)
    results: dict = {
        "metadata": {
            "dataset": dataset,
            "num_trials": num_trials,
            "learners": list(learners),
            "dataset_sizes": list(sizes),
            "master_seed": seed,
        },
        "dataset_metrics": {
            "test_confusion_matrix": [],
            "test_abs_logit_diff_rt_kendall_tau": _entries(
                rng.normal(0.4, 0.05, size=num_trials).tolist(), "scalar", True
            ),
        },
    }
    for _ in range(num_trials):
        agree = int(rng.integers(150, 190))
        tp = int(rng.integers(0, agree + 1))
        fp = int(rng.integers(0, TEST_COMPARISONS - agree + 1))
        matrix = [[agree - tp, fp], [TEST_COMPARISONS - agree - fp, tp]]
        results["dataset_metrics"]["test_confusion_matrix"].append(
            {"value": matrix, "type": "matrix", "dataset_metric": True}
        )
    for learner in learners:
        size_map = {}
        for size in sizes:
            base = 0.7 + 0.15 * size + LEARNER_SHIFT.get(learner, 0.0) + trial_level
            accuracy = np.clip(base + rng.normal(0.0, 0.01, num_trials), 0.0, 1.0)
            pdc = np.clip(base + 0.05 + rng.normal(0.0, 0.02, num_trials), -1.0, 1.0)
            size_map[repr(float(size))] = {
                "summary_metrics": {
                    "choice_accuracy": _entries(accuracy.tolist(), "scalar", False),
                    "pearson_distance_correlation": _entries(pdc.tolist(), "scalar", False),
                }
            }
        results[learner] = {"sizes": size_map}
    return results


def write_results_file(directory: Path, results: dict) -> Path:
    path = directory / f"{results['metadata']['dataset']}.json"
    path.write_text(json.dumps(results, indent=2, sort_keys=True), encoding="utf-8")
    return path
