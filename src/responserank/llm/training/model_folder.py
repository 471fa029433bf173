"""The saved model folder after training: which evaluation it is, reward statistics, model card,
hub upload; and the matching fields of the run record.

:func:`finish_model_folder` runs on every process: the reward statistics are scored like the
evaluation suites, every process its share of the reference responses
(``RewardModelScorer(distributed=True)``). Files are written by the main process only.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from responserank.errors import ConfigError
from responserank.llm.config.spec import RunSpec
from responserank.llm.data.batching.pair_dataset import TokenizedPairs
from responserank.llm.evaluation.inputs import read_scoring_inputs
from responserank.llm.evaluation.reward_stats import RewardStatistics, write_reward_statistics
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.export.hub import push_model_folder
from responserank.llm.export.model_card import write_card
from responserank.llm.runs.record import RunRecord
from responserank.llm.training.run_data import RunData, source_name

log = logging.getLogger(__name__)


def pairs_sha256(pairs: TokenizedPairs) -> str:
    """sha256 (hex) of comparisons as training reads them: token ids of both sides, rank,
    partition, target and reliability, in order."""
    digest = hashlib.sha256()
    for side in (pairs.chosen_ids, pairs.rejected_ids):
        digest.update(np.array([len(x) for x in side], dtype=np.int64).tobytes())
        digest.update(np.concatenate([np.asarray(x, dtype=np.int64) for x in side]).tobytes())
    for column in (pairs.rank, pairs.partition, pairs.target, pairs.reliability):
        digest.update(np.asarray(column, dtype=np.float64).tobytes())
    return digest.hexdigest()


def reference_ids(
    reference: str, data: RunData, scorer: RewardModelScorer, limit: int | None, seed: int
) -> list[list[int]]:
    """Distinct token sequences of the reference set, at most ``limit`` (a seeded sample).

    ``train`` / ``eval``: the chosen and rejected responses of that split as training tokenised
    them; anything else: a JSON-lines file of prompt/response (or text) rows, cut at the scorer's
    ``max_length``. Raises ConfigError for ``eval`` in a run without an eval split.
    """
    if reference in ("train", "eval"):
        pairs = data.train if reference == "train" else data.eval
        if pairs is None:
            raise ConfigError(
                "config key 'export.reward_stats': expected a split, got 'eval' (the run has none)"
            )
        sequences: Sequence[Sequence[int]] = [*pairs.chosen_ids, *pairs.rejected_ids]
    else:
        sequences = read_scoring_inputs(reference).encode(scorer, scorer.max_length)
    distinct = list(dict.fromkeys(tuple(x) for x in sequences))
    if limit is not None and len(distinct) > limit:
        keep = np.sort(np.random.default_rng(seed).choice(len(distinct), limit, replace=False))
        distinct = [distinct[i] for i in keep]
    return [list(x) for x in distinct]


def reward_statistics(trainer, spec: RunSpec, data: RunData) -> RewardStatistics | None:
    """Statistics of the trained model's rewards on ``export.reward_stats`` (None when null)."""
    reference = spec.export.reward_stats
    if reference is None:
        return None
    scorer = RewardModelScorer(
        trainer.model,
        trainer.processing_class,
        spec.runtime.eval_batch_size,
        spec.training.max_length,
        show_progress=spec.runtime.progress_bar and trainer.is_world_process_zero(),
        distributed=True,
    )
    ids = reference_ids(reference, data, scorer, spec.export.reward_stats_max, spec.seed)
    return RewardStatistics.of(scorer.score_ids(ids), reference)


def selected_evaluation(
    trainer, evaluations: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The evaluation row of the model that is saved, and the best-model record (None when
    ``training.best_model`` is off): metric, mode, step, epoch, value and checkpoint."""
    last = evaluations[-1] if evaluations else {}
    metric, state = trainer.args.metric_for_best_model, trainer.state
    if not metric:
        return last, None
    if state.best_model_checkpoint is None:
        log.warning("no best checkpoint to load for %s: the saved model is the last one", metric)
        return last, {"metric": metric, "step": None, "value": None, "checkpoint": None}
    row = next((r for r in evaluations if r.get("step") == state.best_global_step), last)
    return row, {
        "metric": metric,
        "mode": "max" if trainer.args.greater_is_better else "min",
        "step": state.best_global_step,
        "epoch": row.get("epoch"),
        "value": state.best_metric,
        "checkpoint": Path(state.best_model_checkpoint).name,
    }


def _hub_id(name: str | None) -> str | None:
    """A hub id for the card metadata (not a local folder or a bundled model)."""
    if not name or name.startswith("bundled:") or Path(name).expanduser().exists():
        return None
    return name


def card_facts(
    spec: RunSpec,
    data: RunData,
    run_name: str,
    metrics: dict[str, float],
    stats: RewardStatistics | None,
    best: dict[str, Any] | None,
    processes: int,
) -> dict[str, Any]:
    """What the model card says about the run (``responserank.llm.export.model_card``)."""
    t, model = spec.training, spec.model
    architecture = model.architecture or {}
    base = model.name_or_path or f"randomly initialised {architecture.get('model_type')}"
    hyper = {
        "learning rate": t.learning_rate,
        "schedule": f"{t.lr_scheduler}, warmup ratio {t.warmup_ratio}",
        "epochs": t.num_epochs,
        "batch": f"{t.per_device_batch_size} x {t.gradient_accumulation_steps} accumulation "
        f"x {processes} processes",
        "weight decay": t.weight_decay,
        "max grad norm": t.max_grad_norm,
        "max length": t.max_length,
        "seed / fraction": f"{spec.seed} / {spec.experiment.fraction}",
        "weights": model.dtype + (f", LoRA r={model.lora.r}" if model.lora.enabled else ""),
    }
    loss = spec.resolved.get("loss") or {}
    components = data.stats.get("components", {})
    selection = "the last evaluated model"
    if best and best.get("step") is not None:
        selection = (
            f"best `{best['metric']}` ({best['mode']}) = {best['value']:.4f} at step {best['step']}"
        )
    sha = {"train": pairs_sha256(data.train)}
    if data.eval is not None:
        sha["eval"] = pairs_sha256(data.eval)
    return {
        "run_name": run_name,
        "base_model": base,
        "base_model_hub_id": _hub_id(model.name_or_path),
        "dataset": source_name(spec.dataset).removeprefix("dataset "),
        "dataset_hub_id": getattr(spec.dataset, "hub_id", None)
        if not getattr(spec.dataset, "path", None)
        else None,
        "sizes": dict(data.stats.get("sizes", {})),
        "data_sha256": sha,
        "loss": ", ".join(f"{k}={v}" for k, v in loss.items()),
        "signal": components.get("signal", "none"),
        "stratifier": components.get("stratifier", "global"),
        "hyperparameters": {k: str(v) for k, v in hyper.items()},
        "selection": selection,
        "metrics": {k: v for k, v in metrics.items() if k.startswith("eval/") or k == "train/loss"},
        "reward_statistics": None if stats is None else stats.as_dict(),
        "max_length": t.max_length,
        "adapter": bool(model.lora.enabled),
        "hub_repo_id": spec.export.hub_repo_id,
    }


def finish_model_folder(
    spec: RunSpec,
    data: RunData,
    trainer,
    record: RunRecord,
    metrics: dict[str, float],
    best: dict[str, Any] | None,
) -> None:
    """After ``trainer.save_model(record.model_dir)`` on every process: reward statistics into the
    model folder, the card, the opt-in upload; the record's summary gets ``reward_statistics``,
    ``best_model``, ``data_sha256`` (and ``hub_upload``)."""
    stats = reward_statistics(trainer, spec, data)
    if not trainer.is_world_process_zero():
        return
    facts = card_facts(spec, data, record.path.name, metrics, stats, best, trainer.args.world_size)
    summary: dict[str, Any] = {
        "reward_statistics": facts["reward_statistics"],
        "best_model": best,
        "data_sha256": facts["data_sha256"],
    }
    if stats is not None:
        write_reward_statistics(record.model_dir, stats)
    if spec.export.model_card:
        write_card(record.model_dir, facts)
    export = spec.export
    if export.push_to_hub:
        summary["hub_upload"] = push_model_folder(
            record.model_dir, export.hub_repo_id, export.hub_private, raise_errors=False
        )
    record.update_summary(**summary)
