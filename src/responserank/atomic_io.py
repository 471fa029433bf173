"""Atomic file writes: a finished result is either fully on disk or not there at all.

Every writer goes through a temporary file in the same directory followed by ``os.replace``, so an
interrupted run never leaves a truncated JSON that a resumed run or the analysis would trust.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from responserank.errors import ResponseRankError, WriteError

#: errno values of an OSError the machine raises for a path: permissions, a read-only or full disk,
#: a file too large, a path through a file. They describe the user's folders, never a bug.
REFUSED_BY_MACHINE = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.ENAMETOOLONG,
    }
)
#: Below this many free bytes the disk counts as full (for the user running the program).
FULL_DISK_BYTES = 16 * 1024 * 1024


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (creating parent folders); return the path.

    Raises ``WriteError`` (an ``OSError``) naming ``path`` when the write fails, for example on a
    full disk; nothing is left at ``path`` or beside it then.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as err:
        raise _write_error(target, err) from err
    try:
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        os.fchmod(fd, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException as err:
        Path(tmp_name).unlink(missing_ok=True)
        if isinstance(err, OSError) and not isinstance(err, WriteError):
            raise _write_error(target, err) from err
        raise
    return target


def _write_error(target: Path, err: OSError) -> WriteError:
    reason = err.strerror or str(err)
    return WriteError(err.errno, f"cannot write {target}: {reason}")


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON atomically, with sorted keys so equal content gives equal bytes."""
    return write_text_atomic(path, json.dumps(obj, indent=indent, sort_keys=True) + "\n")


def _disk_full(folder: Path) -> bool:
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free < FULL_DISK_BYTES
    return False


@contextmanager
def writes_named(folder: str | os.PathLike[str], what: str) -> Iterator[None]:
    """Report a write refused by the machine inside the block as ``WriteError`` naming the file.

    For writers that are not this module's (the Trainer's checkpoints, a saved model): an
    ``OSError`` whose errno is in :data:`REFUSED_BY_MACHINE` names its file (or ``folder`` when it
    carries none), and any other error raised while the disk holding ``folder`` is full (torch
    and safetensors report a full disk in their own words, e.g. ``unexpected pos``) names
    ``folder``. ``what`` says what was being written. Project errors and other errors pass
    unchanged.
    """
    try:
        yield
    except ResponseRankError:
        raise
    except Exception as err:
        target = Path(folder)
        if isinstance(err, OSError) and err.errno in REFUSED_BY_MACHINE:
            reason = err.strerror or os.strerror(err.errno)
            where = err.filename if err.filename is not None else f"{what} under {target}"
            raise WriteError(err.errno, f"cannot write {where}: {reason}") from err
        if _disk_full(target):
            raise WriteError(
                errno.ENOSPC,
                f"cannot write {what} under {target}: the disk is full ({type(err).__name__}: {err})",
            ) from err
        raise
