"""How the processes that run fit tasks are set up: threads, memory, signals, parent death.

None of this changes a number a task computes: one torch thread everywhere (the arithmetic must
not depend on the thread count), and freed memory kept for reuse instead of being handed back to
the operating system after every epoch (each epoch allocates and frees megabytes of activations;
returning and re-faulting those pages cost about a fifth of a fit's CPU time).

Workers are forked on Linux, so that they inherit the imported libraries instead of importing
torch again (seconds of CPU per worker); elsewhere they are spawned. A worker ignores Ctrl-C (the
parent, which gets it too, decides what happens), takes the default action on SIGTERM, and dies
with its parent: the kernel kills it when the parent dies (``PR_SET_PDEATHSIG`` on Linux),
elsewhere a watchdog thread ends it within half a second.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import torch

from responserank.errors import RunStopped

# glibc mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's largest accepted value on 64-bit
_TRIM_THRESHOLD_BYTES = 1 << 30
_PR_SET_PDEATHSIG = 1
_WATCHDOG_INTERVAL_S = 0.5


def single_threaded_torch() -> None:
    """One intra-op thread: the arithmetic of a task must not depend on the thread count."""
    torch.set_num_threads(1)


def usable_cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


def keep_freed_memory() -> None:
    """Serve the per-epoch tensors from memory this process already holds (glibc only).

    Without this, glibc maps every block above its (adaptive) threshold afresh and returns freed
    heap tops to the system, so each epoch page-faults its activations in again.
    """
    libc = _libc()
    if libc is None or not hasattr(libc, "mallopt"):
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)
    libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES)


def prepare_compute_process() -> None:
    """Set up the current process to run fit tasks (the runner itself, or a worker)."""
    single_threaded_torch()
    keep_freed_memory()


def worker_start_method() -> str:
    """ "fork" on Linux (workers inherit the imports), "spawn" elsewhere."""
    return "fork" if sys.platform.startswith("linux") else "spawn"


def _watch_parent(parent_pid: int) -> None:
    stop = threading.Event()
    while not stop.wait(_WATCHDOG_INTERVAL_S):
        if os.getppid() != parent_pid:
            os._exit(1)


def end_with_parent(parent_pid: int) -> None:
    """Make this process die when ``parent_pid`` (its parent) dies."""
    libc = _libc()
    if libc is not None and libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
        if os.getppid() != parent_pid:  # the parent died before the request took effect
            os._exit(1)
        return
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


def init_worker(parent_pid: int) -> None:
    """Initializer of a worker process of ``parent_pid``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    end_with_parent(parent_pid)
    prepare_compute_process()


@contextmanager
def stop_on_signals(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)) -> Iterator[None]:
    """Turn the first of ``signals`` into ``RunStopped`` in the main thread; ignore the rest.

    The exception unwinds whatever is running (workers are killed on the way, see
    ``execution.run_tasks``) so the run can record that it stopped; further signals during that
    cleanup are ignored. The previous handlers are restored on exit.
    """

    def handler(signum: int, frame: object) -> None:
        for sig in signals:
            signal.signal(sig, signal.SIG_IGN)
        raise RunStopped(signum)

    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, action in previous.items():
            signal.signal(sig, action)


def exit_now(code: int | str | None) -> NoReturn:
    """End the process with ``code`` (as ``sys.exit`` takes it), skipping interpreter teardown.

    With torch loaded, Python's teardown takes seconds of CPU (far longer on a busy machine),
    which a stopped run must not spend and a finished one need not. Log handlers and the
    standard streams are flushed first; nothing else is pending at the end of the runner.
    """
    if isinstance(code, str):
        print(code, file=sys.stderr)
        status = 1
    else:
        status = int(code or 0)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
