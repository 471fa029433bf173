"""Reading and checking the typed tabular files (LIE, TRUE, RM-Bench, ...) sources are built from.

Every check fails on the first bad value with a message naming the file, the row, the field and
what was expected, so a malformed download is caught at load time instead of as a shape error deep
inside training. Rows are counted from 0 over the data rows (the header is not a row).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from responserank.errors import DataValidationError, invalid_value, missing_columns
from responserank.hub import LOCAL_COPY_WAYS_OUT, require_available
from responserank.llm.data.text_fields import expected_text, unacceptable_text
from responserank.reading import read_table

DATA_DIR_ENV = "RR_DATA_DIR"


def data_root(path: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``path`` when given, else ``$RR_DATA_DIR``.

    Sources take their folder from config; the environment variable only supplies the default so
    that the same config runs on machines that keep the data in different places.
    """
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if not env:
        raise DataValidationError(
            f"no data folder given: set dataset.path (for an evaluation suite: "
            f"eval.suites.<i>.path) or the {DATA_DIR_ENV} environment variable to the folder "
            f"holding lie/ and true/ (e.g. {DATA_DIR_ENV}=../shared/data rr-train ...)"
        )
    return Path(env).expanduser()


def read_typed_table(
    path: str | os.PathLike[str], what: str = "a data table", required: Iterable[str] = ()
) -> pd.DataFrame:
    """Read a CSV / JSON / JSON-lines / parquet file (optionally .gz) through
    :func:`responserank.reading.read_table`; an unreadable file raises InputFileError naming it,
    the line where known and ``what`` was expected (``required`` columns help spot a wrong
    delimiter)."""
    return read_table(path, what, required=tuple(required)).reset_index(drop=True)


def require_columns(df: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Fail when any of ``columns`` is absent, listing all missing ones at once."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise missing_columns(where, missing, [str(c) for c in df.columns])


def _fail(where: str, df: pd.DataFrame, bad: np.ndarray, column: str, expected: str) -> None:
    row = int(np.flatnonzero(bad)[0])
    raise invalid_value(where, row, column, expected, df[column].iloc[row])


def check_text(df: pd.DataFrame, column: str, where: str, *, allow_empty: bool = False) -> None:
    """Every value is a string with text (``""`` too when ``allow_empty``), never only whitespace:
    the rule of :mod:`responserank.llm.data.text_fields`."""
    bad = unacceptable_text(df[column].to_numpy(dtype=object), allow_empty)
    if bad.any():
        _fail(where, df, bad, column, expected_text(allow_empty))


def check_numeric(
    df: pd.DataFrame,
    column: str,
    where: str,
    *,
    low: float | None = None,
    high: float | None = None,
    allow_nan: bool = False,
) -> None:
    """Every value is a finite number (NaN only when allowed) inside [low, high] when given."""
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    not_number = pd.isna(pd.to_numeric(df[column], errors="coerce")).to_numpy() & (
        ~pd.isna(df[column]).to_numpy()
    )
    bad = not_number | np.isinf(values)
    if not allow_nan:
        bad |= np.isnan(values)
    in_range = np.ones_like(bad)
    if low is not None:
        in_range &= ~(values < low)
    if high is not None:
        in_range &= ~(values > high)
    bad |= ~in_range
    if bad.any():
        bounds = (
            f" in [{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        )
        _fail(where, df, bad, column, "a finite number" + bounds)


def check_unique(df: pd.DataFrame, column: str, where: str) -> None:
    """Every value occurs once; the error names the row of the repeat and of the first one."""
    repeated = df[column].duplicated().to_numpy()
    if repeated.any():
        row = int(np.flatnonzero(repeated)[0])
        value = df[column].iloc[row]
        first = int(np.flatnonzero((df[column] == value).to_numpy())[0])
        shown = value.item() if isinstance(value, np.generic) else value
        expected = f"each value once (data row {first} has it too)"
        raise invalid_value(where, row, column, expected, shown)


def check_choice(df: pd.DataFrame, column: str, allowed: Iterable[object], where: str) -> None:
    """Every value is one of ``allowed``."""
    options = list(allowed)
    bad = ~df[column].isin(options).to_numpy()
    if bad.any():
        _fail(where, df, bad, column, f"one of {options}")


_BINARY_STRINGS = {"0": 0, "1": 1, "false": 0, "true": 1}


def _binary_or_none(value: object) -> int | None:
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, int | float | np.integer | np.floating) and value in (0, 1):
        return int(value)
    if isinstance(value, str):
        return _BINARY_STRINGS.get(value.strip().lower())
    return None


def as_binary(df: pd.DataFrame, column: str, where: str) -> pd.Series:
    """A 0/1 label column (bools, 0/1 numbers or 'True'/'False' strings) as int."""
    values = [_binary_or_none(v) for v in df[column]]
    bad = np.array([v is None for v in values], dtype=bool)
    if bad.any():
        _fail(where, df, bad, column, "a binary label (0/1 or True/False)")
    return pd.Series(values, index=df.index, dtype=int)


def load_hub_split(hub_id: str, split: str, **kwargs: object) -> pd.DataFrame:
    """One split of a Hugging Face hub dataset as a DataFrame (needs network or the local cache)."""
    from datasets import load_dataset

    require_available(
        hub_id, "dataset", LOCAL_COPY_WAYS_OUT, repo_type="dataset", error=DataValidationError
    )
    return load_dataset(hub_id, split=split, **kwargs).to_pandas()


def require_one_location(path: object, hub_id: object, what: str) -> None:
    """Sources read either a local copy (``path``) or the hub (``hub_id``), never both."""
    if bool(path) == bool(hub_id):
        raise ValueError(f"{what}: give exactly one of path= (local copy) or hub_id= (hub dataset)")


def read_local_or_hub(
    path: str | os.PathLike[str] | None,
    hub_id: str | None,
    split: str,
    what: str,
    **hub_kwargs: object,
) -> tuple[pd.DataFrame, str]:
    """The rows of a local copy or of one hub split, and where they came from (for messages)."""
    require_one_location(path, hub_id, what)
    if path:
        return read_typed_table(path, f"the {what} table"), str(path)
    return load_hub_split(str(hub_id), split, **hub_kwargs), f"{hub_id}[{split}]"


def check_label_matches(df: pd.DataFrame, label: str, is_correct: pd.Series, where: str) -> None:
    """The 0/1 ``label`` agrees with what the response types say (``is_correct``, one per row)."""
    values = as_binary(df, label, where)
    inconsistent = (values == 1) != is_correct
    if inconsistent.any():
        row = int(inconsistent.to_numpy().nonzero()[0][0])
        expected = f"{int(not values.iloc[row])} for chosen_type {df['chosen_type'].iloc[row]!r}"
        raise invalid_value(where, row, label, expected, df[label].iloc[row])


def check_arm_columns(
    df: pd.DataFrame,
    where: str,
    *,
    probabilities: Iterable[str],
    scaled: Iterable[str],
    raw: Iterable[str],
) -> None:
    """Range checks of the ARM columns present: probabilities in [0, 1], scaled ARMs finite
    (validation folds may leave [0, 1]), raw measurements non-negative."""
    for column in probabilities:
        if column in df.columns:
            check_numeric(df, column, where, low=0.0, high=1.0)
    for column in scaled:
        if column in df.columns:
            check_numeric(df, column, where)
    for column in raw:
        if column in df.columns:
            check_numeric(df, column, where, low=0.0)
