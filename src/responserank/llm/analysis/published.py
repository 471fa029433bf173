"""Import a cache folder of the published analysis (``data.pkl``, ``registry.yaml``, ``meta.json``).

    python -m responserank.llm.analysis.cli import-published SRC_DIR CACHE_DIR --allow-pickle

``data.pkl`` is a pandas DataFrame (``DataFrame.to_pickle``), one row per run summary:
``run_id, run_name, egid, seed, fraction, run_state`` and metric columns. The import keeps the
finished runs of the registered groups, maps the metric names to this project's
(``PUBLISHED_METRICS``, ``project_metric_name``) and writes this project's cache: ``results.csv``,
``meta.json`` and the registry (the published file as it is; ``registry.load_registry`` reads it).

Rules, each reported in the command's output and in ``meta.json``:

- only rows with ``run_state == "finished"`` count; the others are counted by state;
- a (configuration, fraction, seed) with several finished rows (a rerun) keeps the last of them in
  the frame's order, the most recent summary the published collector appended; the others are
  listed by ``run_id``;
- a score outside its range (``metrics.SCORE_RANGES``) is refused (file, row, column); a NaN score is counted per metric and left
  out of the cache (the run's other metrics stay);
- a registry style value matplotlib cannot draw is a warning and the default is used
  (``registry.parse_registry``).

Unpickling runs code stored in the file, so the command refuses without ``--allow-pickle``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from responserank.atomic_io import write_text_atomic
from responserank.errors import CacheError
from responserank.llm.analysis.cache import META_FILE, REGISTRY_FILE, tidy, write_cache
from responserank.llm.analysis.metrics import RB2_CATEGORIES, SCORE_RANGES
from responserank.llm.analysis.registry import load_registry

DATA_FILE = "data.pkl"
FINISHED = "finished"
# Identifying columns and the types they must have (checked by ``_check_column``).
ID_COLUMNS: dict[str, str] = {
    "run_id": "string",
    "run_name": "string",
    "egid": "string",
    "seed": "integer",
    "fraction": "fraction in (0, 1]",
    "run_state": "string",
}
PUBLISHED_METRICS: dict[str, str] = {
    "eval_accuracy": "eval/heldout/accuracy",
    "eval/rewardbench_v1/overall/accuracy_score": "eval/rewardbench_v1/overall",
    "eval/rewardbench_v2/overall/accuracy_score": "eval/rewardbench_v2/overall",
}
RB2_SECTION_PREFIX = "eval/rewardbench_v2/section/"
RB2_SECTION_SUFFIX = "_score"
# Run statistics of the published summaries, kept under ``data/<name>`` (no range check).
RUN_STATISTICS = ("train_examples", "test_examples", "non_singleton_fraction", "avg_fragment_size")
DATA_PREFIX = "data/"


def project_metric_name(name: str) -> str | None:
    """This project's name of a published metric (``eval_accuracy`` -> ``eval/heldout/accuracy``,
    ``.../section/<Category>_score`` -> ``eval/rewardbench_v2/subset/<Category>``), else None."""
    if name in PUBLISHED_METRICS:
        return PUBLISHED_METRICS[name]
    if name.startswith(RB2_SECTION_PREFIX) and name.endswith(RB2_SECTION_SUFFIX):
        category = name[len(RB2_SECTION_PREFIX) : -len(RB2_SECTION_SUFFIX)]
        subset = f"eval/rewardbench_v2/subset/{category}"
        if any(metric.key == subset for metric in RB2_CATEGORIES):
            return subset
    return None


@dataclass
class Imported:
    """What the import kept and left out, for the command's output and ``meta.json``."""

    written: list[Path] = field(default_factory=list)
    runs: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    nan_values: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def read_frame(path: Path, allow_pickle: bool) -> pd.DataFrame:
    """The published run table; refuses to unpickle unless ``allow_pickle`` (it runs code)."""
    if not path.is_file():
        raise CacheError(f"{path} not found; a published cache folder holds {DATA_FILE}")
    if not allow_pickle:
        raise CacheError(
            f"{path}: not read: unpickling runs code stored in the file, so a file from an "
            "untrusted source could do anything on this machine; pass --allow-pickle if you trust "
            "where it came from"
        )
    try:
        frame = pd.read_pickle(path)
    except Exception as exc:  # any unpickling failure: corrupt file, missing class, version
        raise CacheError(f"{path}: could not unpickle ({type(exc).__name__}: {exc})") from exc
    if not isinstance(frame, pd.DataFrame):
        raise CacheError(f"{path}: expected a pandas DataFrame, got {type(frame).__name__}")
    return frame.reset_index(drop=True)


def _check_column(path: Path, frame: pd.DataFrame, column: str, expected: str) -> None:
    for row, value in enumerate(frame[column]):
        if expected == "string":
            ok = isinstance(value, str) and bool(value)
        elif expected == "integer":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            ok = ok and math.isfinite(value) and float(value).is_integer()
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value <= 1
        if not ok:
            raise CacheError(
                f"{path}, row {row}, column {column!r}: expected a {expected}, got {value!r}"
            )


def _metric_columns(path: Path, frame: pd.DataFrame) -> dict[str, str]:
    """Published metric column -> this project's name; every one must be numeric."""
    columns = {}
    for column in frame.columns:
        name = project_metric_name(column)
        if name is None and column in RUN_STATISTICS:
            name = DATA_PREFIX + column
        if name is None:
            continue
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise CacheError(
                f"{path}, column {column!r}: expected numbers, got dtype {frame[column].dtype}"
            )
        columns[column] = name
    if not any(name in PUBLISHED_METRICS.values() for name in columns.values()):
        raise CacheError(
            f"{path}: no evaluation metric column; expected any of {sorted(PUBLISHED_METRICS)} "
            f"or {RB2_SECTION_PREFIX}<Category>{RB2_SECTION_SUFFIX}; found {list(frame.columns)}"
        )
    return columns


def check_frame(path: Path, frame: pd.DataFrame) -> dict[str, str]:
    """Check columns, types and score ranges; return the metric column mapping."""
    absent = [column for column in ID_COLUMNS if column not in frame.columns]
    if absent:
        raise CacheError(
            f"{path}: missing column(s) {absent}; found {list(frame.columns)} (expected the "
            "published run table: run_id, run_name, egid, seed, fraction, run_state, metrics)"
        )
    for column, expected in ID_COLUMNS.items():
        _check_column(path, frame, column, expected)
    columns = _metric_columns(path, frame)
    for column, name in columns.items():
        if name not in SCORE_RANGES:
            continue
        low, high = SCORE_RANGES[name]
        values = frame[column].to_numpy(dtype=float)
        bad = [i for i, v in enumerate(values) if not math.isnan(v) and not low <= v <= high]
        if bad:
            raise CacheError(
                f"{path}, row {bad[0]}, column {column!r}: expected a score in [{low:g}, "
                f"{high:g}], got {float(values[bad[0]])!r} ({len(bad)} rows outside)"
            )
    return columns


def import_published(src_dir: Path, cache_dir: Path, allow_pickle: bool = False) -> Imported:
    """Turn the published cache folder ``src_dir`` into this project's cache in ``cache_dir``.

    Raises ``CacheError`` (also without ``allow_pickle``: unpickling runs code) or ``RegistryError``,
    each naming the file and what is wrong.
    """
    src_dir, cache_dir = Path(src_dir), Path(cache_dir)
    registry_path = src_dir / REGISTRY_FILE
    registry = load_registry(registry_path)
    data_path = src_dir / DATA_FILE
    frame = read_frame(data_path, allow_pickle)
    columns = check_frame(data_path, frame)
    config_of = {entry.group_id: name for name, entry in registry.configs.items()}
    imported = Imported(warnings=list(registry.warnings))

    kept: dict[tuple[str, float, int], dict[str, Any]] = {}
    for record in frame.to_dict(orient="records"):
        state = record["run_state"]
        if state != FINISHED:
            imported.skip(f"run_state {state}")
            continue
        config = config_of.get(record["egid"])
        if config is None:
            imported.skip(f"group {record['egid']} not in the registry")
            continue
        cell = (config, float(record["fraction"]), int(record["seed"]))
        if cell in kept:
            imported.duplicates.append(
                f"{config} at fraction {cell[1]}, seed {cell[2]}: run {record['run_id']} kept "
                f"(last in {DATA_FILE}), run {kept[cell]['run_id']} dropped"
            )
        kept[cell] = {
            "run_id": record["run_id"],
            "config": config,
            "group_id": record["egid"],
            "run_name": record["run_name"],
            "fraction": cell[1],
            "seed": cell[2],
            "metrics": record,
        }
    for run in kept.values():
        metrics = {}
        for column, name in columns.items():
            value = float(run["metrics"][column])
            if math.isnan(value):
                imported.nan_values[name] = imported.nan_values.get(name, 0) + 1
                continue
            metrics[name] = value
        run["metrics"] = metrics
    if not kept:
        raise CacheError(
            f"{data_path}: no finished run of a registered group ({', '.join(config_of)}); "
            f"skipped: {imported.skipped}"
        )
    for name in registry.configs:
        if not any(run["config"] == name for run in kept.values()):
            imported.notes.append(f"{name}: registered, but {DATA_FILE} has no finished run of it")
    results = tidy(list(kept.values()))
    imported.runs = len(kept)
    counts = results.drop_duplicates("run_name").groupby(["config", "fraction"]).size()
    published_meta_path = src_dir / META_FILE
    meta = {
        "source": {"kind": "published", "path": str(src_dir)},
        "registry": str(cache_dir / REGISTRY_FILE),
        "runs": imported.runs,
        "runs_per_config_and_fraction": {
            f"{config}@{fraction!r}": int(n) for (config, fraction), n in counts.items()
        },
        "skipped": dict(sorted(imported.skipped.items())),
        "duplicate_seeds": imported.duplicates,
        "nan_values": dict(sorted(imported.nan_values.items())),
        "published_meta": _published_meta(published_meta_path),
        "notes": imported.notes,
        "registry_warnings": imported.warnings,
    }
    imported.written = write_cache(cache_dir, results, meta)
    imported.written.append(
        write_text_atomic(cache_dir / REGISTRY_FILE, registry_path.read_text(encoding="utf-8"))
    )
    return imported


def _published_meta(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CacheError(f"{path}: not valid JSON ({exc})") from exc
