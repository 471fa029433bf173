"""Which experiment a run belongs to, and its name.

Runs that differ only in seed or data fraction belong to one experiment group: the group id is a
hash of the resolved config without those keys and without purely operational ones (dry run,
resume/force, model saving, the ``runtime`` and ``tracking`` nodes), prefixed with the preset name
for readability. The run name is ``<group_id>-<fraction>-<seed>``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from omegaconf import DictConfig, OmegaConf

#: Config keys (dotted paths) that never change what a run computes.
NON_IDENTITY_KEYS = (
    "seed",
    "experiment.fraction",
    "dry_run",
    "resume",
    "force",
    "save_model",
    "runtime",
    "tracking",
)

HASH_LENGTH = 10

#: Keys added after runs were published: left out of the hash while they hold these defaults, so
#: the group ids of earlier runs stay as they were.
DEFAULT_ONLY_KEYS = {"training.packing": "capacity"}


def format_fraction(fraction: float) -> str:
    """'0.1', '1.0': repr of the float, as in the results files."""
    return repr(float(fraction))


def identity_config(cfg: DictConfig) -> dict[str, Any]:
    """The resolved config as a plain dict, without the keys that do not define the experiment."""
    plain = OmegaConf.to_container(cfg, resolve=True)
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


def config_hash(cfg: DictConfig) -> str:
    """Stable hex digest of :func:`identity_config` (sorted keys, so key order does not matter)."""
    canonical = json.dumps(identity_config(cfg), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def group_id(cfg: DictConfig) -> str:
    name = OmegaConf.select(cfg, "experiment.name", default="custom")
    return f"{name}_{config_hash(cfg)[:HASH_LENGTH]}"


def run_name(cfg: DictConfig) -> str:
    fraction = OmegaConf.select(cfg, "experiment.fraction", default=1.0)
    return f"{group_id(cfg)}-{format_fraction(fraction)}-{int(cfg.seed)}"
