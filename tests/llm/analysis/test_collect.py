"""``collect`` from local run records and from wandb (fake API objects; offline errors)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest
from analysis_helpers import REGISTRY_TEXT

from responserank.errors import CollectError
from responserank.llm.analysis.cache import load_cache
from responserank.llm.analysis.cli import main
from responserank.llm.analysis.collect import (
    Collected,
    find_groups,
    from_runs_dir,
    from_wandb,
    from_wandb_runs,
    wandb_api,
)
from responserank.llm.analysis.registry import load_registry
from responserank.llm.runs.record import RunRecord


def _record(runs_dir, group, fraction, seed, status="finished", dry_run=False, metrics=None):
    name = f"{group}-{fraction!r}-{seed}"
    record = RunRecord(runs_dir / group / name)
    if dry_run:
        record = RunRecord(record.path / "dry_run")
    record.write_summary(
        {
            "run_name": name,
            "group_id": group,
            "experiment": group.rsplit("_", 1)[0],
            "fraction": fraction,
            "seed": seed,
            "status": status,
            "dry_run": dry_run,
            "finished_at": f"2026-01-0{seed % 9 + 1}T00:00:00+00:00",
            "metrics": metrics
            if metrics is not None
            else {"eval/heldout/accuracy": 0.5 + seed / 100},
        }
    )
    return record


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "registry.yaml"
    path.write_text(REGISTRY_TEXT)
    return load_registry(path)


def test_local_collect_takes_finished_non_dry_runs_only(tmp_path, registry):
    runs = tmp_path / "runs"
    for seed in (1, 2):
        _record(runs, "bt_0000000001", 1.0, seed)
        _record(
            runs,
            "rr_agree_0000000002",
            0.5,
            seed,
            metrics={"eval/heldout/accuracy": 0.7, "note": "x"},
        )
    _record(runs, "bt_0000000001", 1.0, 3, status="running")
    _record(runs, "bt_0000000001", 1.0, 4, status="failed")
    _record(runs, "bt_0000000001", 0.5, 5, dry_run=True)  # only a dry-run record in its folder
    _record(runs, "unregistered_0000000009", 1.0, 1)
    found = from_runs_dir(registry, runs)
    assert sorted(r["run_name"] for r in found.runs) == [
        "bt_0000000001-1.0-1",
        "bt_0000000001-1.0-2",
        "rr_agree_0000000002-0.5-1",
        "rr_agree_0000000002-0.5-2",
    ]
    assert found.skipped == {"status 'running'": 1, "status 'failed'": 1, "no summary.json": 1}
    assert any("rr_agree_spread2: no finished runs" in n for n in found.notes)

    cache = tmp_path / "cache"
    code = main(["collect", str(cache), "--runs-dir", str(runs), "--registry", str(registry.path)])
    assert code == 0
    loaded = load_cache(cache)
    frame = loaded.results
    assert len(frame) == 4, "one row per run and numeric metric"
    row = frame[(frame["config"] == "bt") & (frame["seed"] == 2)].iloc[0]
    assert (row["metric"], row["value"], row["fraction"]) == ("eval/heldout/accuracy", 0.52, 1.0)
    assert (cache / "registry.yaml").read_text() == REGISTRY_TEXT
    assert loaded.meta["source"] == {"kind": "runs_dir", "runs_dir": str(runs)}
    assert loaded.meta["runs_per_config_and_fraction"] == {"bt@1.0": 2, "rr_agree@0.5": 2}
    assert loaded.meta["dataset"] is None

    groups = {g.group_id: g for g in find_groups(runs)}
    assert groups["bt_0000000001"].runs == 2 and groups["bt_0000000001"].experiment == "bt"
    assert "unregistered_0000000009" in groups


def test_mismatched_group_and_missing_folder(tmp_path, registry):
    runs = tmp_path / "runs"
    record = _record(runs, "bt_0000000001", 1.0, 1)
    summary = json.loads(record.summary_path.read_text())
    record.summary_path.write_text(json.dumps({**summary, "group_id": "other"}))
    with pytest.raises(CollectError, match="group_id 'other' does not match its folder"):
        from_runs_dir(registry, runs)
    with pytest.raises(CollectError, match="does not exist"):
        from_runs_dir(registry, tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (
        main(
            [
                "collect",
                str(tmp_path / "c"),
                "--runs-dir",
                str(empty),
                "--registry",
                str(registry.path),
            ]
        )
        == 2
    )


@pytest.mark.parametrize(
    ("damage", "fragment"),
    [
        (lambda text: text[: len(text) // 2], "not valid JSON"),
        (lambda text: "", "not valid JSON"),
        (lambda text: "[1, 2]", "expected a JSON object"),
    ],
)
@pytest.mark.parametrize("command", ["collect", "registry"])
def test_a_damaged_run_summary_fails_on_one_line_naming_it(
    tmp_path, registry, capsys, damage, fragment, command
):
    runs = tmp_path / "runs"
    _record(runs, "bt_0000000001", 1.0, 1)
    damaged = _record(runs, "bt_0000000001", 1.0, 2)
    damaged.summary_path.write_text(damage(damaged.summary_path.read_text()))
    if command == "collect":
        argv = ["collect", str(tmp_path / "cache"), "--runs-dir", str(runs)]
        argv += ["--registry", str(registry.path)]
    else:
        argv = ["registry", "--runs-dir", str(runs), "--registry", str(tmp_path / "new.yaml")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {damaged.summary_path}: "), err
    assert fragment in err and f"move the damaged run folder {damaged.path} away" in err
    assert not (tmp_path / "cache").exists()


def _wandb_run(name, fraction, seed, state="finished", status="finished", created="1", **summary):
    return SimpleNamespace(
        name=name,
        state=state,
        created_at=created,
        config={"seed": seed, "experiment": {"fraction": fraction}, "dataset": {"path": None}},
        summary={"status": status, "dry_run": False, **summary},
    )


def test_wandb_runs_use_final_metrics_and_the_latest_copy():
    found = Collected()
    runs = [
        _wandb_run(
            "g-1.0-1", 1.0, 1, **{"final/eval/heldout/accuracy": 0.6, "eval/heldout/accuracy": 0.1}
        ),
        _wandb_run("g-1.0-2", 1.0, 2, created="1", **{"final/eval/heldout/accuracy": 0.3}),
        _wandb_run("g-1.0-2", 1.0, 2, created="2", **{"final/eval/heldout/accuracy": 0.7}),
        _wandb_run("g-0.5-1", 0.5, 1, **{"eval/heldout/accuracy": 0.55, "_step": 4}),
        _wandb_run("g-0.5-2", 0.5, 2, state="crashed", status="running"),
        _wandb_run("g-0.5-3", 0.5, 3, state="running", status="finished"),
    ]
    runs[0].summary["dry_run"] = False
    dry = _wandb_run("g-0.1-1", 0.1, 1)
    dry.summary["dry_run"] = True
    assert from_wandb_runs("bt", "g", [*runs, dry], found) == 3
    metrics = {r["run_name"]: r["metrics"] for r in found.runs}
    assert metrics == {
        "g-1.0-1": {"eval/heldout/accuracy": 0.6},
        "g-1.0-2": {"eval/heldout/accuracy": 0.7},
        "g-0.5-1": {"eval/heldout/accuracy": 0.55},
    }
    assert found.skipped == {
        "status 'running'": 1,
        "wandb state 'running'": 1,
        "dry run": 1,
        "repeated run name (older copy)": 1,
    }


def test_wandb_collect_through_an_api_object(registry):
    calls = []

    class FakeApi:
        def runs(self, path, filters):
            calls.append((path, filters["group"]))
            if filters["group"] == "bt_0000000001":
                return [
                    _wandb_run(
                        "bt_0000000001-1.0-1", 1.0, 1, **{"final/eval/heldout/accuracy": 0.6}
                    )
                ]
            return []

    found = from_wandb(registry, "rr-llm", "team", api=FakeApi())
    assert calls[0] == ("team/rr-llm", "bt_0000000001") and len(calls) == len(registry.configs)
    assert [r["config"] for r in found.runs] == ["bt"]
    assert pd.Series(found.notes).str.contains("rr_agree: no finished runs").any()


def test_wandb_collect_offline_fails_clearly(monkeypatch, tmp_path, registry, capsys):
    monkeypatch.setenv("WANDB_MODE", "offline")
    with pytest.raises(CollectError, match="needs the wandb server, but WANDB_MODE=offline"):
        wandb_api()
    code = main(
        [
            "collect",
            str(tmp_path / "c"),
            "--project-name",
            "rr-llm",
            "--registry",
            str(registry.path),
        ]
    )
    assert code == 2
    assert "--runs-dir runs/llm" in capsys.readouterr().err
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with pytest.raises(CollectError, match="needs a wandb account: run `wandb login`"):
        wandb_api()
