"""Layout of a synthetic run directory, shared by the runner and the results collector.

<run dir>/
  run_config.yaml          the experiment definition (written once; resume reads it)
  run_manifest.json        status "running" | "finished", timestamps, sessions
  dataset_metrics.json     per trial: how informative its data are
  cells/<learner>/size_<fraction>/trials_0000-0099.json   one finished work unit: its fits' metrics
  <dataset>.json           collected results (contract A), written when the run finishes
  <dataset>.provenance.json
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.errors import InputFileError
from responserank.reading import read_json, read_yaml

log = logging.getLogger(__name__)

RUN_CONFIG = "run_config.yaml"
MANIFEST = "run_manifest.json"


def unit_path(run_dir: Path, learner: str, size_key: str, trials: Sequence[int]) -> Path:
    """The file of one work unit (a learner, a size, a block of consecutive trials)."""
    name = f"trials_{trials[0]:04d}-{trials[-1]:04d}.json"
    return Path(run_dir) / "cells" / learner / f"size_{size_key}" / name


def legacy_cell_path(run_dir: Path, learner: str, size_key: str, trial: int) -> Path:
    """One fit's file in run directories written before work units had one file each."""
    return Path(run_dir) / "cells" / learner / f"size_{size_key}" / f"trial_{trial:04d}.json"


def dataset_metrics_path(run_dir: Path) -> Path:
    return Path(run_dir) / "dataset_metrics.json"


def legacy_dataset_metrics_path(run_dir: Path, trial: int) -> Path:
    return Path(run_dir) / "dataset_metrics" / f"trial_{trial:04d}.json"


def trial_blocks(num_trials: int, trials_per_chunk: int) -> list[tuple[int, ...]]:
    """Trials split into fixed blocks: the grid's unit of work, whatever the worker count."""
    return [
        tuple(range(start, min(start + trials_per_chunk, num_trials)))
        for start in range(0, num_trials, trials_per_chunk)
    ]


def unit_done(run_dir: Path, learner: str, size_key: str, trials: Sequence[int]) -> bool:
    """Whether a unit's fits are on disk: its file, or every fit's file of the earlier layout.

    A unit file that does not parse (a disk that filled up, a copy cut short) does not count:
    it is reported, and a resumed run computes the unit again rather than trusting it.
    """
    unit = unit_path(run_dir, learner, size_key, trials)
    if unit.is_file():
        try:
            json.loads(unit.read_bytes())
        except (OSError, ValueError) as err:
            log.warning("%s: unreadable (%s); its work unit counts as not done", unit, err)
            return False
        return True
    return all(legacy_cell_path(run_dir, learner, size_key, t).is_file() for t in trials)


def results_path(run_dir: Path, dataset: str) -> Path:
    return Path(run_dir) / f"{dataset}.json"


def provenance_path(results_file: Path) -> Path:
    """The wall-clock sidecar of a results JSON: <dataset>.provenance.json beside it."""
    results_file = Path(results_file)
    return results_file.with_name(f"{results_file.stem}.provenance.json")


def write_run_config(run_dir: Path, experiment: dict[str, Any]) -> None:
    text = yaml.safe_dump(experiment, sort_keys=False, default_flow_style=False)
    write_text_atomic(Path(run_dir) / RUN_CONFIG, text)


def read_run_config(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / RUN_CONFIG
    if not path.is_file():
        raise InputFileError(
            f"{path}: file not found; is {run_dir} a run directory of "
            "responserank.synthetic.experiment_runner?"
        )
    loaded = read_yaml(path, "the run's experiment settings (a YAML mapping)")
    if not isinstance(loaded, dict):
        raise ValueError(f"{path}: expected a mapping, got {type(loaded).__name__}")
    return loaded


def read_manifest(run_dir: Path) -> dict[str, Any]:
    return read_json(Path(run_dir) / MANIFEST, "the run manifest (a JSON object)")


def write_manifest(run_dir: Path, manifest: dict[str, Any]) -> None:
    write_json_atomic(Path(run_dir) / MANIFEST, manifest)


def size_key(fraction: float) -> str:
    """The canonical text of a dataset-size fraction, as used in result files ("0.5", "1.0")."""
    return repr(float(fraction))
