"""The grid's unit of work: one learner, one dataset size, one fixed block of trials.

A ``FitTask`` trains its fits (one per trial) as one ensemble and writes one cell file per fit.
All members of a task have the same number of training comparisons, so the ensemble needs no
padding.
Everything a task computes depends only on the task itself (its trials' data and seeds derived
from the master seed), and every worker runs torch with one thread, so the results are the same
bytes whichever process runs a task and however many run beside it. A task whose cells are not
all on disk is recomputed whole, which reproduces the cells that are.
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
from responserank.synthetic.data import TrialData
from responserank.synthetic.ensemble import fit_ensemble, pack_comparisons
from responserank.synthetic.learner_spec import LearnerSpec
from responserank.synthetic.metrics import model_metrics
from responserank.synthetic.mlp import ensemble_forward, init_mlp
from responserank.synthetic.rundir import cell_path
from responserank.synthetic.seeding import numpy_rng, size_key, torch_generator
from responserank.synthetic.strength import HyperbolicStrength


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

    def cell_paths(self) -> list[Path]:
        key = size_key(self.size)
        return [cell_path(Path(self.run_dir), self.learner.name, key, t.trial) for t in self.trials]

    @property
    def num_cells(self) -> int:
        return len(self.trials)


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
    for member, (trial, test) in enumerate(zip(task.trials, tests, strict=True)):
        t = test["u1"].size
        null_pairing = numpy_rng(task.master_seed, "null_pairing", trial.trial).permutation(t)
        scores = model_metrics(
            utilities[member : member + 1, :t],
            utilities[member : member + 1, t:],
            test,
            null_pairing,
        )
        metrics = {name: float(values[0]) for name, values in scores.items()}
        metrics["best_epoch"] = int(fit.best_epoch[member])
        metrics["best_train_loss"] = float(fit.best_loss[member])
        write_json_atomic(
            cell_path(Path(task.run_dir), task.learner.name, size_key(task.size), trial.trial),
            {
                "learner": task.learner.name,
                "trial": trial.trial,
                "size": size_key(task.size),
                "train_size": task.train_size,
                "metrics": metrics,
            },
        )
    return task.num_cells


def single_threaded_torch() -> None:
    """One intra-op thread: the arithmetic of a task must not depend on the thread count."""
    torch.set_num_threads(1)


def usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def run_tasks(
    tasks: Sequence[FitTask],
    num_processes: int,
    on_done: Callable[[FitTask], None],
) -> None:
    """Run ``tasks`` in ``num_processes`` worker processes (in this process when 1)."""
    if num_processes <= 1:
        single_threaded_torch()
        for task in tasks:
            run_fit_task(task)
            on_done(task)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=num_processes, mp_context=context, initializer=single_threaded_torch
    ) as pool:
        pending: dict[Future, FitTask] = {pool.submit(run_fit_task, t): t for t in tasks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    task = pending.pop(future)
                    future.result()
                    on_done(task)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
