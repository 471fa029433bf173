"""The project's error types, one per concept; every module raises these, none defines its own.

Each message names where the problem is (file, row or key path) and what was expected, so the
command-line entry points print it without a traceback and exit non-zero.
"""

from __future__ import annotations

import difflib
import signal
from typing import Any


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
    """A result file could not be written (full disk, permissions); the message names the file.

    Built as ``WriteError(errno, message)``; ``str()`` is the message alone (no ``[Errno N]``)."""

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror is not None else super().__str__()


class TableError(DataValidationError):
    """The comparison table does not suit the configured training run."""


class BenchmarkDataError(DataValidationError):
    """The benchmark data could not be loaded or does not match the published benchmark."""


class UsageError(ResponseRankError, ValueError):
    """Command-line arguments or a paths file that cannot be acted on."""


class NoResultsError(ResponseRankError, FileNotFoundError):
    """None of the datasets the analysis knows has a results file in the cache folder."""


class UsetexUnavailable(ResponseRankError, RuntimeError):
    """--usetex was asked for on a machine without LaTeX."""


class HubUnavailableError(ConfigError):
    """A model, tokenizer or dataset named by a Hugging Face hub id is not in the local cache and
    cannot be fetched (offline, hub unreachable, gated or unknown repository); the message names
    the id and the ways out (a bundled model, a local copy, logging in)."""


class HubUploadError(ResponseRankError, RuntimeError):
    """A model folder could not be uploaded to the hub (incomplete folder, hub switched off or
    refusing); the message names the folder or repository and the reason."""


class RequestRejected(ResponseRankError, ValueError):
    """The scoring server refuses a request: HTTP ``status`` (4xx) and a one-line ``reason``."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = int(status)
        self.reason = reason


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


def invalid_value(
    source: str, row: int, field: str, expected: str, got: Any
) -> DataValidationError:
    """An error for one bad cell: ``source`` is a file path or hub id, ``row`` counts from 0."""
    return DataValidationError(
        f"{source}: data row {row} (0-based), field '{field}': expected {expected}, got {got!r}"
    )


def missing_columns(source: str, missing: list[str], present: list[str]) -> DataValidationError:
    """An error for a table that lacks required columns."""
    return DataValidationError(
        f"{source}: missing required column(s) {sorted(missing)}; columns present: {sorted(present)}"
    )


def missing_fields(component: str, missing: list[str], present: list[str]) -> DataValidationError:
    """An error for a pipeline component that needs a column the data source does not provide."""
    return DataValidationError(
        f"{component} needs column(s) {sorted(missing)}, which this data source does not provide; "
        f"available columns: {sorted(present)}"
    )


def require_columns(component: str, frame_columns: Any, needed: list[str]) -> None:
    """Raise :func:`missing_fields` unless every column in ``needed`` is present."""
    present = [str(c) for c in frame_columns]
    missing = [c for c in needed if c not in present]
    if missing:
        raise missing_fields(component, missing, present)


def describe_rows(table: Any, mask: Any, limit: int = 5) -> str:
    """'row 3 (comparison_id=c17), row 9 (...) and 4 more' for error messages.

    ``table`` is a pandas DataFrame, ``mask`` a boolean Series aligned with it.
    """
    rows = table.index[mask.to_numpy()]
    ids = table.loc[rows, "comparison_id"] if "comparison_id" in table else rows
    shown = ", ".join(
        f"row {r} (comparison_id={c})" for r, c in zip(rows[:limit], ids[:limit], strict=True)
    )
    more = len(rows) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def nearest_key(wrong: str, valid: Any) -> str | None:
    """The valid key closest to ``wrong``, ignoring case, or None when none is close.

    A key whose words' initials spell ``wrong`` (``lr`` -> ``learning_rate``) comes first, then
    the closest spelling (``difflib``).
    """
    by_lower = {str(key).lower(): str(key) for key in valid}
    wrong = wrong.lower()
    initials = [
        key for key in by_lower if "_" in key and "".join(w[:1] for w in key.split("_")) == wrong
    ]
    if initials:
        return by_lower[initials[0]]
    near = difflib.get_close_matches(wrong, list(by_lower), n=1, cutoff=0.6)
    return by_lower[near[0]] if near else None


def unknown_key(path: str, valid: dict[str, str], owner: str) -> ConfigError:
    """The error for config key ``path`` that ``owner`` does not have.

    ``valid`` maps each key ``owner`` has to what it expects (its help text or type). The message
    names the key, the nearest valid key with what it expects (``did you mean
    training.learning_rate (peak learning rate, > 0)?``), or lists the valid keys when none is close.
    """
    parent, _, leaf = path.rpartition(".")
    near = nearest_key(leaf, valid)
    if near is not None:
        full = f"{parent}.{near}" if parent else near
        hint = f"did you mean {full}" + (f" ({valid[near]})" if valid[near] else "") + "?"
    else:
        hint = f"valid keys: {', '.join(sorted(valid)) or 'none'}"
    return ConfigError(f"config key '{path}': {owner} has no key '{leaf}'; {hint}")
