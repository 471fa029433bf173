"""Who is training a run: an exclusive claim file with host, pid and a heartbeat.

A process that trains a run first creates ``<run_dir>/claim.json`` exclusively (the content is
written to a private file and published with ``os.link``, which fails when the claim exists, so
two processes never both hold it and nobody reads a half-written claim). While it trains, a
background thread rewrites the claim's ``heartbeat_at`` every ``min(60 s, staleness bound / 4)``;
the claim is removed when the run ends (finished, stopped or failed).

A claim left behind (kill -9, a lost node) is taken over:

- on the same host as soon as its process is dead (``pid`` no longer exists);
- from another host once its heartbeat is older than the staleness bound
  (``runtime.claim_timeout_s``); a live process whose heartbeat stopped is treated the same way.

A takeover renames the old claim aside (only one renamer succeeds) and checks it moved the claim it
judged dead; a fresh claim moved by mistake is put back.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from responserank.atomic_io import write_json_atomic
from responserank.llm.runs.record import seconds_since, utc_now
from responserank.provenance import hostname

log = logging.getLogger(__name__)

HEARTBEAT_MAX_INTERVAL_S = 60.0
ACQUIRE_ATTEMPTS = 4


@dataclass(frozen=True)
class ClaimHolder:
    """The content of a claim file."""

    host: str
    pid: int
    token: str
    claimed_at: str
    heartbeat_at: str

    def describe(self) -> str:
        age = seconds_since(self.heartbeat_at)
        return f"pid {self.pid} on {self.host}, heartbeat {age:.0f}s ago"


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a zombie counts as alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_holder(path: Path) -> ClaimHolder | None:
    """The claim at ``path``, or None when there is none; a malformed claim is an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return ClaimHolder(**json.loads(text))
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(
            f"{path}: expected a claim (JSON object with host, pid, token, claimed_at, "
            f"heartbeat_at); delete the file if no process trains this run ({exc})"
        ) from exc


def live_reason(holder: ClaimHolder, stale_after_s: float) -> str | None:
    """Why ``holder`` still owns its run, or None when its claim may be taken over."""
    if holder.host == hostname() and not pid_alive(holder.pid):
        return None
    if seconds_since(holder.heartbeat_at) >= stale_after_s:
        return None
    return f"running elsewhere ({holder.describe()})"


class Claim:
    """This process's claim on one run directory: :meth:`acquire`, then :meth:`release`."""

    def __init__(self, path: Path, stale_after_s: float) -> None:
        self.path = Path(path)
        self.stale_after_s = float(stale_after_s)
        self.token = uuid.uuid4().hex
        self.took_over: ClaimHolder | None = None
        self.held = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self, force: bool = False) -> str | None:
        """Take the claim; None on success, else why another process keeps it.

        ``force`` takes over any claim, live or not. On success a heartbeat thread keeps the claim
        fresh until :meth:`release`.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(ACQUIRE_ATTEMPTS):
            if self._create():
                self.held = True
                self._start_heartbeat()
                return None
            holder = read_holder(self.path)
            if holder is None:
                continue
            reason = None if force else live_reason(holder, self.stale_after_s)
            if reason is not None:
                return reason
            self._remove(holder)
        return f"claim {self.path} is contended; try again"

    def refresh(self) -> None:
        """Rewrite the heartbeat, if the claim is still ours."""
        holder = read_holder(self.path)
        if holder is None or holder.token != self.token:
            log.warning("%s: the claim was taken over by another process", self.path)
            return
        write_json_atomic(self.path, {**asdict(holder), "heartbeat_at": utc_now()})

    def release(self) -> None:
        """Stop the heartbeat and delete the claim, if it is still ours."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        if self.held:
            holder = read_holder(self.path)
            if holder is not None and holder.token == self.token:
                self.path.unlink(missing_ok=True)
            self.held = False

    # ---- internals -----------------------------------------------------------------------------

    def _content(self) -> dict[str, Any]:
        now = utc_now()
        return asdict(ClaimHolder(hostname(), os.getpid(), self.token, now, now))

    def _create(self) -> bool:
        """Publish a complete claim file unless one exists (``os.link`` is atomic, no overwrite)."""
        private = self.path.with_name(f".{self.path.name}.{self.token}")
        write_json_atomic(private, self._content())
        try:
            os.link(private, self.path)
        except FileExistsError:
            return False
        finally:
            private.unlink(missing_ok=True)
        return True

    def _remove(self, judged: ClaimHolder) -> None:
        """Move the claim ``judged`` dead out of the way; put back a claim that replaced it."""
        aside = self.path.with_name(f".{self.path.name}.{self.token}.old")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved = read_holder(aside)
        if moved is not None and moved.token != judged.token:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
        else:
            self.took_over = judged
            log.warning("%s: taking over the claim of %s", self.path, judged.describe())
        aside.unlink(missing_ok=True)

    def _start_heartbeat(self) -> None:
        interval = min(HEARTBEAT_MAX_INTERVAL_S, self.stale_after_s / 4)
        self._stop.clear()

        def beat() -> None:
            while not self._stop.wait(interval):
                self.refresh()

        self._beat = threading.Thread(target=beat, name="claim-heartbeat", daemon=True)
        self._beat.start()


def claim_reason(summary: dict[str, Any] | None, stale_after_s: float) -> str | None:
    """Why the summary says a run must not start again: it finished, or its status is ``running``
    and it was updated less than ``stale_after_s`` ago (a record without a claim file)."""
    if not summary or summary.get("dry_run"):
        return None
    if summary.get("status") == "finished":
        return f"finished at {summary.get('finished_at')}"
    if summary.get("status") == "running" and summary.get("updated_at"):
        age = seconds_since(summary["updated_at"])
        if age < stale_after_s:
            return f"running elsewhere (record updated {age:.0f}s ago on {summary.get('host')})"
    return None
