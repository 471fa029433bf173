"""Hydra entry point of the synthetic grid: one dataset, its trials x sizes x learners.

    python -m responserank.synthetic.experiment_runner dataset=stochastic num_trials=2 \
        dataset_sizes=[0.5,1.0] learners.bt.num_epochs=100 '+learner@learners.x=rr' '~learners.rr'
    python -m responserank.synthetic.experiment_runner resume_dir=outputs/experiment_runner/...

Each work unit's fits are written to one file of the run directory as soon as the unit finishes;
a run that was interrupted continues with ``resume_dir=<run dir>`` and computes only the work
units that are not on disk. When every unit is there the collected results (``<dataset>.json``)
and their wall-clock sidecar are written and the manifest says "finished".
"""

from __future__ import annotations

import logging
import platform
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from responserank.atomic_io import write_json_atomic
from responserank.cli_errors import exit_on_project_error, run_hydra
from responserank.configs import check_group_choices, check_top_level_keys, config_dir
from responserank.errors import ConfigError, RunStopped
from responserank.provenance import git_commit
from responserank.reading import read_yaml
from responserank.run_status import RunStatus, ended_by
from responserank.synthetic.dataset_metrics import dataset_metrics
from responserank.synthetic.execution import FitTask, run_tasks
from responserank.synthetic.grid import Experiment
from responserank.synthetic.processes import exit_now, stop_on_signals, usable_cpus
from responserank.synthetic.results import collect_run, write_results
from responserank.synthetic.rundir import (
    MANIFEST,
    RUN_CONFIG,
    dataset_metrics_path,
    provenance_path,
    read_manifest,
    read_run_config,
    results_path,
    write_manifest,
    write_run_config,
)
from responserank.synthetic.trial_data import generate_trial

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[3]
# Overrides that may accompany resume_dir: they change how the run executes, not what it computes.
RESUME_SAFE_OVERRIDES = (
    "resume_dir",
    "execution_backend.num_processes",
    "execution_backend.progress",
    "hydra.",
    "output_root",
)

OmegaConf.register_new_resolver(
    "rr_unless_none", lambda value, if_none, if_set: if_none if value is None else if_set
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def resolve_experiment(cfg: Mapping[str, Any], run_dir: Path, overrides: list[str]) -> Experiment:
    """The experiment of this invocation: from the config, or the stored one when resuming."""
    if cfg.get("resume_dir") is None:
        requested = Experiment.from_config(cfg)
        if (run_dir / RUN_CONFIG).exists():
            stored = Experiment.from_config(read_run_config(run_dir))
            if stored.to_record() != requested.to_record():
                raise ConfigError(
                    f"{run_dir} already holds a run of another experiment; continue that one "
                    f"with resume_dir={run_dir} or choose another hydra.run.dir / "
                    "hydra.sweep.dir"
                )
            # The same command into the same folder (a multirun given a fixed hydra.sweep.dir,
            # run again after an interruption) continues the run there.
            log.info("%s holds this experiment already: continuing it", run_dir)
        return requested
    if not (run_dir / RUN_CONFIG).is_file():
        raise ConfigError(f"resume_dir={run_dir}: no {RUN_CONFIG} there, not a run directory")
    changing = [o for o in overrides if not o.lstrip("+~").startswith(RESUME_SAFE_OVERRIDES)]
    if changing:
        raise ConfigError(
            f"resume_dir continues the experiment stored in {run_dir / RUN_CONFIG}; drop the "
            f"override(s) {', '.join(changing)} (only execution_backend.* may change) or start a "
            "new run"
        )
    return Experiment.from_config(read_run_config(run_dir))


def _worker_count(requested: Any, num_tasks: int) -> int:
    """Worker processes: as requested (default: usable CPUs), never more than work units."""
    if requested is None:
        requested = usable_cpus()
    if isinstance(requested, bool) or not isinstance(requested, int) or requested < 1:
        raise ConfigError(
            f"execution_backend.num_processes: expected null or an integer >= 1, got {requested!r}"
        )
    return max(1, min(requested, num_tasks))


def run_experiment(
    experiment: Experiment, run_dir: Path, num_processes: Any = None, progress: bool = True
) -> dict[str, Any]:
    """Compute every missing cell of ``experiment`` in ``run_dir`` and collect the results.

    The manifest says "running" while this works, "finished" at the end, "stopped" when a signal
    stopped it (``RunStopped`` propagates) and "failed" when an error did; a later call continues
    a stopped or failed run where it left off.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    manifest_file = run_dir / MANIFEST
    if manifest_file.is_file():
        manifest = read_manifest(run_dir)
    else:
        write_run_config(run_dir, experiment.to_record())
        manifest = {"dataset": experiment.dataset.name, "started_at": _now(), "sessions": []}
    manifest.update(status=RunStatus.RUNNING, finished_at=None)
    session = {"started_at": _now(), "num_processes": None}
    manifest["sessions"].append(session)
    write_manifest(run_dir, manifest)
    try:
        return _compute(experiment, run_dir, manifest, session, num_processes, progress)
    except (RunStopped, Exception) as err:
        status, reason = ended_by(err)
        _record_end(run_dir, manifest, session, status, reason)
        if status is RunStatus.STOPPED:
            log.warning("%s: stopped by %s", experiment.dataset.name, err.signal_name)
        raise


def _record_end(
    run_dir: Path, manifest: dict[str, Any], session: dict[str, Any], status: str, reason: str
) -> None:
    """Mark the manifest stopped or failed (best effort: the disk may be what failed)."""
    session.update(ended_at=_now(), ended_by=reason)
    manifest.update(status=status)
    try:
        write_manifest(run_dir, manifest)
    except OSError as err:
        log.error("could not mark %s %s: %s", run_dir / MANIFEST, status, err)


def _compute(
    experiment: Experiment,
    run_dir: Path,
    manifest: dict[str, Any],
    session: dict[str, Any],
    num_processes: Any,
    progress: bool,
) -> dict[str, Any]:
    spec = experiment.dataset
    session_start = time.perf_counter()
    trials = [
        generate_trial(spec, experiment.master_seed, t)
        for t in tqdm(range(experiment.num_trials), desc="generate trials", disable=not progress)
    ]
    if not dataset_metrics_path(run_dir).is_file():
        per_trial = []
        for trial in trials:
            metrics = dataset_metrics(trial.test())
            metrics["capped_decisions"] = int(trial.capped.sum())
            per_trial.append({"trial": trial.trial, "metrics": metrics})
        write_json_atomic(dataset_metrics_path(run_dir), {"trials": per_trial})
    capped = sum(int(t.capped.sum()) for t in trials)
    decisions = sum(t.capped.size for t in trials)
    cap = getattr(spec.responses, "max_decision_time", None)
    log.info(
        "%s: %d of %d simulated decisions hit the decision-time cap (%s)",
        spec.name,
        capped,
        decisions,
        f"{cap} s" if cap is not None else "no cap: this response model has no simulation time",
    )

    tasks = [
        FitTask(
            learner=learner,
            trials=tuple(trials[t] for t in block),
            size=fraction,
            train_size=spec.train_size(fraction),
            strength=spec.strength,
            master_seed=experiment.master_seed,
            run_dir=str(run_dir),
        )
        for learner in experiment.learners
        for fraction in experiment.dataset_sizes
        for block in experiment.trial_blocks()
    ]
    total = sum(t.num_cells for t in tasks)
    todo = [t for t in tasks if not t.done()]
    reused = total - sum(t.num_cells for t in todo)
    workers = _worker_count(num_processes, len(todo))
    session["num_processes"] = workers
    write_manifest(run_dir, manifest)
    log.info(
        "%s: %d fits in %d work units; %d already done, %d units to run on %d process(es)",
        spec.name,
        total,
        len(tasks),
        reused,
        len(todo),
        workers,
    )
    with tqdm(total=total, initial=reused, desc=f"{spec.name} fits", disable=not progress) as bar:
        run_tasks(todo, workers, lambda task: bar.update(task.num_cells))

    results = collect_run(run_dir)
    out = results_path(run_dir, spec.name)
    write_results(results, out)
    session["finished_at"] = _now()
    session["wall_time_s"] = round(time.perf_counter() - session_start, 3)
    session["cells_computed"] = total - reused
    manifest.update(status=RunStatus.FINISHED, finished_at=session["finished_at"])
    write_json_atomic(
        provenance_path(out),
        {
            "dataset": spec.name,
            "run_dir": str(run_dir),
            "master_seed": experiment.master_seed,
            "started_at": manifest["started_at"],
            "finished_at": manifest["finished_at"],
            "sessions": manifest["sessions"],
            "wall_time_s": sum(s.get("wall_time_s", 0.0) for s in manifest["sessions"]),
            "git_commit": git_commit(REPO_ROOT),
            "ddm_capped_decisions": capped,
            "simulated_decisions": decisions,
            "decision_time_cap_s": cap,
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "numpy": np.__version__,
            },
            "platform": platform.platform(),
            # the CPU kernels torch dispatches to: their rounding differs (AVX2 vs AVX-512),
            # which is why results agree across machines only within their standard errors
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        },
    )
    write_manifest(run_dir, manifest)
    log.info("%s: results written to %s", spec.name, out)
    return results


CONFIG_DIR = config_dir("synthetic")


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Validate, then run (or resume) one dataset's grid in Hydra's run directory: the composed
    config becomes plain data here, and :class:`Experiment` (the validated, frozen run
    specification) is all the code below reads."""
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    overrides = list(HydraConfig.get().overrides.task)
    plain = OmegaConf.to_container(cfg, resolve=True)
    backend = plain.get("execution_backend") or {}
    with exit_on_project_error():
        experiment = resolve_experiment(plain, run_dir, overrides)
        _worker_count(backend.get("num_processes"), 1)
    with exit_on_project_error():
        try:
            with stop_on_signals():
                run_experiment(
                    experiment,
                    run_dir,
                    num_processes=backend.get("num_processes"),
                    progress=bool(backend.get("progress", True)),
                )
        except RunStopped as stop:
            print(
                f"stopped by {stop.signal_name}; continue with resume_dir={run_dir}",
                file=sys.stderr,
            )
            sys.exit(stop.exit_status)


def top_level_keys() -> dict[str, str]:
    """The top-level keys of ``conf/synthetic/config.yaml`` (and ``learners``)."""
    primary = read_yaml(CONFIG_DIR / "config.yaml", "the synthetic runner's primary config")
    keys = {str(k): "" for k in primary if k not in ("defaults", "hydra")}
    return {**keys, "learners": "the learners: +learner@learners.NAME=PRESET"}


def cli() -> None:
    """The ``rr-synthetic`` command (and ``python -m responserank.synthetic.experiment_runner``):
    preset names are checked first, then Hydra composes and :func:`main` runs; the process ends
    without interpreter teardown (:func:`~responserank.synthetic.processes.exit_now`)."""
    try:
        with exit_on_project_error():
            check_group_choices(CONFIG_DIR, sys.argv[1:])
            check_top_level_keys(CONFIG_DIR, sys.argv[1:], top_level_keys())
        run_hydra(main)
    except SystemExit as done:
        exit_now(done.code)
    exit_now(0)


if __name__ == "__main__":
    cli()
