"""Frozen-backbone reward models: train the pooler and score head, compute the encoder once.

With ``model.frozen_backbone=true`` every weight of a BERT-family sequence-classification model
(an encoder whose classifier reads the pooled [CLS] state, e.g. all-MiniLM-L6-v2) is frozen except
the pooler and the score head. The reward of a sequence is then
``classifier(tanh(W h + b))``, h (shape ``[hidden_size]``, float) the frozen encoder's last-layer
[CLS] state: a one-hidden-layer head on fixed pretrained features, a "linear probe" with a
nonlinearity. Because the encoder never changes and dropout is off, h depends only on the token
ids, so it is computed once per distinct sequence and memoised for the life of the process (every
run of a Hydra multirun over the same checkpoint shares it). The memo changes only the cost, not
the function: a saved model is an ordinary checkpoint that scores the same without it.

Refused (ConfigError): random ``architecture`` weights (they differ between seeds), dropout left
on, LoRA, and models without a pooler (decoders read the last token, not a pooled state).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPoolingAndCrossAttentions

from responserank.errors import ConfigError
from responserank.llm.config.model import ModelConfig

#: One memo per (checkpoint, dtype): token-id bytes -> [CLS] state of the frozen encoder.
_MEMOS: dict[tuple[str, str], dict[bytes, torch.Tensor]] = {}


def memo_for(checkpoint: str, dtype: torch.dtype) -> dict[bytes, torch.Tensor]:
    """The process-wide memo of ``checkpoint`` at ``dtype`` (created empty on first use)."""
    return _MEMOS.setdefault((checkpoint, str(dtype)), {})


def _row_keys(input_ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor | None) -> list:
    keys = []
    for row in range(input_ids.shape[0]):
        keep = mask[row].bool()
        key = input_ids[row][keep].to(torch.int64).cpu().numpy().tobytes()
        if types is not None:
            key += b"|" + types[row][keep].to(torch.int64).cpu().numpy().tobytes()
        keys.append(key)
    return keys


def _memoised_forward(base: nn.Module, memo: dict[bytes, torch.Tensor]):
    """A forward for ``base`` (a BertModel-like encoder with a ``pooler``) that reads the memo."""
    original = base.forward

    def forward(
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> BaseModelOutputWithPoolingAndCrossAttentions:
        if input_ids is None or position_ids is not None or inputs_embeds is not None:
            return original(
                input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                position_ids=position_ids,
                inputs_embeds=inputs_embeds,
                **kwargs,
            )
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        keys = _row_keys(input_ids, mask, token_type_ids)
        missing = sorted({key: row for row, key in enumerate(keys) if key not in memo}.values())
        if missing:
            rows = torch.tensor(missing, device=input_ids.device)
            types = None if token_type_ids is None else token_type_ids[rows]
            with torch.no_grad():
                out = original(input_ids[rows], attention_mask=mask[rows], token_type_ids=types)
            for j, row in enumerate(missing):
                memo[keys[row]] = out.last_hidden_state[j, 0].detach().clone()
        first = torch.stack([memo[key] for key in keys]).unsqueeze(1)
        return BaseModelOutputWithPoolingAndCrossAttentions(
            last_hidden_state=first, pooler_output=base.pooler(first)
        )

    return forward


def freeze_backbone(
    model: PreTrainedModel, model_cfg: ModelConfig, head: nn.Linear, checkpoint: str
) -> PreTrainedModel:
    """Freeze ``model`` except its pooler and ``head``; memoise the encoder's [CLS] states.

    ``model_cfg`` is the settled ``model`` group (``architecture``, ``disable_dropout``, ``lora``,
    ``dtype`` are checked); ``checkpoint`` names the memo. Returns ``model`` itself (its
    encoder's ``forward`` replaced on the instance, so the state dict and saving are unchanged).
    Raises ConfigError for a random architecture, dropout on, LoRA, or no pooler.
    """
    if model_cfg.architecture is not None:
        raise ConfigError(
            "model.frozen_backbone needs pretrained weights (name_or_path), not a random "
            "`architecture`: its encoder would differ between seeds"
        )
    if not model_cfg.disable_dropout:
        raise ConfigError(
            "model.frozen_backbone needs model.disable_dropout=true (memoised states are exact "
            "only without dropout)"
        )
    if model_cfg.lora.enabled:
        raise ConfigError("model.frozen_backbone and model.lora.enabled=true exclude each other")
    base = model.base_model
    if getattr(base, "pooler", None) is None:
        raise ConfigError(
            f"model.frozen_backbone needs an encoder with a pooler (BERT family); "
            f"{type(model).__name__} has none"
        )
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    for parameter in (*base.pooler.parameters(), *head.parameters()):
        parameter.requires_grad_(True)
    memo = memo_for(checkpoint, next(model.parameters()).dtype)
    base.forward = _memoised_forward(base, memo)
    return model
