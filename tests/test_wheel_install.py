"""``pip install .`` (not editable) gives working commands: the wheel is built, installed into a
fresh virtual environment and used from another directory, with the configs read from the wheel.

Offline and fast: the wheel is built without build isolation, installed with ``--no-deps``, and
the new environment borrows the test environment's third-party packages through a ``.pth`` line
(a plain path entry, so the checkout's editable install in that folder stays inactive).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
DATASETS = "deterministic_all,stochastic,drift_diffusion"


def _build_wheel(tmp: Path) -> Path:
    """Build from a copy of the build inputs, so the checkout gets no build/ folder."""
    source = tmp / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "src", source / "src", ignore=ignore)
    shutil.copytree(REPO / "conf", source / "conf", ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(REPO / name, source / name)
    dist = tmp / "dist"
    command = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    subprocess.run([*command, "--no-index", "-w", str(dist), str(source)], check=True)
    (wheel,) = dist.glob("responserank-*.whl")
    return wheel


def _install(wheel: Path, tmp: Path) -> Path:
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run([*install, "--no-deps", "--no-index", str(wheel)], check=True)
    return venv / "bin"


def _run(bin_dir: Path, cwd: Path, *words: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [str(bin_dir / words[0]), *words[1:]], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, (
        f"{' '.join(words)} exited {done.returncode}:\n{done.stderr[-3000:]}"
    )
    return done


def test_installed_wheel_runs_a_dry_run_and_the_mini_pipeline_elsewhere(tmp_path):
    bin_dir = _install(_build_wheel(tmp_path), tmp_path)
    assert sorted(p.name for p in bin_dir.iterdir() if p.name in SCRIPTS) == sorted(SCRIPTS)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    where = _run(
        bin_dir,
        elsewhere,
        "python",
        "-c",
        "import responserank.configs as c; print(c.config_root())",
    )
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv"), where.stdout

    _run(bin_dir, elsewhere, "rr-fixtures", "multipref", "--comparisons", "80")
    dry = _run(
        bin_dir, elsewhere, "rr-train", "experiment=rr_agree", "model=minilm",
        "dataset.path=multipref", "dataset.test_size=20", "training.max_length=256",
        "dry_run=true", "tracking.wandb.mode=disabled",
    )  # fmt: skip
    assert "(dry run)" in dry.stdout
    assert list((elsewhere / "runs" / "llm").glob("rr_agree_*/*/dry_run/summary.json"))

    _run(
        bin_dir, elsewhere, "rr-synthetic", "-m", f"dataset={DATASETS}", "num_trials=2",
        "dataset_sizes=[0.5,1.0]", "execution_backend.progress=false",
    )  # fmt: skip
    results, figures = elsewhere / "mini" / "results", elsewhere / "mini" / "figures"
    _run(
        bin_dir,
        elsewhere,
        "rr-analysis-synthetic",
        "find",
        "outputs/experiment_runner",
        str(results),
    )
    _run(
        bin_dir, elsewhere, "rr-analysis-synthetic", "collect", str(results),
        "--paths-file", str(results / "experiment_paths.json"),
    )  # fmt: skip
    _run(bin_dir, elsewhere, "rr-analysis-synthetic", "generate", str(results), str(figures))
    assert sorted(
        p.stem for p in results.glob("*.json") if p.stem in DATASETS.split(",")
    ) == sorted(DATASETS.split(","))
    assert (figures / "synthetic_with_variability_dataset_size.png").is_file()
