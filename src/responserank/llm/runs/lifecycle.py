"""The life of one run record: skip or claim, resume, open, finish (finished / stopped / failed).

    lifecycle = RunLifecycle(cfg, typed, hydra_info, state)
    if (skipped := lifecycle.start()) is not None:
        return skipped
    with lifecycle:                      # record opened; signals turn into a clean stop
        ...                              # prepare data, train
        return lifecycle.finish(metrics, data_stats)
    return lifecycle.outcome             # reached after a stop signal: status "stopped"

Order of :meth:`RunLifecycle.start` (main process; the decision is broadcast to the others):
take the run's claim (``responserank.llm.runs.claims``; ``force=true`` or RESPONSERANK_IGNORE_CLAIMS=1
take over any claim), then skip the run when its summary says finished (or, for a record without
a claim file, running and fresh), or when wandb online knows a finished or running run of the same
name; otherwise pick the checkpoint to resume from. Leaving the ``with`` block writes the final
status and releases the claim whatever happened. Dry runs write their own ``dry_run/`` record and
neither claim nor skip. Readers of finished records (the TRUE-model predict step) use
:func:`finished_record`.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accelerate import PartialState
from accelerate.utils import broadcast_object_list
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from transformers.trainer_utils import get_last_checkpoint

from responserank.atomic_io import write_text_atomic
from responserank.errors import ConfigError, RunStopped
from responserank.llm.config import RESUME_CHOICES, TrainConfig
from responserank.llm.runs.claims import Claim, claim_reason
from responserank.llm.runs.identity import group_id, run_name
from responserank.llm.runs.interrupts import GracefulStop
from responserank.llm.runs.record import RunRecord, utc_now
from responserank.llm.runs.wandb_mirror import WandbMirror, resolve_wandb_mode, wandb_claim_reason
from responserank.provenance import environment_info, git_state, slurm_ids
from responserank.run_status import RunStatus, ended_by

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[3]
#: Set to 1 to start runs even when the run record or wandb says they finished or are running.
IGNORE_CLAIMS_ENV = "RESPONSERANK_IGNORE_CLAIMS"
RECORDED_PACKAGES = ("torch", "transformers", "accelerate", "peft")


@dataclass
class RunOutcome:
    """What a run did: ``status`` is finished, skipped or stopped (a dry run: finished)."""

    status: str
    run_name: str
    run_dir: Path
    metrics: dict[str, float] = field(default_factory=dict)
    data_stats: dict[str, Any] = field(default_factory=dict)
    exit_code: int = 0


def ignoring_claims(cfg: DictConfig) -> bool:
    return bool(cfg.force) or os.environ.get(IGNORE_CLAIMS_ENV) == "1"


def skip_reason(
    cfg: DictConfig, record: RunRecord, name: str, wandb_mode: str, took_over: bool = False
) -> str | None:
    """Why the run must not start: it finished, its record (without a claim file) says it is
    running, or wandb online knows it; None with ``force`` or RESPONSERANK_IGNORE_CLAIMS=1.
    ``took_over``: a dead claim was just replaced, so a ``running`` status is stale."""
    if ignoring_claims(cfg):
        return None
    stale_after_s = 0.0 if took_over else float(cfg.runtime.claim_timeout_s)
    reason = claim_reason(record.read_summary(), stale_after_s)
    if reason is None and wandb_mode == "online":
        wandb_cfg = cfg.tracking.wandb
        reason = wandb_claim_reason(wandb_cfg.project, wandb_cfg.get("entity"), name)
    return reason


def resume_checkpoint(cfg: DictConfig, record: RunRecord) -> str | None:
    """The checkpoint to continue from, if any (never for a run that already finished)."""
    if cfg.resume not in RESUME_CHOICES:
        return str(cfg.resume)
    summary = record.read_summary() or {}
    if cfg.resume == "never" or summary.get("status") == RunStatus.FINISHED:
        return None
    if not record.checkpoint_dir.is_dir():
        return None
    return get_last_checkpoint(str(record.checkpoint_dir))


def hydra_metadata() -> dict[str, Any]:
    """Overrides and group choices of the current Hydra job (empty outside ``@hydra.main``)."""
    if not HydraConfig.initialized():
        return {}
    hc = HydraConfig.get()
    choices = hc.runtime.choices.items()
    return {
        "overrides": list(hc.overrides.task),
        "choices": {
            k: v for k, v in choices if not k.startswith("hydra/") or k == "hydra/launcher"
        },
        "job_name": hc.job.name,
        "job_num": hc.job.get("num"),
        "mode": hc.mode.name if hc.mode is not None else None,
    }


def finished_record(run_dir: Path) -> RunRecord:
    """The record of a run that finished training; ConfigError for anything else."""
    record = RunRecord(run_dir)
    summary = record.read_summary()
    if summary is None:
        raise ConfigError(f"{run_dir}: no summary.json; pass run directories of trained runs")
    if summary.get("status") != RunStatus.FINISHED or summary.get("dry_run"):
        raise ConfigError(
            f"{run_dir}: the run has status {summary.get('status')!r}"
            f"{' (dry run)' if summary.get('dry_run') else ''}; expected a finished training run"
        )
    return record


class RunLifecycle:
    """Claim, skip, resume, record and finish one run (see the module docstring)."""

    def __init__(
        self,
        cfg: DictConfig,
        typed: TrainConfig,
        hydra_info: Mapping[str, Any],
        state: PartialState,
    ) -> None:
        self.cfg, self.typed, self.hydra_info, self.state = cfg, typed, dict(hydra_info), state
        self.group, self.name = group_id(cfg), run_name(cfg)
        self.run_dir = Path(typed.tracking.output_root) / self.group / self.name
        self.record = RunRecord(self.run_dir / "dry_run" if typed.dry_run else self.run_dir)
        self.main = state.is_main_process
        self.mirror = WandbMirror(
            resolve_wandb_mode(typed.tracking.wandb.mode) if self.main else "disabled"
        )
        self.claim = Claim(self.record.claim_path, typed.runtime.claim_timeout_s)
        self.stopper = GracefulStop()
        self.show_progress = typed.runtime.progress_bar and state.is_local_main_process
        self.resumed: str | None = None
        self.outcome: RunOutcome | None = None
        self._started = time.monotonic()

    # ---- before the run ---------------------------------------------------------------------

    def start(self) -> RunOutcome | None:
        """Claim the run and choose its checkpoint; a ``skipped`` outcome when it must not run."""
        reason = None
        if self.main and not self.typed.dry_run:
            reason = self.claim.acquire(force=ignoring_claims(self.cfg))
            try:
                if reason is None:
                    took_over = self.claim.took_over is not None
                    reason = skip_reason(
                        self.cfg, self.record, self.name, self.mirror.mode, took_over
                    )
                if reason is None:
                    self.resumed = resume_checkpoint(self.cfg, self.record)
            except BaseException:
                self.claim.release()
                raise
            if reason is not None:
                self.claim.release()
        if self.state.num_processes > 1:
            reason, self.resumed = broadcast_object_list([reason, self.resumed])
        self.state.wait_for_everyone()
        if reason:
            print(f"skipping {self.name}: {reason} (force=true to train it again)")
            return RunOutcome("skipped", self.name, self.run_dir)
        return None

    def __enter__(self) -> RunLifecycle:
        self._started = time.monotonic()
        self.stopper.install()
        try:
            if self.main:
                fresh = not self.resumed and not self.typed.dry_run
                if fresh and self.record.checkpoint_dir.exists():
                    shutil.rmtree(self.record.checkpoint_dir)
                self._open_record()
        except BaseException:
            self.stopper.restore()
            self.claim.release()
            raise
        return self

    def _open_record(self) -> None:
        """Write config, overrides, environment and git state; mark the run running; start wandb."""
        record, resumed, typed = self.record, self.resumed, self.typed
        previous = record.read_summary() or {}
        git, diff = git_state(REPO_ROOT)
        environment = environment_info(*RECORDED_PACKAGES)
        record.write_config(self.cfg, self.hydra_info)
        record.write_json("environment.json", environment)
        if diff:
            write_text_atomic(record.path / "git.diff", diff)
        if not resumed:
            record.reset_metrics()
        base = {
            "run_name": self.name,
            "group_id": self.group,
            "experiment": OmegaConf.select(self.cfg, "experiment.name"),
            "fraction": float(self.cfg.experiment.fraction),
            "seed": typed.seed,
            "dry_run": typed.dry_run,
        }
        summary = {
            **base,
            "status": RunStatus.RUNNING,
            "started_at": previous.get("started_at") if resumed else utc_now(),
            "finished_at": None,
            "metrics": {},
            "git": git,
            "host": environment["hostname"],
            "slurm": slurm_ids(),
            "resumed_from": resumed,
            "wandb_id": previous.get("wandb_id") if resumed else None,
        }
        record.write_summary(summary)
        wandb_config = {
            **OmegaConf.to_container(self.cfg, resolve=True),
            "group_id": self.group,
            "hydra": self.hydra_info,
            "slurm": slurm_ids(),
            "git": git,
        }
        wandb_id = self.mirror.start(
            typed.tracking.wandb,
            record.path,
            self.name,
            self.group,
            wandb_config,
            job_type="dry_run" if typed.dry_run else "train",
            resume_id=summary["wandb_id"],
        )
        record.update_summary(wandb_id=wandb_id, wandb_mode=self.mirror.mode)
        self.mirror.set_summary(status="running", dry_run=typed.dry_run, group_id=self.group)
        self.mirror.log_diff(diff, record.path)

    # ---- during the run ---------------------------------------------------------------------

    def record_data_stats(self, stats: dict[str, Any]) -> None:
        if self.main:
            self.record.write_json("data_stats.json", stats)
            self.mirror.set_summary(data_stats=stats)

    # ---- after the run ----------------------------------------------------------------------

    def finish(self, metrics: dict[str, float], data_stats: dict[str, Any]) -> RunOutcome:
        """Mark the run finished with its final metrics and print its summary."""
        self.outcome = self._close(RunStatus.FINISHED, metrics, data_stats)
        return self.outcome

    def __exit__(self, exc_type, exc, tb) -> bool:
        try:
            if isinstance(exc, RunStopped):
                log.warning("%s: %s", self.name, exc)
                self.outcome = self._close(RunStatus.STOPPED, {}, {})
                self.outcome.exit_code = exc.exit_status
                return True
            if exc is not None and self.main and self.record.summary_path.exists():
                status, error_text = ended_by(exc)
                self.record.update_summary(status=status, finished_at=utc_now(), error=error_text)
                self.mirror.finish(status)
            return False
        finally:
            self.stopper.restore()
            self.claim.release()

    def _close(
        self, status: str, metrics: dict[str, float], data_stats: dict[str, Any]
    ) -> RunOutcome:
        elapsed = time.monotonic() - self._started
        if self.main:
            summary = self.record.update_summary(
                status=status, finished_at=utc_now(), metrics=metrics, wall_time_s=round(elapsed, 1)
            )
            self.mirror.set_summary(
                **{f"final/{k}": v for k, v in metrics.items()}, wall_time_s=elapsed
            )
            self.mirror.finish(status)
            _print_summary(summary, self.record.path)
        return RunOutcome(status, self.name, self.run_dir, metrics, data_stats)


def _print_summary(summary: dict[str, Any], path: Path) -> None:
    lines = [
        f"run        {summary['run_name']}{'  (dry run)' if summary.get('dry_run') else ''}",
        f"status     {summary['status']}  after {summary.get('wall_time_s', 0):.1f}s",
        f"record     {path}",
    ]
    lines += [
        f"{key:<28} {value:.4f}"
        for key, value in sorted(summary.get("metrics", {}).items())
        if isinstance(value, float)
    ]
    print("\n".join(lines))
