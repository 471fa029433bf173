"""The grid's unit of work: one learner, one dataset size, one fixed block of trials.

A ``FitTask`` trains its fits (one per trial) as one ensemble and writes their metrics to one file.
All members of a task have the same number of training comparisons, so the ensemble needs no
padding.
Everything a task computes depends only on the task itself (its trials' data and seeds derived
from the master seed), and every worker runs torch with one thread, so the results are the same
bytes whichever process runs a task and however many run beside it. A task whose file is not on
disk is recomputed whole.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from responserank.atomic_io import write_json_atomic
from responserank.seeding import numpy_rng, torch_generator
from responserank.synthetic.ensemble import fit_ensemble, pack_comparisons
from responserank.synthetic.learner_spec import LearnerSpec
from responserank.synthetic.metrics import model_metrics
from responserank.synthetic.mlp import ensemble_forward, init_mlp
from responserank.synthetic.processes import (
    init_worker,
    prepare_compute_process,
    worker_start_method,
)
from responserank.synthetic.rundir import size_key, unit_done, unit_path
from responserank.synthetic.strength import HyperbolicStrength
from responserank.synthetic.trial_data import TrialData


@dataclass(frozen=True)
class FitTask:
    """One learner x one dataset size x one block of trials."""

    learner: LearnerSpec
    trials: tuple[TrialData, ...]
    size: float
    train_size: int
    strength: HyperbolicStrength
    master_seed: int
    run_dir: str

    @property
    def trial_ids(self) -> list[int]:
        return [t.trial for t in self.trials]

    def unit_file(self) -> Path:
        return unit_path(Path(self.run_dir), self.learner.name, size_key(self.size), self.trial_ids)

    def done(self) -> bool:
        return unit_done(Path(self.run_dir), self.learner.name, size_key(self.size), self.trial_ids)

    @property
    def num_cells(self) -> int:
        return len(self.trials)

    @property
    def cost(self) -> int:
        """Relative compute: fits x epochs x training comparisons (for scheduling only)."""
        return self.num_cells * self.learner.num_epochs * self.train_size


# The per-comparison test arrays the model metrics read.
SCORED_KEYS = ("u1", "u2", "choice", "rt", "stratum")


def _training_data(task: FitTask, trial: TrialData) -> dict:
    data = trial.train(task.train_size)
    if task.learner.permute_rt:
        rng = numpy_rng(task.master_seed, "rt_permutation", trial.trial, size_key(task.size))
        data = {**data, "rt": data["rt"][rng.permutation(task.train_size)]}
    if task.learner.reliability == "permuted_proxy" and "proxy" in data:
        rng = numpy_rng(task.master_seed, "proxy_permutation", trial.trial, size_key(task.size))
        data = {**data, "proxy": data["proxy"][rng.permutation(task.train_size)]}
    return data


def _initial_params(task: FitTask, trial: TrialData) -> list:
    """Initial weights keyed by (trial, size): every learner starts from the same network."""
    generator = torch_generator(task.master_seed, "init", trial.trial, size_key(task.size))
    return init_mlp(trial.x1.shape[1], task.learner.hidden_layers, generator)


def run_fit_task(task: FitTask) -> int:
    """Train the task's fits as one ensemble, score them, write their cells; return the count."""
    batch = pack_comparisons([_training_data(task, trial) for trial in task.trials])
    inits = [_initial_params(task, trial) for trial in task.trials]
    fit = fit_ensemble(batch, inits, task.learner, task.strength)

    tests = [trial.test() for trial in task.trials]
    x = np.stack([np.concatenate([test["x1"], test["x2"]]) for test in tests])
    with torch.no_grad():
        utilities = ensemble_forward(fit.params, torch.as_tensor(x, dtype=batch.dtype))
    utilities = utilities.double().numpy()
    t = tests[0]["u1"].size
    stacked = {key: np.stack([test[key] for test in tests]) for key in SCORED_KEYS}
    null_pairing = np.stack(
        [
            numpy_rng(task.master_seed, "null_pairing", trial.trial).permutation(t)
            for trial in task.trials
        ]
    )
    scores = model_metrics(utilities[:, :t], utilities[:, t:], stacked, null_pairing)
    cells = []
    for member, trial in enumerate(task.trials):
        metrics = {name: float(values[member]) for name, values in scores.items()}
        metrics["best_epoch"] = int(fit.best_epoch[member])
        metrics["best_train_loss"] = float(fit.best_loss[member])
        cells.append({"trial": trial.trial, "metrics": metrics})
    write_json_atomic(
        task.unit_file(),
        {
            "learner": task.learner.name,
            "size": size_key(task.size),
            "train_size": task.train_size,
            "cells": cells,
        },
    )
    return task.num_cells


def run_tasks(
    tasks: Sequence[FitTask],
    num_processes: int,
    on_done: Callable[[FitTask], None],
) -> None:
    """Run ``tasks`` in ``num_processes`` worker processes (in this process when 1).

    The most expensive tasks start first, so that no worker is left with a long task at the end
    while the others idle. Workers end with this process (they are killed when it dies), ignore
    Ctrl-C (this process decides) and are killed at once when this process is interrupted
    (``RunStopped``, ``KeyboardInterrupt``) or a task fails; the exception then propagates.
    """
    ordered = sorted(tasks, key=lambda task: task.cost, reverse=True)
    prepare_compute_process()
    if num_processes <= 1:
        for task in ordered:
            run_fit_task(task)
            on_done(task)
        return
    context = multiprocessing.get_context(worker_start_method())
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        max_workers=num_processes,
        mp_context=context,
        initializer=init_worker,
        initargs=(os.getpid(),),
    )
    try:
        pending: dict[Future, FitTask] = {pool.submit(run_fit_task, t): t for t in ordered}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                future.result()
                on_done(task)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for worker in set(multiprocessing.active_children()) - before:
            worker.kill()
            worker.join(timeout=5)
        raise
    pool.shutdown(wait=True)
