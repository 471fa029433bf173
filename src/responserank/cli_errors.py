"""How command-line entry points report the project's errors: one line on stderr, no traceback.

Every :class:`~responserank.errors.ResponseRankError` (bad files, bad data, bad configuration,
missing caches) already names the file, row or key and what was expected, so a traceback adds
nothing for the user. Entry points print ``error: <message>`` and exit with :data:`EXIT_CODE`;
anything else (a bug) keeps its traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from responserank.errors import ResponseRankError

EXIT_CODE = 2


def report(error: BaseException) -> int:
    """Print ``error: <message>`` to stderr and return :data:`EXIT_CODE`."""
    print(f"error: {error}", file=sys.stderr)
    return EXIT_CODE


@contextmanager
def exit_on_project_error() -> Iterator[None]:
    """Turn a project error raised inside the block into ``SystemExit(EXIT_CODE)`` after
    :func:`report`. Use it inside a ``@hydra.main`` function (Hydra would print a traceback) or
    around ``main()`` under ``if __name__ == "__main__"``."""
    try:
        yield
    except ResponseRankError as error:
        raise SystemExit(report(error)) from None
