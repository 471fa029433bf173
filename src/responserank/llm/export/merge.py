"""Merge a LoRA reward model into its base: a folder plain ``transformers`` loads.

    python -m responserank.llm.export merge runs/llm/<group>/<run>/model merged/

The adapter is loaded as evaluation loads it (:func:`responserank.llm.modeling.models.load_reward_model`:
its base from the hub id it records or from its ``base/`` folder, one output, the tokenizer's pad
token), folded into the base weights with peft's ``merge_and_unload`` and saved with the tokenizer,
the reward statistics (moved into ``config.json``) and a model card for the merged folder. A QLoRA
adapter is merged into its base in ``dtype`` (not 4-bit): the merged model is the adapter on an
unquantised base, so its rewards differ slightly from the 4-bit model's.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from responserank.errors import ConfigError
from responserank.llm.evaluation.reward_stats import read_reward_statistics, write_reward_statistics
from responserank.llm.export.model_card import read_facts, write_card
from responserank.llm.modeling.models import load_reward_model


def merge_adapter(
    adapter_dir: str | Path, out_dir: str | Path, dtype: str = "auto", force: bool = False
) -> Path:
    """Write the merged full model of ``adapter_dir`` to ``out_dir``; returns ``out_dir``.

    Raises ConfigError when ``adapter_dir`` holds no adapter, or ``out_dir`` exists and is not
    empty (unless ``force``, which replaces it).
    """
    adapter_dir, out_dir = Path(adapter_dir), Path(out_dir)
    if not (adapter_dir / "adapter_config.json").is_file():
        raise ConfigError(
            f"{adapter_dir}: no adapter_config.json; expected a LoRA adapter folder (a full model "
            "folder loads with transformers as it is)"
        )
    if out_dir.exists() and any(out_dir.iterdir()) and not force:
        raise ConfigError(f"{out_dir}: exists and is not empty; pass --force to replace it")
    model, tokenizer = load_reward_model(adapter_dir, device="cpu", dtype=dtype)
    merged = model.merge_and_unload()
    staging = out_dir.with_name(f".{out_dir.name}.merging")
    shutil.rmtree(staging, ignore_errors=True)
    merged.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    stats = read_reward_statistics(adapter_dir)
    if stats is not None:
        write_reward_statistics(staging, stats)
    facts = read_facts(adapter_dir)
    if facts is not None:
        write_card(staging, {**facts, "adapter": False})
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return out_dir
