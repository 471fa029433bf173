"""Reading rows of a Hugging Face dataset config from the hub or from a local copy.

A local copy of one config is a folder holding either a ``save_to_disk`` dataset (a ``Dataset`` or a
``DatasetDict`` with a ``train`` split) or ``*.parquet`` / ``*.jsonl`` files in the hub schema. Every
row remembers the file it came from and its position there, so validation errors can point at it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from responserank.errors import DataValidationError
from responserank.hub import DATASET_WAYS_OUT, require_available
from responserank.reading import read_json_lines, read_parquet_table

_DATASET_MARKERS = ("dataset_dict.json", "state.json")
_ROW_FILE_SUFFIXES = (".parquet", ".jsonl", ".json")


@dataclass(frozen=True)
class RawRows:
    """Rows as plain Python dicts, each with the name of its origin and its row number there."""

    rows: list[dict[str, Any]]
    origins: list[str]
    positions: list[int]

    def where(self, index: int) -> tuple[str, int]:
        """(origin, row within origin) of row ``index``, for error messages."""
        return self.origins[index], self.positions[index]


def _from_records(records: list[dict[str, Any]], origin: str) -> RawRows:
    return RawRows(records, [origin] * len(records), list(range(len(records))))


def _concat(parts: list[RawRows]) -> RawRows:
    return RawRows(
        [row for part in parts for row in part.rows],
        [origin for part in parts for origin in part.origins],
        [position for part in parts for position in part.positions],
    )


def read_hub_config(hub_id: str, config: str, split: str = "train") -> RawRows:
    """Rows of ``hub_id`` / ``config`` / ``split`` via ``datasets`` (cache or network)."""
    import datasets

    origin = f"{hub_id} (config {config}, split {split})"
    require_available(
        hub_id, "dataset", DATASET_WAYS_OUT, repo_type="dataset", error=DataValidationError
    )
    try:
        dataset = datasets.load_dataset(hub_id, config, split=split)
    except Exception as err:
        raise DataValidationError(
            f"could not load {origin} from the Hugging Face hub or its cache ({err}); without "
            "network access, point dataset.path at a local copy (see "
            "responserank.testing.fixtures for the expected layout)"
        ) from err
    return _from_records(dataset.to_list(), origin)


def _read_jsonl(path: Path) -> RawRows:
    return _from_records(read_json_lines(path, "one dataset row per line"), str(path))


def _read_parquet(path: Path) -> RawRows:
    table = read_parquet_table(path, "dataset rows in the hub schema")
    return _from_records(table.to_pylist(), str(path))


def _read_saved_dataset(folder: Path) -> RawRows:
    import datasets

    loaded = datasets.load_from_disk(str(folder))
    if isinstance(loaded, datasets.DatasetDict):
        if "train" not in loaded:
            raise DataValidationError(
                f"{folder}: saved DatasetDict has no 'train' split; splits: {sorted(loaded)}"
            )
        loaded = loaded["train"]
    return _from_records(loaded.to_list(), str(folder))


def read_local_config(folder: Path) -> RawRows:
    """Rows of a local copy of one config (see the module docstring for the accepted layouts)."""
    if not folder.is_dir():
        raise DataValidationError(f"{folder}: expected a folder with the dataset, found none")
    if any((folder / marker).is_file() for marker in _DATASET_MARKERS):
        return _read_saved_dataset(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix in _ROW_FILE_SUFFIXES)
    if not files:
        raise DataValidationError(
            f"{folder}: expected a save_to_disk dataset or *.parquet / *.jsonl files, found none"
        )
    return _concat([_read_parquet(p) if p.suffix == ".parquet" else _read_jsonl(p) for p in files])


def find_config_folder(root: Path, candidates: tuple[str, ...]) -> Path:
    """The first existing ``root / candidate`` folder; the error lists what was looked for."""
    for name in candidates:
        if (root / name).is_dir():
            return root / name
    looked = ", ".join(str(root / name) for name in candidates)
    raise DataValidationError(f"{root}: no dataset folder found; looked for: {looked}")
