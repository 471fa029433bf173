"""Predict step of the TRUE reliability model: an ARM column for LIE from the fold models.

    python -m responserank.llm.true_arm runs/llm/<group>/<group>-1.0-42 ... \\
        --out results/rapl/lie_true_arm.csv

Each argument is the run directory of one finished ``experiment=true_value_head`` run (one per
TRUE fold; a run still running, stopped or failed is refused).
For every run the saved model scores the TRUE calibration split of its fold, a logistic
calibration is fitted there, and all 1,000 LIE comparisons are scored in both A/B orders. The
output CSV holds ``IDs`` and, averaged over the runs, ``<column>_order1``, ``<column>_order2`` and
``<column>`` (their mean, the published ``TRUE_probability_correct`` recipe). Train on it with

    python -m responserank.llm.train experiment=rapl_lie_eps dataset.arm_file=<csv> \\
        experiment.train_signal.column=<column> experiment.train_signal.is_prob=true
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from responserank.atomic_io import write_text_atomic
from responserank.calibration import fit_probability_calibrator
from responserank.cli_errors import exit_on_project_error
from responserank.errors import InputFileError, UsageError
from responserank.llm.data.sources.lie import load_lie_full
from responserank.llm.data.sources.true import TrueItemsSource, load_true_split
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.evaluation.true_model import predict_lie_correctness, score_items
from responserank.llm.modeling.models import load_reward_model
from responserank.llm.runs.lifecycle import finished_record
from responserank.llm.runs.record import RunRecord, config_value
from responserank.reading import read_yaml

log = logging.getLogger(__name__)

DEFAULT_COLUMN = "TRUE_model_probability"


def true_run(run_dir: Path) -> tuple[RunRecord, dict[str, Any]]:
    """The record and resolved config of a finished ``experiment=true_value_head`` run.

    Raises ConfigError for a run that did not finish, InputFileError without its config.yaml and
    UsageError for a run that is not a TRUE-model run.
    """
    record = finished_record(run_dir)
    config_file = record.path / "config.yaml"
    if not config_file.is_file():
        raise InputFileError(f"{run_dir}: no config.yaml; pass run directories of trained runs")
    loaded = read_yaml(config_file, "the run's resolved config (YAML)")
    dataset = loaded.get("dataset") if isinstance(loaded, dict) else None
    target = dataset.get("_target_") if isinstance(dataset, dict) else None
    if not str(target).endswith("TrueItemsSource"):
        raise UsageError(
            f"{run_dir}: not a TRUE reliability run ({config_file} has dataset._target_ "
            f"{target!r}); pass runs trained with experiment=true_value_head"
        )
    return record, loaded


def run_predictions(
    run_dir: Path,
    lie: pd.DataFrame,
    true_path: str | None,
    batch_size: int,
    max_length: int | None,
) -> pd.DataFrame:
    """Calibrated LIE correctness predictions of one finished true_value_head run."""
    record, cfg = true_run(run_dir)
    dataset = cfg["dataset"]
    # Runs saved before the scale_TRUE items had their own source carry ``variant``.
    reads_true = str(dataset.get("_target_")) == f"{TrueItemsSource.__module__}.TrueItemsSource"
    reads_true = reads_true and dataset.get("variant", "original") == "original"
    path = true_path or (dataset.get("path") if reads_true else None)
    cal = load_true_split(path, int(dataset["fold"]), "cal", str(dataset["layout"]))
    quantization = config_value(cfg, "model.quantization")
    model, tokenizer = load_reward_model(
        record.model_dir,
        dtype=config_value(cfg, "model.dtype", "auto") if quantization else "auto",
        quantization=quantization,
    )
    length = max_length or int(config_value(cfg, "training.max_length"))
    scorer = RewardModelScorer(model, tokenizer, batch_size, length)
    calibrator = fit_probability_calibrator(
        score_items(scorer, cal["prompt_response_group"]), cal["correct_chosen"]
    )
    return predict_lie_correctness(scorer, calibrator, lie)


def lie_arm_table(predictions: Sequence[pd.DataFrame], column: str) -> pd.DataFrame:
    """Average per-run predictions into the ARM columns (rows keyed by LIE ``IDs``)."""
    stacked = pd.concat(predictions, ignore_index=True)
    mean = stacked.groupby("IDs", sort=True)[["p_order1", "p_order2", "p_mean"]].mean()
    return pd.DataFrame(
        {
            "IDs": mean.index.to_numpy(),
            f"{column}_order1": mean["p_order1"].to_numpy(),
            f"{column}_order2": mean["p_order2"].to_numpy(),
            column: mean["p_mean"].to_numpy(),
        }
    )


def main(argv: Sequence[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dirs", nargs="+", type=Path, help="true_value_head run directories")
    parser.add_argument("--out", type=Path, default=Path("lie_true_arm.csv"))
    parser.add_argument("--column", default=DEFAULT_COLUMN, help="name of the ARM column")
    parser.add_argument("--lie-path", default=None, help="LIE folder (default $RR_DATA_DIR/lie)")
    parser.add_argument("--true-path", default=None, help="TRUE folder for calibration")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=None)
    args = parser.parse_args(argv)
    for run_dir in args.run_dirs:  # every run is checked before any data or model is loaded
        true_run(run_dir)
    lie = load_lie_full(args.lie_path)
    predictions = []
    for run_dir in args.run_dirs:
        log.info("scoring LIE with %s", run_dir)
        predictions.append(
            run_predictions(run_dir, lie, args.true_path, args.batch_size, args.max_length)
        )
    table = lie_arm_table(predictions, args.column)
    write_text_atomic(args.out, table.to_csv(index=False))
    print(
        f"wrote {len(table)} LIE rows, column {args.column!r} from {len(predictions)} run(s), to {args.out}"
    )
    return args.out


def cli() -> None:
    """The ``rr-true-arm`` command: :func:`main` with INFO logging, project errors on one line."""
    logging.basicConfig(level=logging.INFO)
    with exit_on_project_error():
        main()


if __name__ == "__main__":
    cli()
