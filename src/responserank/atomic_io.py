"""Atomic file writes: a finished result is either fully on disk or not there at all.

Every writer goes through a temporary file in the same directory followed by ``os.replace``, so an
interrupted run never leaves a truncated JSON that a resumed run or the analysis would trust.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from responserank.errors import WriteError


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
