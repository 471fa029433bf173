"""Properties of the packed collation (no model): every sequence's tokens sit in one row at
consecutive positions, the reward is read at its last non-pad token, and the automatic row bound
never computes more tokens or attention area than the padded layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from responserank.llm.data.batching.layouts import (
    PackedPairCollator,
    RowBudget,
    comparison_spans,
    pack_spans,
    prefix_groups,
    shared_prefix_length,
    shared_span,
)

PAD = 0
token = st.integers(1, 50)
sequence = st.lists(token, min_size=1, max_size=40)


@st.composite
def comparisons(draw):
    count = draw(st.integers(1, 8))
    chosen, rejected = [], []
    for _ in range(count):
        prefix = draw(st.lists(token, max_size=30))
        a = prefix + draw(st.lists(token, max_size=20))
        b = prefix + draw(st.lists(token, max_size=20))
        if not a:
            a = [1]
        if not b:
            b = [2]
        chosen.append(a)
        rejected.append(b)
    return chosen, rejected


def _visible(batch: dict[str, torch.Tensor], flat: int) -> list[int]:
    """Token ids (in position order) the token at ``flat`` attends to under the span mask."""
    length = batch["input_ids"].shape[1]
    row, column = divmod(flat, length)
    span, branch = batch["span_ids"][row], batch["branch_ids"][row]
    keys = [
        k for k in range(column + 1) if span[k] == span[column] and branch[k] in (0, branch[column])
    ]
    return batch["input_ids"][row, keys].tolist()


@settings(max_examples=80, deadline=None)
@given(
    pair=comparisons(),
    budget=st.sampled_from([RowBudget(), RowBudget(tokens_per_row=24), RowBudget(one_row=True)]),
    share=st.booleans(),
)
def test_each_sequence_is_read_whole_at_its_end(pair, budget, share):
    chosen, rejected = pair
    spans = comparison_spans(chosen, rejected, share)
    batch = pack_spans(spans, PAD, budget, with_mask=True)
    sequences = chosen + rejected
    length = batch["input_ids"].shape[1]
    for slot, seq in enumerate(sequences):
        flat = int(batch["reward_index"][slot])
        row, column = divmod(flat, length)
        assert _visible(batch, flat) == seq  # exactly the sequence, in order
        assert int(batch["position_ids"][row, column]) == len(seq) - 1
        if not share:  # contiguous, positions restarting at 0: what transformers unpacks
            start = column - len(seq) + 1
            block = batch["position_ids"][row, start : column + 1]
            assert block.tolist() == list(range(len(seq)))
            assert batch["input_ids"][row, start : column + 1].tolist() == seq
    assert int(batch["sequence_tokens"]) == sum(len(s) for s in sequences)
    if budget.one_row:
        assert batch["input_ids"].shape[0] == 1


@settings(max_examples=80, deadline=None)
@given(pair=comparisons(), share=st.booleans())
def test_automatic_rows_never_cost_more_than_padded(pair, share):
    chosen, rejected = pair
    batch = pack_spans(comparison_spans(chosen, rejected, share), PAD, RowBudget(), with_mask=share)
    rows, length = batch["input_ids"].shape
    padded_rows = 2 * len(chosen)
    padded_length = max(len(s) for s in chosen + rejected)
    assert rows * length <= padded_rows * padded_length
    assert rows * length**2 <= padded_rows * padded_length**2


@settings(max_examples=80, deadline=None)
@given(pair=comparisons(), share=st.booleans(), cost=st.sampled_from([0.0, 0.003, 0.05, 1.0]))
def test_costed_rows_never_cost_more_than_padded(pair, share, cost):
    chosen, rejected = pair
    budget = RowBudget(attention_cost=cost)
    batch = pack_spans(comparison_spans(chosen, rejected, share), PAD, budget, with_mask=share)
    rows, length = batch["input_ids"].shape
    padded_length = max(len(s) for s in chosen + rejected)
    padded = 2 * len(chosen) * padded_length * (1 + cost * padded_length)
    assert rows * length * (1 + cost * length) <= padded + 1e-9


def test_read_position_skips_trailing_pad_tokens():
    """A sequence ending in the pad id is read where the padded layout's head reads it."""
    spans = comparison_spans([[5, 6, PAD]], [[5, 7]], share_prefix=True)
    batch = pack_spans(spans, PAD, RowBudget(), with_mask=True)
    assert batch["input_ids"].reshape(-1)[batch["reward_index"][0]] == 6


def test_shared_prefix_is_the_token_prefix():
    span = shared_span(([1, 2, 3, 4], [1, 2, 9]), (0, 1))
    assert span.prefix == (1, 2) and span.branches == ((3, 4), (9,))
    assert shared_prefix_length([1, 2], [1, 2, 3]) == 2
    assert shared_span(([1, 2], [1, 2, 3]), (0, 1)).branches == ((), (3,))
    assert shared_span(([4], [5]), (0, 1)).prefix == ()


def test_collator_keeps_comparison_order_and_loss_columns():
    features = [
        {
            "chosen_ids": [1, 2, 3],
            "rejected_ids": [1, 2, 4, 5],
            "rank": 0.0,
            "partition": 3,
            "target": 1.0,
            "reliability": 0.5,
        },
        {
            "chosen_ids": [7],
            "rejected_ids": [8, 9],
            "rank": 1.0,
            "partition": 3,
            "target": 1.0,
            "reliability": 0.25,
        },
    ]
    batch = PackedPairCollator(PAD, "prefix_shared")(features)
    flat = batch["input_ids"].reshape(-1)
    assert flat[batch["reward_index"]].tolist() == [3, 7, 5, 9]
    assert batch["partition"].tolist() == [3, 3]
    assert batch["reliability"].tolist() == [0.5, 0.25]
    with pytest.raises(ValueError, match="layout"):
        PackedPairCollator(PAD, "padded")


def test_prefix_groups_cover_every_input_once():
    rng = np.random.default_rng(0)
    prompts = [rng.integers(1, 50, 20).tolist() for _ in range(3)]
    ids = [prompts[i % 3] + rng.integers(1, 50, 5).tolist() for i in range(20)] + [[1], [2, 3]]
    groups = prefix_groups(ids, max_group=4)
    assert sorted(i for g in groups for i in g) == list(range(len(ids)))
    assert max(len(g) for g in groups) <= 4
    for group in groups:
        if len(group) > 1:
            common = min(shared_prefix_length(ids[group[0]], ids[i]) for i in group)
            assert common >= 20
