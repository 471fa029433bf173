"""Loading and checking benchmark splits: from the Hugging Face hub, or from a local copy.

Clusters often have no internet on compute nodes, so every benchmark suite can read a local copy
instead (a ``save_to_disk`` folder, a snapshot of the hub repository, or one parquet/JSON file).
Whatever the source, the rows are checked against the published schema and subset sizes before any
model is scored, so a truncated download or a wrong file fails loudly instead of shifting scores.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import datasets
import pandas as pd

from responserank.errors import BenchmarkDataError
from responserank.hub import require_available
from responserank.reading import TABLE_SUFFIXES, read_table, table_kind

#: The key of a suite in a composed config when its position is not known.
SUITE_KEY = "eval.suites.<i>"


def resolve_data_path(data_path: str | os.PathLike[str] | None, env_var: str) -> Path | None:
    """The configured local copy: the explicit argument first, then the environment variable."""
    chosen = data_path if data_path not in (None, "") else os.environ.get(env_var) or None
    return None if chosen is None else Path(chosen).expanduser()


def local_copy_hint(env_var: str, config_key: str = SUITE_KEY) -> str:
    """How to point a suite at a local copy, with the key Hydra accepts for it."""
    return (
        f"{config_key}.data_path=<local copy> or the environment variable {env_var} "
        "(a save_to_disk folder, a hub snapshot or one parquet/JSON file)"
    )


def load_benchmark_split(
    hub_id: str, split: str, data_path: Path | None, env_var: str, config_key: str = SUITE_KEY
) -> tuple[pd.DataFrame, str]:
    """Rows of one benchmark split and a description of where they came from.

    A configured local copy wins (no network access at all); otherwise the split is fetched from the
    hub with ``datasets``, after :func:`responserank.hub.require_available` made sure it is cached
    or reachable (one line within seconds otherwise). Errors name ``config_key`` (the suite's place
    in the config, ``eval.suites.<i>``) so that the suggested override is one Hydra accepts.
    """
    if data_path is not None:
        return _load_local(data_path, split), str(data_path)
    hint = local_copy_hint(env_var, config_key)
    require_available(hub_id, "benchmark", hint, repo_type="dataset", error=BenchmarkDataError)
    try:
        dataset = datasets.load_dataset(hub_id, split=split)
    except (ConnectionError, OSError, ValueError) as exc:
        raise BenchmarkDataError(
            f"could not load {hub_id!r} (split {split!r}) from the Hugging Face hub: {exc}. "
            f"Download it once where the hub is reachable and point the suite at the copy: {hint}"
        ) from exc
    return dataset.to_pandas(), f"hub:{hub_id}"


def _load_local(path: Path, split: str) -> pd.DataFrame:
    if not path.exists():
        raise BenchmarkDataError(f"local benchmark data {path} does not exist")
    if path.is_file():
        if table_kind(path) not in TABLE_SUFFIXES:
            raise BenchmarkDataError(
                f"{path}: unsupported file type {path.suffix!r}; expected one of "
                f"{sorted(TABLE_SUFFIXES)} or a folder"
            )
        return read_table(path, f"a local copy of the benchmark split {split!r}")
    if (path / "state.json").exists() or (path / "dataset_dict.json").exists():
        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            if split not in loaded:
                raise BenchmarkDataError(
                    f"{path}: no split {split!r}; available splits: {sorted(loaded)}"
                )
            loaded = loaded[split]
        return loaded.to_pandas()
    try:
        return datasets.load_dataset(str(path), split=split).to_pandas()
    except ValueError as exc:
        raise BenchmarkDataError(f"{path}: could not read split {split!r}: {exc}") from exc


def check_columns(frame: pd.DataFrame, schema: Mapping[str, str], source: str) -> None:
    """Fail on a missing column or the first value of the wrong kind, naming row and column.

    ``schema`` maps a column to ``"str"``, ``"int"`` or ``"str_list"`` (a non-empty list of strings).
    """
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise BenchmarkDataError(
            f"{source}: missing column(s) {missing}; found {list(frame.columns)}"
        )
    for column, kind in schema.items():
        for row, value in enumerate(frame[column].tolist()):
            if not _has_kind(value, kind):
                raise BenchmarkDataError(
                    f"{source}: row {row}, column {column!r}: expected {_KIND_TEXT[kind]}, "
                    f"got {value!r}"
                )


_KIND_TEXT = {"str": "a string", "int": "an integer", "str_list": "a non-empty list of strings"}


def _has_kind(value: Any, kind: str) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) or (hasattr(value, "dtype") and value.dtype.kind in "iu")
    if kind == "str_list":
        if isinstance(value, str) or not (isinstance(value, Sequence) or hasattr(value, "tolist")):
            return False
        items = list(value)
        return bool(items) and all(isinstance(item, str) for item in items)
    raise ValueError(f"unknown column kind {kind!r}; valid kinds: {sorted(_KIND_TEXT)}")


def check_subsets(
    subsets: Sequence[str],
    known: Sequence[str],
    expected_counts: Mapping[str, int] | None,
    source: str,
    config_key: str = SUITE_KEY,
) -> None:
    """Every row belongs to a known subset, every subset is present, and (optionally) sizes match.

    ``expected_counts`` are the published numbers of rows per subset; pass ``None`` for a deliberately
    reduced copy (tests, smoke runs), which then only needs every subset at least once.
    """
    found = Counter(subsets)
    unknown = sorted(set(found) - set(known))
    if unknown:
        raise BenchmarkDataError(
            f"{source}: unknown subset(s) {unknown}; valid subsets: {sorted(known)}"
        )
    absent = [name for name in known if name not in found]
    if absent:
        raise BenchmarkDataError(f"{source}: subset(s) {absent} have no rows")
    if expected_counts is None:
        return
    wrong = [
        f"{name}: expected {expected_counts[name]} rows, found {found[name]}"
        for name in known
        if found[name] != expected_counts[name]
    ]
    if wrong:
        raise BenchmarkDataError(
            f"{source}: subset sizes differ from the published benchmark ({'; '.join(wrong)}); "
            f"pass {config_key}.validate_counts=false only for a deliberately reduced copy"
        )


class HubBenchmarkSuite:
    """Loading shared by suites whose rows come from one hub split or a local copy of it.

    Subclasses set the class attributes and may reshape the checked rows in ``_prepare``; data is
    read lazily on the first ``load_data`` and reused afterwards.
    """

    HUB_ID: str
    SPLIT: str
    DATA_ENV_VAR: str
    SCHEMA: Mapping[str, str]
    SUBSETS: Sequence[str]
    SPLIT_COUNTS: Mapping[str, int]
    DEFAULT_NAME: str
    #: Where the suite sits in the composed config; ``build_suites`` sets the index.
    config_key: str = SUITE_KEY

    def __init__(
        self,
        data_path: str | None = None,
        hub_id: str | None = None,
        split: str | None = None,
        validate_counts: bool = True,
        name: str | None = None,
    ) -> None:
        self.name = name or self.DEFAULT_NAME
        self.hub_id = hub_id or self.HUB_ID
        self.split = split or self.SPLIT
        self.data_path = resolve_data_path(data_path, self.DATA_ENV_VAR)
        self.validate_counts = validate_counts
        self._rows: pd.DataFrame | None = None

    def require_available(self) -> None:
        """Fail within seconds when neither a local copy nor a cached or reachable hub copy exists."""
        if self.data_path is None:
            hint = local_copy_hint(self.DATA_ENV_VAR, self.config_key)
            require_available(
                self.hub_id, "benchmark", hint, repo_type="dataset", error=BenchmarkDataError
            )

    def load_data(self) -> pd.DataFrame:
        """The checked benchmark rows, restricted to the schema's columns."""
        if self._rows is None:
            frame, source = load_benchmark_split(
                self.hub_id, self.split, self.data_path, self.DATA_ENV_VAR, self.config_key
            )
            check_columns(frame, self.SCHEMA, source)
            frame = self._prepare(frame[list(self.SCHEMA)].reset_index(drop=True), source)
            expected = self.SPLIT_COUNTS if self.validate_counts else None
            check_subsets(frame["subset"].tolist(), self.SUBSETS, expected, source, self.config_key)
            self._rows = frame
        return self._rows

    def _prepare(self, frame: pd.DataFrame, source: str) -> pd.DataFrame:
        return frame
