"""Caches and registries of the published analysis: import-published, registry format, wandb."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from responserank.errors import CacheError
from responserank.llm.analysis import collect
from responserank.llm.analysis.cache import load_cache
from responserank.llm.analysis.cli import main
from responserank.llm.analysis.published import import_published, project_metric_name

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "published_format" / "llm"
REGISTRY = """\
experiments:
  bt:
    egid: bt-v1.0-aaaa
    display_name: BT (baseline)
    color: '#E74C3C'
    marker: ^
    linestyle: --
  rr_agree:
    egid: rtrank_agreement-v1.1-bbbb
    display_name: RR-Agree (ours)
    color: '#8D6E63'
    marker: p
    linestyle: '-'
  bt_lr1em5:
    egid: bt_lr1e5-v1.3-cccc
    display_name: BT (lr=1e-5)
"""
EGIDS = {"bt": "bt-v1.0-aaaa", "rr_agree": "rtrank_agreement-v1.1-bbbb"}
CATEGORIES = ("Factuality", "Focus", "Math", "Precise IF", "Safety", "Ties")


def run_cli(argv: list[str], expected_status: int = 0) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    assert status == expected_status, err.getvalue()
    return out.getvalue() + err.getvalue()


def _row(config: str, fraction: float, seed: int, value: float, state="finished", run_id=None):
    egid = EGIDS[config]
    row = {
        "run_id": run_id or f"{config}-{fraction}-{seed}",
        "run_name": f"{egid}-{fraction}-{seed}",
        "egid": egid,
        "experiment_name": config,
        "seed": seed,
        "fraction": fraction,
        "run_state": state,
        "display_name": f"{egid} (final)",
        "eval_accuracy": value,
        "eval/rewardbench_v1/overall/accuracy_score": value - 0.05,
        "eval/rewardbench_v2/overall/accuracy_score": value - 0.1,
        "train_examples": 100.0 * fraction,
        "avg_fragment_size": np.nan if config == "bt" else 2.0,
    }
    for i, category in enumerate(CATEGORIES):
        row[f"eval/rewardbench_v2/section/{category}_score"] = value - 0.01 * i
    return row


def variant_frame() -> pd.DataFrame:
    """bt at 0.5 and 1.0, rr_agree only at 1.0 (some sizes), failed and crashed rows, a rerun seed
    with a different value; bt_lr1em5 is registered but has no runs."""
    rng = np.random.default_rng(0)
    rows = []
    for config, fractions in (("bt", (0.5, 1.0)), ("rr_agree", (1.0,))):
        for fraction in fractions:
            for seed in (1, 2, 3):
                rows.append(_row(config, fraction, seed, 0.6 + 0.05 * rng.random()))
    rows.append(_row("bt", 1.0, 4, 0.99, state="failed"))
    rows.append(_row("rr_agree", 1.0, 5, 0.98, state="crashed"))
    rows.append(_row("bt", 1.0, 2, 0.7123, run_id="rerun-bt-1.0-2"))
    return pd.DataFrame(rows)


def write_source(folder: Path, frame: pd.DataFrame, registry: str = REGISTRY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_pickle(folder / "data.pkl")
    (folder / "registry.yaml").write_text(registry)
    (folder / "meta.json").write_text(json.dumps({"data_summary": {"total_runs": len(frame)}}))
    return folder


def test_metric_names_map_to_the_project_names():
    assert project_metric_name("eval_accuracy") == "eval/heldout/accuracy"
    assert (
        project_metric_name("eval/rewardbench_v1/overall/accuracy_score")
        == "eval/rewardbench_v1/overall"
    )
    assert (
        project_metric_name("eval/rewardbench_v2/section/Precise IF_score")
        == "eval/rewardbench_v2/subset/Precise IF"
    )
    assert project_metric_name("eval/rewardbench_v2/section/Chat_score") is None
    assert project_metric_name("run_state") is None


def test_import_refuses_to_unpickle_without_the_flag(tmp_path):
    source = write_source(tmp_path / "src", variant_frame())
    with pytest.raises(CacheError, match="unpickling runs code stored in the file"):
        import_published(source, tmp_path / "cache")
    output = run_cli(["import-published", str(source), str(tmp_path / "cache")], 2)
    assert "--allow-pickle" in output and str(source / "data.pkl") in output
    assert not (tmp_path / "cache").exists()


def test_import_layout_variants_then_generate(tmp_path):
    frame = variant_frame()
    source = write_source(tmp_path / "src", frame)
    cache = tmp_path / "cache"
    output = run_cli(["import-published", str(source), str(cache), "--allow-pickle"])
    assert "skipped: 1 runs (run_state crashed)" in output
    assert "skipped: 1 runs (run_state failed)" in output
    assert (
        "duplicate seed: bt at fraction 1.0, seed 2: run rerun-bt-1.0-2 kept (last in data.pkl), "
        "run bt-1.0-2 dropped"
    ) in output
    assert "nan: data/avg_fragment_size: 6 runs without a value (left out)" in output
    assert "note: bt_lr1em5: registered, but data.pkl has no finished run of it" in output
    assert "imported 9 runs" in output

    loaded = load_cache(cache)
    results = loaded.results
    heldout = results[results["metric"] == "eval/heldout/accuracy"]
    assert len(heldout) == 9, "finished runs only, one per (config, fraction, seed)"
    kept = heldout[(heldout["config"] == "bt") & (heldout["fraction"] == 1.0)]
    assert kept.set_index("seed").loc[2, "value"] == pytest.approx(0.7123), "the rerun's value"
    finished = frame[frame["run_state"] == "finished"].drop_duplicates(
        ["egid", "fraction", "seed"], keep="last"
    )
    rr = finished[finished["egid"] == EGIDS["rr_agree"]]
    expected = rr.set_index("seed")["eval/rewardbench_v2/section/Math_score"].sort_index()
    got = results[
        (results["config"] == "rr_agree") & (results["metric"] == "eval/rewardbench_v2/subset/Math")
    ].set_index("seed")["value"]
    pd.testing.assert_series_equal(got.sort_index(), expected, check_names=False)
    assert loaded.meta["skipped"] == {"run_state crashed": 1, "run_state failed": 1}
    assert loaded.meta["published_meta"] == {"data_summary": {"total_runs": len(frame)}}

    figures = tmp_path / "fig"
    output = run_cli(["generate", str(cache), str(figures)])
    assert "missing: bt_lr1em5: registered, but the cache has no runs of it" in output
    out = figures / "llm"
    baseline_level = pd.read_csv(out / "baseline_level.csv")
    assert {"metric", "config", "reaches_at_fraction"} <= set(baseline_level.columns)
    paired = pd.read_csv(out / "paired_tests.csv")
    assert list(paired.columns[:5]) == ["metric", "baseline", "other", "fraction", "n_pairs"]
    assert "t_p" in paired.columns
    assert set(paired["other"]) == {"rr_agree"} and set(paired["fraction"]) == {1.0}
    assert (out / "rewardbench_v2_categories.png").is_file()
    summary = pd.read_csv(out / "summary.csv")
    assert summary.loc[summary["config"] == "bt", "label"].iloc[0] == "BT (baseline)"


def test_a_style_matplotlib_rejects_is_a_warning_not_a_refusal(tmp_path):
    """The published registry as it is: ``linestyle: ':-'`` on one configuration."""
    registry = REGISTRY.replace("    linestyle: '-'\n", "    linestyle: ':-'\n")
    assert registry != REGISTRY
    source = write_source(tmp_path / "src", variant_frame(), registry)
    cache = tmp_path / "cache"
    output = run_cli(["import-published", str(source), str(cache), "--allow-pickle"])
    warning = (
        f"warning: {source / 'registry.yaml'}: experiments.rr_agree.linestyle: expected one of"
    )
    assert warning in output
    assert "configuration 'rr_agree' is drawn with the default linestyle" in output
    assert "imported 9 runs" in output
    meta = load_cache(cache).meta
    assert len(meta["registry_warnings"]) == 1 and "rr_agree" in meta["registry_warnings"][0]
    output = run_cli(["generate", str(cache), str(tmp_path / "fig"), "--formats", "png"])
    assert "warning: " in output and "experiments.rr_agree.linestyle" in output
    assert (tmp_path / "fig" / "llm" / "summary.csv").is_file()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns=["egid"]), r"missing column\(s\) \['egid'\]"),
        (lambda f: f.assign(seed=["x"] * len(f)), r"row 0, column 'seed': expected a integer"),
        (
            lambda f: f.assign(fraction=[1.5] * len(f)),
            r"row 0, column 'fraction': expected a fraction in \(0, 1\]",
        ),
        (
            lambda f: f.assign(eval_accuracy=[0.5, 7.5] + [0.5] * (len(f) - 2)),
            r"row 1, column 'eval_accuracy': expected a score in \[0, 1\], got 7.5",
        ),
        (
            lambda f: f.assign(eval_accuracy=["high"] * len(f)),
            r"column 'eval_accuracy': expected numbers, got dtype",
        ),
        (
            lambda f: f.drop(columns=[c for c in f.columns if c.startswith("eval")]),
            "no evaluation metric column",
        ),
    ],
)
def test_bad_frames_are_refused_naming_what_is_wrong(tmp_path, change, message):
    source = write_source(tmp_path / "src", change(variant_frame()))
    with pytest.raises(CacheError, match=message) as caught:
        import_published(source, tmp_path / "cache", allow_pickle=True)
    assert str(source / "data.pkl") in str(caught.value)


def test_a_pickle_that_is_not_a_frame_is_refused(tmp_path):
    source = write_source(tmp_path / "src", variant_frame())
    pd.Series([1, 2]).to_pickle(source / "data.pkl")
    with pytest.raises(CacheError, match="expected a pandas DataFrame, got Series"):
        import_published(source, tmp_path / "cache", allow_pickle=True)


def _wandb_run(egid: str, fraction: float, seed: int, accuracy: float, state="finished"):
    return SimpleNamespace(
        name=f"{egid}-{fraction}-{seed}",
        state=state,
        created_at="2025-01-01",
        config={"seed": seed, "experiment": {"fraction": fraction}},
        summary={"eval_accuracy": accuracy, "fraction": fraction, "seed": seed, "_step": 9},
    )


def test_collect_from_wandb_with_a_published_registry(tmp_path, monkeypatch):
    registry = tmp_path / "registry.yaml"
    registry.write_text(REGISTRY)
    runs = {
        EGIDS["bt"]: [_wandb_run(EGIDS["bt"], 1.0, s, 0.6 + 0.01 * s) for s in (1, 2, 3)],
        EGIDS["rr_agree"]: [
            *(_wandb_run(EGIDS["rr_agree"], 1.0, s, 0.65 + 0.01 * s) for s in (1, 2, 3)),
            _wandb_run(EGIDS["rr_agree"], 1.0, 4, 0.9, state="crashed"),
        ],
    }

    class FakeApi:
        def runs(self, path, filters):
            return runs.get(filters["group"], [])

    monkeypatch.setattr(collect, "wandb_api", lambda: FakeApi())
    cache = tmp_path / "cache"
    output = run_cli(["collect", str(cache), "--project-name", "P", "--registry", str(registry)])
    assert "collected 6 runs" in output
    results = load_cache(cache).results
    bt = results[results["config"] == "bt"].set_index("seed")
    assert set(results["metric"]) == {"eval/heldout/accuracy"}
    assert bt["value"].to_dict() == pytest.approx({1: 0.61, 2: 0.62, 3: 0.63})
    assert (cache / "registry.yaml").read_text() == REGISTRY
    run_cli(["generate", str(cache), str(tmp_path / "fig")])
    assert (tmp_path / "fig" / "llm" / "paired_tests.csv").is_file()


@pytest.mark.skipif(
    not (SHARED / "data.pkl").is_file(), reason=f"published sample absent: {SHARED}"
)
def test_shared_published_sample_imports_and_renders(tmp_path):
    frame = pd.read_pickle(SHARED / "data.pkl")
    cache = tmp_path / "cache"
    output = run_cli(["import-published", str(SHARED), str(cache), "--allow-pickle"])
    finished = frame[frame["run_state"] == "finished"]
    unique = finished.drop_duplicates(["egid", "fraction", "seed"])
    assert f"imported {len(unique)} runs" in output
    for state, count in (
        frame.loc[frame["run_state"] != "finished", "run_state"].value_counts().items()
    ):
        assert f"skipped: {count} runs (run_state {state})" in output
    repeated = len(finished) - len(unique)
    assert output.count("duplicate seed:") == repeated
    results = load_cache(cache).results
    assert results["run_name"].nunique() == len(unique)
    figures = tmp_path / "fig" / "llm"
    run_cli(["generate", str(cache), str(tmp_path / "fig")])
    for name in ("baseline_level.csv", "paired_tests.csv", "fraction_curves.pdf",
                 "rewardbench_v2_categories.pdf", "summary.csv"):  # fmt: skip
        assert (figures / name).is_file(), name
    assert (
        pd.read_csv(figures / "summary.csv")["label"]
        .str.contains("RR-Agree (ours)", regex=False)
        .any()
    )
