"""Score any saved reward model on evaluation suites from the Hydra ``eval`` group.

    python -m responserank.llm.evaluate model_dir=runs/llm/<group>/<run>/model \
        suites=[rewardbench_v1,rewardbench_v2]

Scores go into the model's run record when the model sits in one (``<run dir>/model``), otherwise to
``<model_dir>.evaluation.json``; they are mirrored to wandb when a run id is known.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from responserank.cli_errors import exit_on_project_error
from responserank.llm.evaluation.records import (
    default_results_path,
    run_metric_names,
    write_results_file,
)
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.evaluation.suites import build_suites, load_suite_data, run_suites
from responserank.llm.models import load_reward_model
from responserank.llm.runs.record import RunRecord

LOG = logging.getLogger(__name__)
CONF_DIR = str(Path(__file__).resolve().parents[3] / "conf" / "llm")


def reload_settings(cfg: DictConfig, record: RunRecord | None) -> tuple[str | None, str]:
    """Quantization and dtype to reload the model with: as configured, or with ``auto`` as the run
    trained it (``model.quantization`` / ``model.dtype`` in the run's ``config.yaml``). A 4-bit
    adapter is rebuilt in its training dtype; everything else loads ``dtype=auto`` as saved."""
    run_model = None
    if record is not None and (record.path / "config.yaml").is_file():
        run_model = OmegaConf.select(OmegaConf.load(record.path / "config.yaml"), "model")
    quantization = cfg.quantization
    if quantization == "auto":
        quantization = None if run_model is None else run_model.get("quantization")
    dtype = cfg.dtype
    if dtype == "auto" and quantization and run_model is not None:
        dtype = run_model.get("dtype", "auto")
    return quantization or None, dtype


def mirror_to_wandb(
    metrics: dict[str, float],
    run_id: str,
    project: str | None,
    entity: str | None,
    mode: str | None = None,
    directory: Path | None = None,
) -> None:
    """Add the scores to an existing wandb run's summary, as training does at its end.

    Training leaves the last logged value of each ``eval/...`` metric and its final metrics as
    ``final/eval/...`` in the summary; both are set here. In offline mode a local run is written
    under ``directory`` (the run directory, where training keeps its own wandb files).
    """
    import wandb

    run = wandb.init(
        id=run_id,
        project=project,
        entity=entity,
        mode=mode,
        dir=None if directory is None else str(directory),
        resume="allow",
    )
    try:
        run.summary.update({**metrics, **{f"final/{key}": value for key, value in metrics.items()}})
    finally:
        run.finish()


def _wandb_target(
    cfg: DictConfig, record: RunRecord | None, summary: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The wandb run to mirror into: given explicitly, or the one the run record names."""
    recorded = summary or {}
    run_id = cfg.wandb.run_id or recorded.get("wandb_id")
    if not run_id or (not cfg.wandb.run_id and recorded.get("wandb_mode") == "disabled"):
        return None
    run_dir = None if record is None else record.path
    tracking: Any = {}
    if run_dir is not None and (run_dir / "config.yaml").is_file():
        tracking = OmegaConf.select(OmegaConf.load(run_dir / "config.yaml"), "tracking.wandb") or {}
    return {
        "run_id": run_id,
        "project": cfg.wandb.project or tracking.get("project"),
        "entity": cfg.wandb.entity or tracking.get("entity"),
        # a run that trained offline is continued offline (sync it later with `wandb sync`)
        "mode": "offline"
        if not cfg.wandb.run_id and recorded.get("wandb_mode") == "offline"
        else None,
        "directory": run_dir,
    }


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Run the configured suites on ``cfg.model_dir`` and record the scores; return them (eval/ names)."""
    model_dir = Path(cfg.model_dir).expanduser()
    requested = [cfg.suites] if isinstance(cfg.suites, str) else cfg.suites
    names = None if requested is None else list(requested)
    suites = build_suites(cfg.eval, names)
    if not suites:
        raise ValueError("no suites to run: the eval group is empty")
    record = RunRecord.holding_model(model_dir)
    summary = record.read_summary() if record is not None else None
    if summary is not None and summary.get("status") == "running" and not cfg.force:
        raise RuntimeError(
            f"{record.path} is still marked running; evaluate after it finishes, or pass force=true"
        )
    load_suite_data(suites)
    quantization, dtype = reload_settings(cfg, record)
    model, tokenizer = load_reward_model(model_dir, cfg.device, dtype, quantization)
    scorer = RewardModelScorer(
        model, tokenizer, cfg.batch_size, cfg.max_length, drop_truncated=cfg.drop_truncated
    )
    metrics = run_metric_names(run_suites(suites, scorer))
    for key, value in metrics.items():
        LOG.info("%s = %.4f", key, value)
    if record is not None:
        record.add_final_metrics(metrics)
        LOG.info("added %d scores to the run record %s", len(metrics), record.path)
    else:
        path = Path(cfg.output) if cfg.output else default_results_path(model_dir)
        write_results_file(path, model_dir, metrics)
        LOG.info("wrote %d scores to %s", len(metrics), path)
    target = _wandb_target(cfg, record, summary)
    if target is not None:
        try:
            mirror_to_wandb(metrics, **target)
        except Exception as exc:  # the scores are on disk already; wandb is only a mirror
            LOG.warning("could not mirror the scores to wandb run %s: %s", target["run_id"], exc)
    return metrics


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="evaluate")
def main(cfg: DictConfig) -> None:
    LOG.info("evaluate config:\n%s", OmegaConf.to_yaml(cfg))
    with exit_on_project_error():
        evaluate(cfg)


if __name__ == "__main__":
    main()
