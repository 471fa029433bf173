"""The ``model`` group: the reward model (one group file per model in ``conf/llm/model/``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from responserank.llm.config.fields import help_field, require

MODEL_DTYPES = ("float32", "bfloat16", "float16")
QUANTIZATION = (None, "4bit")
#: ``model.attn_implementation`` values (transformers' names).
ATTN_IMPLEMENTATIONS = (
    "sdpa",
    "eager",
    "flash_attention_2",
    "flash_attention_3",
    "flex_attention",
)


@dataclass(frozen=True)
class LoraConfig:
    """LoRA adapters (PEFT) trained instead of every weight."""

    enabled: bool = help_field(False, "train a LoRA adapter instead of every weight")
    r: int = help_field(8, "adapter rank")
    alpha: int = help_field(16, "LoRA alpha (scale alpha / r)")
    dropout: float = help_field(0.1, "dropout on the adapter input")
    target_modules: Any = field(
        default="all-linear", metadata={"help": "module names, or all-linear"}
    )


@dataclass(frozen=True)
class ModelConfig:
    """The reward model (one group file per model in ``conf/llm/model/``)."""

    name_or_path: str | None = help_field(None, "hub id, local folder or bundled:<name>")
    tokenizer: str | None = help_field(None, "null: the tokenizer of name_or_path")
    architecture: dict[str, Any] | None = field(
        default=None, metadata={"help": "a config dict builds a randomly initialised model"}
    )
    chat_template: str | None = help_field(None, "Jinja template to set on the tokenizer")
    pad_token: str = help_field("auto", "auto: fine-tune pad token, else the pad token, else eos")
    dtype: str = help_field("float32", "float32 | bfloat16 | float16 (weights)")
    gradient_checkpointing: bool = help_field(False, "recompute activations in the backward pass")
    disable_dropout: bool = help_field(True, "set every dropout probability to 0")
    weight_scale: float = help_field(1.0, "multiplies the score-head weight at initialisation")
    frozen_backbone: bool = help_field(
        False, "train only the pooler and score head; encoder states memoised (BERT family)"
    )
    quantization: str | None = help_field(None, "null | 4bit (QLoRA; needs CUDA and lora.enabled)")
    attn_implementation: str = help_field(
        "sdpa", "sdpa | eager | flash_attention_2 | flash_attention_3 | flex_attention"
    )
    lora: LoraConfig = field(
        default_factory=LoraConfig, metadata={"help": "LoRA adapters (enabled, r, alpha, dropout)"}
    )

    def __post_init__(self) -> None:
        require(self.dtype in MODEL_DTYPES, "model.dtype", f"one of {MODEL_DTYPES}", self.dtype)
        attn = self.attn_implementation
        choices = f"one of {list(ATTN_IMPLEMENTATIONS)}"
        require(attn in ATTN_IMPLEMENTATIONS, "model.attn_implementation", choices, attn)
        require(
            self.quantization in QUANTIZATION,
            "model.quantization",
            f"one of {list(QUANTIZATION)}",
            self.quantization,
        )
