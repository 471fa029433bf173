"""Where and from what source a result was computed: git state, host, process, SLURM job ids.

Every family records the same facts the same way: the LLM run record (``environment.json`` and the
summary's ``git``) and the synthetic runner's ``.provenance.json`` sidecar both read them here.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

#: SLURM variables that identify a job or an array task.
SLURM_KEYS = ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_NAME")
GIT_TIMEOUT_S = 30


def _git(args: list[str], cwd: Path) -> str | None:
    """Stdout of ``git <args>`` in ``cwd``, or None when git is missing or the call fails."""
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def git_commit(repo: Path) -> str | None:
    """The commit checked out in ``repo`` (40 hex digits), or None outside a git checkout."""
    commit = (_git(["rev-parse", "HEAD"], repo) or "").strip()
    return commit or None


def git_state(repo: Path) -> tuple[dict[str, Any], str]:
    """Commit, branch, dirty flag and untracked files of the source tree, and its diff against
    HEAD ('' if clean); ``{"available": False}`` outside a git checkout."""
    commit = git_commit(repo)
    if commit is None:
        return {"available": False}, ""
    status = (_git(["status", "--porcelain"], repo) or "").splitlines()
    untracked = [line[3:] for line in status if line.startswith("??")]
    diff = (_git(["diff", "HEAD"], repo) or "") if status else ""
    branch = (_git(["rev-parse", "--abbrev-ref", "HEAD"], repo) or "").strip()
    return {
        "available": True,
        "commit": commit,
        "branch": branch,
        "dirty": bool(status),
        "untracked": untracked,
    }, diff


def slurm_ids() -> dict[str, str]:
    """The SLURM job / array ids of this process (empty outside SLURM)."""
    return {key: os.environ[key] for key in SLURM_KEYS if key in os.environ}


def hostname() -> str:
    return socket.gethostname()


def package_versions(*names: str) -> dict[str, str]:
    """``{name: module.__version__}`` for importable packages (missing ones are left out)."""
    versions = {}
    for name in names:
        try:
            versions[name] = str(import_module(name).__version__)
        except (ImportError, AttributeError):
            continue
    return versions


def environment_info(*packages: str) -> dict[str, Any]:
    """Python, platform, host, pid, command line, versions of ``packages``, CUDA devices, world
    size and SLURM ids of this process."""
    import torch

    devices = []
    if torch.cuda.is_available():
        devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hostname": hostname(),
        "pid": os.getpid(),
        "argv": sys.argv,
        "versions": package_versions(*packages),
        "cuda_devices": devices,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "slurm": slurm_ids(),
    }
