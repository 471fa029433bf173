"""From Hydra's composed config to the settled :class:`~responserank.llm.config.spec.RunSpec`.

This module (with the entry points) is the only place that reads a ``DictConfig``:

- :func:`schema_node` turns a schema class into the node Hydra composes into: the frozen
  dataclasses stay writable while composing, and every group node stays open, so that a wrong key
  anywhere below the root reaches :func:`validate` (which names the nearest valid key) instead of
  failing inside Hydra;
- :func:`validate` checks every group against its schema (unknown keys with the nearest valid one,
  types, ranges), builds the components chosen by ``_target_``, computes the run's group id and
  name from the resolved config, and returns the frozen run specification;
- :func:`data_spec`, :func:`model_spec`, :func:`build_components` and :func:`build_suites` settle
  one part (tests, benchmarks and the evaluate command use them).
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from responserank.errors import ConfigError, unknown_key
from responserank.llm.config.components import build
from responserank.llm.config.evaluate import EvaluateConfig
from responserank.llm.config.experiment import ExperimentConfig
from responserank.llm.config.model import ModelConfig
from responserank.llm.config.schema import TrainConfig
from responserank.llm.config.spec import EvalSpec, RunSpec
from responserank.llm.config.training import TrainingConfig
from responserank.llm.data.prepare import STEPS, DataSpec, ExperimentSpec
from responserank.llm.evaluation.base import EvalSuite
from responserank.llm.evaluation.suites import select_suites
from responserank.llm.runs.identity import group_id, run_name
from responserank.llm.training.objectives.base import PairwiseObjective


def _open(node: DictConfig) -> DictConfig:
    """Clear the read-only flag a frozen dataclass sets, and open every child node."""
    node._set_flag("readonly", None)
    for key in node:
        child = node._get_node(key)
        if isinstance(child, DictConfig):
            child._set_flag("struct", False)
            _open(child)
    return node


def schema_node(schema: type) -> DictConfig:
    """The composable node of a schema class: typed and with defaults, writable and open."""
    return _open(OmegaConf.structured(schema))


def _wrap(error: OmegaConfBaseException, prefix: str = "") -> ConfigError:
    key = ".".join(k for k in (prefix, str(error.full_key or "")) if k)
    return ConfigError(f"config key '{key}': {str(error).splitlines()[0]}")


def plain_config(cfg: Any) -> Any:
    """``cfg`` (a DictConfig, ListConfig or plain data) as plain, resolved data.

    Raises:
        ConfigError: a mandatory value (``???``) is not set, or an interpolation fails.
    """
    if not OmegaConf.is_config(cfg):
        return cfg
    try:
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except OmegaConfBaseException as error:
        raise _wrap(error) from error


def _help(schema: type) -> dict[str, str]:
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(schema)}


def top_level_keys(schema: type = TrainConfig) -> dict[str, str]:
    """The top-level keys of a root schema (the training config by default), each with its one
    line of help."""
    return _help(schema)


def check_keys(schema: type, node: Mapping[str, Any], prefix: str) -> None:
    """Every key of ``node`` (plain data) is a field of ``schema``, recursively for nested groups.

    Raises:
        ConfigError: the first unknown key, with the nearest valid key and what it expects.
    """
    hints = typing.get_type_hints(schema)
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if key not in hints:
            owner = f"group '{prefix}'" if prefix else "the run config"
            raise unknown_key(path, _help(schema), owner)
        if dataclasses.is_dataclass(hints[key]) and isinstance(value, Mapping):
            check_keys(hints[key], value, path)


def typed(schema: type, node: Any, prefix: str = "") -> Any:
    """``node`` checked against ``schema`` and built (running its ``__post_init__`` checks).

    Raises:
        ConfigError: an unknown key (with the nearest valid one), a value of the wrong type or
            outside its range, naming the key.
    """
    plain = plain_config(node) or {}
    if not isinstance(plain, Mapping):
        raise ConfigError(f"config key '{prefix}': expected a mapping of keys, got {plain!r}")
    check_keys(schema, plain, prefix)
    try:
        return OmegaConf.to_object(OmegaConf.merge(schema_node(schema), plain))
    except OmegaConfBaseException as error:
        raise _wrap(error, prefix) from error


def model_spec(node: Any) -> ModelConfig:
    """The ``model`` group (a mapping, e.g. ``conf/llm/model/<name>.yaml``) as a ModelConfig."""
    return typed(ModelConfig, node, "model")


def experiment_spec(experiment: ExperimentConfig) -> ExperimentSpec:
    """The ``experiment`` group with its pipeline steps built (a step left out: its default)."""
    steps = {}
    for key, (_, default) in STEPS.items():
        node = getattr(experiment, key)
        steps[key] = build(node, f"experiment.{key}") if node else default()
    return ExperimentSpec(
        name=experiment.name,
        fraction=float(experiment.fraction),
        rank_filter_order=experiment.rank_filter_order,
        **steps,
    )


def data_spec(cfg: Any) -> DataSpec:
    """What the data preparation reads, from a config that may hold only ``seed``,
    ``training.max_length``, ``dataset`` and ``experiment`` (absent keys take their defaults)."""
    plain = plain_config(cfg)
    seed = typed(TrainConfig, {"seed": plain.get("seed", TrainConfig.seed)}).seed
    training = typed(TrainingConfig, plain.get("training") or {}, "training")
    experiment = typed(ExperimentConfig, plain.get("experiment") or {}, "experiment")
    return DataSpec(
        seed=seed,
        max_length=training.max_length,
        dataset=build(plain.get("dataset"), "dataset"),
        experiment=experiment_spec(experiment),
    )


def build_components(cfg: Any) -> dict[str, Any]:
    """The built pipeline steps of ``cfg``'s experiment, keyed by config group (``signal``, ...)."""
    plain = plain_config(cfg)
    experiment = experiment_spec(
        typed(ExperimentConfig, plain.get("experiment") or {}, "experiment")
    )
    return experiment.components()


def build_suites(eval_node: Any, names: Sequence[str] | None = None) -> list[EvalSuite]:
    """The suites of an ``eval`` node (``suites``: ``_target_`` nodes), each checked and built;
    with ``names``, only those suites, in that order (see :func:`select_suites`)."""
    plain = plain_config(eval_node) or {}
    return _suites(plain.get("suites") or [], names)


def _suites(entries: Sequence[Any], names: Sequence[str] | None = None) -> list[EvalSuite]:
    suites = [build(entry, f"eval.suites.{i}") for i, entry in enumerate(entries)]
    return select_suites(suites, names)


def settle_evaluate(cfg: Any) -> EvaluateConfig:
    """The settled config of ``python -m responserank.llm.evaluate`` (see :class:`EvaluateConfig`).

    Raises:
        ConfigError: a missing ``model_dir``, an unknown key (with the nearest valid one), a value
            of the wrong type or out of range.
    """
    if isinstance(cfg, EvaluateConfig):
        return cfg
    return typed(EvaluateConfig, cfg)


def validate(cfg: DictConfig) -> RunSpec:
    """The settled run of a composed config (see the module docstring).

    Raises:
        ConfigError: naming the key, what it expects and the value, or the nearest valid key.
    """
    plain = plain_config(cfg)
    check_keys(TrainConfig, plain, "")
    root = typed(TrainConfig, plain)
    return RunSpec(
        seed=root.seed,
        dry_run=root.dry_run,
        resume=root.resume,
        resume_mismatch=root.resume_mismatch,
        force=root.force,
        save_model=root.save_model,
        experiment=experiment_spec(root.experiment),
        training=root.training,
        runtime=root.runtime,
        tracking=root.tracking,
        export=root.export,
        dataset=build(root.dataset, "dataset"),
        loss=build(root.loss, "loss", PairwiseObjective, "a PairwiseObjective"),
        model=model_spec(root.model),
        eval=EvalSpec(tuple(_suites(root.eval.suites))),
        group_id=group_id(plain),
        run_name=run_name(plain),
        resolved=plain,
        resolved_yaml=OmegaConf.to_yaml(cfg if OmegaConf.is_config(cfg) else plain, resolve=True),
    )
