"""Every command-line entry point prints a project error as one line, without a traceback, and
exits with status 2 (responserank.cli_errors)."""

from __future__ import annotations

import errno
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from responserank.cli_errors import EXIT_CODE, exit_on_project_error
from responserank.errors import CacheError
from responserank.synthetic.rundir import RUN_CONFIG

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_project_error_becomes_exit_code_and_one_line(capsys):
    with pytest.raises(SystemExit) as stop, exit_on_project_error():
        raise CacheError("cache/results.csv: row 3: expected a number")
    assert stop.value.code == EXIT_CODE == 2
    assert capsys.readouterr().err == "error: cache/results.csv: row 3: expected a number\n"


def test_other_errors_keep_their_traceback():
    with pytest.raises(KeyError), exit_on_project_error():
        raise KeyError("a bug")


def _run_module(module: str, args: list[str], monkeypatch, capsys) -> tuple[int, str]:
    """Run ``python -m module args`` in this process; return the exit status and stderr."""
    monkeypatch.setattr(sys, "argv", [module, *args])
    with pytest.raises(SystemExit) as stop:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        raise SystemExit(0)
    return stop.value.code, capsys.readouterr().err


def _assert_one_line(code: int, err: str, *fragments: str) -> None:
    assert code == EXIT_CODE, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], err


@pytest.fixture
def semicolon_csv(tmp_path) -> Path:
    path = tmp_path / "results.csv"
    path.write_text("config;group_id;run_name;fraction;seed;metric;value\nbt;g;r;1;0;m;1\n")
    return path


def test_llm_analysis_cli(semicolon_csv, tmp_path, monkeypatch, capsys):
    code, err = _run_module(
        "responserank.llm.analysis.cli",
        ["generate", str(semicolon_csv.parent), str(tmp_path / "figs")],
        monkeypatch,
        capsys,
    )
    _assert_one_line(code, err, str(semicolon_csv), "looks ';'-separated", "comma-separated")


def test_rl_control_analysis_cli(tmp_path, monkeypatch, capsys):
    (tmp_path / "mujoco_runs.csv").write_bytes(b"")
    (tmp_path / "mujoco_rew_model_data.csv").write_bytes(b"")
    code, err = _run_module(
        "responserank.rl_control.analysis.cli",
        ["generate", str(tmp_path), str(tmp_path / "figs")],
        monkeypatch,
        capsys,
    )
    _assert_one_line(code, err, str(tmp_path / "mujoco_runs.csv"), "the file is empty")


def test_synthetic_analysis_cli(tmp_path, monkeypatch, capsys):
    paths = tmp_path / "paths.json"
    paths.write_text('{"xor": "runs/xor"')
    code, err = _run_module(
        "responserank.synthetic.analysis.cli",
        ["collect", str(tmp_path / "cache"), "--paths-file", str(paths)],
        monkeypatch,
        capsys,
    )
    _assert_one_line(
        code, err, str(paths), "not valid JSON at line 1, column 19", "expected a paths"
    )


TRUE_RUN_CONFIG = "dataset:\n  _target_: responserank.llm.data.sources.true.TrueItemsSource\n"


def _finished_run(root: Path) -> Path:
    run_dir = root / "group" / "run-1"
    run_dir.mkdir(parents=True)
    summary = {"run_name": "run-1", "status": "finished", "metrics": {}}
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return run_dir


def test_rapl_summary(tmp_path, monkeypatch, capsys):
    run_dir = _finished_run(tmp_path / "runs")
    (run_dir / "config.yaml").write_bytes(b"dataset:\n  path: [unclosed\n")
    code, err = _run_module(
        "responserank.llm.rapl_summary", [str(tmp_path / "runs")], monkeypatch, capsys
    )
    _assert_one_line(code, err, str(run_dir / "config.yaml"), "not valid YAML", "resolved config")


def test_true_arm(tmp_path, monkeypatch, capsys):
    run_dir = _finished_run(tmp_path / "runs")
    (run_dir / "config.yaml").write_text(TRUE_RUN_CONFIG)
    (tmp_path / "lie" / "folds").mkdir(parents=True)
    (tmp_path / "lie" / "folds" / "LIE_val_0.csv").write_text("IDs\n")
    code, err = _run_module(
        "responserank.llm.true_arm",
        [str(run_dir), "--lie-path", str(tmp_path / "lie"), "--out", str(tmp_path / "arm.csv")],
        monkeypatch,
        capsys,
    )
    _assert_one_line(code, err, "LIE_val_0.csv", "a header but no data rows")


def test_synthetic_summary(tmp_path, monkeypatch, capsys):
    (tmp_path / "xor.json").write_bytes(b"\xff\xfe")
    code, err = _run_module("responserank.synthetic.summary", [str(tmp_path)], monkeypatch, capsys)
    assert code == 2 and "Traceback" not in err and str(tmp_path) in err


def _python_m(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_train_entry_point(tmp_path, monkeypatch, capsys):
    table = tmp_path / "prefs.csv"
    table.write_text("prompt\tchosen\trejected\nq\ta\tb\n")
    overrides = [
        "experiment=bt",
        "dataset=preference_table",
        f"dataset.path={table}",
        "model=tiny_llama",
        "dry_run=true",
        "tracking.wandb.mode=disabled",
        f"tracking.output_root={tmp_path / 'runs'}",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    ]
    code, err = _run_module("responserank.llm.train", overrides, monkeypatch, capsys)
    _assert_one_line(code, err, str(table), "looks '\\t'-separated")


def _minimal_model_folder(folder: Path) -> Path:
    """A folder that passes the saved-model checks (whole JSON and safetensors files)."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    save_file({"score.weight": torch.zeros(1, 2)}, str(folder / "model.safetensors"))
    return folder


def test_evaluate_entry_point(tmp_path, monkeypatch, capsys):
    bench = tmp_path / "rewardbench.jsonl"
    bench.write_text('{"prompt": "q", "chosen": "a"}\n{"prompt": "q", "cho')
    _minimal_model_folder(tmp_path / "model")  # the folder is checked before the benchmark
    overrides = [
        f"model_dir={tmp_path / 'model'}",
        f"eval.suites.0.data_path={bench}",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    ]
    code, err = _run_module("responserank.llm.evaluate", overrides, monkeypatch, capsys)
    _assert_one_line(code, err, str(bench), "line 2 is not valid JSON")


def test_synthetic_runner_entry_point(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / RUN_CONFIG).write_text("dataset:\n  name: xor\n   num_trials: 2\n")
    done = _python_m(
        "responserank.synthetic.experiment_runner",
        f"resume_dir={run_dir}",
        f"hydra.run.dir={run_dir}",
        cwd=REPO_ROOT,
    )
    _assert_one_line(done.returncode, done.stderr, str(run_dir / RUN_CONFIG), "not valid YAML")


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        (["seed=abc"], ["seed=abc", "could not be converted to Integer", "full_key: seed"]),
        (["nokey=1"], ["nokey"]),
        (["training.learning_rate=[1"], ["no viable alternative at input '[1'"]),
        (["dataset.duplicates=maybe"], ["duplicates must be one of ['keep', 'drop']", "maybe"]),
    ],
)
def test_train_command_line_errors_exit_2_on_one_line(
    overrides, fragments, tmp_path, monkeypatch, capsys
):
    table = tmp_path / "prefs.csv"
    table.write_text("prompt,chosen,rejected\nq,a,b\nq2,c,d\n")
    args = [
        "dataset=preference_table",
        f"dataset.path={table}",
        "model=tiny_llama",
        "dry_run=true",
        "tracking.wandb.mode=disabled",
        f"tracking.output_root={tmp_path / 'runs'}",
        f"hydra.run.dir={tmp_path / 'hydra'}",
        *overrides,
    ]
    code, err = _run_module("responserank.llm.train", args, monkeypatch, capsys)
    _assert_one_line(code, err, *fragments)


def test_a_bug_inside_the_job_keeps_its_traceback(monkeypatch):
    from responserank.cli_errors import run_hydra

    def job() -> None:
        with exit_on_project_error():
            raise KeyError("a bug")

    with pytest.raises(KeyError):
        run_hydra(job)


@pytest.mark.parametrize("failure", ["path_through_a_file", "read_only"])
def test_train_output_folder_that_cannot_be_written(failure, tmp_path, monkeypatch, capsys):
    table = tmp_path / "prefs.csv"
    table.write_text("prompt,chosen,rejected\nq,a,b\nq2,c,d\n")
    root = tmp_path / "runs"
    if failure == "path_through_a_file":
        root = table / "runs"  # a regular file where a folder should be
        expected = [f"{root}", "Not a directory"]
    else:
        real_mkdir = Path.mkdir

        def read_only(self, *args, **kwargs):
            if str(self).startswith(str(root)):
                raise OSError(errno.EROFS, "Read-only file system", str(self))
            return real_mkdir(self, *args, **kwargs)

        monkeypatch.setattr(Path, "mkdir", read_only)
        expected = [f"{root}", "Read-only file system"]
    args = [
        "dataset=preference_table",
        f"dataset.path={table}",
        "model=tiny_llama",
        "tracking.wandb.mode=disabled",
        f"tracking.output_root={root}",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    ]
    code, err = _run_module("responserank.llm.train", args, monkeypatch, capsys)
    _assert_one_line(code, err, *expected)


def test_an_unreadable_data_file_is_named(tmp_path, monkeypatch, capsys):
    table = tmp_path / "prefs.csv"
    table.write_text("prompt,chosen,rejected\nq,a,b\nq2,c,d\n")
    real_read_bytes = Path.read_bytes

    def unreadable(self):  # chmod 000 does not stop root, so the refusal is simulated
        if self == table:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    args = [
        "dataset=preference_table",
        f"dataset.path={table}",
        "model=tiny_llama",
        "dry_run=true",
        "tracking.wandb.mode=disabled",
        f"tracking.output_root={tmp_path / 'runs'}",
        f"hydra.run.dir={tmp_path / 'hydra'}",
    ]
    code, err = _run_module("responserank.llm.train", args, monkeypatch, capsys)
    _assert_one_line(code, err, str(table), "cannot be read (Permission denied)")


def test_true_arm_refuses_a_run_that_is_not_a_true_model_run(tmp_path, monkeypatch, capsys):
    run_dir = _finished_run(tmp_path / "runs")
    (run_dir / "config.yaml").write_text(
        "dataset:\n  _target_: responserank.llm.data.sources.multipref.MultiPrefSource\n"
    )
    code, err = _run_module(
        "responserank.llm.true_arm",
        [str(run_dir), "--lie-path", str(tmp_path / "no-lie"), "--out", str(tmp_path / "a.csv")],
        monkeypatch,
        capsys,
    )
    _assert_one_line(code, err, str(run_dir), "not a TRUE reliability run", "MultiPrefSource")


def test_synthetic_runner_output_folder_through_a_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = _python_m(
        "responserank.synthetic.experiment_runner",
        f"hydra.run.dir={blocker / 'run'}",
        cwd=REPO_ROOT,
    )
    _assert_one_line(done.returncode, done.stderr, str(blocker / "run"), "Not a directory")
