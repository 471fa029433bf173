"""The run record on disk (contract E): one folder per run, every write atomic.

Layout of ``<tracking.output_root>/<group_id>/<run_name>/``::

    config.yaml        resolved config
    overrides.yaml     Hydra overrides and group choices
    environment.json   host, versions, devices, SLURM ids
    summary.json       status, timestamps, final metrics, git state (rewritten atomically)
    metrics.jsonl      one JSON object per evaluation: {"epoch", "step", "<metric>": value, ...}
    data_stats.json    statistics of the prepared data and of the batch packing
    git.diff           uncommitted changes, when the tree was dirty
    claim.json         the live claim of the process training the run (``responserank.llm.runs.claims``)
    checkpoints/       Trainer checkpoints (for resume; removed after a finished run by default)
    model/             reward model + tokenizer in HF format (unless save_model=false)
    dry_run/           a dry run's own record; it never touches the files above
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.errors import InputFileError
from responserank.jsonl import read_json_objects
from responserank.reading import read_yaml
from responserank.run_status import RunStatus

STATUSES = tuple(RunStatus)


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second (``2026-01-31T12:00:00+00:00``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def config_value(config: Any, dotted: str, default: Any = None) -> Any:
    """The value at ``dotted`` (``"dataset.path"``) in a resolved config read as plain data;
    ``default`` when a key on the way is absent (a value that is null stays None)."""
    node = config
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return default
        node = node[key]
    return node


def seconds_since(stamp: str) -> float:
    """Seconds from an ISO 8601 time stamp (with its UTC offset) to now."""
    return (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(stamp)).total_seconds()


class RunRecord:
    """Reads and writes one run directory; every write is atomic."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def summary_path(self) -> Path:
        return self.path / "summary.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def claim_path(self) -> Path:
        return self.path / "claim.json"

    @classmethod
    def holding_model(cls, model_dir: Path) -> RunRecord | None:
        """The record whose ``model/`` folder is ``model_dir``, or None for a model saved elsewhere.

        Symlinks are kept (a run's ``model/`` may link to weights stored elsewhere), so the record
        is found from the path as given.
        """
        parent = Path(os.path.abspath(model_dir)).parent
        record = cls(parent)
        return record if record.summary_path.is_file() else None

    def read_summary(self) -> dict[str, Any] | None:
        """The summary, or None before the run wrote one.

        Raises InputFileError naming the file when it is not a JSON object (truncated, damaged,
        not UTF-8) or its ``metrics`` is not an object.
        """
        if not self.summary_path.is_file():
            return None
        try:
            summary = json.loads(self.summary_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputFileError(
                f"{self.summary_path}: not valid JSON ({exc}); expected the run's summary"
            ) from exc
        if not isinstance(summary, dict) or not isinstance(summary.get("metrics", {}), dict):
            raise InputFileError(
                f"{self.summary_path}: expected a JSON object whose 'metrics' is an object"
            )
        return summary

    def set_aside_damaged_summary(self) -> Path | None:
        """Rename a summary that :meth:`read_summary` refuses to ``summary.json.damaged-<time>``
        (kept for inspection) and return the new path; None when the summary is readable or
        absent."""
        try:
            self.read_summary()
        except InputFileError:
            stamp = utc_now().replace(":", "")
            aside = self.summary_path.with_name(f"{self.summary_path.name}.damaged-{stamp}")
            os.replace(self.summary_path, aside)
            return aside
        return None

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every logged evaluation, in order; a line that is not a JSON object is an error."""
        if not self.metrics_path.is_file():
            return []
        return read_json_objects(self.metrics_path)

    def read_config(self) -> dict[str, Any] | None:
        """The run's resolved ``config.yaml`` as plain data; None when the record has none.

        Raises InputFileError naming the file when it is not a YAML mapping.
        """
        path = self.path / "config.yaml"
        if not path.is_file():
            return None
        config = read_yaml(path, "the run's resolved config (a YAML mapping)")
        if not isinstance(config, dict):
            raise InputFileError(f"{path}: expected the run's resolved config (a YAML mapping)")
        return config

    def write_config(self, resolved_yaml: str, hydra_info: Mapping[str, Any]) -> None:
        """Write ``config.yaml`` (the resolved config, as YAML) and ``overrides.yaml``."""
        write_text_atomic(self.path / "config.yaml", resolved_yaml)
        write_text_atomic(
            self.path / "overrides.yaml", yaml.safe_dump(dict(hydra_info), sort_keys=True)
        )

    def write_json(self, name: str, obj: Any) -> None:
        write_json_atomic(self.path / name, obj)

    def write_summary(self, summary: dict[str, Any]) -> None:
        if summary.get("status") not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {summary.get('status')!r}")
        write_json_atomic(self.summary_path, {**summary, "updated_at": utc_now()})

    def update_summary(self, **fields: Any) -> dict[str, Any]:
        summary = {**(self.read_summary() or {}), **fields}
        self.write_summary(summary)
        return summary

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Add one evaluation row (the file is small: rewriting it keeps every write atomic)."""
        rows = [*self.read_metrics(), row]
        write_text_atomic(
            self.metrics_path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
        )

    def add_final_metrics(self, metrics: Mapping[str, float]) -> None:
        """Record scores of the final model computed after training (e.g. by ``evaluate``).

        They are appended to ``metrics.jsonl`` as one row with the epoch and step of the run's last
        evaluation, and merged into the summary's ``metrics``, so the analysis sees them like the
        scores logged during training.
        """
        summary = self.read_summary()
        if summary is None:
            raise FileNotFoundError(f"{self.summary_path} does not exist: not a run record")
        rows = self.read_metrics()
        last = rows[-1] if rows else {}
        self.append_metrics({"epoch": last.get("epoch"), "step": last.get("step"), **metrics})
        self.update_summary(metrics={**summary.get("metrics", {}), **metrics})

    def reset_metrics(self) -> None:
        self.metrics_path.unlink(missing_ok=True)
