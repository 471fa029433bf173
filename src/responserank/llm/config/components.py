"""Components chosen by ``_target_`` (the data source, the pipeline steps, the loss, the eval
suites), built when the run is settled.

The chosen class is the schema of its node: every key must be one of its parameters (an unknown
key fails naming the nearest parameter and its type), a value of a plain type (bool, int, float,
str, or one of them or null) must match the parameter's annotation, and a value the class refuses
(its ``ValueError``) fails naming the full key of each parameter its message names
(``config key 'dataset.duplicates': ...``), or the node when it names none. Nodes arrive as plain data, already resolved; nested
``_target_`` nodes (``experiment.train_signal.reliability``) are checked and built the same way.
Lists and mappings reach the classes as plain ``list`` and ``dict``.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import get_object, instantiate

from responserank.errors import ConfigError, ResponseRankError, unknown_key

_PLAIN = (bool, int, float, str, type(None))
_KEYWORD = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _hints(cls: Any) -> dict[str, Any]:
    """Resolved annotations of the class's parameters ({} when they cannot be resolved)."""
    try:
        return typing.get_type_hints(cls if dataclasses.is_dataclass(cls) else cls.__init__)
    except Exception:  # an annotation naming something not importable here: skip type checks
        return {}


def _plain_types(hint: Any) -> tuple[type, ...] | None:
    """The plain types an annotation allows (``int | None`` -> (int, NoneType)); None when it
    allows anything else too (then the value is not checked here)."""
    if isinstance(hint, dataclasses.InitVar):
        hint = hint.type
    if hint in _PLAIN:
        return (hint,)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        members = typing.get_args(hint)
        if all(m in _PLAIN for m in members):
            return members
    return None


def _type_text(hint: Any) -> str:
    if isinstance(hint, dataclasses.InitVar):
        hint = hint.type
    if hint is inspect.Parameter.empty:
        return ""
    if isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "").replace("NoneType", "None")


def parameters(cls: Any) -> dict[str, Any] | None:
    """Parameter name -> annotation of ``cls``; None when it accepts any keyword (``**kwargs``)
    or has no inspectable signature."""
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    params = signature.parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return None
    hints = _hints(cls)
    return {p.name: hints.get(p.name, p.annotation) for p in params if p.kind in _KEYWORD}


def _matches(value: Any, allowed: tuple[type, ...]) -> bool:
    if value is None:
        return type(None) in allowed
    if isinstance(value, bool):
        return bool in allowed
    if isinstance(value, int) and float in allowed:
        return True
    return isinstance(value, allowed)


def check_node(node: Any, path: str) -> type:
    """Check ``node`` (a ``_target_`` mapping) and its nested ``_target_`` nodes; return the class.

    Raises:
        ConfigError: no ``_target_``, a target that cannot be imported, a key the class does not
            take (with the nearest one), a plain value of the wrong type.
    """
    if not isinstance(node, Mapping) or not node.get("_target_"):
        raise ConfigError(
            f"config key '{path}': expected a node with _target_ (a class and its parameters), "
            f"got {node!r}; pick one with its config group"
        )
    target = str(node["_target_"])
    try:
        cls = get_object(target)
    except Exception as error:
        raise ConfigError(
            f"config key '{path}._target_': cannot import {target!r} ({error})"
        ) from error
    params = parameters(cls)
    for key, value in node.items():
        if str(key).startswith("_"):
            continue
        where = f"{path}.{key}"
        if params is not None:
            if key not in params:
                texts = {name: _type_text(hint) for name, hint in params.items()}
                raise unknown_key(where, texts, getattr(cls, "__name__", target))
            allowed = _plain_types(params[key])
            if allowed is not None and not _matches(value, allowed):
                raise ConfigError(
                    f"config key '{where}': expected {_type_text(params[key])}, got {value!r}"
                )
        for index, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, Mapping) and "_target_" in item:
                check_node(item, where if not isinstance(value, list) else f"{where}.{index}")
    return cls


def refused(cause: Exception, path: str, cls: Any, node: Mapping) -> ConfigError:
    """The class's refusal of its values, prefixed with the full key of every parameter its
    message names (``config key 'dataset.duplicates': duplicates must be one of ...``), in the
    order named; with ``path`` alone when it names none."""
    message = str(cause)
    names = set(parameters(cls) or {}) | {str(key) for key in node if not str(key).startswith("_")}
    named = sorted(
        (match.start(), name)
        for name in names
        if (match := re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", message))
    )
    keys = [f"{path}.{name}" for _, name in named] or [path]
    quoted = ", ".join(f"'{key}'" for key in keys)
    return ConfigError(f"config key{'s' if len(keys) > 1 else ''} {quoted}: {message}")


def build(node: Any, path: str, kind: type | None = None, kind_text: str = "") -> Any:
    """The object described by ``node`` (checked by :func:`check_node` first).

    ``kind``: the object must be an instance of it (``kind_text`` names what was expected).

    Raises:
        ConfigError: see :func:`check_node`; the class refused the values (its message, prefixed
            with the key); the object is not a ``kind``.
    """
    cls = check_node(node, path)
    try:
        built = instantiate(dict(node), _convert_="all")
    except InstantiationException as error:
        cause = error.__cause__
        if isinstance(cause, ResponseRankError) and str(cause).startswith("config key"):
            raise cause from None
        if isinstance(cause, ValueError | TypeError):
            raise refused(cause, path, cls, node) from cause
        raise
    if kind is not None and not isinstance(built, kind):
        raise ConfigError(
            f"config key '{path}': built {type(built).__name__}, which is not {kind_text}"
        )
    return built
