"""Batch layouts: how the token sequences of a micro-batch are laid out for one forward pass.

- ``padded`` (:class:`~responserank.llm.data.batching.pair_dataset.PairCollator`): one row per
  sequence, right-padded to the longest sequence of the micro-batch.
- ``padding_free``: sequences packed back to back into rows, each with position ids 0, 1, ...,
  no pad token between them. Given these position ids and no attention mask, a causal decoder in
  transformers attends within each sequence only (it derives the block-diagonal mask, or the
  flash-attention varlen boundaries, from where the position ids restart).
- ``prefix_shared``: each comparison is one span ``[shared prefix | chosen rest | rejected rest]``,
  spans packed into rows as above. The shared prefix is the longest common prefix of the two
  *token* sequences, so chat templates and tokenizer boundary effects cannot make it wrong; the
  rejected rest takes the positions that follow the prefix (as the chosen rest does) and a 4-D
  mask (``span_ids`` and ``branch_ids``, turned into a mask by
  :func:`responserank.llm.modeling.reward_forward.sequence_rewards`) hides the chosen tokens from the
  rejected ones. Either rest may be empty (a chosen that is a prefix of the rejected) and the
  prefix may be empty (no common prefix): both rewards still equal separate forwards.

A reward is read at the last token of its sequence that is not the pad token (chosen end and
rejected end of a span), which is where the padded layout's sequence-classification head reads it
(the rightmost non-pad token), so every layout reads the same position.

Row lengths (:class:`RowBudget`). With dense attention (sdpa, eager) a row of length T costs
T^2 attention scores whatever the mask hides, so rows are bounded. By default (``tokens_per_row``
None) a micro-batch is arranged in the cheapest of: the spans in rows as long as the longest
span (or twice that), or the "safe" arrangement, where spans longer than the padded row are split
back into their sequences and no row is longer than the padded row (at most as many rows as the
padded layout, none longer, so never more tokens or attention area). The cost of an arrangement
is rows x T x (1 + a x T), a the cost of one attention score relative to one token's
projections, estimated from the model's shape (:func:`responserank.llm.modeling.reward_forward.
attention_cost`); since the safe arrangement never costs more than padded, neither does the
chosen one. Without an estimate the spans are kept only when they compute no more tokens and no
more attention area than padded. A fixed ``tokens_per_row`` caps rows at that length instead:
spans longer than it are split into their sequences, and a sequence longer than it sets the row
length of the micro-batch. Varlen and block-sparse kernels (flash-attention, flex attention) skip
the masked area, so there every span goes into one row (``one_row``).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from responserank.llm.data.batching.pair_dataset import loss_column_tensors

LAYOUTS = ("padded", "padding_free", "prefix_shared", "auto")
PACKED_LAYOUTS = ("padding_free", "prefix_shared")

#: Batch keys of the packed layouts (besides ``input_ids`` and the loss columns).
POSITION_IDS, READ_INDEX, SPAN_IDS, BRANCH_IDS = (
    "position_ids",
    "reward_index",
    "span_ids",
    "branch_ids",
)
#: Real tokens of the batch's sequences (both sides, pads and sharing not counted), any layout.
SEQUENCE_TOKENS = "sequence_tokens"


def shared_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


@dataclass(frozen=True)
class Span:
    """Token ids forwarded as one causal block: ``prefix`` then each branch.

    Sequence k is ``prefix + branches[k]``; its reward goes to output slot ``slots[k]``. Every
    branch starts at position ``len(prefix)`` and attends to the prefix and to itself only.
    """

    prefix: tuple[int, ...]
    branches: tuple[tuple[int, ...], ...]
    slots: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.branches or len(self.branches) != len(self.slots):
            raise ValueError(
                f"a span needs one slot per branch and at least one branch, got "
                f"{len(self.branches)} branches and {len(self.slots)} slots"
            )
        if any(not self.prefix and not branch for branch in self.branches):
            raise ValueError("every sequence of a span needs at least one token")

    @property
    def length(self) -> int:
        return len(self.prefix) + sum(len(b) for b in self.branches)

    def sequences(self) -> list[tuple[int, ...]]:
        return [self.prefix + branch for branch in self.branches]

    def split(self) -> list[Span]:
        """One span per sequence (no sharing): what ``padding_free`` forwards."""
        return [
            single_span(seq, slot) for seq, slot in zip(self.sequences(), self.slots, strict=True)
        ]


def single_span(sequence: Sequence[int], slot: int) -> Span:
    """A span holding one sequence."""
    return Span(tuple(sequence), ((),), (slot,))


def shared_span(sequences: Sequence[Sequence[int]], slots: Sequence[int]) -> Span:
    """One span for sequences that may share a prefix: the longest prefix common to all of them
    (on token ids), then each sequence's rest as a branch."""
    sequences = [tuple(s) for s in sequences]
    common = len(sequences[0])
    for other in sequences[1:]:
        common = min(common, shared_prefix_length(sequences[0], other))
    return Span(sequences[0][:common], tuple(s[common:] for s in sequences), tuple(slots))


def prefix_groups(
    ids: Sequence[Sequence[int]], max_group: int = 8, min_share: float = 0.25
) -> list[tuple[int, ...]]:
    """Indices of token sequences grouped for sharing a prefix (scoring many responses to one
    prompt): neighbours in lexicographic order join a group while the prefix common to all its
    members stays at least ``min_share`` of the longest member and at least one token, up to
    ``max_group`` members. Every index appears in exactly one group; a group may be a singleton."""
    order = sorted(range(len(ids)), key=lambda i: tuple(ids[i]))
    groups: list[list[int]] = []
    common = longest = 0
    for index in order:
        if groups and len(groups[-1]) < max_group:
            shared = min(common, shared_prefix_length(ids[groups[-1][0]], ids[index]))
            widest = max(longest, len(ids[index]))
            if shared >= 1 and shared >= min_share * widest:
                groups[-1].append(index)
                common, longest = shared, widest
                continue
        groups.append([index])
        common = longest = len(ids[index])
    return [tuple(group) for group in groups]


@dataclass(frozen=True)
class RowBudget:
    """How spans are grouped into rows (see the module docstring): ``one_row`` for varlen or
    block-sparse kernels; else rows of at most ``tokens_per_row`` tokens, or (None) the automatic
    bound. ``attention_cost``: the cost of one (query, key) score relative to one token's
    projections (:func:`responserank.llm.modeling.reward_forward.attention_cost`); with it the automatic
    bound picks the cheapest arrangement by rows x T x (1 + attention_cost x T), without it the
    one that computes no more tokens and no more attention area than the padded layout."""

    tokens_per_row: int | None = None
    one_row: bool = False
    attention_cost: float | None = None

    def __post_init__(self) -> None:
        if self.tokens_per_row is not None and self.tokens_per_row < 1:
            raise ValueError(f"tokens_per_row must be >= 1 or None, got {self.tokens_per_row}")
        if self.attention_cost is not None and not self.attention_cost >= 0:
            raise ValueError(f"attention_cost must be >= 0 or None, got {self.attention_cost}")


def _first_fit_decreasing(lengths: Sequence[int], capacity: int) -> list[list[int]]:
    rows: list[list[int]] = []
    free: list[int] = []
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        target = next((r for r, room in enumerate(free) if room >= lengths[index]), None)
        if target is None:
            rows.append([])
            free.append(capacity)
            target = len(rows) - 1
        rows[target].append(index)
        free[target] -= lengths[index]
    return rows


def _longest_first(lengths: Sequence[int], num_rows: int) -> list[list[int]]:
    """Largest first onto the least-filled row (LPT): evens out the rows of a first-fit packing."""
    rows: list[list[int]] = [[] for _ in range(num_rows)]
    loads = [(0, r) for r in range(num_rows)]
    for index in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        load, row = heapq.heappop(loads)
        rows[row].append(index)
        heapq.heappush(loads, (load + lengths[index], row))
    return rows


def _row_length(rows: list[list[int]], lengths: Sequence[int], multiple: int | None) -> int:
    longest = max(sum(lengths[i] for i in row) for row in rows)
    return -(-longest // multiple) * multiple if multiple else longest


def _pack(spans: list[Span], capacity: int, multiple: int | None) -> tuple[list[list[int]], int]:
    lengths = [span.length for span in spans]
    first_fit = _first_fit_decreasing(lengths, capacity)
    balanced = _longest_first(lengths, len(first_fit))
    best = min(first_fit, balanced, key=lambda rows: _row_length(rows, lengths, multiple))
    return [sorted(row) for row in best], _row_length(best, lengths, multiple)


def arrange(
    spans: Sequence[Span], budget: RowBudget, pad_to_multiple_of: int | None = None
) -> tuple[list[Span], list[list[int]], int]:
    """Spans (shared ones possibly split, see :class:`RowBudget`), the span indices of each row,
    and the row length T (a multiple of ``pad_to_multiple_of`` when given)."""
    spans = list(spans)
    multiple = pad_to_multiple_of
    if budget.one_row:
        everything = [list(range(len(spans)))]
        return spans, everything, _row_length(everything, [s.length for s in spans], multiple)
    sequences = [len(seq) for span in spans for seq in span.sequences()]
    longest_sequence = max(sequences)
    if budget.tokens_per_row is not None:
        bound = budget.tokens_per_row
        units = [
            part for span in spans for part in (span.split() if span.length > bound else [span])
        ]
        rows, length = _pack(units, max(bound, max(u.length for u in units)), multiple)
        return units, rows, length
    # Split spans longer than a padded row, rows no longer than it: at most as many rows as
    # sequences, none longer than the padded row, so never more tokens or area than padded.
    units = [
        part
        for span in spans
        for part in (span.split() if span.length > longest_sequence else [span])
    ]
    safe = (units, *_pack(units, longest_sequence, multiple))
    cap = max(longest_sequence, max(s.length for s in spans))
    if budget.attention_cost is None:
        padded = -(-longest_sequence // multiple) * multiple if multiple else longest_sequence
        rows, length = _pack(spans, cap, multiple)
        tokens, area = len(rows) * length, len(rows) * length * length
        if tokens <= len(sequences) * padded and area <= len(sequences) * padded**2:
            return spans, rows, length
        return safe

    def cost(option: tuple[list[Span], list[list[int]], int]) -> float:
        _, rows, length = option
        return len(rows) * length * (1.0 + budget.attention_cost * length)

    options = [safe] + [(spans, *_pack(spans, k * cap, multiple)) for k in (1, 2)]
    return min(options, key=cost)


def _read_offset(prefix: tuple[int, ...], branch: tuple[int, ...], pad_token_id: int) -> int:
    """Index (in prefix + branch) of the last token that is not the pad token; 0 if none is."""
    for j in range(len(branch) - 1, -1, -1):
        if branch[j] != pad_token_id:
            return len(prefix) + j
    for j in range(len(prefix) - 1, -1, -1):
        if prefix[j] != pad_token_id:
            return j
    return 0


def pack_spans(
    spans: Sequence[Span],
    pad_token_id: int,
    budget: RowBudget,
    with_mask: bool,
    pad_to_multiple_of: int | None = None,
) -> dict[str, torch.Tensor]:
    """Rows of token ids, position ids and reward positions for ``spans``.

    Returns int64 tensors: ``input_ids`` and ``position_ids`` (R, T); ``reward_index`` (n,), the
    flat index into (R * T) where the reward of output slot i is read (the slots of all spans must
    be 0 .. n-1); ``sequence_tokens`` (a scalar: the tokens of the n sequences); with ``with_mask``
    also ``span_ids`` and ``branch_ids`` (R, T): which span each token belongs to (trailing
    padding is a span of its own per row) and which branch (0 = the prefix). Raises ValueError
    for an empty list or slots that are not 0 .. n-1.
    """
    if not spans:
        raise ValueError("no sequences to pack")
    slots = sorted(slot for span in spans for slot in span.slots)
    if slots != list(range(len(slots))):
        raise ValueError("the slots of the spans must be 0 .. n-1, each once")
    units, rows, length = arrange(spans, budget, pad_to_multiple_of)
    input_ids = np.full((len(rows), length), pad_token_id, dtype=np.int64)
    position_ids = np.zeros((len(rows), length), dtype=np.int64)
    span_ids = np.zeros((len(rows), length), dtype=np.int64)
    branch_ids = np.zeros((len(rows), length), dtype=np.int64)
    read = np.empty(len(slots), dtype=np.int64)
    for r, row in enumerate(rows):
        cursor = 0
        for index in row:
            span = units[index]
            start, size = cursor, len(span.prefix)
            input_ids[r, start : start + size] = span.prefix
            position_ids[r, start : start + size] = np.arange(size)
            span_ids[r, start : start + size + sum(len(b) for b in span.branches)] = index
            cursor += size
            for k, (branch, slot) in enumerate(
                zip(span.branches, span.slots, strict=True), start=1
            ):
                input_ids[r, cursor : cursor + len(branch)] = branch
                position_ids[r, cursor : cursor + len(branch)] = size + np.arange(len(branch))
                branch_ids[r, cursor : cursor + len(branch)] = k
                offset = _read_offset(span.prefix, branch, pad_token_id)
                column = start + offset if offset < size else cursor + offset - size
                read[slot] = r * length + column
                cursor += len(branch)
        position_ids[r, cursor:] = np.arange(length - cursor)
        span_ids[r, cursor:] = -1 - r
    batch = {
        "input_ids": torch.from_numpy(input_ids),
        POSITION_IDS: torch.from_numpy(position_ids),
        READ_INDEX: torch.from_numpy(read),
        SEQUENCE_TOKENS: torch.tensor(sum(len(s) for u in units for s in u.sequences())),
    }
    if with_mask:
        batch[SPAN_IDS] = torch.from_numpy(span_ids)
        batch[BRANCH_IDS] = torch.from_numpy(branch_ids)
    return batch


def comparison_spans(
    chosen: Sequence[Sequence[int]], rejected: Sequence[Sequence[int]], share_prefix: bool
) -> list[Span]:
    """Spans of B comparisons: the chosen side of comparison i reads into slot i, the rejected
    side into slot B + i (the padded layout's row order)."""
    count = len(chosen)
    if share_prefix:
        return [
            shared_span((c, r), (i, count + i))
            for i, (c, r) in enumerate(zip(chosen, rejected, strict=True))
        ]
    return [single_span(c, i) for i, c in enumerate(chosen)] + [
        single_span(r, count + i) for i, r in enumerate(rejected)
    ]


@dataclass(frozen=True)
class PackedPairCollator:
    """Collates comparisons (``TokenizedPairs`` items) into a ``padding_free`` or
    ``prefix_shared`` batch (:func:`pack_spans`) plus the loss columns; rewards come back
    chosen first, then rejected, as with :class:`PairCollator`."""

    pad_token_id: int
    layout: str
    budget: RowBudget = RowBudget()
    pad_to_multiple_of: int | None = None

    def __post_init__(self) -> None:
        if self.layout not in PACKED_LAYOUTS:
            raise ValueError(f"layout must be one of {list(PACKED_LAYOUTS)}, got {self.layout!r}")

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        share = self.layout == "prefix_shared"
        spans = comparison_spans(
            [f["chosen_ids"] for f in features], [f["rejected_ids"] for f in features], share
        )
        batch = pack_spans(spans, self.pad_token_id, self.budget, share, self.pad_to_multiple_of)
        return {**batch, **loss_column_tensors(features)}


def sequence_token_count(batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Real tokens of the batch's sequences (pads left out, a shared prefix counted per side)."""
    if SEQUENCE_TOKENS in batch:
        return batch[SEQUENCE_TOKENS]
    return batch["attention_mask"].sum()
