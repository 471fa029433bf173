"""The wandb mirror of a run record, and what wandb says about a run of the same name.

wandb mirrors the record's content: the resolved config, group id, Hydra choices/overrides, SLURM
job id, git state (the diff as an artifact when dirty), every logged metric, and ``status`` in the
run summary. Without credentials it runs offline; ``tracking.wandb.mode=disabled`` turns it off.
"""

from __future__ import annotations

import netrc
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

WANDB_MODES = ("auto", "online", "offline", "disabled")


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
        wandb_cfg: Any,
        run_dir: Path,
        name: str,
        group: str,
        config: dict[str, Any],
        job_type: str,
        resume_id: str | None,
    ) -> str | None:
        """Open the wandb run (``wandb_cfg``: project, entity, tags); its id, or None if disabled."""
        if not self.enabled:
            return None
        import wandb

        run_dir.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            project=wandb_cfg.project,
            entity=wandb_cfg.entity,
            name=name,
            group=group,
            job_type=job_type,
            tags=list(wandb_cfg.tags or []),
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
