"""scripts/activate (via scripts/ensure_venv.sh) exports the offline settings only when unset."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "WANDB_MODE", "TOKENIZERS_PARALLELISM")


def _fake_venv(tmp_path: Path) -> Path:
    """A venv stand-in that ensure_venv.sh accepts as up to date (no install is attempted)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    (venv / "bin" / "activate").write_text("")
    shutil.copy(ROOT / "requirements-lock.txt", venv / ".responserank-lock")
    return venv


def _sourced_settings(tmp_path: Path, preset: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env.update(preset, RR_VENV=str(_fake_venv(tmp_path)))
    printed = " ".join(f'"${name}"' for name in SETTINGS)
    out = subprocess.run(
        ["bash", "-c", f'source "{ROOT}/scripts/activate" && printf "%s\\n" {printed}'],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return dict(zip(SETTINGS, out, strict=True))


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_defaults_when_unset(tmp_path: Path) -> None:
    assert _sourced_settings(tmp_path, {}) == {
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "WANDB_MODE": "offline",
        "TOKENIZERS_PARALLELISM": "false",
    }


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_values_already_set_are_kept(tmp_path: Path) -> None:
    preset = {
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "WANDB_MODE": "online",
        "TOKENIZERS_PARALLELISM": "true",
    }
    assert _sourced_settings(tmp_path, preset) == preset
