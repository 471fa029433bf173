"""Which checkpoint a run resumes from, and whether it may.

Checkpoints are the Trainer's ``checkpoint-<step>`` folders under ``<run_dir>/checkpoints``.
transformers writes a checkpoint's files in a fixed order, ``trainer_state.json`` last (weights,
optimizer, scheduler and RNG states first; ``Trainer._save_checkpoint``), so a checkpoint is
complete when its ``trainer_state.json`` is a JSON object with an integer ``global_step``. A run
killed while saving, or stopped by a full disk, leaves a checkpoint without it (or with a truncated
one): :func:`newest_complete_checkpoint` skips such a checkpoint with a warning, removes it, and
returns the newest complete one, so the same command resumes instead of failing with transformers'
``Can't find a valid checkpoint``.

An explicit ``resume=<checkpoint>`` continues another run's optimizer, scheduler and data order;
:func:`check_explicit_resume` refuses it when that run's configuration (its record's
``config.yaml``, two folders above the checkpoint) differs from this run's in anything that
changes training (:func:`responserank.llm.runs.identity.training_identity`), naming the keys,
unless ``resume_mismatch=allow``.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path
from typing import Any

from responserank.errors import ConfigError
from responserank.llm.config.spec import RunSpec
from responserank.llm.runs.identity import differing_keys, training_identity
from responserank.reading import read_yaml

log = logging.getLogger(__name__)

TRAINER_STATE = "trainer_state.json"
CHECKPOINT_NAME = re.compile(r"^checkpoint-(\d+)$")
#: Differing keys named in a refusal before the rest are counted.
SHOWN_KEYS = 8


def incomplete_reason(checkpoint: Path) -> str | None:
    """Why ``checkpoint`` is not a complete Trainer checkpoint, or None when it is."""
    state_file = Path(checkpoint) / TRAINER_STATE
    if not state_file.is_file():
        return f"no {TRAINER_STATE} (it is written last: the save did not finish)"
    try:
        state = json.loads(state_file.read_bytes().decode("utf-8"))
    except (ValueError, OSError) as exc:
        return f"{TRAINER_STATE} is not valid JSON ({exc}): the save did not finish"
    if not isinstance(state, dict) or not isinstance(state.get("global_step"), int):
        return f"{TRAINER_STATE} has no integer global_step"
    return None


def checkpoint_step(checkpoint: Path) -> int | None:
    """The optimizer step a complete checkpoint was saved at; None for an incomplete one."""
    if incomplete_reason(checkpoint) is not None:
        return None
    state = json.loads((Path(checkpoint) / TRAINER_STATE).read_text(encoding="utf-8"))
    return int(state["global_step"])


def _by_step_newest_first(folder: Path) -> list[Path]:
    found = [
        (int(match.group(1)), path)
        for path in folder.iterdir()
        if path.is_dir() and (match := CHECKPOINT_NAME.match(path.name))
    ]
    return [path for _, path in sorted(found, reverse=True)]


def newest_complete_checkpoint(folder: Path) -> Path | None:
    """The complete checkpoint with the highest step in ``folder`` (None when there is none).

    Every incomplete checkpoint newer than it is logged and removed, so that the resumed run saves
    that step again into a clean folder.
    """
    for checkpoint in _by_step_newest_first(Path(folder)):
        reason = incomplete_reason(checkpoint)
        if reason is None:
            return checkpoint
        log.warning("skipping the incomplete checkpoint %s (%s); removing it", checkpoint, reason)
        shutil.rmtree(checkpoint, ignore_errors=True)
    return None


def recorded_training_identity(checkpoint: Path) -> dict[str, Any] | None:
    """:func:`training_identity` of the run that wrote ``checkpoint``, read from its record's
    ``config.yaml`` (``<run_dir>/checkpoints/checkpoint-N``); None for a checkpoint outside a run
    record."""
    checkpoint = Path(checkpoint).resolve()
    config_file = checkpoint.parent.parent / "config.yaml"
    if checkpoint.parent.name != "checkpoints" or not config_file.is_file():
        return None
    recorded = read_yaml(config_file, "the run's resolved config (YAML)")
    if not isinstance(recorded, dict) or "seed" not in recorded:
        raise ConfigError(f"{config_file}: expected a run's resolved config (a mapping with seed)")
    return training_identity(recorded)


def _lookup(tree: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return "<absent>"
        tree = tree[key]
    return tree


def check_explicit_resume(spec: RunSpec, checkpoint: str | Path) -> list[str]:
    """Check ``resume=<checkpoint>`` against this run's configuration.

    Returns the dotted keys whose values differ (empty when none; ``["<unknown>"]`` when the
    checkpoint sits outside a run record, so its configuration is unknown); a difference is
    allowed only with ``resume_mismatch=allow``.

    Raises:
        ConfigError: the checkpoint is incomplete, or its run's configuration differs (or is
            unknown) without ``resume_mismatch=allow``; the message names the keys and values.
    """
    checkpoint = Path(checkpoint)
    reason = incomplete_reason(checkpoint)
    if reason is not None:
        raise ConfigError(
            f"resume={checkpoint}: not a complete checkpoint: {reason}; pass a complete "
            "checkpoint, or resume=auto"
        )
    recorded = recorded_training_identity(checkpoint)
    allowed = spec.resume_mismatch == "allow"
    if recorded is None:
        if not allowed:
            raise ConfigError(
                f"resume={checkpoint}: the checkpoint is not inside a run record "
                "(<run_dir>/checkpoints/checkpoint-N beside <run_dir>/config.yaml), so the "
                "configuration that trained it is unknown; resume_mismatch=allow resumes it anyway"
            )
        return ["<unknown>"]
    current = training_identity(spec.resolved)
    differs = differing_keys(recorded, current)
    if differs and not allowed:
        shown = [
            f"{key} (checkpoint {_lookup(recorded, key)!r}, now {_lookup(current, key)!r})"
            for key in differs[:SHOWN_KEYS]
        ]
        more = len(differs) - SHOWN_KEYS
        raise ConfigError(
            f"resume={checkpoint}: the checkpoint was trained with another configuration: "
            f"{', '.join(shown)}{f' and {more} more' if more > 0 else ''}; resuming would continue "
            "its optimizer and schedule under the new values. Use the same settings, or "
            "resume_mismatch=allow to resume anyway (the run's summary records it)"
        )
    return differs
