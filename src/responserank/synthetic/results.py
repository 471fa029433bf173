"""Collected results of synthetic runs: one JSON per dataset, the format the analysis reads.

    {"metadata": {"dataset", "num_trials", "learners", "dataset_sizes", "master_seed"},
     "dataset_metrics": {"<metric>": [{"value", "type", "dataset_metric": true}, ... per trial]},
     "<learner>": {"sizes": {"<fraction>": {"summary_metrics":
         {"<metric>": [{"value", "type": "scalar", "dataset_metric": false}, ... per trial]}}}}}

Entries are in trial order, so results are paired by trial across learners and sizes. Nothing
wall-clock goes in here (that is the ``<dataset>.provenance.json`` sidecar), so the same master
seed gives the same bytes. Files of the published layout load too: ``read_results`` converts them
(``responserank.synthetic.results_layout``) and says what they lack.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from responserank.atomic_io import write_json_atomic
from responserank.errors import ResultsFormatError
from responserank.reading import read_json
from responserank.run_status import RunStatus
from responserank.synthetic.results_layout import Normalised, normalise_layout
from responserank.synthetic.rundir import (
    MANIFEST,
    dataset_metrics_path,
    legacy_cell_path,
    legacy_dataset_metrics_path,
    read_run_config,
    size_key,
    trial_blocks,
    unit_done,
    unit_path,
)

DEFAULT_EXPERIMENT_DIR = Path("outputs/experiment_runner")
RESERVED_KEYS = ("metadata", "dataset_metrics")
ENTRY_TYPES = ("scalar", "matrix")


def find_finished_runs(exp_dir: Path = DEFAULT_EXPERIMENT_DIR) -> dict[str, Path]:
    """The latest finished run directory per dataset name under ``exp_dir``.

    A run counts once its manifest says "finished"; "latest" is by the run's start time (then
    by path, for a deterministic answer).
    """
    exp_dir = Path(exp_dir)
    if not exp_dir.is_dir():
        raise FileNotFoundError(f"{exp_dir}: experiment directory not found")
    latest: dict[str, tuple[tuple[str, str], Path]] = {}
    for manifest_file in sorted(exp_dir.rglob(MANIFEST)):
        try:
            manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(manifest, dict) or manifest.get("status") != RunStatus.FINISHED:
            continue
        dataset = manifest.get("dataset")
        if not isinstance(dataset, str):
            continue
        key = (str(manifest.get("started_at", "")), str(manifest_file.parent))
        if dataset not in latest or key > latest[dataset][0]:
            latest[dataset] = (key, manifest_file.parent)
    return {dataset: path for dataset, (_, path) in sorted(latest.items())}


def _entry(value: Any, dataset_metric: bool) -> dict[str, Any]:
    kind = "matrix" if isinstance(value, list) else "scalar"
    return {"value": value, "type": kind, "dataset_metric": dataset_metric}


def _metrics_of(cell: Any, path: Path, where: str) -> dict[str, Any]:
    if not isinstance(cell, dict) or not isinstance(cell.get("metrics"), dict):
        raise ResultsFormatError.at(path, where, "expected an object with a 'metrics' object")
    return cell["metrics"]


def _per_trial_metrics(
    path: Path,
    key: str,
    trials: Sequence[int],
    what: str,
    labels: Mapping[str, str] | None = None,
) -> list[dict]:
    """The metrics of ``trials``, in order, from a file holding {key: [{"trial", "metrics"}]}
    and the given ``labels`` (e.g. the learner and size a work unit was computed for)."""
    loaded = read_json(path, f"{what} (an object with a '{key}' list)")
    for label, expected in (labels or {}).items():
        found = loaded.get(label) if isinstance(loaded, dict) else None
        if found != expected:
            raise ResultsFormatError.at(
                path, label, f"expected {expected!r} (the file's place in the run), got {found!r}"
            )
    listed = loaded.get(key) if isinstance(loaded, dict) else None
    if not isinstance(listed, list):
        raise ResultsFormatError.at(path, key, "expected a list of {'trial', 'metrics'} objects")
    found = [cell.get("trial") if isinstance(cell, dict) else None for cell in listed]
    if found != list(trials):
        shown = f"{found[:3]}{' ...' if len(found) > 3 else ''}"
        raise ResultsFormatError.at(
            path, key, f"expected the trials {trials[0]}..{trials[-1]} in order, got {shown}"
        )
    return [_metrics_of(cell, path, f"{key}[{i}]") for i, cell in enumerate(listed)]


def _legacy_metrics(paths: Sequence[Path]) -> list[dict]:
    """Metrics from the one-file-per-trial layout of earlier run directories."""
    return [
        _metrics_of(read_json(path, "a cell file (an object with 'metrics')"), path, "metrics")
        for path in paths
    ]


def _append(
    target: dict[str, list], per_trial: Sequence[dict], dataset_metric: bool, source: Path
) -> None:
    for metrics in per_trial:
        if target and set(metrics) != set(target):
            raise ResultsFormatError(
                f"{source}: metrics {sorted(metrics)} differ from the earlier trials' "
                f"{sorted(target)}"
            )
        for name, value in metrics.items():
            target.setdefault(name, []).append(_entry(value, dataset_metric))


def _missing_files(
    run_dir: Path, record: dict[str, Any], blocks: list[tuple[int, ...]]
) -> list[Path]:
    missing = []
    trials = range(int(record["num_trials"]))
    if not dataset_metrics_path(run_dir).is_file() and not all(
        legacy_dataset_metrics_path(run_dir, t).is_file() for t in trials
    ):
        missing.append(dataset_metrics_path(run_dir))
    for learner in record["learners"]:
        for size in record["dataset_sizes"]:
            key = size_key(float(size))
            missing += [
                unit_path(run_dir, learner, key, block)
                for block in blocks
                if not unit_done(run_dir, learner, key, block)
            ]
    return missing


def collect_run(run_dir: Path) -> dict[str, Any]:
    """The per-dataset results dict of a run, built from its work-unit files (or the per-trial
    files of run directories written by earlier versions).

    Fails with the missing files named when the run is incomplete (resume it first).
    """
    run_dir = Path(run_dir)
    record = read_run_config(run_dir)
    num_trials = int(record["num_trials"])
    learners = list(record["learners"])
    sizes = [float(s) for s in record["dataset_sizes"]]
    trials = list(range(num_trials))
    blocks = trial_blocks(num_trials, int(record.get("trials_per_chunk", 100)))

    missing = _missing_files(run_dir, record, blocks)
    if missing:
        raise FileNotFoundError(
            f"{run_dir}: {len(missing)} result file(s) missing or unreadable (e.g. {missing[0]}); "
            f"finish the run with resume_dir={run_dir}"
        )

    results: dict[str, Any] = {
        "metadata": {
            "dataset": record["dataset"]["name"],
            "num_trials": num_trials,
            "learners": learners,
            "dataset_sizes": sizes,
            "master_seed": int(record["master_seed"]),
        },
        "dataset_metrics": {},
    }
    metrics_file = dataset_metrics_path(run_dir)
    if metrics_file.is_file():
        per_trial = _per_trial_metrics(metrics_file, "trials", trials, "the dataset metrics")
    else:
        metrics_file = legacy_dataset_metrics_path(run_dir, 0).parent
        per_trial = _legacy_metrics([legacy_dataset_metrics_path(run_dir, t) for t in trials])
    _append(results["dataset_metrics"], per_trial, True, metrics_file)
    for learner in learners:
        per_size = {}
        for s in sizes:
            key = size_key(s)
            summary: dict[str, list] = {}
            for block in blocks:
                unit = unit_path(run_dir, learner, key, block)
                if unit.is_file():
                    cells = _per_trial_metrics(
                        unit,
                        "cells",
                        block,
                        "a work unit's results",
                        {"learner": learner, "size": key},
                    )
                else:
                    unit = unit.parent
                    cells = _legacy_metrics(
                        [legacy_cell_path(run_dir, learner, key, t) for t in block]
                    )
                _append(summary, cells, False, unit)
            per_size[key] = {"summary_metrics": summary}
        results[learner] = {"sizes": per_size}
    return results


def _fail(path: Path, where: str, expected: str, got: Any) -> None:
    shown = repr(got)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise ResultsFormatError(f"{path}: {where}: expected {expected}, got {shown}")


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) or value is None


def _check_entries(path: Path, where: str, entries: Any, dataset_metric: bool) -> None:
    if not isinstance(entries, list):
        _fail(path, where, "a list of per-trial entries", entries)
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        if not isinstance(entry, dict):
            _fail(path, at, "an object with value, type, dataset_metric", entry)
        for key in ("value", "type", "dataset_metric"):
            if key not in entry:
                _fail(path, at, f"key {key!r}", sorted(entry))
        if entry["type"] not in ENTRY_TYPES:
            _fail(path, f"{at}.type", f"one of {', '.join(ENTRY_TYPES)}", entry["type"])
        if entry["dataset_metric"] is not dataset_metric:
            _fail(
                path, f"{at}.dataset_metric", str(dataset_metric).lower(), entry["dataset_metric"]
            )
        value = entry["value"]
        if entry["type"] == "scalar" and not _is_number(value):
            _fail(path, f"{at}.value", "a number", value)
        if entry["type"] == "matrix" and not (
            isinstance(value, list)
            and all(isinstance(row, list) and all(_is_number(v) for v in row) for row in value)
        ):
            _fail(path, f"{at}.value", "a matrix (list of lists of numbers)", value)


def validate_results(results: Any, path: Path) -> None:
    """Raise ``ResultsFormatError`` naming the key path of the first schema violation."""
    path = Path(path)
    if not isinstance(results, dict):
        _fail(path, "<top level>", "an object", results)
    metadata = results.get("metadata")
    if not isinstance(metadata, dict):
        _fail(path, "metadata", "an object", metadata)
    for key, check, expected in (
        ("dataset", lambda v: isinstance(v, str), "a string"),
        (
            "num_trials",
            lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
            "an integer >= 1",
        ),
        ("learners", lambda v: isinstance(v, list | dict), "a list (or mapping) of learners"),
        (
            "dataset_sizes",
            lambda v: isinstance(v, list) and all(_is_number(s) for s in v),
            "a list of fractions",
        ),
    ):
        if key not in metadata or not check(metadata[key]):
            _fail(path, f"metadata.{key}", expected, metadata.get(key, "<missing>"))
    dataset_metrics = results.get("dataset_metrics", {})
    if not isinstance(dataset_metrics, dict):
        _fail(path, "dataset_metrics", "an object", dataset_metrics)
    for name, entries in dataset_metrics.items():
        _check_entries(path, f"dataset_metrics.{name}", entries, True)
    learners = [k for k in results if k not in RESERVED_KEYS]
    if not learners:
        _fail(path, "<top level>", "at least one learner key besides metadata", sorted(results))
    for learner in learners:
        node = results[learner]
        if not isinstance(node, dict) or not isinstance(node.get("sizes"), dict):
            _fail(path, f"{learner}.sizes", "an object keyed by dataset size", node)
        for size, size_node in node["sizes"].items():
            try:
                fraction = float(size)
            except ValueError:
                fraction = math.nan
            if not 0 < fraction <= 1:
                _fail(path, f"{learner}.sizes", "size keys that are fractions in (0, 1]", size)
            where = f"{learner}.sizes.{size}.summary_metrics"
            summary = size_node.get("summary_metrics") if isinstance(size_node, dict) else None
            if not isinstance(summary, dict):
                _fail(path, where, "an object of metrics", summary)
            for metric, entries in summary.items():
                _check_entries(path, f"{where}.{metric}", entries, False)


def read_results(path: Path) -> Normalised:
    """Read a per-dataset results JSON of either layout, convert it to this project's and validate.

    Raises ``InputFileError`` (missing or unreadable file) or ``ResultsFormatError`` (naming the
    file and key path).
    """
    path = Path(path)
    raw = read_json(path, "a per-dataset synthetic results JSON")
    normalised = normalise_layout(raw, path)
    validate_results(normalised.results, path)
    return normalised


def load_results(path: Path) -> dict[str, Any]:
    """The validated results dict of a per-dataset results JSON (either layout; ``read_results``)."""
    return read_results(path).results


def write_results(results: Mapping[str, Any], path: Path) -> None:
    """Write a results dict atomically: compact, sorted keys (same content, same bytes).

    Compact because a full grid holds ~47,000 per-trial entries per dataset (3.4 MB instead of
    6.4 MB indented).
    """
    validate_results(dict(results), Path(path))
    write_json_atomic(Path(path), dict(results), indent=None)
