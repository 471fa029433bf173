"""Choosing, checking and running the evaluation suites of the ``eval`` group with one scorer.

The suites are built from their ``_target_`` nodes when the configuration is settled
(``responserank.llm.config.build_suites``); the training callback and ``python -m
responserank.llm.evaluate`` both go through here, so a suite added to the ``eval`` group (one YAML
entry with a ``_target_``) runs in both places unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from responserank.errors import ConfigError
from responserank.llm.evaluation.base import EvalSuite, Scorer


def select_suites(suites: Sequence[Any], names: Sequence[str] | None = None) -> list[EvalSuite]:
    """The suites built from the ``eval`` group's ``suites`` (in order, by
    ``responserank.llm.config.build_suites``), checked; with ``names``, only those, in that order.

    Suites load their data lazily, so building the full list to pick a few is cheap.
    """
    suites = list(suites)
    for index, suite in enumerate(suites):
        if not isinstance(suite, EvalSuite):
            raise ConfigError(
                f"eval.suites.{index}: {type(suite).__name__} is not an EvalSuite (needs name and "
                "evaluate)"
            )
        if hasattr(suite, "config_key"):  # named in hints, e.g. eval.suites.1.data_path=...
            suite.config_key = f"eval.suites.{index}"
    by_name: dict[str, EvalSuite] = {}
    for suite in suites:
        if suite.name in by_name:
            raise ConfigError(f"two suites in the eval group are named {suite.name!r}")
        by_name[suite.name] = suite
    if names is None:
        return suites
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise ConfigError(
            f"suites: unknown suite(s) {unknown}; the eval group provides: "
            f"{sorted(by_name) or 'none'}"
        )
    return [by_name[name] for name in names]


def load_suite_data(suites: Sequence[EvalSuite]) -> None:
    """Load and check every suite's data now (suites with a ``load_data`` method), before any model.

    A missing download or a wrong local copy then fails in seconds, not after loading a large model
    or, in training, after the first epoch.
    """
    for suite in suites:
        load = getattr(suite, "load_data", None)
        if callable(load):
            load()


def require_suite_data(suites: Sequence[EvalSuite]) -> None:
    """Check, without loading, that every suite's data is local, cached or reachable (suites with a
    ``require_available`` method); a run checks this before its record exists."""
    for suite in suites:
        check = getattr(suite, "require_available", None)
        if callable(check):
            check()


def run_suites(suites: Sequence[EvalSuite], scorer: Scorer) -> dict[str, float]:
    """Evaluate every suite with ``scorer``; metric names must start with ``<suite name>/``."""
    metrics: dict[str, float] = {}
    for suite in suites:
        for key, value in suite.evaluate(scorer).items():
            if not key.startswith(f"{suite.name}/"):
                raise ValueError(f"suite {suite.name!r} returned metric {key!r} outside its prefix")
            if key in metrics:
                raise ValueError(f"metric {key!r} was returned twice")
            metrics[key] = float(value)
    return metrics
