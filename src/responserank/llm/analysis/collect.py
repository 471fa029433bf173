"""Collect the final metrics of finished, non-dry runs of every registered group into a cache folder.

Two sources give the same table: local run records (``<runs_dir>/<group_id>/<run_name>/summary.json``,
contract E; no account needed) or the wandb project the runs mirrored to (the run summary's
``final/<metric>`` values, or the plain ``<metric>`` ones when a run has no ``final/`` keys).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from responserank.atomic_io import write_text_atomic
from responserank.errors import CollectError
from responserank.llm.analysis.cache import REGISTRY_FILE, tidy, to_csv, write_cache
from responserank.llm.analysis.dataset_stats import (
    ANNOTATIONS_FILE,
    annotation_table,
    generated_data_note,
)
from responserank.llm.analysis.published import project_metric_name
from responserank.llm.analysis.registry import FoundGroup, Registry
from responserank.llm.runs.record import RunRecord, config_value, utc_now
from responserank.llm.runs.wandb_mirror import wandb_credentials_available

FINAL_PREFIX = "final/"
METRIC_PREFIXES = ("eval/", "train/")


@dataclass
class Collected:
    """Runs found per configuration, what was skipped and why, and the dataset paths they used."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    dataset_paths: set[str] = field(default_factory=set)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


# ----------------------------------------------------------------------------------------------
# Local run records
# ----------------------------------------------------------------------------------------------


def _run_records(group_dir: Path) -> Iterable[RunRecord]:
    """Run directories of one group (a dry run's own record lives inside them and is not one)."""
    if not group_dir.is_dir():
        return []
    return [RunRecord(path) for path in sorted(group_dir.iterdir()) if path.is_dir()]


def _read_summary(record: RunRecord) -> dict[str, Any] | None:
    """The run's summary (None before it wrote one); a damaged file is a ``CollectError`` naming it.

    A run record is written atomically, so a truncated or malformed ``summary.json`` was damaged
    afterwards (a copy cut short, a full disk while copying): its metrics cannot be trusted, and
    silently leaving the run out would shift the means, so the collection stops.
    """
    try:
        return record.read_summary()
    except (ValueError, OSError) as exc:  # InputFileError (a ValueError) names the file
        raise CollectError(
            f"{exc}; move the damaged run folder {record.path} away (or restore the file) and "
            "collect again"
        ) from exc


def _status_reason(summary: dict[str, Any] | None) -> str | None:
    """Why a summary is not a collectable result (None when it is one)."""
    if summary is None:
        return "no summary.json"
    if summary.get("dry_run"):
        return "dry run"
    if summary.get("status") != "finished":
        return f"status {summary.get('status')!r}"
    return None


def _dataset_path(record: RunRecord) -> str | None:
    return config_value(record.read_config(), "dataset.path")


def from_runs_dir(registry: Registry, runs_dir: Path) -> Collected:
    """Finished, non-dry runs of every registered group under ``runs_dir``."""
    if not runs_dir.is_dir():
        raise CollectError(
            f"runs folder {runs_dir} does not exist (tracking.output_root of training)"
        )
    found = Collected()
    for name, entry in registry.configs.items():
        count = 0
        for record in _run_records(runs_dir / entry.group_id):
            summary = _read_summary(record)
            reason = _status_reason(summary)
            if reason is not None:
                found.skip(reason)
                continue
            if summary.get("group_id") != entry.group_id:
                raise CollectError(
                    f"{record.summary_path}: group_id {summary.get('group_id')!r} does not match "
                    f"its folder {entry.group_id!r}"
                )
            found.runs.append(_run_row(name, entry.group_id, summary, record.summary_path))
            dataset = _dataset_path(record)
            if dataset:
                found.dataset_paths.add(dataset)
            count += 1
        if count == 0:
            found.notes.append(f"{name}: no finished runs of group {entry.group_id} in {runs_dir}")
    return found


def _run_row(name: str, group: str, summary: dict[str, Any], origin: Any) -> dict[str, Any]:
    for key in ("run_name", "fraction", "seed"):
        if summary.get(key) is None:
            raise CollectError(f"{origin}: the run summary lacks {key!r}")
    return {
        "config": name,
        "group_id": group,
        "run_name": str(summary["run_name"]),
        "fraction": float(summary["fraction"]),
        "seed": int(summary["seed"]),
        "metrics": dict(summary.get("metrics") or {}),
    }


def find_groups(runs_dir: Path) -> list[FoundGroup]:
    """Every group with finished, non-dry runs under ``runs_dir`` (for ``registry`` updates)."""
    if not runs_dir.is_dir():
        raise CollectError(
            f"runs folder {runs_dir} does not exist (tracking.output_root of training)"
        )
    groups = []
    for group_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        finished = [
            summary
            for record in _run_records(group_dir)
            if _status_reason(summary := _read_summary(record)) is None
        ]
        if finished:
            groups.append(
                FoundGroup(
                    experiment=str(finished[0].get("experiment") or group_dir.name),
                    group_id=group_dir.name,
                    runs=len(finished),
                    last_finished=max(str(s.get("finished_at") or "") for s in finished),
                )
            )
    return groups


# ----------------------------------------------------------------------------------------------
# wandb
# ----------------------------------------------------------------------------------------------


def wandb_api() -> Any:
    """A wandb API client; a clear error offline or without an account."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in {"offline", "disabled", "dryrun"}:
        raise CollectError(
            f"collecting from wandb needs the wandb server, but WANDB_MODE={mode}; unset it and "
            "run `wandb login`, or collect from local run records with --runs-dir runs/llm"
        )
    if not wandb_credentials_available():
        raise CollectError(
            "collecting from wandb needs a wandb account: run `wandb login` (or set "
            "WANDB_API_KEY), or collect from local run records with --runs-dir runs/llm"
        )
    import wandb

    try:
        return wandb.Api(timeout=60)
    except Exception as exc:  # wandb raises unrelated types for "not logged in / no network"
        raise CollectError(f"could not open the wandb API ({type(exc).__name__}: {exc})") from exc


def _config_value(config: Any, dotted: str) -> Any:
    node = config
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def wandb_metrics(summary: dict[str, Any]) -> dict[str, Any]:
    """Final metrics of a run summary: ``final/<metric>`` when present, else ``eval/``/``train/``.

    Runs of the published implementation name their metrics differently (``eval_accuracy``,
    ``eval/rewardbench_v2/section/<Category>_score``, ...); those are stored under this project's
    names (``published.project_metric_name``).
    """
    final = {k[len(FINAL_PREFIX) :]: v for k, v in summary.items() if k.startswith(FINAL_PREFIX)}
    if final:
        return final
    metrics = {}
    for key, value in summary.items():
        name = project_metric_name(key)
        if name is not None:
            metrics[name] = value
        elif key.startswith(METRIC_PREFIXES):
            metrics[key] = value
    return metrics


def non_finite_counts(runs: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Per metric, how many runs hold a non-finite number (NaN, inf): ``tidy`` leaves them out."""
    counts: dict[str, int] = {}
    for run in runs:
        for metric, value in run["metrics"].items():
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if number and not math.isfinite(value):
                counts[metric] = counts.get(metric, 0) + 1
    return dict(sorted(counts.items()))


def from_wandb_runs(name: str, group: str, runs: Iterable[Any], found: Collected) -> int:
    """Add the finished, non-dry runs of one group (wandb run objects) to ``found``.

    A run object needs ``name``, ``state``, ``summary``, ``config`` and ``created_at``. When a run
    name occurs more than once (a repeated launch), the latest finished one counts. A summary
    without this project's ``status`` (runs of the published implementation) takes the wandb state.
    """
    latest: dict[str, Any] = {}
    for run in runs:
        summary = {"status": run.state, **dict(run.summary)}
        reason = _status_reason(summary)
        if reason is None and run.state != "finished":
            reason = f"wandb state {run.state!r}"
        if reason is not None:
            found.skip(reason)
            continue
        previous = latest.get(run.name)
        if previous is not None:
            found.skip("repeated run name (older copy)")
            if str(previous.created_at) > str(run.created_at):
                continue
        latest[run.name] = run
    for run in latest.values():
        summary = dict(run.summary)
        config = dict(run.config)
        row = {
            "run_name": run.name,
            "fraction": summary.get("fraction", _config_value(config, "experiment.fraction")),
            "seed": summary.get("seed", config.get("seed")),
            "metrics": wandb_metrics(summary),
        }
        found.runs.append(_run_row(name, group, row, f"wandb run {run.name}"))
        dataset = _config_value(config, "dataset.path")
        if dataset:
            found.dataset_paths.add(str(dataset))
    return len(latest)


def from_wandb(
    registry: Registry, project: str, entity: str | None = None, api: Any = None
) -> Collected:
    """Finished, non-dry runs of every registered group in a wandb project."""
    api = wandb_api() if api is None else api
    path = f"{entity}/{project}" if entity else project
    found = Collected()
    for name, entry in registry.configs.items():
        try:
            runs = list(api.runs(path, filters={"group": entry.group_id}))
        except Exception as exc:  # network, auth and "project not found" errors differ by version
            raise CollectError(f"could not list the runs of wandb project {path!r}: {exc}") from exc
        if from_wandb_runs(name, entry.group_id, runs, found) == 0:
            found.notes.append(f"{name}: no finished runs of group {entry.group_id} in {path}")
    return found


# ----------------------------------------------------------------------------------------------
# Writing the cache
# ----------------------------------------------------------------------------------------------


def _dataset_for_stats(found: Collected, dataset: Path | None) -> tuple[Path | None, str]:
    """The preference data to describe: given, or the one local copy all collected runs used."""
    if dataset is not None:
        if not dataset.exists():
            raise CollectError(f"--dataset {dataset} does not exist")
        return dataset, f"dataset statistics from {dataset}"
    if len(found.dataset_paths) != 1:
        used = sorted(found.dataset_paths) or ["the hub copy (no dataset.path)"]
        return None, (
            f"dataset statistics skipped: the runs used {', '.join(used)}; pass --dataset PATH "
            "(a local MultiPref-schema copy) to include them"
        )
    path = Path(next(iter(found.dataset_paths)))
    if not path.exists():
        return None, f"dataset statistics skipped: the runs' dataset.path {path} is not here"
    return path, f"dataset statistics from {path} (the runs' dataset.path)"


def write_collected(
    cache_dir: Path,
    registry: Registry,
    found: Collected,
    source: dict[str, Any],
    dataset: Path | None = None,
) -> tuple[list[Path], list[str]]:
    """Write ``results.csv``, ``meta.json``, the registry copy and the dataset annotations."""
    if not found.runs:
        raise CollectError(
            f"no finished, non-dry runs of any registered group ({', '.join(registry.configs)}); "
            + "; ".join(found.notes)
        )
    results = tidy(found.runs)
    notes = list(found.notes)
    for metric, count in non_finite_counts(found.runs).items():
        notes.append(f"{metric}: {count} runs with a non-finite value; left out of the cache")
    written: list[Path] = []
    registry_copy = cache_dir / REGISTRY_FILE
    if not registry_copy.exists() or registry_copy.resolve() != registry.path.resolve():
        written.append(write_text_atomic(registry_copy, registry.path.read_text(encoding="utf-8")))
    data_path, note = _dataset_for_stats(found, dataset)
    notes.append(note)
    if data_path is not None:
        table = annotation_table(data_path)
        written.append(write_text_atomic(cache_dir / ANNOTATIONS_FILE, to_csv(table)))
    counts = results.drop_duplicates("run_name").groupby(["config", "fraction"]).size()
    meta = {
        "collected_at": utc_now(),
        "source": source,
        "registry": str(registry.path),
        "dataset": None if data_path is None else str(data_path),
        "data_note": None if data_path is None else generated_data_note(data_path),
        "runs": int(results["run_name"].nunique()),
        "runs_per_config_and_fraction": {
            f"{config}@{fraction!r}": int(n) for (config, fraction), n in counts.items()
        },
        "skipped": dict(sorted(found.skipped.items())),
        "notes": notes,
    }
    written = write_cache(cache_dir, results, meta) + written
    return written, notes
