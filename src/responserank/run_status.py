"""The one run-status model of every runner (synthetic grid and LLM training).

A run record's ``status`` is ``running`` while a process works on it, then ``finished``,
``stopped`` (a signal: :class:`~responserank.errors.RunStopped`) or ``failed`` (an error); a later
call continues a run that is not ``finished``. The values are plain strings on disk
(``run_manifest.json`` of a synthetic run, ``summary.json`` of an LLM run).
"""

from __future__ import annotations

from enum import StrEnum

from responserank.errors import RunStopped


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"


def ended_by(error: BaseException) -> tuple[RunStatus, str]:
    """The status and one-line reason a run ends with when ``error`` interrupts it."""
    if isinstance(error, RunStopped):
        return RunStatus.STOPPED, f"signal {error.signal_name}"
    return RunStatus.FAILED, f"{type(error).__name__}: {error}"
