"""Unreadable input files: every kind of bad file through every loader family names the file, the
line where known and what was expected (responserank.reading + the loaders routed through it)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from responserank.errors import DataValidationError, InputFileError, ResponseRankError
from responserank.llm.analysis.cache import COLUMNS as CACHE_COLUMNS
from responserank.llm.analysis.cache import load_cache
from responserank.llm.analysis.dataset_stats import ANNOTATION_COLUMNS, read_annotations
from responserank.llm.analysis.registry import load_registry
from responserank.llm.data.sources import lie, true
from responserank.llm.data.sources.preference_table import PreferenceTableSource
from responserank.llm.data.sources.raw_rows import read_local_config
from responserank.llm.evaluation.benchmark_data import load_benchmark_split
from responserank.reading import read_csv, read_json, read_json_lines, read_parquet, read_yaml
from responserank.rl_control.analysis.cache_tables import RUN_COLUMNS, read_runs
from responserank.synthetic.analysis.cli import read_paths_file
from responserank.synthetic.results import load_results
from responserank.synthetic.rundir import RUN_CONFIG, read_run_config

# -- the reading layer on its own -------------------------------------------------------------


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"absent\.csv: file not found; expected a table"):
        read_csv(tmp_path / "absent.csv", "a table")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", r"the file is empty; expected a table$"),
        (b"  \n\n", r"the file is empty; expected a table$"),
        (b"a,b\n", r"a header but no data rows; expected a table with at least one data row"),
        (b"a,b\n1,2\n\xff\xfe,3\n", r"line 3: byte 0xff is not UTF-8 text; expected a table"),
        (
            b"a;b\n1;2\n",
            r"line 1: the header is one field that looks ';'-separated; "
            r"expected a table, comma-separated, with columns \['a', 'b'\]",
        ),
        (b"a,b\n1,2\n3,4,5\n", r"line 3: 3 fields, the header has 2; expected a table, every"),
        (b"a,b\n1\n3,4\n", r"line 2: 1 fields, the header has 2; expected a table, every row"),
        (b'a,b\n"1,2\n3,4\n', r"line 2: a quoted field is never closed \(the file ends inside"),
        (b'a,b\n"x,1\n2,3\n"y",4\n', r"line 2: broken quoting \(',' expected after '\"' at line 4"),
        (b"a,b,a\n1,2,3\n", r"line 1: column 'a' appears 2 times in the header \(fields 1, 3\)"),
    ],
)
def test_bad_csv(tmp_path, data, message):
    path = _write(tmp_path / "t.csv", data)
    with pytest.raises(InputFileError, match=rf"^{path}: {message}"):
        read_csv(path, "a table", required=("a", "b"))


def test_tab_separated_without_required_columns_is_recognised(tmp_path):
    path = _write(tmp_path / "t.csv", b"a\tb\n1\t2\n")
    with pytest.raises(InputFileError, match=r"looks '\\t'-separated; expected a table, comma"):
        read_csv(path, "a table")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'{"a": [1, 2', r"not valid JSON at line 1, column 12 \(the document ends early"),
        (b'{"a": 1,\n "b": x}', r"not valid JSON at line 2, column 7 \(Expecting value\)"),
        (b'{"a": "\xe9"}', r"line 1: byte 0xe9 is not UTF-8 text"),
    ],
)
def test_bad_json(tmp_path, data, message):
    path = _write(tmp_path / "t.json", data)
    with pytest.raises(InputFileError, match=rf"^{path}: {message}.*; expected an object$"):
        read_json(path, "an object")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b'{"a": 1}\n{"a": 2', r"line 2 is not valid JSON \(the last line ends early"),
        (b'{"a": 1}\n{"a" 2}\n{"a": 3}\n', r"line 2 is not valid JSON \(Expecting ':'"),
        (b'{"a": 1}\n[1]\n', r"line 2: expected a JSON object, got list"),
        (b'{"a": 1}\n{"a": "\xff"}\n', r"line 2: byte 0xff is not UTF-8 text"),
    ],
)
def test_bad_json_lines(tmp_path, data, message):
    path = _write(tmp_path / "t.jsonl", data)
    with pytest.raises(InputFileError, match=rf"^{path}: {message}.*; expected rows$"):
        read_json_lines(path, "rows")


@settings(max_examples=30, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=5), st.integers(), max_size=3), max_size=5))
def test_json_lines_round_trip(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("jl") / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert read_json_lines(path, "rows", allow_empty=True) == rows


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"key: [1, 2\n", r"not valid YAML at line 2, column 1"),
        (b"a: 1\n  b: 2\n", r"not valid YAML at line 2, column 4 \(mapping values"),
        (b"a: \xff\n", r"line 1: byte 0xff is not UTF-8 text"),
    ],
)
def test_bad_yaml(tmp_path, data, message):
    path = _write(tmp_path / "t.yaml", data)
    with pytest.raises(InputFileError, match=rf"^{path}: {message}.*; expected settings$"):
        read_yaml(path, "settings")


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"", "the file is empty"), (b"PAR1 not really", "not a readable parquet file")],
)
def test_bad_parquet(tmp_path, data, message):
    path = _write(tmp_path / "t.parquet", data)
    with pytest.raises(InputFileError, match=rf"^{path}: {message}.*; expected rows$"):
        read_parquet(path, "rows")


def test_parquet_without_rows(tmp_path):
    path = tmp_path / "t.parquet"
    pd.DataFrame({"a": pd.Series([], dtype=int)}).to_parquet(path)
    with pytest.raises(InputFileError, match=rf"^{path}: no data rows; expected rows with at"):
        read_parquet(path, "rows")


def test_gzip_is_decompressed_and_bad_gzip_named(tmp_path):
    import gzip

    good = _write(tmp_path / "t.csv.gz", gzip.compress(b"a,b\n1,2\n"))
    assert read_csv(good, "a table").to_dict("list") == {"a": [1], "b": [2]}
    bad = _write(tmp_path / "u.csv.gz", b"not gzip")
    with pytest.raises(InputFileError, match=rf"^{bad}: not a readable gzip file"):
        read_csv(bad, "a table")


def test_errors_are_project_errors():
    assert issubclass(InputFileError, DataValidationError)
    assert issubclass(InputFileError, ResponseRankError)
    assert issubclass(InputFileError, ValueError)


# -- every loader family ----------------------------------------------------------------------


@dataclass(frozen=True)
class Loader:
    """Where a loader reads its file, how to call it and what its message says is expected."""

    name: str
    file: Callable[[Path], Path]
    load: Callable[[Path], object]
    expected: str
    header: tuple[str, ...] = ()


def _benchmark(path: Path) -> object:
    return load_benchmark_split("org/bench", "test", path, "RR_BENCH")


CSV_LOADERS = [
    Loader(
        "preference_table",
        lambda root: root / "prefs.csv",
        lambda root: PreferenceTableSource(path=str(root / "prefs.csv")).load(None, 512, 0),
        "a preference table with one comparison per row",
        ("prompt", "chosen", "rejected"),
    ),
    Loader(
        "lie",
        lambda root: root / "folds" / "LIE_train_0.csv",
        lambda root: lie.load_lie_split(root, 0, "train"),
        "a LIE fold table",
        lie.REQUIRED_COLUMNS,
    ),
    Loader(
        "true",
        lambda root: root / "no_repeats" / "train_single_0.csv",
        lambda root: true.load_true_split(root, 0, "train"),
        "a TRUE split table",
        true.REQUIRED_COLUMNS,
    ),
    Loader(
        "rl_control",
        lambda root: root / "mujoco_runs.csv",
        lambda root: read_runs(root / "mujoco_runs.csv"),
        "an RL-control table",
        RUN_COLUMNS,
    ),
    Loader(
        "llm_cache",
        lambda root: root / "results.csv",
        load_cache,
        "the collected results table (one metric value per row)",
        CACHE_COLUMNS,
    ),
    Loader(
        "annotations",
        lambda root: root / "annotations.csv",
        lambda root: read_annotations(root / "annotations.csv"),
        "the cached annotation table",
        ANNOTATION_COLUMNS,
    ),
    Loader(
        "benchmark",
        lambda root: root / "bench.csv",
        lambda root: _benchmark(root / "bench.csv"),
        "a local copy of the benchmark split 'test'",
        ("prompt", "chosen", "rejected"),
    ),
]

JSONL_LOADERS = [
    Loader(
        "preference_table",
        lambda root: root / "prefs.jsonl",
        lambda root: PreferenceTableSource(path=str(root / "prefs.jsonl")).load(None, 512, 0),
        "a preference table with one comparison per row",
    ),
    Loader(
        "multipref_rows",
        lambda root: root / "train.jsonl",
        read_local_config,
        "one dataset row per line",
    ),
    Loader(
        "benchmark",
        lambda root: root / "bench.jsonl",
        lambda root: _benchmark(root / "bench.jsonl"),
        "a local copy of the benchmark split 'test'",
    ),
]

JSON_LOADERS = [
    Loader(
        "synthetic_results",
        lambda root: root / "dataset.json",
        lambda root: load_results(root / "dataset.json"),
        "a per-dataset synthetic results JSON",
    ),
    Loader(
        "synthetic_paths",
        lambda root: root / "paths.json",
        lambda root: read_paths_file(root / "paths.json"),
        "a paths file mapping dataset names to run directories",
    ),
]

YAML_LOADERS = [
    Loader(
        "registry",
        lambda root: root / "registry.yaml",
        lambda root: load_registry(root / "registry.yaml"),
        "the run registry (a YAML mapping)",
    ),
    Loader(
        "synthetic_run_config",
        lambda root: root / RUN_CONFIG,
        read_run_config,
        "the run's experiment settings (a YAML mapping)",
    ),
]


def _csv_cases(header: tuple[str, ...]) -> dict[str, tuple[bytes, str]]:
    comma = ",".join(header).encode()
    row = ",".join("x" for _ in header).encode()
    return {
        "empty": (b"", "the file is empty; expected {what}"),
        "header_only": (comma + b"\n", "a header but no data rows; expected {what} with at least"),
        "not_utf8": (comma + b"\n" + row + b"\n\xff" + row + b"\n", "line 3: byte 0xff is not"),
        "semicolons": (
            ";".join(header).encode() + b"\n" + b";".join(b"x" for _ in header) + b"\n",
            "line 1: the header is one field that looks ';'-separated; expected {what}, comma",
        ),
        "unclosed_quote": (
            comma + b"\n" + row + b'\n"' + row + b"\n" + row + b"\n",
            "line 3: a quoted field is never closed (the file ends inside it); expected {what}",
        ),
        "field_count": (
            comma + b"\n" + row + b"\n" + row + b",extra\n",
            f"line 3: {len(header) + 1} fields, the header has {len(header)}; expected {{what}}",
        ),
        "duplicate_header": (
            comma + b"," + header[-1].encode() + b"\n" + row + b",x\n",
            f"line 1: column {header[-1]!r} appears 2 times in the header (fields "
            f"{len(header)}, {len(header) + 1}); expected {{what}}, each column named once",
        ),
    }


def _assert_names(loader: Loader, root: Path, data: bytes, message: str) -> None:
    path = _write(loader.file(root), data)
    with pytest.raises(InputFileError) as err:
        loader.load(root)
    text = str(err.value)
    assert text.startswith(f"{path}: "), text
    assert message.format(what=loader.expected) in text, text
    assert f"expected {loader.expected}" in text, text


@pytest.mark.parametrize(
    "case",
    [
        "empty",
        "header_only",
        "not_utf8",
        "semicolons",
        "unclosed_quote",
        "field_count",
        "duplicate_header",
    ],
)
@pytest.mark.parametrize("loader", CSV_LOADERS, ids=lambda loader: loader.name)
def test_csv_loaders(tmp_path, loader, case):
    data, message = _csv_cases(loader.header)[case]
    _assert_names(loader, tmp_path, data, message)


JSONL_CASES = {
    "empty": (b"", "the file is empty; expected {what}"),
    "truncated": (b'{"prompt": "a"}\n{"prompt": "b', "line 2 is not valid JSON (the last line"),
    "not_utf8": (b'{"prompt": "a"}\n{"prompt": "\xff"}\n', "line 2: byte 0xff is not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(JSONL_CASES))
@pytest.mark.parametrize("loader", JSONL_LOADERS, ids=lambda loader: loader.name)
def test_jsonl_loaders(tmp_path, loader, case):
    data, message = JSONL_CASES[case]
    _assert_names(loader, tmp_path, data, message)


JSON_CASES = {
    "empty": (b"", "the file is empty; expected {what}"),
    "truncated": (b'{"metrics": {"a": [1, 2', "not valid JSON at line 1, column 24 (the document"),
    "not_utf8": (b'{"metrics": "\xff"}', "line 1: byte 0xff is not UTF-8 text; expected {what}"),
}


@pytest.mark.parametrize("case", sorted(JSON_CASES))
@pytest.mark.parametrize("loader", JSON_LOADERS, ids=lambda loader: loader.name)
def test_json_loaders(tmp_path, loader, case):
    data, message = JSON_CASES[case]
    _assert_names(loader, tmp_path, data, message)


YAML_CASES = {
    "empty": (b"", "the file is empty; expected {what}"),
    "malformed": (b"configs:\n  bt: [1, 2\n", "not valid YAML at line 3, column 1"),
    "not_utf8": (b"configs: \xff\n", "line 1: byte 0xff is not UTF-8 text; expected {what}"),
}


@pytest.mark.parametrize("case", sorted(YAML_CASES))
@pytest.mark.parametrize("loader", YAML_LOADERS, ids=lambda loader: loader.name)
def test_yaml_loaders(tmp_path, loader, case):
    data, message = YAML_CASES[case]
    _assert_names(loader, tmp_path, data, message)
