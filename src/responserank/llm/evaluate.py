"""Score any saved reward model on evaluation suites from the Hydra ``eval`` group.

    python -m responserank.llm.evaluate model_dir=runs/llm/<group>/<run>/model \
        suites=[rewardbench_v1,rewardbench_v2]

Scores go into the model's run record when the model sits in one (``<run dir>/model``), otherwise to
``<model_dir>.evaluation.json``; they are mirrored to wandb when a run id is known. The composed
config is settled first (:func:`responserank.llm.config.settle_evaluate`: every key checked, a
wrong one named with the nearest valid key); the rest reads the typed result.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from responserank.cli_errors import exit_on_project_error, run_hydra
from responserank.configs import (
    check_group_choices,
    check_top_level_keys,
    config_dir,
    group_options,
)
from responserank.errors import ConfigError, UsageError
from responserank.llm.config import EvaluateConfig, build_suites, settle_evaluate, top_level_keys
from responserank.llm.evaluation.inputs import read_scoring_inputs, score_inputs, write_scores
from responserank.llm.evaluation.records import (
    default_results_path,
    run_metric_names,
    write_results_file,
)
from responserank.llm.evaluation.reward_stats import reward_transform
from responserank.llm.evaluation.scoring import NormalisedScorer, RewardModelScorer
from responserank.llm.evaluation.suites import load_suite_data, run_suites
from responserank.llm.modeling.model_files import check_model_folder
from responserank.llm.modeling.models import load_reward_model
from responserank.llm.runs.record import RunRecord, config_value
from responserank.reading import read_yaml

LOG = logging.getLogger(__name__)
CONF_DIR = str(config_dir("llm"))


def reload_settings(cfg: EvaluateConfig, record: RunRecord | None) -> tuple[str | None, str]:
    """Quantization and dtype to reload the model with: as configured, or with ``auto`` as the run
    trained it (``model.quantization`` / ``model.dtype`` in the run's ``config.yaml``). A 4-bit
    adapter is rebuilt in its training dtype; everything else loads ``dtype=auto`` as saved."""
    run_model = None
    if record is not None:
        run_model = config_value(record.read_config(), "model")
    quantization = cfg.quantization
    if quantization == "auto":
        quantization = None if run_model is None else run_model.get("quantization")
    dtype = cfg.dtype
    if dtype == "auto" and quantization and run_model is not None:
        dtype = run_model.get("dtype", "auto")
    return quantization or None, dtype


def layout_settings(cfg: EvaluateConfig) -> dict[str, Any]:
    """The scorer's batch layout and row bound (``batch_layout``, ``tokens_per_row``)."""
    return {"layout": cfg.batch_layout, "tokens_per_row": cfg.tokens_per_row}


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
    cfg: EvaluateConfig, record: RunRecord | None, summary: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The wandb run to mirror into: given explicitly, or the one the run record names."""
    recorded = summary or {}
    run_id = cfg.wandb.run_id or recorded.get("wandb_id")
    if not run_id or (not cfg.wandb.run_id and recorded.get("wandb_mode") == "disabled"):
        return None
    run_dir = None if record is None else record.path
    tracking: Any = {}
    if record is not None:
        tracking = config_value(record.read_config(), "tracking.wandb") or {}
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


def no_suites_message() -> str:
    """Why an ``eval`` option without suites cannot be evaluated, and which options have some."""
    with_suites = [
        name
        for name in group_options(Path(CONF_DIR) / "eval")
        if (read_yaml(Path(CONF_DIR) / "eval" / f"{name}.yaml", "an eval option") or {}).get(
            "suites"
        )
    ]
    return (
        "no suites to run: this eval option has none (eval=heldout scores the held-out split "
        f"during training only); choose eval= one of {', '.join(with_suites)}"
    )


def score_file(cfg: EvaluateConfig, model_dir: Path) -> Path:
    """``score_file=`` mode: the reward of every row of a JSON-lines file (raw or normalised, as
    ``rewards`` says), written to ``score_output`` (default ``<score_file>.rewards.jsonl``)."""
    inputs = read_scoring_inputs(cfg.score_file)
    stats = reward_transform(model_dir, cfg.rewards)
    quantization, dtype = reload_settings(cfg, RunRecord.holding_model(model_dir))
    model, tokenizer = load_reward_model(
        model_dir, cfg.device, dtype, quantization, cfg.attn_implementation
    )
    scorer = RewardModelScorer(
        model, tokenizer, cfg.batch_size, cfg.max_length, **layout_settings(cfg)
    )
    rewards, truncated = score_inputs(scorer, inputs, stats)
    out = write_scores(
        cfg.score_output or f"{cfg.score_file}.rewards.jsonl", inputs, rewards, truncated
    )
    LOG.info(
        "wrote %d %s rewards to %s (%d truncated)", len(rewards), cfg.rewards, out, truncated.sum()
    )
    return out


def evaluate(composed: DictConfig | EvaluateConfig) -> dict[str, float]:
    """Run the configured suites on ``model_dir`` and record the scores; return them (eval/ names).

    With ``score_file`` set it scores that file instead (:func:`score_file`) and returns {}.
    """
    cfg = settle_evaluate(composed)
    model_dir = Path(cfg.model_dir).expanduser()
    if cfg.score_file:
        score_file(cfg, model_dir)
        return {}
    suites = build_suites({"suites": cfg.eval.suites}, cfg.suite_names)
    if not suites:
        raise ConfigError(no_suites_message())
    record = RunRecord.holding_model(model_dir)
    summary = record.read_summary() if record is not None else None
    if summary is not None and summary.get("status") == "running" and not cfg.force:
        raise UsageError(
            f"{record.path} is still marked running; evaluate after it finishes, or pass force=true"
        )
    check_model_folder(model_dir)  # before the benchmark data is loaded
    load_suite_data(suites)
    quantization, dtype = reload_settings(cfg, record)
    model, tokenizer = load_reward_model(
        model_dir, cfg.device, dtype, quantization, cfg.attn_implementation
    )
    scorer = RewardModelScorer(
        model,
        tokenizer,
        cfg.batch_size,
        cfg.max_length,
        drop_truncated=cfg.drop_truncated,
        **layout_settings(cfg),
    )
    stats = reward_transform(model_dir, cfg.rewards)
    if stats is not None:
        scorer = NormalisedScorer(scorer, stats)
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
    with exit_on_project_error():
        settled = settle_evaluate(cfg)  # a config error is one line, before anything is printed
        LOG.debug("evaluate config:\n%s", OmegaConf.to_yaml(cfg))
        evaluate(settled)


def cli() -> None:
    """The ``rr-evaluate`` command (and ``python -m responserank.llm.evaluate``): preset names
    are checked first, then Hydra composes and :func:`main` runs."""
    with exit_on_project_error():
        check_group_choices(Path(CONF_DIR), sys.argv[1:])
        check_top_level_keys(Path(CONF_DIR), sys.argv[1:], top_level_keys(EvaluateConfig))
    run_hydra(main)


if __name__ == "__main__":
    cli()
