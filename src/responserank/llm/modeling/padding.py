"""One token id for padding and for reading the reward, in training, scoring and every suite.

A decoder's sequence-classification head (transformers' ``GenericForSequenceClassification``:
Llama, Mistral, Qwen, ...) reads the reward at the rightmost token that is not
``model.config.pad_token_id``. A batch padded with another id (a saved tokenizer without a pad
token pads with EOS while the config names id 0, say) has its reward read at a padding position
instead, so rewards change with the batch they are scored in. :func:`align_pad_token` makes the
tokenizer pad with the id the model pools by, whatever was saved.
"""

from __future__ import annotations

from transformers import PreTrainedModel, PreTrainedTokenizerBase

from responserank.errors import ConfigError


def _usable(token_id: int | None, tokenizer: PreTrainedTokenizerBase) -> bool:
    return isinstance(token_id, int) and 0 <= token_id < len(tokenizer)


def align_pad_token(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> int:
    """Make the tokenizer pad with the token id the model reads the reward by; return that id.

    The model config's ``pad_token_id`` wins when it names a token of the tokenizer (the head
    pools by it); otherwise the tokenizer's pad token, else its EOS token, becomes the model's
    (``config.pad_token_id``, and the text config's of a multimodal model). The tokenizer's
    ``pad_token`` is then set to that id, so every collator and ``tokenizer.pad`` uses it. Padding
    positions are masked by the attention mask, so the choice does not change a reward; that it
    is one id for both does. A no-op for a model trained here (both already agree).

    Raises:
        ConfigError: neither the config nor the tokenizer names a padding or EOS token (padding
            could not be told from text); give the tokenizer a pad token and save it with the model.
    """
    configs = [model.config]
    text_config = getattr(model.config, "get_text_config", lambda: model.config)()
    if text_config is not model.config:
        configs.append(text_config)
    pad = configs[-1].pad_token_id
    if not _usable(pad, tokenizer):
        pad = tokenizer.pad_token_id
        if not _usable(pad, tokenizer):
            pad = tokenizer.eos_token_id
        if not _usable(pad, tokenizer):
            raise ConfigError(
                "the model config has no pad_token_id and the tokenizer has neither a pad nor an "
                "EOS token, so padding cannot be told apart from text; set tokenizer.pad_token "
                "(e.g. tokenizer.pad_token = tokenizer.unk_token) and save it with the model"
            )
        for config in configs:
            config.pad_token_id = pad
    if tokenizer.pad_token_id != pad:
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(pad)
    return int(pad)
