"""How command-line entry points report the project's errors: one line on stderr, no traceback.

Every :class:`~responserank.errors.ResponseRankError` (bad files, bad data, bad configuration,
missing caches) already names the file, row or key and what was expected, so a traceback adds
nothing for the user. Entry points print ``error: <message>`` and exit with :data:`EXIT_CODE`.
The same holds for what the machine refuses (:func:`environment_error`: a file that cannot be read
or written for permissions, a read-only or full disk, a path through a file) and for a command line
Hydra cannot compose (:func:`run_hydra`: a value of the wrong type, a key that does not exist, an
override that does not parse, a ``_target_`` refusing its arguments). Anything else (a bug) keeps
its traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hydra.errors import HydraException, InstantiationException
from omegaconf.errors import OmegaConfBaseException

from responserank.atomic_io import REFUSED_BY_MACHINE
from responserank.errors import ResponseRankError

EXIT_CODE = 2

#: Set on an exception that escaped :func:`exit_on_project_error` inside a Hydra job: it comes
#: from the job (a bug), not from composing the command line.
_RAISED_IN_JOB = "_responserank_raised_in_job"

#: Lines of OmegaConf's error details that describe Python types, not the user's input.
_TYPE_DETAIL = ("object_type=", "reference_type=")


def report(error: BaseException | str) -> int:
    """Print ``error: <message>`` to stderr and return :data:`EXIT_CODE`."""
    print(f"error: {error}", file=sys.stderr)
    return EXIT_CODE


def environment_error(error: BaseException) -> str | None:
    """The one-line message of an ``OSError`` the machine raised (permissions, read-only or full
    disk, a path through a file), naming the path when the error carries one; None for any other
    error."""
    if not isinstance(error, OSError) or error.errno not in REFUSED_BY_MACHINE:
        return None
    reason = error.strerror or os.strerror(error.errno)
    paths = [p for p in (error.filename, error.filename2) if p is not None]
    if not paths:
        return f"{reason} (errno {errno.errorcode.get(error.errno, error.errno)})"
    return f"{' -> '.join(str(p) for p in paths)}: {reason}"


def one_line(text: str) -> str:
    """Hydra's and OmegaConf's multi-line messages on one line: indented lines join the line they
    belong to, the config search path and Python type details are left out."""
    parts: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if raw.startswith("Config search path"):
            break
        if not line or line.startswith(_TYPE_DETAIL) or line.startswith("Set the environment"):
            continue
        if raw[:1].isspace() and parts:
            parts[-1] += (" " if parts[-1].endswith(":") else ", ") + line
        elif parts and parts[-1].endswith((":", ".")):
            parts[-1] += " " + line
        else:
            parts.append(line)
    return "; ".join(parts)


def _composition_message(error: BaseException) -> str | None:
    """One line for a command line Hydra could not compose; None for any other error."""
    if isinstance(error, HydraException | OmegaConfBaseException):
        cause = error.__cause__
        text = str(error)
        if isinstance(cause, OmegaConfBaseException) and str(cause) not in text:
            text += "\n" + str(cause)
        return one_line(text)
    return environment_error(error)


def _instantiation_message(error: BaseException) -> str | None:
    """One line for a ``_target_`` that refused the arguments of its config node (a value out of
    range, an unknown argument); None for other errors (a bug inside the target keeps its
    traceback)."""
    if not isinstance(error, InstantiationException):
        return None
    cause = error.__cause__
    if isinstance(cause, ResponseRankError):
        return str(cause)
    if isinstance(cause, ValueError | TypeError):
        return one_line(str(error))
    return None


@contextmanager
def exit_on_project_error() -> Iterator[None]:
    """Turn a project error raised inside the block (also a refused ``_target_`` and an
    :func:`environment_error`) into ``SystemExit(EXIT_CODE)`` after :func:`report`. Use it inside
    a ``@hydra.main`` function (Hydra would print a traceback) or around ``main()`` under
    ``if __name__ == "__main__"``. Other exceptions pass unchanged, marked as raised by the job
    (see :func:`run_hydra`)."""
    try:
        yield
    except ResponseRankError as error:
        raise SystemExit(report(error)) from None
    except Exception as error:
        message = environment_error(error) or _instantiation_message(error)
        if message is not None:
            raise SystemExit(report(message)) from None
        with contextlib.suppress(AttributeError):  # a type without instance attributes
            setattr(error, _RAISED_IN_JOB, True)
        raise


def run_hydra(main: Callable[[], Any]) -> None:
    """Call a ``@hydra.main`` function so that a command line Hydra cannot compose also exits with
    :data:`EXIT_CODE` and one line (Hydra prints its message and exits 1).

    Hydra is asked to re-raise (``HYDRA_FULL_ERROR=1`` for the call) instead of printing and
    exiting 1; an error raised while composing (an override of the wrong type, an unknown key, an
    invalid value, a syntax error) or while Hydra prepares the output folder (read-only, full) is
    reported on one line. An error raised by the job itself passed :func:`exit_on_project_error`
    already and keeps its traceback.
    """
    previous = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except Exception as error:
        message = None if getattr(error, _RAISED_IN_JOB, False) else _composition_message(error)
        if message is None:
            raise
        raise SystemExit(report(message)) from None
    finally:
        if previous is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = previous
