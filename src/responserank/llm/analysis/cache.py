"""The cached LLM results: one tidy CSV plus ``meta.json`` (text, so results/ can be committed).

``results.csv`` has one row per (run, metric): ``config`` (registry name), ``group_id``,
``run_name``, ``fraction``, ``seed``, ``metric`` (run-record name, e.g. ``eval/heldout/accuracy``),
``value``. ``meta.json`` says where the runs came from and what was (not) found. A cache folder also
holds the registry it was collected with (``registry.yaml``) and, when the preference data was
available, ``dataset_annotations.csv`` (see ``dataset_stats``).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.errors import CacheError
from responserank.llm.analysis.metrics import SCORE_RANGES
from responserank.reading import read_csv, read_json

RESULTS_FILE = "results.csv"
META_FILE = "meta.json"
REGISTRY_FILE = "registry.yaml"
COLUMNS: tuple[str, ...] = ("config", "group_id", "run_name", "fraction", "seed", "metric", "value")
RUN_COLUMNS: tuple[str, ...] = COLUMNS[:5]


@dataclass(frozen=True)
class Cache:
    results: pd.DataFrame
    meta: dict[str, Any]


def to_csv(frame: pd.DataFrame) -> str:
    """CSV text with full float precision and ``\\n`` line ends (stable bytes for equal data)."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def tidy(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """Long table from run dicts ``{config, group_id, run_name, fraction, seed, metrics: {...}}``.

    Non-numeric and non-finite metric values are left out; rows are sorted so the file is stable.
    """
    rows = []
    for run in runs:
        for metric, value in run["metrics"].items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if not math.isfinite(value):
                continue
            rows.append({**{k: run[k] for k in RUN_COLUMNS}, "metric": metric, "value": value})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame = frame.astype({"fraction": float, "seed": int, "value": float})
    return frame.sort_values(["config", "fraction", "seed", "metric"], kind="stable").reset_index(
        drop=True
    )


def write_cache(cache_dir: Path, results: pd.DataFrame, meta: dict[str, Any]) -> list[Path]:
    """Write ``results.csv`` and ``meta.json`` atomically."""
    return [
        write_text_atomic(cache_dir / RESULTS_FILE, to_csv(results[list(COLUMNS)])),
        write_json_atomic(cache_dir / META_FILE, meta),
    ]


def _check_score_ranges(frame: pd.DataFrame, path: Path) -> None:
    """Refuse a score (``metrics.SCORE_RANGES``: accuracies, RewardBench scores) outside its range,
    naming the row and the metric."""
    metrics = frame["metric"].to_numpy()
    values = frame["value"].to_numpy(dtype=float)
    ranges = [SCORE_RANGES.get(metric, (-math.inf, math.inf)) for metric in metrics]
    bad = [i for i, (low, high) in enumerate(ranges) if not low <= values[i] <= high]
    if bad:
        row = bad[0]
        low, high = ranges[row]
        raise CacheError(
            f"{path}, row {row + 1}, column 'value': metric {metrics[row]!r} is a score in "
            f"[{low:g}, {high:g}], got {float(values[row])!r} ({len(bad)} rows outside)"
        )


def load_cache(cache_dir: Path) -> Cache:
    """Read and check ``results.csv`` and ``meta.json``; errors name the file, row and column."""
    results_path = cache_dir / RESULTS_FILE
    if not results_path.is_file():
        raise CacheError(
            f"{results_path} not found; run `python -m responserank.llm.analysis.cli collect "
            f"{cache_dir} --runs-dir runs/llm` (or --project-name) first"
        )
    frame = read_csv(
        results_path,
        "the collected results table (one metric value per row)",
        required=COLUMNS,
        dtype={"config": str, "group_id": str, "run_name": str, "metric": str},
        keep_default_na=False,
    )
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise CacheError(
            f"{results_path}: missing column(s) {missing}; found {list(frame.columns)}"
        )
    for column, check, expected in (
        ("fraction", lambda v: 0.0 < v <= 1.0, "a fraction in (0, 1]"),
        ("seed", lambda v: float(v).is_integer(), "an integer seed"),
        ("value", math.isfinite, "a finite number"),
    ):
        numeric = pd.to_numeric(frame[column], errors="coerce")
        bad = [i for i, v in enumerate(numeric) if not (v == v and check(v))]
        if bad:
            row = bad[0]
            raise CacheError(
                f"{results_path}, row {row + 1}, column {column!r}: expected {expected}, "
                f"got {frame[column].iloc[row]!r}"
            )
        frame[column] = numeric
    frame["seed"] = frame["seed"].astype(int)
    _check_score_ranges(frame, results_path)
    duplicated = frame.duplicated(["config", "fraction", "seed", "metric"], keep=False)
    if duplicated.any():
        row = int(duplicated.to_numpy().nonzero()[0][0])
        raise CacheError(
            f"{results_path}, row {row + 1}: config {frame['config'].iloc[row]!r}, fraction "
            f"{frame['fraction'].iloc[row]}, seed {frame['seed'].iloc[row]} and metric "
            f"{frame['metric'].iloc[row]!r} appear more than once; each run must be unique"
        )
    meta_path = cache_dir / META_FILE
    meta = (
        read_json(meta_path, "the cache's metadata (a JSON object)") if meta_path.is_file() else {}
    )
    return Cache(results=frame, meta=meta)
