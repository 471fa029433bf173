"""The project's error types, one per concept; every module raises these, none defines its own.

Each message names where the problem is (file, row or key path) and what was expected, so the
command-line entry points print it without a traceback and exit non-zero.
"""

from __future__ import annotations


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
