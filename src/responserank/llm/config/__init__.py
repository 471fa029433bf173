"""Typed configuration of ``python -m responserank.llm.train`` and ``evaluate``: one package,
split by group.

- :mod:`.schema`: the root schemas Hydra composes into (``train_schema``, first in
  ``conf/llm/config.yaml``'s defaults, registered in Hydra's ConfigStore when this package is
  imported); :mod:`.training`, :mod:`.runtime`, :mod:`.model`, :mod:`.experiment`: the groups,
  each a frozen dataclass whose fields carry a type, the one default and one line of help;
- :mod:`.components`: the classes chosen by ``_target_`` are the schemas of their nodes;
- :mod:`.compose`: :func:`validate` settles a composed config into a :class:`RunSpec`
  (:mod:`.spec`), the one object every module below the entry points reads.

A wrong key fails naming the nearest valid one; a wrong value names the key, the expected range
and the value (:class:`~responserank.errors.ConfigError`).
"""

from hydra.core.config_store import ConfigStore

from responserank.llm.config.compose import (
    build_components,
    build_suites,
    data_spec,
    model_spec,
    plain_config,
    schema_node,
    settle_evaluate,
    top_level_keys,
    typed,
    validate,
)
from responserank.llm.config.evaluate import EvaluateConfig
from responserank.llm.config.experiment import EvalConfig, ExperimentConfig
from responserank.llm.config.model import LoraConfig, ModelConfig
from responserank.llm.config.runtime import (
    ExportConfig,
    RuntimeConfig,
    TrackingConfig,
    WandbConfig,
)
from responserank.llm.config.schema import (
    RESUME_CHOICES,
    RESUME_MISMATCH_CHOICES,
    SCHEMA_NAME,
    TrainConfig,
)
from responserank.llm.config.spec import EvalSpec, RunSpec
from responserank.llm.config.training import BestModelConfig, TrainingConfig

ConfigStore.instance().store(name=SCHEMA_NAME, node=schema_node(TrainConfig))

__all__ = [
    "RESUME_CHOICES",
    "RESUME_MISMATCH_CHOICES",
    "SCHEMA_NAME",
    "BestModelConfig",
    "EvalConfig",
    "EvalSpec",
    "EvaluateConfig",
    "ExperimentConfig",
    "ExportConfig",
    "LoraConfig",
    "ModelConfig",
    "RunSpec",
    "RuntimeConfig",
    "TrackingConfig",
    "TrainConfig",
    "TrainingConfig",
    "WandbConfig",
    "build_components",
    "build_suites",
    "data_spec",
    "model_spec",
    "plain_config",
    "schema_node",
    "settle_evaluate",
    "top_level_keys",
    "typed",
    "validate",
]
