"""The RAPL summary tables read run records (contract E) and aggregate over seeds."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from responserank.errors import InputFileError
from responserank.llm.rapl_summary import collect_runs, main


def _record(root: Path, name: str, experiment: str, seed: int, ratio: float, **kwargs) -> None:
    run_dir = root / experiment / name
    run_dir.mkdir(parents=True)
    signal = kwargs.get("signal")
    config = {
        "dataset": {"fold": 0},
        "loss": {"_target_": f"pkg.{kwargs.get('loss', 'BradleyTerryObjective')}"},
        "experiment": {"name": experiment, **({"train_signal": signal} if signal else {})},
        "model": {"name_or_path": "bundled:all-MiniLM-L6-v2"},
        "training": {"learning_rate": 2e-5, "num_epochs": 2},
    }
    OmegaConf.save(OmegaConf.create(config), run_dir / "config.yaml")
    summary = {
        "run_name": name,
        "experiment": experiment,
        "seed": seed,
        "status": kwargs.get("status", "finished"),
        "dry_run": False,
        "metrics": {
            "eval/lie_test/length_weight": 2.0,
            "eval/lie_test/correctness_weight": 2.0 * ratio,
            "eval/lie_test/ratio": ratio,
            "eval/heldout/accuracy": 0.6,
        },
    }
    (run_dir / "summary.json").write_text(json.dumps(summary))


def test_collect_and_aggregate(tmp_path):
    arm = {"column": "confidence_scores", "is_prob": False}
    _record(tmp_path, "bt-1", "rapl_lie_bt", 1, 0.2)
    _record(tmp_path, "bt-2", "rapl_lie_bt", 2, 0.4)
    _record(tmp_path, "beta-1", "rapl_lie_beta", 1, 0.5, signal=arm, loss="RaplBetaObjective")
    _record(tmp_path, "bt-3", "rapl_lie_bt", 3, 9.0, status="failed")
    runs = collect_runs(tmp_path)
    assert list(runs["run_name"]) == ["beta-1", "bt-1", "bt-2"]
    assert list(runs["arm"]) == ["confidence_scores", "none", "none"]
    summary = main([str(tmp_path), "--summary-csv", str(tmp_path / "s.csv")])
    bt = summary[summary["experiment"] == "rapl_lie_bt"].iloc[0]
    assert bt["n_runs"] == 2
    assert bt["ratio_mean"] == pytest.approx(0.3)
    assert bt["ratio_std"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert (tmp_path / "s.csv").is_file()


def test_no_runs_is_an_error(tmp_path):
    with pytest.raises(InputFileError, match="no finished runs"):
        collect_runs(tmp_path)


def _cli(argv: list[str], monkeypatch, capsys) -> tuple[int, str]:
    """``python -m responserank.llm.rapl_summary argv`` in this process: exit status, stderr."""
    monkeypatch.setattr(sys, "argv", ["rapl_summary", *argv])
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("responserank.llm.rapl_summary", run_name="__main__", alter_sys=True)
    return stop.value.code, capsys.readouterr().err


def _truncate_summary(root: Path) -> Path:
    _record(root, "bt-1", "rapl_lie_bt", 1, 0.2)
    summary = root / "rapl_lie_bt" / "bt-1" / "summary.json"
    summary.write_text(summary.read_text()[:40])
    return summary


@pytest.mark.filterwarnings("ignore:'responserank.llm.rapl_summary' found in sys.modules")
@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("missing", "folder not found; expected the runs folder"),
        ("empty", "no finished runs; expected <group>/<run>/summary.json"),
        ("unfinished", "no finished runs"),
        ("truncated", "not valid JSON at line 1"),
        ("not_an_object", "not a JSON object with a 'metrics' object"),
        ("other_experiment", "--experiments rapl_lie_beta: no finished run of these"),
    ],
)
def test_bad_runs_folders_fail_on_one_line(tmp_path, monkeypatch, capsys, case, fragment):
    root = tmp_path / "runs"
    argv = [str(root)]
    named: Path | str = root
    if case != "missing":
        root.mkdir()
    if case == "unfinished":
        _record(root, "bt-1", "rapl_lie_bt", 1, 0.2, status="running")
    elif case == "truncated":
        named = _truncate_summary(root)
    elif case == "not_an_object":
        _record(root, "bt-1", "rapl_lie_bt", 1, 0.2)
        named = root / "rapl_lie_bt" / "bt-1" / "summary.json"
        named.write_text("[1, 2]")
    elif case == "other_experiment":
        _record(root, "bt-1", "rapl_lie_bt", 1, 0.2)
        argv += ["--experiments", "rapl_lie_beta"]
        named = "--experiments"
    code, err = _cli(argv, monkeypatch, capsys)
    assert code == 2, err
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith(f"error: {named}"), err
    assert fragment in err
