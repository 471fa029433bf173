"""How a (prompt, response) pair becomes model input: one place, used by training and scoring.

Chat models get their own chat template (user turn, assistant turn). Tokenizers without a template
(encoders such as MiniLM) get the "Human: ...\n\nAssistant: ..." transcript used by the LIE and
HH-RLHF data. An empty prompt means the response already is the full transcript and is used as is.

A pre-rendered pair (``rendered=True``; conversational rows that the data source has already put
through the chat template) is the text prompt + response, tokenised as is without adding special
tokens, so its ids are exactly those of ``tokenizer.apply_chat_template`` on the whole conversation.
"""

from __future__ import annotations

from collections.abc import Sequence

from transformers import PreTrainedTokenizerBase


def render_conversation(tokenizer: PreTrainedTokenizerBase, prompt: str, response: str) -> str:
    """The text the reward model reads for one (prompt, response) pair."""
    if not prompt:
        return response
    if tokenizer.chat_template:
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
        return tokenizer.apply_chat_template(messages, tokenize=False)
    return f"Human: {prompt}\n\nAssistant: {response}"


def _template_adds_special_tokens(
    tokenizer: PreTrainedTokenizerBase, prompt: str, rendered: bool
) -> bool:
    # A rendered chat template already contains BOS and friends; adding them again would double them.
    return not (rendered or (prompt and tokenizer.chat_template))


def encode_conversations(
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    responses: Sequence[str],
    max_length: int | None = None,
    batch_size: int = 1024,
    rendered: Sequence[bool] | None = None,
) -> list[list[int]]:
    """Token ids per pair; truncated to ``max_length`` when given (callers filter long pairs first).

    Texts are tokenised in batches: fast tokenizers then encode them in parallel in Rust. Pairs
    with and without a prompt need different special-token handling, so each kind is batched
    separately and the results are put back in input order. ``rendered[i]`` marks a pair already
    rendered by the chat template (see the module docstring); None means no pair is.
    """
    if len(prompts) != len(responses):
        raise ValueError(f"got {len(prompts)} prompts but {len(responses)} responses")
    flags = [False] * len(prompts) if rendered is None else [bool(f) for f in rendered]
    if len(flags) != len(prompts):
        raise ValueError(f"got {len(prompts)} prompts but {len(flags)} rendered flags")
    texts = [
        p + r if done else render_conversation(tokenizer, p, r)
        for p, r, done in zip(prompts, responses, flags, strict=True)
    ]
    adds_special = [
        _template_adds_special_tokens(tokenizer, p, done)
        for p, done in zip(prompts, flags, strict=True)
    ]
    ids: list[list[int]] = [[] for _ in texts]
    for flag in (True, False):
        positions = [i for i, a in enumerate(adds_special) if a == flag]
        for start in range(0, len(positions), batch_size):
            chunk = positions[start : start + batch_size]
            encoded = tokenizer(
                [texts[i] for i in chunk],
                add_special_tokens=flag,
                truncation=max_length is not None,
                max_length=max_length,
            )["input_ids"]
            for i, token_ids in zip(chunk, encoded, strict=True):
                ids[i] = list(token_ids)
    return ids
