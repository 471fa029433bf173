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

A claim file that is not a claim (damaged: truncated, not JSON, missing fields) cannot say who holds
it; it is judged by its modification time instead of a heartbeat: older than the staleness bound
it is taken over (with a warning naming the file), younger it makes the run skip with a message
naming the file, as a live claim does. A holder whose own claim got damaged rewrites it at the
next heartbeat.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from responserank.atomic_io import write_json_atomic
from responserank.errors import InputFileError
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
    """The claim at ``path``, or None when there is none.

    Raises InputFileError naming the file when it is not a claim (see the module docstring).
    """
    try:
        text = path.read_bytes().decode("utf-8")
        holder = ClaimHolder(**json.loads(text))
        seconds_since(holder.heartbeat_at)  # a time stamp with its UTC offset
        if not isinstance(holder.pid, int) or not isinstance(holder.host, str):
            raise TypeError("pid must be an integer and host a string")
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise InputFileError(
            f"{path}: damaged claim file: expected a JSON object with host, pid, token, "
            f"claimed_at, heartbeat_at ({exc})"
        ) from exc
    return holder


def _read_or_damaged(path: Path) -> ClaimHolder | InputFileError | None:
    """:func:`read_holder`, with a damaged file returned as its error instead of raised."""
    try:
        return read_holder(path)
    except InputFileError as damaged:
        return damaged


def damaged_reason(path: Path, damaged: InputFileError, stale_after_s: float) -> str | None:
    """Why a damaged claim file still owns its run (written less than ``stale_after_s`` ago),
    or None when it may be taken over."""
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None
    if age >= stale_after_s:
        return None
    return (
        f"{damaged}; it was written {age:.0f}s ago, so a process may still train this run: it "
        f"is taken over once {stale_after_s:.0f}s old, or at once with force=true"
    )


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
        self.took_over_damaged = False
        self.held = False
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
        self._created_at: str | None = None

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
            holder = _read_or_damaged(self.path)
            if holder is None:
                continue
            if isinstance(holder, InputFileError):
                reason = None if force else damaged_reason(self.path, holder, self.stale_after_s)
            else:
                reason = None if force else live_reason(holder, self.stale_after_s)
            if reason is not None:
                return reason
            self._remove(holder)
        return f"claim {self.path} is contended; try again"

    @property
    def replaced(self) -> bool:
        """Whether acquiring replaced a claim left behind (dead or stale holder, damaged file)."""
        return self.took_over is not None or self.took_over_damaged

    def refresh(self) -> None:
        """Rewrite the heartbeat, if the claim is still ours (a claim of ours that got damaged
        is written again)."""
        holder = _read_or_damaged(self.path)
        if isinstance(holder, InputFileError):
            log.warning("%s; writing this process's claim again", holder)
            content = self._content()
            write_json_atomic(self.path, {**content, "claimed_at": self._created_at or utc_now()})
            return
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
            holder = _read_or_damaged(self.path)
            ours = isinstance(holder, InputFileError) or (
                holder is not None and holder.token == self.token
            )
            if ours:  # a claim damaged while this process held it is this process's too
                self.path.unlink(missing_ok=True)
            self.held = False

    # ---- internals -----------------------------------------------------------------------------

    def _content(self) -> dict[str, Any]:
        now = utc_now()
        return asdict(ClaimHolder(hostname(), os.getpid(), self.token, now, now))

    def _create(self) -> bool:
        """Publish a complete claim file unless one exists (``os.link`` is atomic, no overwrite)."""
        private = self.path.with_name(f".{self.path.name}.{self.token}")
        content = self._content()
        self._created_at = content["claimed_at"]
        write_json_atomic(private, content)
        try:
            os.link(private, self.path)
        except FileExistsError:
            return False
        finally:
            private.unlink(missing_ok=True)
        return True

    def _remove(self, judged: ClaimHolder | InputFileError) -> None:
        """Move the claim ``judged`` dead (or damaged) out of the way; put back a claim that
        replaced it."""
        aside = self.path.with_name(f".{self.path.name}.{self.token}.old")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved = _read_or_damaged(aside)
        replaced = isinstance(moved, ClaimHolder) and (
            isinstance(judged, InputFileError) or moved.token != judged.token
        )
        if replaced:
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
        elif isinstance(judged, InputFileError):
            self.took_over_damaged = True
            log.warning("%s; taking the claim over (older than %.0fs)", judged, self.stale_after_s)
        else:
            self.took_over = judged
            log.warning("%s: taking over the claim of %s", self.path, judged.describe())
        aside.unlink(missing_ok=True)

    def _start_heartbeat(self) -> None:
        interval = min(HEARTBEAT_MAX_INTERVAL_S, self.stale_after_s / 4)
        self._stop.clear()

        def beat() -> None:
            while not self._stop.wait(interval):
                try:
                    self.refresh()
                except OSError as err:  # a full or read-only disk: the run reports it itself
                    log.warning("%s: could not refresh the claim's heartbeat: %s", self.path, err)

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
