"""Reading the project's input files (CSV, JSON-lines, JSON, parquet, YAML) in one place.

pandas, pyarrow and PyYAML do the parsing; this module turns whatever makes a file unreadable into
an :class:`~responserank.errors.InputFileError` whose message names the file, the line or row where
it is known, and what the caller expected (``what``, e.g. "the LIE fold table"):

- a missing file, an empty file, a table with a header but no data rows;
- bytes that are not UTF-8 (line of the first bad byte);
- a CSV whose expected columns are missing because it is separated by ``;``, tab or ``|``;
- a CSV row whose field count differs from the header's, a quoted field that is never closed or
  is followed by text before the next delimiter (the line where the record starts), and a header
  naming a column twice (pandas would rename the second ``chosen`` to ``chosen.1``);
- a truncated or malformed JSON document (line and column) or JSON-lines line (line number), a
  JSON-lines object naming a key twice (``json`` keeps the last one);
- a parquet file pyarrow cannot open or naming a column twice; malformed YAML (line and column).

Files ending in ``.gz`` are decompressed first. Lines and rows count from 1 as editors show them;
"row" in a table message is the 1-based data row (the header is not a row).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml

from responserank.errors import InputFileError

if TYPE_CHECKING:
    import pyarrow as pa

PathLike = str | os.PathLike[str]
OTHER_DELIMITERS = (";", "\t", "|")
TABLE_SUFFIXES = (".csv", ".jsonl", ".json", ".parquet")


def _fail(path: PathLike, problem: str, what: str) -> InputFileError:
    return InputFileError(f"{path}: {problem}; expected {what}")


def read_bytes(path: PathLike, what: str) -> bytes:
    """The file's bytes (decompressed when it ends in ``.gz``); a missing or unreadable file
    raises InputFileError naming it."""
    file = Path(path)
    if not file.is_file():
        raise _fail(file, "file not found", what)
    try:
        data = file.read_bytes()
    except OSError as exc:  # permissions, an I/O error of the disk
        raise _fail(file, f"cannot be read ({exc.strerror or exc})", what) from exc
    if file.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise _fail(file, f"not a readable gzip file ({exc})", what) from exc
    return data


def read_text(path: PathLike, what: str, *, allow_empty: bool = False) -> str:
    """The file decoded as UTF-8 (a leading byte-order mark is dropped).

    Raises InputFileError for a missing file, bytes that are not UTF-8 (naming the line of the
    first bad byte) and, unless ``allow_empty``, a file holding only whitespace.
    """
    data = read_bytes(path, what)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise _fail(path, f"line {line}: byte 0x{byte} is not UTF-8 text", what) from exc
    if not allow_empty and not text.strip():
        raise _fail(path, "the file is empty", what)
    return text


def _wrong_delimiter(columns: Sequence[str]) -> str | None:
    """The delimiter a one-field header seems to use instead of commas, if any."""
    if len(columns) != 1:
        return None
    return next((d for d in OTHER_DELIMITERS if d in str(columns[0])), None)


def _duplicate_column(header: Sequence[str]) -> str | None:
    """The first named column that occurs twice in ``header`` (empty names are pandas' index)."""
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            return name
        seen.add(name)
    return None


def _check_csv_records(path: PathLike, text: str, what: str, delimiter: str) -> None:
    """Refuse broken quoting, a field count other than the header's and a repeated column name.

    pandas' tokenizer silently repairs all three: it lets a quoted field run on until the next
    quote anywhere in the file, fills a short row with empty values, turns the extra first field
    of a long row into the index, and renames a repeated column (``chosen.1``). The standard
    library's strict CSV reader sees the file record by record, so the error names the line where
    the broken record starts. A header that is one field holding another delimiter is left to
    the caller's delimiter check (:func:`read_csv`).
    """
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))  # long texts are fields too
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    start = 1
    try:
        for record in reader:
            line, start = start, reader.line_num + 1
            if not record:
                continue
            if header is None:
                header = record
                if _wrong_delimiter(header) is not None:
                    return
                repeated = _duplicate_column(header)
                if repeated is not None:
                    positions = [i + 1 for i, name in enumerate(header) if name == repeated]
                    raise _fail(
                        path,
                        f"line {line}: column {repeated!r} appears {len(positions)} times in the "
                        f"header (fields {', '.join(map(str, positions))})",
                        f"{what}, each column named once",
                    )
                continue
            if len(record) != len(header):
                spans = reader.line_num > line
                hint = f" (a quoted field runs on to line {reader.line_num})" if spans else ""
                raise _fail(
                    path,
                    f"line {line}: {len(record)} fields, the header has {len(header)}{hint}",
                    f"{what}, every row with one field per column",
                )
    except csv.Error as exc:
        problem = (
            "a quoted field is never closed (the file ends inside it)"
            if "end of data" in str(exc)
            else f"broken quoting ({exc} at line {reader.line_num})"
        )
        raise _fail(path, f"line {start}: {problem}", f"{what}, quotes closed") from exc


def read_csv(
    path: PathLike,
    what: str,
    *,
    required: Sequence[str] = (),
    allow_no_rows: bool = False,
    **pandas_kwargs: Any,
) -> pd.DataFrame:
    """A comma-separated table as a DataFrame (``pandas_kwargs`` go to :func:`pandas.read_csv`).

    ``required`` names columns the caller needs: when they are missing because the whole header
    is one field holding ``;``, tab or ``|``, the error says which delimiter the file seems to
    use. Other missing columns are left to the caller, which knows the schema. A header without
    data rows is refused unless ``allow_no_rows``.
    """
    text = read_text(path, what)
    delimiter = pandas_kwargs.get("sep", ",")
    if isinstance(delimiter, str) and len(delimiter) == 1:
        _check_csv_records(path, text, what, delimiter)
    try:
        frame = pd.read_csv(io.StringIO(text), **pandas_kwargs)
    except pd.errors.ParserError as exc:
        raise _fail(path, f"not a well-formed CSV table ({str(exc).strip()})", what) from exc
    except csv.Error as exc:
        raise _fail(path, f"not a well-formed CSV table ({exc})", what) from exc
    columns = [str(c) for c in frame.columns]
    if any(c not in columns for c in required) or (not required and len(columns) == 1):
        delimiter = _wrong_delimiter(columns)
        if delimiter is not None:
            raise _fail(
                path,
                f"line 1: the header is one field that looks {delimiter!r}-separated",
                f"{what}, comma-separated"
                + (f", with columns {list(required)}" if required else ""),
            )
    if frame.empty and not allow_no_rows:
        raise _fail(path, "a header but no data rows", f"{what} with at least one data row")
    return frame


def _json_problem(exc: json.JSONDecodeError, text: str) -> str:
    truncated = exc.pos >= len(text.rstrip())
    detail = "the document ends early (truncated?)" if truncated else exc.msg
    return f"not valid JSON at line {exc.lineno}, column {exc.colno} ({detail})"


def read_json(path: PathLike, what: str) -> Any:
    """The value of a JSON file; a truncated or malformed document names line and column."""
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(path, _json_problem(exc, text), what) from exc


def read_json_lines(
    path: PathLike, what: str = "one JSON object per line", *, allow_empty: bool = False
) -> list[dict[str, Any]]:
    """The objects of a JSON-lines file in order, blank lines skipped.

    A line that is not valid JSON (a truncated last line says so) or not an object raises
    InputFileError naming the line; an empty file is refused unless ``allow_empty``.
    """
    text = read_text(path, what, allow_empty=allow_empty)
    lines = text.splitlines()
    objects = []
    repeated: list[str] = []

    def note_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # ``json`` keeps the last value of a repeated key; note the key instead.
        key = _duplicate_column([k for k, _ in pairs])
        if key is not None:
            repeated.append(key)
        return dict(pairs)

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line, object_pairs_hook=note_repeats)
        except json.JSONDecodeError as exc:
            last = number == len(lines) and not text.endswith("\n")
            detail = "the last line ends early (truncated?)" if last else exc.msg
            raise _fail(path, f"line {number} is not valid JSON ({detail})", what) from exc
        if repeated:
            raise _fail(
                path, f"line {number}: key {repeated[0]!r} appears twice in one object", what
            )
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise _fail(path, f"line {number}: expected a JSON object, got {kind}", what)
        objects.append(value)
    return objects


def read_parquet_table(path: PathLike, what: str, *, allow_no_rows: bool = False) -> pa.Table:
    """A parquet file as a pyarrow Table; a file pyarrow cannot open or without rows is refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = read_bytes(path, what)
    if not data:
        raise _fail(path, "the file is empty", what)
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as exc:
        raise _fail(path, f"not a readable parquet file ({exc})", what) from exc
    repeated = _duplicate_column(table.column_names)
    if repeated is not None:
        raise _fail(path, f"column {repeated!r} appears twice", f"{what}, each column named once")
    if table.num_rows == 0 and not allow_no_rows:
        raise _fail(path, "no data rows", f"{what} with at least one data row")
    return table


def read_parquet(path: PathLike, what: str, *, allow_no_rows: bool = False) -> pd.DataFrame:
    """A parquet file as a DataFrame (see :func:`read_parquet_table`)."""
    return read_parquet_table(path, what, allow_no_rows=allow_no_rows).to_pandas()


def read_yaml(path: PathLike, what: str, *, allow_empty: bool = False) -> Any:
    """The value of a YAML file; malformed YAML names line and column of the problem."""
    text = read_text(path, what, allow_empty=allow_empty)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise _fail(path, f"not valid YAML{where} ({problem})", what) from exc


def _frame_from_json(value: Any, path: PathLike, what: str) -> pd.DataFrame:
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        return pd.DataFrame.from_records(value)
    if isinstance(value, dict) and all(isinstance(v, list | dict) for v in value.values()):
        return pd.DataFrame(value)
    raise _fail(path, f"a JSON {type(value).__name__} that is not a table", what)


def table_kind(path: PathLike) -> str:
    """The table suffix of ``path`` ignoring ``.gz`` (``.csv``, ``.jsonl``, ``.json``, ...)."""
    return Path(Path(path).name.removesuffix(".gz")).suffix.lower()


def read_table(
    path: PathLike,
    what: str,
    *,
    required: Sequence[str] = (),
    csv_kwargs: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """A CSV, JSON-lines, JSON (records or columns) or parquet table, chosen by suffix.

    Every format refuses a missing or empty file and a table without data rows; ``required`` lets
    the CSV reader recognise a wrong delimiter (see :func:`read_csv`).
    """
    kind = table_kind(path)
    if kind == ".csv":
        return read_csv(path, what, required=required, **(csv_kwargs or {}))
    if kind == ".parquet":
        return read_parquet(path, what)
    if kind == ".jsonl":
        frame = pd.DataFrame.from_records(read_json_lines(path, what))
    elif kind == ".json":
        frame = _frame_from_json(read_json(path, what), path, what)
    else:
        raise _fail(path, f"unsupported file type {kind!r}", f"{what} as one of {TABLE_SUFFIXES}")
    if frame.empty:
        raise _fail(path, "no records", f"{what} with at least one record")
    return frame
