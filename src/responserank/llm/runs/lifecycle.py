"""The life of one run record: skip or claim, resume, open, finish (finished / stopped / failed).

    lifecycle = RunLifecycle(spec, hydra_info, state)
    if (skipped := lifecycle.start()) is not None:
        return skipped
    with lifecycle:                      # record opened; signals turn into a clean stop
        ...                              # prepare data
        lifecycle.open_mirror()          # wandb starts once the data is accepted
        ...                              # train
        return lifecycle.finish(metrics, data_stats)
    return lifecycle.outcome             # reached after a stop signal: status "stopped"

Order of :meth:`RunLifecycle.start` (main process; the decision is broadcast to the others):
take the run's claim (``responserank.llm.runs.claims``; ``force=true`` or RESPONSERANK_IGNORE_CLAIMS=1
take over any claim), then skip the run when its summary says finished (or, for a record without
a claim file, running and fresh), or when wandb online knows a finished or running run of the same
name; otherwise pick the checkpoint to resume from (the newest complete one, see
:mod:`responserank.llm.runs.resume`; an explicit ``resume=<checkpoint>`` is checked against this
run's configuration before the claim) and log it. A ``summary.json`` that cannot be read is set
aside when no model was saved, else refused naming it. Leaving the ``with`` block writes the final
status and releases the claim whatever happened; a run refused by its configuration or its data
(``ConfigError``, ``DataValidationError``) before anything was trained removes the record it had
just created, so a refusal leaves no run record behind. Dry runs write their own ``dry_run/`` record and
neither claim nor skip. Readers of finished records (the TRUE-model predict step) use
:func:`finished_record`.
"""

from __future__ import annotations

import contextlib
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

from responserank.atomic_io import write_text_atomic
from responserank.errors import ConfigError, DataValidationError, InputFileError, RunStopped
from responserank.llm.config.schema import RESUME_CHOICES
from responserank.llm.config.spec import RunSpec
from responserank.llm.runs.claims import Claim, claim_reason
from responserank.llm.runs.interrupts import GracefulStop
from responserank.llm.runs.record import RunRecord, utc_now
from responserank.llm.runs.resume import (
    check_explicit_resume,
    checkpoint_step,
    newest_complete_checkpoint,
)
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


def ignoring_claims(spec: RunSpec) -> bool:
    return spec.force or os.environ.get(IGNORE_CLAIMS_ENV) == "1"


def skip_reason(
    spec: RunSpec, record: RunRecord, name: str, wandb_mode: str, took_over: bool = False
) -> str | None:
    """Why the run must not start: it finished, its record (without a claim file) says it is
    running, or wandb online knows it; None with ``force`` or RESPONSERANK_IGNORE_CLAIMS=1.
    ``took_over``: a dead claim was just replaced, so a ``running`` status is stale."""
    if ignoring_claims(spec):
        return None
    stale_after_s = 0.0 if took_over else spec.runtime.claim_timeout_s
    reason = claim_reason(record.read_summary(), stale_after_s)
    if reason is None and wandb_mode == "online":
        wandb = spec.tracking.wandb
        reason = wandb_claim_reason(wandb.project, wandb.entity, name)
    return reason


def resume_checkpoint(spec: RunSpec, record: RunRecord) -> str | None:
    """The checkpoint to continue from, if any (never for a run that already finished): the one
    given, or with ``resume=auto`` the newest complete one of the record (incomplete ones are
    skipped with a warning and removed, see :mod:`responserank.llm.runs.resume`)."""
    if spec.resume not in RESUME_CHOICES:
        return spec.resume
    summary = record.read_summary() or {}
    if spec.resume == "never" or summary.get("status") == RunStatus.FINISHED:
        return None
    if not record.checkpoint_dir.is_dir():
        return None
    found = newest_complete_checkpoint(record.checkpoint_dir)
    return None if found is None else str(found)


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

    def __init__(self, spec: RunSpec, hydra_info: Mapping[str, Any], state: PartialState) -> None:
        self.spec, self.hydra_info, self.state = spec, dict(hydra_info), state
        self.group, self.name = spec.group_id, spec.run_name
        self.run_dir = Path(spec.tracking.output_root) / self.group / self.name
        self.record = RunRecord(self.run_dir / "dry_run" if spec.dry_run else self.run_dir)
        self.main = state.is_main_process
        self.mirror = WandbMirror(
            resolve_wandb_mode(spec.tracking.wandb.mode) if self.main else "disabled"
        )
        self.claim = Claim(self.record.claim_path, spec.runtime.claim_timeout_s)
        self.stopper = GracefulStop()
        self.show_progress = spec.runtime.progress_bar and state.is_local_main_process
        self.resumed: str | None = None
        self.resume_mismatch: list[str] = []  # keys allowed to differ (resume_mismatch=allow)
        self.outcome: RunOutcome | None = None
        self._new_record = False  # set when the record is opened: no earlier summary existed
        self._mirror_pending: tuple[Any, str, str | None] | None = None  # (git, diff, wandb id)
        self._started = time.monotonic()

    # ---- before the run ---------------------------------------------------------------------

    def start(self) -> RunOutcome | None:
        """Claim the run and choose its checkpoint; a ``skipped`` outcome when it must not run."""
        reason = None
        if self.spec.resume not in RESUME_CHOICES and not self.spec.dry_run:
            self.resume_mismatch = check_explicit_resume(self.spec, self.spec.resume)
        if self.main and not self.spec.dry_run:
            reason = self.claim.acquire(force=ignoring_claims(self.spec))
            try:
                if reason is None:
                    self._set_aside_damaged_summary()
                    reason = skip_reason(
                        self.spec, self.record, self.name, self.mirror.mode, self.claim.replaced
                    )
                if reason is None:
                    self.resumed = resume_checkpoint(self.spec, self.record)
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
        if self.resumed and self.main:
            log.info(
                "%s: resuming from %s at step %s%s",
                self.name,
                self.resumed,
                checkpoint_step(Path(self.resumed)),
                f" (resume_mismatch=allow: {', '.join(self.resume_mismatch)} differ)"
                if self.resume_mismatch
                else "",
            )
        return None

    def _set_aside_damaged_summary(self) -> None:
        """Take over a run whose ``summary.json`` cannot be read (truncated, damaged), when that
        is safe: the claim is held, so no process trains the run; without a saved ``model/`` it
        did not finish, and the damaged file is set aside (kept) for a new one. A run that saved
        its model may have finished: refused (InputFileError naming the file) unless ``force``."""
        try:
            self.record.read_summary()
        except InputFileError as damaged:
            if self.record.model_dir.exists() and not ignoring_claims(self.spec):
                raise InputFileError(
                    f"{damaged}; the run saved {self.record.model_dir}, so it may have finished: "
                    "force=true trains it again (the damaged file is kept beside the new one)"
                ) from None
            aside = self.record.set_aside_damaged_summary()
            log.warning("%s; kept as %s, the run is taken over", damaged, aside)

    def __enter__(self) -> RunLifecycle:
        self._started = time.monotonic()
        self.stopper.install()
        try:
            if self.main:
                fresh = not self.resumed and not self.spec.dry_run
                if fresh and self.record.checkpoint_dir.exists():
                    shutil.rmtree(self.record.checkpoint_dir)
                self._new_record = self.spec.dry_run or not self.record.summary_path.exists()
                self._open_record()
        except BaseException:
            self.stopper.restore()
            self.claim.release()
            raise
        return self

    def _open_record(self) -> None:
        """Write config, overrides, environment and git state; mark the run running (wandb
        starts later, in :meth:`open_mirror`)."""
        record, resumed, spec = self.record, self.resumed, self.spec
        previous = record.read_summary() or {}
        git, diff = git_state(REPO_ROOT)
        environment = environment_info(*RECORDED_PACKAGES)
        record.write_config(spec.resolved_yaml, self.hydra_info)
        record.write_json("environment.json", environment)
        if diff:
            write_text_atomic(record.path / "git.diff", diff)
        if not resumed:
            record.reset_metrics()
        base = {
            "run_name": self.name,
            "group_id": self.group,
            "experiment": spec.experiment.name,
            "fraction": spec.experiment.fraction,
            "seed": spec.seed,
            "dry_run": spec.dry_run,
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
            "resumed_at_step": checkpoint_step(Path(resumed)) if resumed else None,
            **({"resume_mismatch_allowed": self.resume_mismatch} if self.resume_mismatch else {}),
            "wandb_id": previous.get("wandb_id") if resumed else None,
        }
        record.write_summary(summary)
        self._mirror_pending = (git, diff, summary["wandb_id"])

    def open_mirror(self) -> None:
        """Start the wandb mirror of the opened record (once; main process only). Called after
        the data is prepared, so a refused data file or value never opens a wandb run."""
        if not self.main or self._mirror_pending is None:
            return
        (git, diff, resume_id), self._mirror_pending = self._mirror_pending, None
        spec, record = self.spec, self.record
        wandb_config = {
            **spec.resolved,
            "group_id": self.group,
            "hydra": self.hydra_info,
            "slurm": slurm_ids(),
            "git": git,
        }
        wandb_id = self.mirror.start(
            spec.tracking.wandb,
            record.path,
            self.name,
            self.group,
            wandb_config,
            job_type="dry_run" if spec.dry_run else "train",
            resume_id=resume_id,
        )
        record.update_summary(wandb_id=wandb_id, wandb_mode=self.mirror.mode)
        self.mirror.set_summary(status="running", dry_run=spec.dry_run, group_id=self.group)
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
            if self._refused(exc):
                self.mirror.finish(RunStatus.FAILED)
                self.claim.release()
                self._remove_record()
                return False
            if exc is not None and self.main and self.record.summary_path.exists():
                status, error_text = ended_by(exc)
                self.record.update_summary(status=status, finished_at=utc_now(), error=error_text)
                self.mirror.finish(status)
            return False
        finally:
            self.stopper.restore()
            self.claim.release()

    def _refused(self, exc: BaseException | None) -> bool:
        """A configuration or the data refused before anything was trained, in a record this run
        created: the record goes (a refused run leaves none behind, see :meth:`_remove_record`)."""
        refusal = isinstance(exc, ConfigError | DataValidationError)
        return (
            refusal and self.main and self._new_record and not self.record.checkpoint_dir.exists()
        )

    def _remove_record(self) -> None:
        """Delete the record this run created, then its run and group folders if left empty."""
        shutil.rmtree(self.record.path, ignore_errors=True)
        for folder in (self.run_dir, self.run_dir.parent):
            with contextlib.suppress(OSError):  # not empty: other runs or records live there
                folder.rmdir()

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
