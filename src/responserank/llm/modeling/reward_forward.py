"""One reward-model forward pass over a batch in any layout, used by training and by scoring.

The batch layouts themselves (how sequences are put into rows) are collation, in
:mod:`responserank.llm.data.batching.layouts`; this module runs the model on them and decides
which layouts a model can use:

- :func:`sequence_rewards`: rewards of every sequence of a batch. A padded batch goes through the
  sequence-classification model as always (its head reads the rightmost non-pad token). A packed
  batch goes through the same model with position ids (and, for ``prefix_shared``, a 4-D mask:
  boolean for sdpa, additive for eager, a ``BlockMask`` for flex attention); the score head's
  output at every position is captured by a forward hook and read at each sequence's end. The
  call goes through the model's own ``forward`` (DDP, PEFT and gradient checkpointing wrappers
  included), so gradient synchronisation and adapters work as in the padded layout.
- :func:`resolve_batch_layout`: which layouts are exact for a model. Packing needs a causal
  decoder whose reward head reads the last token (transformers' ``GenericForSequenceClassification``:
  Llama, Mistral, Qwen, Gemma, Phi, ...); a bidirectional encoder (BERT, MiniLM) or another head
  is refused. ``prefix_shared`` further needs a kernel that takes an arbitrary mask (sdpa, eager,
  flex attention; flash-attention only has sequence boundaries) and full attention in every
  layer (a sliding window would be ignored by the mask). ``auto`` picks ``prefix_shared`` where it
  is exact, else ``padding_free``, else ``padded``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from transformers import AutoConfig, PretrainedConfig
from transformers.modeling_layers import GenericForSequenceClassification
from transformers.models.auto.modeling_auto import (
    MODEL_FOR_MASKED_LM_MAPPING,
    MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING,
)
from transformers.utils import (
    is_flash_attn_2_available,
    is_flash_attn_3_available,
    is_torch_flex_attn_available,
)

from responserank.errors import ConfigError
from responserank.llm.config.model import ATTN_IMPLEMENTATIONS, ModelConfig
from responserank.llm.data.batching.layouts import (
    BRANCH_IDS,
    LAYOUTS,
    POSITION_IDS,
    READ_INDEX,
    SPAN_IDS,
    RowBudget,
)
from responserank.llm.modeling.checkpoints import require_checkpoint

#: Kernels that compute every (query, key) score of a row whatever the mask hides.
DENSE_ATTENTION = ("sdpa", "eager")
_AVAILABLE = {
    "flash_attention_2": is_flash_attn_2_available,
    "flash_attention_3": is_flash_attn_3_available,
    "flex_attention": is_torch_flex_attn_available,
}


def check_attn_implementation(name: str, training: bool) -> None:
    """Raise ConfigError when ``model.attn_implementation`` is unknown or cannot run here."""
    if name not in ATTN_IMPLEMENTATIONS:
        raise ConfigError(
            f"config key 'model.attn_implementation': expected one of "
            f"{list(ATTN_IMPLEMENTATIONS)}, got {name!r}"
        )
    available = _AVAILABLE.get(name)
    if available is not None and not available():
        raise ConfigError(
            f"model.attn_implementation={name}: its kernel is not installed or has no support "
            f"on this machine (transformers reports it unavailable)"
        )
    if training and name == "flex_attention" and not torch.cuda.is_available():
        raise ConfigError(
            "model.attn_implementation=flex_attention: torch has no flex-attention backward "
            "pass on the CPU; train with sdpa or eager here"
        )


def _sliding_window(config: PretrainedConfig) -> bool:
    layer_types = getattr(config, "layer_types", None)
    if layer_types is not None:
        return any(kind != "full_attention" for kind in layer_types)
    window = getattr(config, "sliding_window", None)
    return window is not None and getattr(config, "use_sliding_window", True) is not False


def packing_refusal(config: PretrainedConfig) -> str | None:
    """Why sequences of this model cannot be packed into rows, or None when they can."""
    head = MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING.get(type(config), None)
    if head is not None and issubclass(head, GenericForSequenceClassification):
        return None
    if type(config) in MODEL_FOR_MASKED_LM_MAPPING:
        return (
            f"model type '{config.model_type}' is a bidirectional encoder: every token sees the "
            "whole row, so sequences cannot share a row or a prefix"
        )
    name = "no sequence-classification head" if head is None else head.__name__
    return (
        f"model type '{config.model_type}' ({name}) is not a causal decoder whose reward head "
        "reads the last token (transformers' GenericForSequenceClassification)"
    )


def sharing_refusal(config: PretrainedConfig, attn_implementation: str) -> str | None:
    """Why ``prefix_shared`` is not exact for this model and kernel, or None when it is."""
    refusal = packing_refusal(config)
    if refusal is not None:
        return refusal
    if attn_implementation.startswith("flash_attention"):
        return (
            f"{attn_implementation} takes sequence boundaries only, not the mask that hides the "
            "chosen tokens from the rejected ones (use flex_attention, sdpa or eager)"
        )
    if _sliding_window(config):
        return (
            f"model type '{config.model_type}' uses sliding-window attention, which the shared-"
            "prefix mask does not apply"
        )
    return None


def resolve_batch_layout(requested: str, config: PretrainedConfig, attn_implementation: str) -> str:
    """The layout to use: ``requested``, or for ``auto`` the fastest exact one
    (``prefix_shared``, else ``padding_free``, else ``padded``). Raises ConfigError (one line
    naming the model type and the reason) for a packed layout the model cannot use exactly."""
    if requested not in LAYOUTS:
        raise ConfigError(
            f"config key 'runtime.batch_layout': expected one of {list(LAYOUTS)}, got {requested!r}"
        )
    share, pack = sharing_refusal(config, attn_implementation), packing_refusal(config)
    if requested == "auto":
        return "prefix_shared" if share is None else "padding_free" if pack is None else "padded"
    refusal = share if requested == "prefix_shared" else pack if requested != "padded" else None
    if refusal is not None:
        raise ConfigError(
            f"batch layout {requested!r} cannot be used: {refusal}; use 'padded' or 'auto'"
        )
    return requested


def model_config(model_cfg: ModelConfig) -> PretrainedConfig:
    """The transformers config that ``model_cfg`` (the settled ``model`` group) builds, read
    without weights or tokenizer (for checks before anything expensive)."""
    if model_cfg.architecture is not None:
        arch = dict(model_cfg.architecture)
        return AutoConfig.for_model(arch.pop("model_type"), **arch)
    name = model_cfg.name_or_path
    if not name:
        raise ConfigError("model config needs `name_or_path` (hub id or path) or an `architecture`")
    return AutoConfig.from_pretrained(require_checkpoint(name))


def configured_layout(requested: str, model_cfg: ModelConfig, training: bool) -> str:
    """Check ``model.attn_implementation`` and the batch layout against the model's config before
    any data or weights are loaded; returns the resolved layout. Raises ConfigError."""
    attn = model_cfg.attn_implementation
    check_attn_implementation(attn, training)
    return resolve_batch_layout(requested, model_config(model_cfg), attn)


def attn_implementation(model: nn.Module) -> str:
    """The attention kernel a loaded model runs (``config._attn_implementation``)."""
    return getattr(model.config, "_attn_implementation", None) or "eager"


def attention_cost(config: PretrainedConfig) -> float | None:
    """Multiply-adds of one (query, key) attention score (its QK^T and AV share) relative to one
    token's projections (q, k, v, o and a gated MLP), per layer, from the model's shape; None
    when the config lacks the sizes. Used to pick packed row lengths on dense kernels."""
    text = config.get_text_config()
    hidden = getattr(text, "hidden_size", None)
    heads = getattr(text, "num_attention_heads", None)
    if not hidden or not heads:
        return None
    head_dim = getattr(text, "head_dim", None) or hidden // heads
    queries = heads * head_dim
    keys = (getattr(text, "num_key_value_heads", None) or heads) * head_dim
    mlp = getattr(text, "intermediate_size", None) or 4 * hidden
    per_token = 2 * hidden * queries + 2 * hidden * keys + 3 * hidden * mlp
    return 2 * queries / per_token


def row_budget(
    attn: str, tokens_per_row: int | None, config: PretrainedConfig | None = None
) -> RowBudget:
    """Rows for packed batches: bounded on dense kernels (costed with ``config``'s shape when
    given, see :class:`RowBudget`), one row on varlen/block-sparse ones (flash-attention reads
    packed sequences only from a single row)."""
    if attn in DENSE_ATTENTION:
        cost = None if config is None else attention_cost(config)
        return RowBudget(tokens_per_row=tokens_per_row, attention_cost=cost)
    return RowBudget(one_row=True)


def _inner_model(model: nn.Module) -> nn.Module:
    from accelerate.utils import extract_model_from_parallel

    model = extract_model_from_parallel(model)
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def span_attention_mask(
    span_ids: torch.Tensor, branch_ids: torch.Tensor, attn: str, dtype: torch.dtype
) -> Any:
    """The 4-D mask of ``prefix_shared`` rows: query q sees key k when k is not after q, both are
    in the same span, and k is in the prefix (branch 0) or in q's branch.

    ``span_ids``/``branch_ids``: int64 (R, T). Returns bool (R, 1, T, T) (True = attend) for
    sdpa, an additive float mask of ``dtype`` (0 or its minimum) for eager, a ``BlockMask`` for
    flex attention. Raises ValueError for a kernel that takes no such mask.
    """
    if attn == "flex_attention":
        from torch.nn.attention.flex_attention import create_block_mask

        def visible(b, h, q, k):
            same_span = span_ids[b, q] == span_ids[b, k]
            own_branch = (branch_ids[b, k] == 0) | (branch_ids[b, k] == branch_ids[b, q])
            return (k <= q) & same_span & own_branch

        rows, length = span_ids.shape
        return create_block_mask(visible, rows, None, length, length, device=span_ids.device)
    if attn not in DENSE_ATTENTION:
        raise ValueError(f"attention {attn!r} takes no shared-prefix mask")
    length = span_ids.shape[1]
    causal = torch.ones(length, length, dtype=torch.bool, device=span_ids.device).tril()
    same_span = span_ids[:, :, None] == span_ids[:, None, :]
    key_branch, query_branch = branch_ids[:, None, :], branch_ids[:, :, None]
    allowed = (causal & same_span & ((key_branch == 0) | (key_branch == query_branch)))[:, None]
    if attn == "sdpa":
        return allowed
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(
        ~allowed, torch.finfo(dtype).min
    )


def sequence_rewards(model: nn.Module, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Rewards (n,) of a batch's sequences, in its slot order (for comparisons: all chosen, then
    all rejected), in the model's dtype and on its device, differentiable.

    ``batch``: a padded batch (``input_ids`` and ``attention_mask``, (n, L)) or a packed one
    (:func:`~responserank.llm.data.batching.layouts.pack_spans`). Raises ValueError when the
    score head does not produce one output per position.
    """
    if READ_INDEX not in batch:
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        return logits[:, 0]
    inner = _inner_model(model)
    head = getattr(inner, "score", None)
    if not isinstance(head, nn.Module):
        raise ValueError(f"{type(inner).__name__} has no score head to read packed rewards from")
    mask = None
    if SPAN_IDS in batch:
        dtype = inner.get_input_embeddings().weight.dtype
        mask = span_attention_mask(
            batch[SPAN_IDS], batch[BRANCH_IDS], attn_implementation(inner), dtype
        )
    captured: list[torch.Tensor] = []
    handle = head.register_forward_hook(lambda _module, _inputs, output: captured.append(output))
    try:
        model(
            input_ids=batch["input_ids"],
            position_ids=batch[POSITION_IDS],
            attention_mask=mask,
            use_cache=False,
        )
    finally:
        handle.remove()
    scores = captured[-1]
    if scores.dim() != 3 or scores.shape[:2] != batch["input_ids"].shape:
        raise ValueError(
            f"the score head returned shape {tuple(scores.shape)}, expected one output per "
            f"position of the {tuple(batch['input_ids'].shape)} batch"
        )
    return scores.reshape(-1, scores.shape[-1])[batch[READ_INDEX], 0]
