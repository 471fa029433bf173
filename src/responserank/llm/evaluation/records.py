"""Where the scores of a standalone evaluation go when the model is not part of a run record.

Models saved by training sit in a run record (``responserank.llm.runs.record.RunRecord``) and get the
scores there; any other model gets a JSON file beside its folder. Both use the run-record metric
names ``eval/<suite>/<metric>``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from responserank.atomic_io import write_json_atomic

RUN_METRIC_PREFIX = "eval/"


def run_metric_names(metrics: Mapping[str, float]) -> dict[str, float]:
    """Suite metrics under the run-record names (``rewardbench_v1/overall`` -> ``eval/rewardbench_v1/overall``)."""
    return {f"{RUN_METRIC_PREFIX}{key}": float(value) for key, value in metrics.items()}


def write_results_file(path: Path, model_dir: Path, metrics: Mapping[str, float]) -> Path:
    """Scores of a model that is not part of a run record, with what was evaluated and when."""
    payload = {
        "model_dir": str(_absolute(model_dir)),
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "metrics": dict(metrics),
    }
    return write_json_atomic(path, payload)


def default_results_path(model_dir: Path) -> Path:
    """``<model_dir>.evaluation.json``: beside the model folder, not inside it."""
    absolute = _absolute(model_dir)
    return absolute.with_name(f"{absolute.name}.evaluation.json")


def _absolute(path: Path) -> Path:
    # Symlinks are kept: a run's model/ may link to weights stored elsewhere.
    return Path(os.path.abspath(path))
