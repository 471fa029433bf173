"""The project's error types, one per concept; every module raises these, none defines its own.

Each message names where the problem is (file, row or key path) and what was expected, so the
command-line entry points print it without a traceback and exit non-zero.
"""

from __future__ import annotations

import signal


class ResponseRankError(Exception):
    """Base of every error the project raises for bad input, configuration or state."""


class ConfigError(ResponseRankError, ValueError):
    """A configuration cannot describe a valid run; the message names the key and the range."""


class DataValidationError(ResponseRankError, ValueError):
    """Input data does not have the expected shape; the message names file, row and field."""


class InputFileError(DataValidationError):
    """A file cannot be read as its format: missing, empty, header only, not UTF-8, a wrong
    delimiter, truncated JSON, malformed YAML. The message names the file, the line or row where
    known, and what was expected (see :mod:`responserank.reading`)."""


class ResultsFormatError(ResponseRankError, ValueError):
    """A results file does not follow its schema; the message names the file and key path."""

    @classmethod
    def at(cls, source: object, key_path: str, problem: str) -> ResultsFormatError:
        """The error for one key of one file: ``<source>: key <key_path>: <problem>``."""
        return cls(f"{source}: key {key_path}: {problem}")


class CacheError(ResponseRankError, ValueError):
    """A cache folder is missing something, or one of its files does not follow the schema."""


class CollectError(ResponseRankError, RuntimeError):
    """Runs could not be collected (no account, offline, unknown project, nothing found)."""


class RegistryError(ResponseRankError, ValueError):
    """A results registry is missing or malformed; the message names the file and key path."""


class LossParameterError(ResponseRankError, ValueError):
    """A loss parameter (beta, p, an offset, a soft target, a probability of correctness) is NaN
    or outside its domain; the message names the parameter and the expected range."""


class WriteError(ResponseRankError, OSError):
    """A result file could not be written (full disk, permissions); the message names the file."""


class RunStopped(BaseException):
    """A run was asked to stop by a signal (SIGINT, SIGTERM).

    Derived from ``BaseException`` like ``KeyboardInterrupt``, so that no ``except Exception``
    swallows it; an entry point exits with status 128 + ``signum`` (130 for SIGINT, 143 for
    SIGTERM), as a shell reports a process ended by that signal.
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(f"stopped by signal {self.signal_name}")

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return str(self.signum)

    @property
    def exit_status(self) -> int:
        return 128 + self.signum
