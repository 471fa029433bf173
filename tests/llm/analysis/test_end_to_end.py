"""Real run records from the training entry point -> registry -> collect -> generate."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
import yaml
from rewardbench_fixtures import V1_FEATURES, V2_FEATURES, v1_records, v2_records, write_split
from train_helpers import FAST, compose_config

from responserank.llm.analysis.cli import main
from responserank.llm.train import run
from responserank.testing.fixtures import write_multipref_fixture

SEEDS = (1, 2)
PRESETS = ("bt", "rr_agree")


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models gain nothing from intra-op threads; on a busy machine they cost ~10x."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory, one_torch_thread):
    """Four tiny runs (two presets x two seeds) with held-out and RewardBench v1/v2 scores."""
    root = tmp_path_factory.mktemp("e2e")
    data = write_multipref_fixture(root / "multipref", 60, seed=0)
    v1 = write_split(v1_records()[0], V1_FEATURES, root / "rb1.parquet", "parquet")
    v2 = write_split(v2_records()[0], V2_FEATURES, root / "rb2", "disk")
    for preset in PRESETS:
        for seed in SEEDS:
            outcome = run(
                compose_config(
                    [
                        *FAST,
                        f"experiment={preset}",
                        f"seed={seed}",
                        "training.num_epochs=1",
                        "training.max_length=256",
                        f"dataset.path={data}",
                        "dataset.test_size=20",
                        f"tracking.output_root={root / 'runs'}",
                        "save_model=false",
                        "runtime.checkpoint=no",
                        "eval=rewardbench",
                        f"eval.suites.0.data_path={v1}",
                        "eval.suites.0.validate_counts=false",
                        f"eval.suites.1.data_path={v2}",
                        "eval.suites.1.validate_counts=false",
                    ]
                )
            )
            assert outcome.status == "finished"
    return root / "runs"


@pytest.mark.slow
def test_collect_and_generate_from_real_run_records(runs_dir, tmp_path, capsys):
    cache, figures = tmp_path / "cache", tmp_path / "figures"
    registry = cache / "registry.yaml"
    assert main(["registry", "--runs-dir", str(runs_dir), "--registry", str(registry)]) == 0
    assert set(yaml.safe_load(registry.read_text())["configs"]) == set(PRESETS)
    assert main(["collect", str(cache), "--runs-dir", str(runs_dir)]) == 0
    assert main(["generate", str(cache), str(figures), "--formats", "png"]) == 0
    printed = capsys.readouterr().out

    results = pd.read_csv(cache / "results.csv")
    summaries = [json.loads(p.read_text()) for p in runs_dir.glob("*/*/summary.json")]
    assert len(summaries) == len(PRESETS) * len(SEEDS)
    for summary in summaries:
        rows = results[results["run_name"] == summary["run_name"]].set_index("metric")["value"]
        assert rows.to_dict() == pytest.approx(summary["metrics"])
        assert "eval/rewardbench_v2/subset/Ties" in rows.index
    meta = json.loads((cache / "meta.json").read_text())
    assert meta["runs"] == 4 and meta["dataset"] is not None
    assert meta["data_note"].startswith("generated fixture")  # the runs trained on the fixture
    assert (cache / "dataset_annotations.csv").is_file()

    out = figures / "llm"
    for name in (
        "fraction_curves.png",
        "rewardbench_v2_categories.png",
        "dataset_rt_correlations.png",
        "dataset_rt_correlations.tex",
        "table_fraction_1.tex",
        "table_rb2_fraction_1.tex",
        "paired_tests.csv",
        "paired_tests.tex",
        "summary.csv",
    ):
        assert (out / name).is_file(), name
    tests = pd.read_csv(out / "paired_tests.csv")
    assert set(tests["metric"]) == {
        "eval/heldout/accuracy",
        "eval/rewardbench_v1/overall",
        "eval/rewardbench_v2/overall",
    }
    assert (tests["n_pairs"] == len(SEEDS)).all()
    assert "missing: no ablation or sensitivity study" in printed
