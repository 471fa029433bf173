"""Which experiment a run belongs to, and its name.

Runs that differ only in seed or data fraction belong to one experiment group: the group id is a
hash of the resolved config without those keys and without purely operational ones (dry run,
resume/force, model saving, the ``runtime``, ``tracking`` and ``export`` nodes), prefixed with
the preset name for readability. The run name is ``<group_id>-<fraction>-<seed>``.

Every function takes the resolved config as plain data (``responserank.llm.config`` computes the
identity of a run when it settles the config; readers of a run record pass its ``config.yaml``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from responserank.llm.runs.record import config_value

#: Config keys (dotted paths) that never change what a run computes.
NON_IDENTITY_KEYS = (
    "seed",
    "experiment.fraction",
    "dry_run",
    "resume",
    "resume_mismatch",
    "force",
    "save_model",
    "runtime",
    "tracking",
    "export",
    "model.attn_implementation",  # kernels compute the same function
)

HASH_LENGTH = 10

#: Keys added after runs were published: left out of the hash while they hold these defaults, so
#: the group ids of earlier runs stay as they were.
DEFAULT_ONLY_KEYS = {
    "training.packing": "capacity",
    "model.frozen_backbone": False,
    "training.best_model": {"metric": None, "mode": "max", "keep": 2},
}


#: Keys renamed after runs were published, per source class: hashed under their former names,
#: so the group ids of earlier runs stay as they were (a former name still given wins).
RENAMED_KEYS = {
    "responserank.llm.data.sources.preference_table.PreferenceTableSource": {
        "dataset.strength_column": "dataset.signal_column",
        "dataset.strength_kind": "dataset.signal_kind",
    },
}


def _former_names(plain: dict[str, Any]) -> None:
    renamed = RENAMED_KEYS.get(str(config_value(plain, "dataset._target_")), {})
    dataset = plain.get("dataset")
    for dotted, former in renamed.items():
        key, old = dotted.split(".")[-1], former.split(".")[-1]
        if isinstance(dataset, dict) and key in dataset:
            value = dataset.pop(key)
            if dataset.get(old) is None:
                dataset[old] = value


def format_fraction(fraction: float) -> str:
    """'0.1', '1.0': repr of the float, as in the results files."""
    return repr(float(fraction))


def identity_config(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the resolved config without the keys that do not define the experiment."""
    plain = copy.deepcopy(dict(resolved))
    _former_names(plain)
    for dotted in (*NON_IDENTITY_KEYS, *DEFAULT_ONLY_KEYS):
        *parents, leaf = dotted.split(".")
        node = plain
        for key in parents:
            node = node.get(key, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict) and dotted in DEFAULT_ONLY_KEYS:
            if node.get(leaf, DEFAULT_ONLY_KEYS[dotted]) == DEFAULT_ONLY_KEYS[dotted]:
                node.pop(leaf, None)
        elif isinstance(node, dict):
            node.pop(leaf, None)
    return plain


def config_hash(resolved: Mapping[str, Any]) -> str:
    """Stable hex digest of :func:`identity_config` (sorted keys, so key order does not matter)."""
    canonical = json.dumps(identity_config(resolved), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def group_id(resolved: Mapping[str, Any]) -> str:
    """``<experiment.name>_<first 10 hex digits of config_hash>``."""
    name = config_value(resolved, "experiment.name", "custom")
    return f"{name}_{config_hash(resolved)[:HASH_LENGTH]}"


def training_identity(resolved: Mapping[str, Any]) -> dict[str, Any]:
    """What a checkpoint's training depends on: :func:`identity_config` with the seed and the data
    fraction (both in the run name) and without ``experiment.name`` (a label)."""
    plain = identity_config(resolved)
    plain["seed"] = int(resolved["seed"])
    experiment = plain.setdefault("experiment", {})
    experiment.pop("name", None)
    experiment["fraction"] = float(config_value(resolved, "experiment.fraction", 1.0))
    return plain


def differing_keys(left: Any, right: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ between two nested mappings, sorted; a key present in only
    one of them differs, lists are compared whole."""
    if not (isinstance(left, dict) and isinstance(right, dict)):
        return [] if left == right else [prefix or "<root>"]
    keys = sorted(set(left) | set(right), key=str)
    differs: list[str] = []
    for key in keys:
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in left or key not in right:
            differs.append(dotted)
        else:
            differs.extend(differing_keys(left[key], right[key], dotted))
    return differs


def run_name(resolved: Mapping[str, Any]) -> str:
    """``<group_id>-<fraction>-<seed>``."""
    fraction = config_value(resolved, "experiment.fraction", 1.0)
    return f"{group_id(resolved)}-{format_fraction(fraction)}-{int(resolved['seed'])}"
