"""The root schemas Hydra composes into: ``train_schema`` (``conf/llm/config.yaml``) and
``evaluate_schema`` (``conf/llm/evaluate.yaml``).

Every key has a type, a default and one line of help here (the one home of every default); Hydra
refuses a value of the wrong type while composing (``seed=abc``). Groups whose classes are chosen
by ``_target_`` (``dataset``, ``loss``, the pipeline steps, the eval suites) are typed by those
classes' parameters, checked when the run is settled (:mod:`responserank.llm.config.compose`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from responserank.llm.config.experiment import EvalConfig, ExperimentConfig
from responserank.llm.config.fields import help_field
from responserank.llm.config.runtime import ExportConfig, RuntimeConfig, TrackingConfig
from responserank.llm.config.training import TrainingConfig

SCHEMA_NAME = "train_schema"
RESUME_CHOICES = ("auto", "never")
#: What ``resume=<checkpoint>`` does with a checkpoint trained under another run configuration.
RESUME_MISMATCH_CHOICES = ("refuse", "allow")


@dataclass(frozen=True)
class TrainConfig:
    """The whole run as Hydra composes it (``python -m responserank.llm.train``)."""

    seed: int = help_field(42, "seed of every random stream of the run")
    dry_run: bool = help_field(
        False, "prepare the data, print its statistics, exit before the model"
    )
    resume: str = help_field("auto", "auto | never | a checkpoint directory")
    resume_mismatch: str = help_field(
        "refuse", "refuse | allow: resume=<checkpoint> of a run trained with other settings"
    )
    force: bool = help_field(
        False, "train even when the run finished or is claimed by another process"
    )
    save_model: bool = help_field(True, "save the reward model + tokenizer to <run_dir>/model")
    experiment: ExperimentConfig = field(
        default_factory=ExperimentConfig,
        metadata={"help": "the preset: name, fraction, pipeline steps (experiment=NAME)"},
    )
    training: TrainingConfig = field(
        default_factory=TrainingConfig, metadata={"help": "what the optimiser does"}
    )
    runtime: RuntimeConfig = field(
        default_factory=RuntimeConfig, metadata={"help": "how the run executes"}
    )
    tracking: TrackingConfig = field(
        default_factory=TrackingConfig, metadata={"help": "where the run record goes"}
    )
    export: ExportConfig = field(
        default_factory=ExportConfig, metadata={"help": "what the saved model folder gets"}
    )
    dataset: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "the data source (dataset=NAME, conf/llm/dataset/)"}
    )
    loss: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "the training objective (loss=NAME, conf/llm/loss/)"},
    )
    model: Any = field(
        default_factory=dict,
        metadata={"help": "the reward model (model=NAME, conf/llm/model/), a ModelConfig"},
    )
    eval: EvalConfig = field(
        default_factory=EvalConfig, metadata={"help": "suites scored every epoch (eval=NAME)"}
    )
