"""The run record on disk (contract E) and its wandb mirror.

Layout of ``<tracking.output_root>/<group_id>/<run_name>/``::

    config.yaml        resolved config
    overrides.yaml     Hydra overrides and group choices
    environment.json   host, versions, devices, SLURM ids
    summary.json       status, timestamps, final metrics, git state (rewritten atomically)
    metrics.jsonl      one JSON object per evaluation: {"epoch", "step", "<metric>": value, ...}
    data_stats.json    statistics of the prepared data and of the batch packing
    git.diff           uncommitted changes, when the tree was dirty
    checkpoints/       Trainer checkpoints (for resume; removed after a finished run by default)
    model/             reward model + tokenizer in HF format (unless save_model=false)
    dry_run/           a dry run's own record; it never touches the files above

wandb mirrors the same content: the resolved config, group id, Hydra choices/overrides, SLURM job
id, git state (the diff as an artifact when dirty), every logged metric, and ``status`` in the run
summary. Without credentials it runs offline; ``tracking.wandb.mode=disabled`` turns it off.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import netrc
import os
import platform
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml
from omegaconf import DictConfig, OmegaConf

from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.jsonl import read_json_objects

log = logging.getLogger(__name__)

STATUSES = ("running", "finished", "failed", "stopped")
SLURM_KEYS = ("SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_JOB_NAME")
WANDB_MODES = ("auto", "online", "offline", "disabled")


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _parse_time(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp)


# ----------------------------------------------------------------------------------------------
# Provenance
# ----------------------------------------------------------------------------------------------


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def git_state(repo: Path) -> tuple[dict[str, Any], str]:
    """Commit, branch, dirty flag and untracked files of the source tree, and its diff against
    HEAD ('' if clean)."""
    commit = _git(["rev-parse", "HEAD"], repo)
    if commit is None:
        return {"available": False}, ""
    status = (_git(["status", "--porcelain"], repo) or "").splitlines()
    untracked = [line[3:] for line in status if line.startswith("??")]
    diff = (_git(["diff", "HEAD"], repo) or "") if status else ""
    branch = (_git(["rev-parse", "--abbrev-ref", "HEAD"], repo) or "").strip()
    return {
        "available": True,
        "commit": commit.strip(),
        "branch": branch,
        "dirty": bool(status),
        "untracked": untracked,
    }, diff


def slurm_ids() -> dict[str, str]:
    return {key: os.environ[key] for key in SLURM_KEYS if key in os.environ}


def environment_info() -> dict[str, Any]:
    import accelerate
    import peft
    import torch
    import transformers

    devices = []
    if torch.cuda.is_available():
        devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "pid": os.getpid(),
        "argv": sys.argv,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "accelerate": accelerate.__version__,
            "peft": peft.__version__,
        },
        "cuda_devices": devices,
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "slurm": slurm_ids(),
    }


# ----------------------------------------------------------------------------------------------
# Run record on disk
# ----------------------------------------------------------------------------------------------


class RunRecord:
    """Reads and writes one run directory; every write is atomic."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @classmethod
    def holding_model(cls, model_dir: Path) -> RunRecord | None:
        """The record whose ``model/`` folder is ``model_dir``, or None for a model saved elsewhere.

        Symlinks are kept (a run's ``model/`` may link to weights stored elsewhere), so the record
        is found from the path as given.
        """
        parent = Path(os.path.abspath(model_dir)).parent
        record = cls(parent)
        return record if record.summary_path.is_file() else None

    def read_summary(self) -> dict[str, Any] | None:
        """The summary, or None before the run wrote one; a malformed file is an error."""
        if not self.summary_path.is_file():
            return None
        try:
            summary = json.loads(self.summary_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{self.summary_path}: not valid JSON ({exc})") from exc
        if not isinstance(summary, dict) or not isinstance(summary.get("metrics", {}), dict):
            raise ValueError(
                f"{self.summary_path}: expected a JSON object whose 'metrics' is an object"
            )
        return summary

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every logged evaluation, in order; a line that is not a JSON object is an error."""
        if not self.metrics_path.is_file():
            return []
        return read_json_objects(self.metrics_path)

    def write_config(self, cfg: DictConfig, hydra_info: Mapping[str, Any]) -> None:
        write_text_atomic(self.path / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        write_text_atomic(
            self.path / "overrides.yaml", yaml.safe_dump(dict(hydra_info), sort_keys=True)
        )

    def write_json(self, name: str, obj: Any) -> None:
        write_json_atomic(self.path / name, obj)

    def write_summary(self, summary: dict[str, Any]) -> None:
        if summary.get("status") not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {summary.get('status')!r}")
        write_json_atomic(self.summary_path, {**summary, "updated_at": utc_now()})

    def update_summary(self, **fields: Any) -> dict[str, Any]:
        summary = {**(self.read_summary() or {}), **fields}
        self.write_summary(summary)
        return summary

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Add one evaluation row (the file is small: rewriting it keeps every write atomic)."""
        rows = [*self.read_metrics(), row]
        write_text_atomic(
            self.metrics_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
        )

    def add_final_metrics(self, metrics: Mapping[str, float]) -> None:
        """Record scores of the final model computed after training (e.g. by ``evaluate``).

        They are appended to ``metrics.jsonl`` as one row with the epoch and step of the run's last
        evaluation, and merged into the summary's ``metrics``, so the analysis sees them like the
        scores logged during training.
        """
        summary = self.read_summary()
        if summary is None:
            raise FileNotFoundError(f"{self.summary_path} does not exist: not a run record")
        rows = self.read_metrics()
        last = rows[-1] if rows else {}
        self.append_metrics({"epoch": last.get("epoch"), "step": last.get("step"), **metrics})
        self.update_summary(metrics={**summary.get("metrics", {}), **metrics})

    def reset_metrics(self) -> None:
        self.metrics_path.unlink(missing_ok=True)


def claim_reason(summary: dict[str, Any] | None, stale_after_s: float) -> str | None:
    """Why a run must not start again: it finished, or another process is still running it."""
    if not summary or summary.get("dry_run"):
        return None
    if summary.get("status") == "finished":
        return f"finished at {summary.get('finished_at')}"
    if summary.get("status") == "running" and summary.get("updated_at"):
        age = (dt.datetime.now(dt.UTC) - _parse_time(summary["updated_at"])).total_seconds()
        if age < stale_after_s:
            return f"running elsewhere (record updated {age:.0f}s ago on {summary.get('host')})"
    return None


# ----------------------------------------------------------------------------------------------
# wandb
# ----------------------------------------------------------------------------------------------


def wandb_credentials_available() -> bool:
    """An API key in the environment or in ~/.netrc for the configured wandb host."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    path = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return path.is_file() and netrc.netrc(path).authenticators(host or "") is not None
    except (netrc.NetrcParseError, OSError):
        return False


def resolve_wandb_mode(requested: str) -> str:
    """``auto``: WANDB_MODE if set, else online with credentials and offline without."""
    if requested not in WANDB_MODES:
        raise ValueError(f"tracking.wandb.mode={requested!r}; choose one of {list(WANDB_MODES)}")
    if requested != "auto":
        return requested
    env_mode = os.environ.get("WANDB_MODE")
    if env_mode:
        return {"dryrun": "offline", "run": "online"}.get(env_mode, env_mode)
    return "online" if wandb_credentials_available() else "offline"


def wandb_claim_reason(project: str, entity: str | None, name: str, api: Any = None) -> str | None:
    """Why wandb says this run must not start again (a run of this name running or finished)."""
    if api is None:
        import wandb

        api = wandb.Api()
    path = f"{entity}/{project}" if entity else project
    for run in api.runs(path, filters={"display_name": name}):
        status = run.summary.get("status")
        if status == "finished" and not run.summary.get("dry_run", False):
            return f"finished in wandb ({run.url})"
        if run.state == "running" and status == "running":
            return f"running in wandb ({run.url})"
    return None


class WandbMirror:
    """Mirrors the run record to wandb; a no-op when disabled."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.run = None

    @property
    def enabled(self) -> bool:
        return self.mode != "disabled"

    def start(
        self,
        wandb_cfg: DictConfig,
        run_dir: Path,
        name: str,
        group: str,
        config: dict[str, Any],
        job_type: str,
        resume_id: str | None,
    ) -> str | None:
        if not self.enabled:
            return None
        import wandb

        run_dir.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            project=wandb_cfg.project,
            entity=wandb_cfg.get("entity"),
            name=name,
            group=group,
            job_type=job_type,
            tags=list(wandb_cfg.get("tags") or []),
            config=config,
            dir=str(run_dir),
            mode=self.mode,
            id=resume_id,
            resume="allow" if resume_id else None,
        )
        return self.run.id

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if self.run is not None:
            self.run.log(dict(metrics), step=step)

    def set_summary(self, **fields: Any) -> None:
        if self.run is not None:
            for key, value in fields.items():
                self.run.summary[key] = value

    def log_diff(self, diff: str, run_dir: Path) -> None:
        if self.run is None or not diff:
            return
        import wandb

        artifact = wandb.Artifact(f"git-diff-{self.run.id}", type="git-diff")
        artifact.add_file(str(run_dir / "git.diff"))
        self.run.log_artifact(artifact)

    def finish(self, status: str) -> None:
        if self.run is not None:
            self.run.summary["status"] = status
            self.run.finish(exit_code=0 if status == "finished" else 1)
            self.run = None
