"""Paired comparisons over fold x seed from run records, through the analysis CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf
from scipy import stats

from responserank.llm.analysis.cli import main

FOLDS, SEEDS = (0, 1, 2), (1, 2)


def _record(root: Path, learner: str, fold: int, seed: int, accuracy: float) -> None:
    run_dir = root / f"{learner}_abc" / f"{learner}_abc-{fold}-{seed}"
    run_dir.mkdir(parents=True)
    config = {
        "dataset": {"fold": fold},
        "loss": {"_target_": "pkg.BradleyTerryObjective"},
        "experiment": {"name": learner},
        "model": {"name_or_path": "bundled:all-MiniLM-L6-v2"},
        "training": {"learning_rate": 1e-3, "num_epochs": 2},
    }
    OmegaConf.save(OmegaConf.create(config), run_dir / "config.yaml")
    metrics = {
        "eval/lie_test/accuracy": accuracy,
        "eval/lie_test/accuracy_same_length": accuracy,
        "eval/lie_test/length_weight": 0.5,
        "eval/lie_test/correctness_weight": 0.1,
        "eval/lie_test/ratio": 0.2,
        "eval/heldout/accuracy": 0.6 + 0.01 * fold,
        "eval/heldout/calibrated_loss": 0.65,
    }
    summary = {
        "run_name": run_dir.name,
        "experiment": learner,
        "seed": seed,
        "status": "finished",
        "dry_run": False,
        "metrics": metrics,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))


@pytest.fixture
def runs(tmp_path):
    rng = np.random.default_rng(0)
    values = {}
    for fold in FOLDS:
        for seed in SEEDS:
            base = 0.5 + 0.02 * fold + rng.normal(0, 0.01)
            values[fold, seed] = base
            _record(tmp_path / "runs", "bt", fold, seed, base)
            _record(tmp_path / "runs", "rr", fold, seed, base + 0.03 + rng.normal(0, 0.01))
            _record(tmp_path / "runs", "rr_perm", fold, seed, base + rng.normal(0, 0.01))
    return tmp_path


def _cli(root: Path, *extra: str) -> int:
    return main(
        [
            "paired", str(root / "runs"), "--out-dir", str(root / "out"),
            "--fig-dir", str(root / "fig"), "--name", "study", "--baseline", "bt",
            "--formats", "png", *extra,
        ]
    )  # fmt: skip


def test_paired_study_matches_a_direct_paired_t_test(runs):
    assert _cli(runs, "--pair", "rr_perm:rr", "--learners", "bt", "rr", "rr_perm") == 0
    table = pd.read_csv(runs / "out" / "runs.csv")
    assert len(table) == 3 * len(FOLDS) * len(SEEDS)
    paired = pd.read_csv(runs / "out" / "paired.csv")
    row = paired[
        (paired.metric == "lie_test_accuracy")
        & (paired.learner == "rr")
        & (paired.baseline == "bt")
    ].iloc[0]
    wide = table.pivot_table(index=["fold", "seed"], columns="learner", values="lie_test_accuracy")
    diff = wide["rr"] - wide["bt"]
    assert row["n"] == len(FOLDS) * len(SEEDS)
    assert row["mean_difference"] == pytest.approx(diff.mean())
    assert row["p_value"] == pytest.approx(stats.ttest_rel(wide["rr"], wide["bt"]).pvalue)
    assert row["effect_size"] == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert row["ci_low"] < diff.mean() < row["ci_high"]
    assert {"rr", "rr_perm"} == set(paired[paired.baseline == "bt"].learner)
    assert ((paired.baseline == "rr_perm") & (paired.learner == "rr")).any()
    by_fold = pd.read_csv(runs / "out" / "learners_by_fold.csv")
    bt0 = by_fold[(by_fold.learner == "bt") & (by_fold.fold == 0)].iloc[0]
    assert bt0["n_runs"] == len(SEEDS)
    assert bt0["heldout_accuracy_mean"] == pytest.approx(0.6)
    learners = pd.read_csv(runs / "out" / "learners.csv")
    assert list(learners.learner) == ["bt", "rr", "rr_perm"]
    assert "| rr | bt |" in (runs / "out" / "summary.md").read_text()
    assert (runs / "fig" / "study.png").stat().st_size > 0


def test_missing_baseline_and_bad_pair_fail_with_one_line(runs, capsys):
    assert _cli(runs, "--baseline", "nope") == 2
    assert "no finished runs of nope" in capsys.readouterr().err
    assert _cli(runs, "--pair", "rr") == 2
    assert "expected BASE:OTHER" in capsys.readouterr().err
