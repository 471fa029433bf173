"""Fetch RL-control runs from wandb into the cached table schema (see ``data``).

The experiments run in an external code base that logs one wandb run per reward model and one per
agent (agent names start with ``RL_``). Environment, seed, noise level and whether response times
were used are encoded in the run name, e.g. ``RL_ppo_Walker2d-v5_12_comparative_12_noise_0.25_
nfeedback_5000_rt1.0``; runs whose name does not follow that pattern are skipped and counted.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from responserank.errors import CollectError
from responserank.rl_control.analysis.cache_tables import (
    reward_models_path,
    runs_path,
    write_reward_models,
    write_runs,
)

LOG = logging.getLogger(__name__)

RUN_NAME = re.compile(
    r"^(?P<agent>RL_)?(?P<algorithm>[A-Za-z0-9]+)_(?P<env>.+)_(?P<seed>\d+)_comparative_(?P=seed)"
    r"(?:_noise_(?P<noise>\d+(?:\.\d+)?))?_nfeedback_\d+(?P<rt>_rt\d+(?:\.\d+)?)?$"
)


@dataclass(frozen=True)
class RunKey:
    """What a run name says about the run."""

    is_agent: bool
    env: str
    seed: int
    noise: float
    is_rt: bool


def parse_run_name(name: str) -> RunKey | None:
    """The run's identity from its name, or None when the name is not an experiment run."""
    match = RUN_NAME.match(name)
    if match is None:
        return None
    return RunKey(
        is_agent=match["agent"] is not None,
        env=match["env"],
        seed=int(match["seed"]),
        noise=float(match["noise"] or 0.0),
        is_rt=match["rt"] is not None,
    )


@dataclass(frozen=True)
class HistoryKeys:
    """Names of the logged values: environment step, evaluation return, reward-model accuracy."""

    step: str = "global_step"
    episode_return: str = "eval/mean_reward"
    accuracy: str = "val_accuracy"


def tables_from_runs(
    runs: Iterable[Any], keys: HistoryKeys = HistoryKeys()
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Agent table, reward-model table and the number of skipped runs, from wandb run objects.

    A run object needs ``id``, ``name``, ``summary`` (mapping) and ``scan_history(keys=...)``.
    Agents without any evaluation and reward models without the accuracy are skipped too.
    """
    agents, models, skipped = [], [], 0
    for run in tqdm(list(runs), desc="runs", leave=False):
        key = parse_run_name(run.name)
        if key is None:
            skipped += 1
            continue
        ident = {"run_id": run.id, "run_name": run.name, "env": key.env, "noise": key.noise,
                 "is_rt": key.is_rt, "seed": key.seed}  # fmt: skip
        if key.is_agent:
            rows = [
                row
                for row in run.scan_history(keys=[keys.step, keys.episode_return])
                if row.get(keys.step) is not None and row.get(keys.episode_return) is not None
            ]
            if not rows:
                skipped += 1
                continue
            rows.sort(key=lambda row: row[keys.step])
            agents.append(
                {
                    **ident,
                    "steps": [float(row[keys.step]) for row in rows],
                    "returns": [float(row[keys.episode_return]) for row in rows],
                }
            )
        else:
            accuracy = run.summary.get(keys.accuracy)
            if accuracy is None:
                skipped += 1
                continue
            models.append({**ident, "val_accuracy": float(accuracy)})
    return pd.DataFrame(agents), pd.DataFrame(models), skipped


def _wandb_api() -> Any:
    if os.environ.get("WANDB_MODE", "").lower() in {"offline", "disabled", "dryrun"}:
        raise CollectError(
            f"collect reads runs from the wandb server, but WANDB_MODE={os.environ['WANDB_MODE']}; "
            "unset it, run `wandb login`, and retry (or use the tables already cached)"
        )
    import wandb

    try:
        return wandb.Api(timeout=60)
    except (
        Exception
    ) as exc:  # wandb raises several unrelated types for "not logged in / no network"
        raise CollectError(
            f"could not open the wandb API ({type(exc).__name__}: {exc}); run `wandb login` on a "
            "machine with internet access"
        ) from exc


def collect(
    cache_dir: Path,
    projects: dict[str, str],
    entity: str | None = None,
    keys: HistoryKeys = HistoryKeys(),
) -> list[Path]:
    """Fetch every family's project (``{"mujoco": project, ...}``) and write its two tables."""
    api = _wandb_api()
    written = []
    for family, project in projects.items():
        path = f"{entity}/{project}" if entity else project
        try:
            runs = list(api.runs(path))
        except Exception as exc:  # network, auth and "project not found" errors differ by version
            raise CollectError(f"could not list the runs of wandb project {path!r}: {exc}") from exc
        agents, models, skipped = tables_from_runs(runs, keys)
        if agents.empty or models.empty:
            raise CollectError(
                f"wandb project {path!r} gave {len(agents)} agent and {len(models)} reward-model "
                f"runs ({skipped} skipped); expected both kinds"
            )
        written.append(write_runs(runs_path(cache_dir, family), agents))
        written.append(write_reward_models(reward_models_path(cache_dir, family), models))
        LOG.info(
            "%s: %d agents, %d reward models, %d runs skipped",
            family,
            len(agents),
            len(models),
            skipped,
        )
    return written
