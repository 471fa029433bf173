"""The cached RL-control tables: schema, reading with checks, and atomic writing.

A cache folder holds, per environment family (``mujoco``, ``highway``), two CSV files:

- ``<family>_runs.csv``: one RL agent per row, trained on a learned reward model: ``run_id``,
  ``run_name``, ``env``, ``noise`` (label-noise level of the simulated feedback), ``is_rt`` (reward
  model learned with response times), ``seed``, ``global_step_history`` and ``reward_history``
  (JSON lists: environment steps and the mean evaluation return at each of them);
- ``<family>_rew_model_data.csv``: one reward model per row: the same identifying columns and
  ``val_accuracy`` (its preference accuracy on held-out feedback).

An agent and its reward model share ``env``, ``noise``, ``is_rt`` and ``seed``; runs with and without
response times are paired by ``(env, noise, seed)``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pandas as pd

from responserank.atomic_io import write_text_atomic
from responserank.errors import CacheError
from responserank.reading import read_csv

FAMILIES: tuple[str, ...] = ("mujoco", "highway")
KEY_COLUMNS: tuple[str, ...] = ("env", "noise", "is_rt", "seed")
RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "run_name",
    *KEY_COLUMNS,
    "global_step_history",
    "reward_history",
)
REWARD_MODEL_COLUMNS: tuple[str, ...] = ("run_id", "run_name", *KEY_COLUMNS, "val_accuracy")


def runs_path(cache_dir: Path, family: str) -> Path:
    return cache_dir / f"{family}_runs.csv"


def reward_models_path(cache_dir: Path, family: str) -> Path:
    return cache_dir / f"{family}_rew_model_data.csv"


@dataclass(frozen=True)
class RLControlData:
    """All cached families together; list columns parsed into lists of floats."""

    runs: pd.DataFrame
    reward_models: pd.DataFrame
    families: tuple[str, ...]


def load_cache(cache_dir: Path) -> RLControlData:
    """Read and check every family present in ``cache_dir`` (a family needs both of its files)."""
    if not cache_dir.is_dir():
        raise CacheError(f"cache folder {cache_dir} does not exist")
    runs, models, families = [], [], []
    for family in FAMILIES:
        paths = (runs_path(cache_dir, family), reward_models_path(cache_dir, family))
        present = [path.exists() for path in paths]
        if not any(present):
            continue
        if not all(present):
            missing = [path.name for path, ok in zip(paths, present, strict=True) if not ok]
            raise CacheError(f"{cache_dir}: family {family!r} is incomplete, missing {missing}")
        runs.append(read_runs(paths[0]).assign(family=family))
        models.append(read_reward_models(paths[1]).assign(family=family))
        families.append(family)
    if not families:
        expected = [runs_path(cache_dir, f).name for f in FAMILIES]
        raise CacheError(f"{cache_dir}: no RL-control tables found (expected e.g. {expected})")
    return RLControlData(
        runs=pd.concat(runs, ignore_index=True),
        reward_models=pd.concat(models, ignore_index=True),
        families=tuple(families),
    )


def read_runs(path: Path) -> pd.DataFrame:
    """The agent table with ``steps``/``returns`` as lists of floats; every row checked."""
    frame = _read_csv(path, RUN_COLUMNS)
    steps, returns = [], []
    for row, (step_text, return_text) in enumerate(
        zip(frame["global_step_history"], frame["reward_history"], strict=True)
    ):
        step_list = _parse_list(step_text, path, row, "global_step_history")
        return_list = _parse_list(return_text, path, row, "reward_history")
        if len(step_list) != len(return_list) or not step_list:
            raise CacheError(
                f"{path}, row {row}: global_step_history has {len(step_list)} entries and "
                f"reward_history {len(return_list)}; expected equal, non-zero lengths"
            )
        if any(b <= a for a, b in pairwise(step_list)):
            raise CacheError(f"{path}, row {row}: global_step_history is not strictly increasing")
        steps.append(step_list)
        returns.append(return_list)
    frame = frame.drop(columns=["global_step_history", "reward_history"])
    frame["steps"], frame["returns"] = steps, returns
    _check_unique_keys(frame, path)
    return frame


def read_reward_models(path: Path) -> pd.DataFrame:
    """The reward-model table; ``val_accuracy`` must be a number in [0, 1]."""
    frame = _read_csv(path, REWARD_MODEL_COLUMNS)
    accuracy = pd.to_numeric(frame["val_accuracy"], errors="coerce")
    bad = frame.index[~accuracy.between(0.0, 1.0)]
    if len(bad):
        row = int(bad[0])
        raise CacheError(
            f"{path}, row {row}, column 'val_accuracy': expected a number in [0, 1], "
            f"got {frame['val_accuracy'].iloc[row]!r}"
        )
    frame["val_accuracy"] = accuracy.astype(float)
    _check_unique_keys(frame, path)
    return frame


def _read_csv(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = read_csv(
        path,
        "an RL-control table",
        required=columns,
        dtype={"run_id": str, "run_name": str, "env": str},
    )
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise CacheError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    frame = frame[list(columns)].copy()
    for column, kind in (("noise", "float"), ("seed", "int"), ("is_rt", "bool")):
        frame[column] = _typed_column(frame[column], kind, path, column)
    return frame


def _typed_column(values: pd.Series, kind: str, path: Path, column: str) -> pd.Series:
    if kind == "bool":
        mapping = {True: True, False: False, "True": True, "False": False}
        converted = values.map(lambda value: mapping.get(value))
    else:
        converted = pd.to_numeric(values, errors="coerce")
        if kind == "int":
            converted = converted.where(converted == converted.round())
    bad = converted.isna()
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        expected = {"bool": "True or False", "int": "an integer", "float": "a number"}[kind]
        raise CacheError(
            f"{path}, row {row}, column {column!r}: expected {expected}, got {values.iloc[row]!r}"
        )
    return converted.astype({"bool": bool, "int": int, "float": float}[kind])


def _parse_list(text: object, path: Path, row: int, column: str) -> list[float]:
    try:
        values = json.loads(text) if isinstance(text, str) else None
    except json.JSONDecodeError:
        values = None
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    ):
        raise CacheError(
            f"{path}, row {row}, column {column!r}: expected a JSON list of finite numbers, "
            f"got {str(text)[:60]!r}"
        )
    return [float(v) for v in values]


def _check_unique_keys(frame: pd.DataFrame, path: Path) -> None:
    duplicated = frame.duplicated(list(KEY_COLUMNS), keep=False)
    if duplicated.any():
        rows = frame.index[duplicated].tolist()[:6]
        raise CacheError(
            f"{path}: rows {rows} repeat the same (env, noise, is_rt, seed); each run must be unique"
        )


def write_runs(path: Path, runs: pd.DataFrame) -> Path:
    """Write an agent table (``steps``/``returns`` lists) in the cached schema, atomically."""
    frame = runs.copy()
    frame["global_step_history"] = [json.dumps([float(v) for v in x]) for x in frame["steps"]]
    frame["reward_history"] = [json.dumps([float(v) for v in x]) for x in frame["returns"]]
    return write_text_atomic(path, frame[list(RUN_COLUMNS)].to_csv(index=False))


def write_reward_models(path: Path, reward_models: pd.DataFrame) -> Path:
    """Write a reward-model table in the cached schema, atomically."""
    return write_text_atomic(path, reward_models[list(REWARD_MODEL_COLUMNS)].to_csv(index=False))
