"""Provenance shared by every family: git state, SLURM ids, host facts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from responserank.provenance import environment_info, git_commit, git_state, slurm_ids

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_git_commit_and_state_agree_with_git():
    expected = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_commit(REPO_ROOT) == expected
    state, diff = git_state(REPO_ROOT)
    assert state["available"] is True and state["commit"] == expected
    assert isinstance(state["dirty"], bool) and isinstance(diff, str)
    assert state["dirty"] == bool(diff) or state["untracked"]


def test_outside_a_checkout_nothing_is_invented(tmp_path):
    assert git_commit(tmp_path) is None
    assert git_state(tmp_path) == ({"available": False}, "")


def test_slurm_ids_and_environment(monkeypatch):
    for key in ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_NAME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SLURM_JOB_ID", "123")
    assert slurm_ids() == {"SLURM_JOB_ID": "123"}
    info = environment_info("torch", "no_such_package_here")
    assert set(info["versions"]) == {"torch"}
    assert re.match(r"\d+\.\d+", info["versions"]["torch"])
    assert info["slurm"] == {"SLURM_JOB_ID": "123"} and info["pid"] > 0
