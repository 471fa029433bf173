"""``python -m responserank.llm.evaluate`` on bad input: one ``error:`` line naming the file or the
setting, exit status 2, no traceback (each case builds its own bad input)."""

from __future__ import annotations

import json
import runpy
import shutil
import sys
from pathlib import Path

import pytest
from rewardbench_fixtures import V1_FEATURES, V2_FEATURES, v1_records, v2_records, write_split
from test_evaluate_cli import data_overrides, make_run_record, save_tiny_reward_model

from responserank.cli_errors import EXIT_CODE


@pytest.fixture(scope="module")
def local_data(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("benchmarks")
    v1 = write_split(v1_records()[0], V1_FEATURES, folder / "rb1.parquet", "parquet")
    v2 = write_split(v2_records()[0], V2_FEATURES, folder / "rb2", "disk")
    return v1, v2


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return save_tiny_reward_model(tmp_path_factory.mktemp("tiny") / "model")


def evaluate_command(args: list[str], tmp_path: Path, monkeypatch, capsys) -> str:
    """Run the evaluate entry point in this process; return its one ``error:`` line."""
    argv = ["responserank.llm.evaluate", *args, f"hydra.run.dir={tmp_path / 'hydra'}"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("responserank.llm.evaluate", run_name="__main__", alter_sys=True)
    err = capsys.readouterr().err
    assert stop.value.code == EXIT_CODE, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("args", [[], ["model_dir={missing}"]], ids=["no_args", "missing_dir"])
def test_config_errors_print_only_the_error_line(args, tmp_path, monkeypatch, capsys):
    """No config dump before the error: the whole output (stdout and stderr) is the one line."""
    args = [arg.format(missing=tmp_path / "nonexist") for arg in args]
    argv = ["responserank.llm.evaluate", *args, f"hydra.run.dir={tmp_path / 'hydra'}"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("responserank.llm.evaluate", run_name="__main__", alter_sys=True)
    captured = capsys.readouterr()
    assert stop.value.code == EXIT_CODE
    printed = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert len(printed) == 1 and printed[0].startswith("error: "), printed


def _copy(model: Path, folder: Path) -> Path:
    shutil.copytree(model, folder)
    return folder


def test_missing_model_folder(tmp_path, local_data, monkeypatch, capsys):
    missing = tmp_path / "no-such-model"
    line = evaluate_command(
        [f"model_dir={missing}", *data_overrides(*local_data)], tmp_path, monkeypatch, capsys
    )
    assert f"error: {missing}: no such folder; expected a saved reward model" in line


def test_truncated_config(tmp_path, tiny_model, local_data, monkeypatch, capsys):
    folder = _copy(tiny_model, tmp_path / "model")
    text = (folder / "config.json").read_text()
    (folder / "config.json").write_text(text[: len(text) // 2])
    line = evaluate_command(
        [f"model_dir={folder}", *data_overrides(*local_data)], tmp_path, monkeypatch, capsys
    )
    assert f"{folder / 'config.json'}: not valid JSON" in line


def test_truncated_weights(tmp_path, tiny_model, local_data, monkeypatch, capsys):
    folder = _copy(tiny_model, tmp_path / "model")
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])  # a copy that stopped half way
    line = evaluate_command(
        [f"model_dir={folder}", *data_overrides(*local_data)], tmp_path, monkeypatch, capsys
    )
    assert f"{weights}: truncated or damaged safetensors file ({len(data) // 2} bytes" in line
    (folder / "model.safetensors").unlink()  # config.json without any weights
    line = evaluate_command(
        [f"model_dir={folder}", *data_overrides(*local_data)], tmp_path, monkeypatch, capsys
    )
    assert f"{folder}: config.json but no weights file" in line


def test_a_run_still_running_or_with_a_truncated_summary(
    tmp_path, tiny_model, local_data, monkeypatch, capsys
):
    run_dir = make_run_record(tmp_path, tiny_model)
    summary = json.loads((run_dir / "summary.json").read_text())
    (run_dir / "summary.json").write_text(json.dumps({**summary, "status": "running"}))
    args = [f"model_dir={run_dir / 'model'}", *data_overrides(*local_data)]
    line = evaluate_command(args, tmp_path, monkeypatch, capsys)
    assert f"error: {run_dir} is still marked running" in line and "force=true" in line
    (run_dir / "summary.json").write_text('{"run_name": "abc123-1.0-42", "sta')
    line = evaluate_command(args, tmp_path, monkeypatch, capsys)
    assert f"error: {run_dir / 'summary.json'}: not valid JSON" in line


def test_unknown_suite(tmp_path, tiny_model, monkeypatch, capsys):
    line = evaluate_command(
        [f"model_dir={tiny_model}", "suites=rb3"], tmp_path, monkeypatch, capsys
    )
    assert "unknown suite(s) ['rb3']" in line and "rewardbench_v1" in line


def test_a_suite_left_without_pairs_by_drop_truncated(
    tmp_path, tiny_model, local_data, monkeypatch, capsys
):
    args = [
        f"model_dir={tiny_model}",
        "suites=[rewardbench_v1]",
        *data_overrides(*local_data),
        "max_length=4",
        "drop_truncated=true",
        "device=cpu",
        f"output={tmp_path / 'scores.json'}",
    ]
    line = evaluate_command(args, tmp_path, monkeypatch, capsys)
    assert "rewardbench_v1" in line and "no rows left to score" in line
    assert "raise max_length (now 4) or set drop_truncated=false" in line
    assert not (tmp_path / "scores.json").exists()
