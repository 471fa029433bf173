"""Token lengths of (prompt, response) pairs, for dropping comparisons the model cannot read whole."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from responserank.llm.data.text import encode_conversations

_CHUNK = 256


def conversation_lengths(
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    responses: Sequence[str],
    desc: str = "tokenising",
    rendered: Sequence[bool] | None = None,
) -> np.ndarray:
    """Untruncated token count of each rendered conversation (same rendering as training);
    ``rendered`` as in :func:`encode_conversations`."""
    lengths = np.empty(len(prompts), dtype=np.int64)
    with tqdm(total=len(prompts), desc=desc, unit="conv", leave=False) as bar:
        for start in range(0, len(prompts), _CHUNK):
            stop = min(start + _CHUNK, len(prompts))
            ids = encode_conversations(
                tokenizer,
                list(prompts[start:stop]),
                list(responses[start:stop]),
                rendered=None if rendered is None else list(rendered[start:stop]),
            )
            lengths[start:stop] = [len(x) for x in ids]
            bar.update(stop - start)
    return lengths


def fits(
    tokenizer: PreTrainedTokenizerBase,
    prompts: Sequence[str],
    responses_a: Sequence[str],
    responses_b: Sequence[str],
    max_length: int,
    rendered: Sequence[bool] | None = None,
) -> np.ndarray:
    """Boolean mask: both conversations of the comparison have at most ``max_length`` tokens."""
    if max_length < 1:
        raise ValueError(f"max_length must be a positive token count, got {max_length}")
    length_a = conversation_lengths(tokenizer, prompts, responses_a, "tokenising A", rendered)
    length_b = conversation_lengths(tokenizer, prompts, responses_b, "tokenising B", rendered)
    return np.maximum(length_a, length_b) <= max_length
