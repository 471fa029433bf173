"""Padding-free and prefix-shared batches give the padded layout's rewards, losses and gradients.

A random tiny Llama in float32: per-comparison margins of every layout equal the padded ones
within 1e-5 for micro-batches of every loss, one optimizer step's loss and gradients agree within
1e-5 (with gradient accumulation, gradient checkpointing and LoRA), and 30 AdamW steps track
the padded run's per-step losses within 1e-4. Edge cases: a chosen that is a prefix of the
rejected (and the reverse), no common prefix, identical sides, one-token responses, a multi-turn
conversation, very short next to very long pairs, and inputs truncated at max_length.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from layout_helpers import OBJECTIVES, PACKED, collator, prefixed_pairs, tiny_model, train

from responserank.llm.data.batching.packing import PartitionBatchSampler
from responserank.llm.data.batching.pair_dataset import TokenizedPairs
from responserank.llm.data.text import encode_conversations
from responserank.llm.modeling.reward_forward import attention_cost, sequence_rewards
from responserank.llm.training.trainer import comparison_batch

TOLERANCE = 1e-5


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one thread is several times faster than two on a shared, busy CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _margins(layout, model, pairs, batch, pad, tokens_per_row=None):
    features = [pairs[i] for i in batch]
    inputs = collator(layout, model, pad, tokens_per_row)(features)
    with torch.no_grad():
        chosen, rejected = sequence_rewards(model, inputs).chunk(2)
    return chosen - rejected, inputs


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("loss", sorted(OBJECTIVES))
def test_margins_and_losses_equal_padded(attn, loss):
    model, tokenizer = tiny_model(attn)
    partitions = [1] * 8 if loss.startswith(("bt", "margin", "rapl")) else [3, 4, 2, 3, 1, 3]
    pairs = prefixed_pairs(partitions, len(tokenizer), seed=1, soft=loss == "bt_soft")
    objective = OBJECTIVES[loss]()
    sampler = PartitionBatchSampler(pairs.partition, batch_size=8, seed=0)
    for batch in sampler.global_batches(0):
        reference, inputs = _margins("padded", model, pairs, batch, tokenizer.pad_token_id)
        expected = objective(reference, comparison_batch(inputs))
        for layout in PACKED:
            margins, packed = _margins(layout, model, pairs, batch, tokenizer.pad_token_id)
            assert torch.allclose(margins, reference, atol=TOLERANCE, rtol=0), layout
            total = objective(margins, comparison_batch(packed))
            assert abs(float(total - expected)) <= TOLERANCE, (layout, total, expected)
            assert packed["input_ids"].numel() <= inputs["input_ids"].numel(), layout


@pytest.mark.parametrize("loss", ["bt", "responserank", "rapl_beta", "responserank_rapl"])
def test_one_step_loss_and_gradients_equal_padded(loss):
    """Two accumulated micro-batches of unequal size (partitions 3+3+2 in batches of 4): the
    loss normalisation stays exact in every layout."""
    model, tokenizer = tiny_model()
    pairs = prefixed_pairs([3, 3, 2], len(tokenizer), seed=2)
    runs = {
        layout: train(layout, model, tokenizer, pairs, loss, 4, 3, steps=1)
        for layout in ("padded", *PACKED)
    }
    (reference_loss,), reference = runs["padded"]
    assert max(float(g.abs().max()) for g in reference.values()) > 1e-4, "nothing moved"
    for layout in PACKED:
        (step_loss,), gradient = runs[layout]
        assert abs(step_loss - reference_loss) <= TOLERANCE, layout
        for name, value in gradient.items():
            torch.testing.assert_close(value, reference[name], atol=TOLERANCE, rtol=0, msg=name)


@pytest.mark.parametrize(
    "overrides, checkpointing",
    [
        ({}, True),
        ({"lora": {"enabled": True, "r": 4, "alpha": 8, "dropout": 0.0}}, False),
    ],
    ids=["gradient_checkpointing", "lora"],
)
def test_one_step_with_checkpointing_and_lora(overrides, checkpointing):
    model, tokenizer = tiny_model(**overrides)
    pairs = prefixed_pairs([2, 3, 3], len(tokenizer), seed=3)
    runs = {
        layout: train(
            layout,
            model,
            tokenizer,
            pairs,
            "responserank",
            8,
            1,
            steps=1,
            gradient_checkpointing=checkpointing,
        )
        for layout in ("padded", "prefix_shared")
    }
    (reference_loss,), reference = runs["padded"]
    (step_loss,), gradient = runs["prefix_shared"]
    assert abs(step_loss - reference_loss) <= TOLERANCE
    assert max(float(g.abs().max()) for g in reference.values()) > 1e-6, "nothing moved"
    for name, value in gradient.items():
        torch.testing.assert_close(value, reference[name], atol=TOLERANCE, rtol=0, msg=name)


def test_thirty_steps_track_padded():
    """AdamW at lr 1e-3. At 5e-3 float rounding alone is amplified past 1e-4 within 30 steps:
    the padded layout against itself padded to a multiple of 64 tokens (other matmul shapes)
    differs by 0.018 there, as prefix_shared does (measured; see docs/batch_layouts.md)."""
    model, tokenizer = tiny_model()
    pairs = prefixed_pairs([1] * 60, len(tokenizer), seed=4, prompt_tokens=(0, 16))
    runs = {
        layout: train(
            layout, model, tokenizer, pairs, "bt", 4, 1, 30, optim="adamw_torch", learning_rate=1e-3
        )[0]
        for layout in ("padded", *PACKED)
    }
    reference = np.array(runs["padded"])
    assert reference.size == 30 and abs(reference[-1] - reference[0]) > 1e-3, reference
    for layout in PACKED:
        np.testing.assert_allclose(runs[layout], reference, atol=1e-4, rtol=0, err_msg=layout)


def _edge_pairs(tokenizer) -> TokenizedPairs:
    """Comparisons that stress the shared prefix: see the module docstring."""
    rng = np.random.default_rng(5)

    def tokens(n: int) -> list[int]:
        return rng.integers(1000, len(tokenizer), size=n).tolist()

    prompt = tokens(12)
    conversation = [
        {"role": "user", "content": "What is the boiling point of water?"},
        {"role": "assistant", "content": "100 degrees Celsius at sea level."},
        {"role": "user", "content": "And on a high mountain?"},
    ]
    rendered = tokenizer.apply_chat_template(conversation, tokenize=False)
    turns = encode_conversations(
        tokenizer,
        [rendered, rendered],
        [
            "assistant: Lower, because the air pressure is lower. [SEP]",
            "assistant: The same. [SEP]",
        ],
        rendered=[True, True],
    )
    long_prompt = tokens(300)
    sides = [
        (prompt + tokens(3), prompt + tokens(3) + tokens(8)),  # ordinary
        (prompt, prompt + tokens(5)),  # chosen is a prefix of the rejected
        (prompt + tokens(6), prompt),  # rejected is a prefix of the chosen
        (tokens(9), tokens(4)),  # (almost surely) no common prefix
        (prompt + tokens(1), prompt + tokens(1)),  # one-token responses
        (prompt + tokens(4), prompt + tokens(4)),
        (tokens(1), tokens(1)),  # one token each
        tuple(turns),  # multi-turn conversation through the chat template
        (long_prompt + tokens(40), long_prompt + tokens(2)),  # very long next to very short
        (tokens(2), tokens(3)),
    ]
    assert sides[1][0] == sides[1][1][: len(sides[1][0])]
    assert turns[0][:20] == turns[1][:20], "the conversation shares its rendered prefix"
    n = len(sides)
    return TokenizedPairs(
        chosen_ids=[list(c) for c, _ in sides],
        rejected_ids=[list(r) for _, r in sides],
        rank=np.arange(n, dtype=np.float64),
        partition=np.zeros(n, dtype=np.int64),
        target=np.ones(n, dtype=np.float32),
        reliability=np.ones(n, dtype=np.float32),
    )


@pytest.mark.parametrize("attn", ["sdpa", "eager"])
@pytest.mark.parametrize("tokens_per_row", [None, 16, 4096])
def test_edge_cases_equal_padded(attn, tokens_per_row):
    model, tokenizer = tiny_model(attn)
    pairs = _edge_pairs(tokenizer)
    batch = list(range(len(pairs)))
    reference, padded = _margins("padded", model, pairs, batch, tokenizer.pad_token_id)
    for layout in PACKED:
        margins, packed = _margins(
            layout, model, pairs, batch, tokenizer.pad_token_id, tokens_per_row
        )
        assert torch.allclose(margins, reference, atol=TOLERANCE, rtol=0), (layout, margins)
        if tokens_per_row is None:  # the automatic bound: never costs more than padded
            cost = attention_cost(model.config)
            rows, length = packed["input_ids"].shape
            padded_rows, padded_length = padded["input_ids"].shape
            assert rows * length * (1 + cost * length) <= padded_rows * padded_length * (
                1 + cost * padded_length
            )
    shared = collator("prefix_shared", model, tokenizer.pad_token_id, 4096)(
        [pairs[i] for i in batch]
    )
    assert int(shared["input_ids"].numel()) < sum(pairs.num_tokens()), "no prefix was shared"


@pytest.mark.parametrize("max_length", [None, 24])
def test_scorer_layouts_equal_padded(max_length):
    """Suites score through RewardModelScorer: four responses per prompt (RewardBench v2's
    best-of-4), pairs, and full transcripts without a prompt; with max_length=24 many inputs are
    cut (on the right, as the padded layout cuts them) inside the shared prompt."""
    from responserank.llm.evaluation.scoring import RewardModelScorer

    model, tokenizer = tiny_model()
    questions = [
        "How do vaccines train the immune system to recognise a virus?",
        "Name a prime number between ten and twenty.",
        "Why is the sky blue during the day and red at sunset?",
    ]
    answers = ["It shows the body a harmless piece.", "Seventeen.", "No idea.", "Scattering."]
    prompts = [q for q in questions for _ in answers] + ["", ""]
    responses = answers * len(questions) + ["Human: hi\n\nAssistant: hello", "A plain text."]
    scores = {}
    for layout in ("padded", *PACKED):
        scorer = RewardModelScorer(
            model,
            tokenizer,
            batch_size=5,
            max_length=max_length,
            show_progress=False,
            layout=layout,
        )
        scores[layout] = scorer.score(prompts, responses)
        if layout == "prefix_shared":
            ids = encode_conversations(tokenizer, prompts, responses, max_length)
            units = [u for batch in scorer._batches(ids) for u in batch]
            assert max(len(u) for u in units) == len(answers), "responses did not share a span"
    for layout in PACKED:
        np.testing.assert_allclose(scores[layout], scores["padded"], atol=TOLERANCE, rtol=0)


@pytest.mark.slow
def test_prefix_shared_under_ddp_equals_one_padded_process(tmp_path):
    """2 processes x 2 accumulation steps x 4 comparisons (DDP, gloo on CPU) in prefix_shared
    give the gradient of one process with one padded micro-batch of 16."""
    from layout_step import step
    from train_helpers import run_torchrun_cpu

    out = tmp_path / "step.pt"
    here = str(Path(__file__).parent)
    run_torchrun_cpu([str(Path(here) / "layout_step.py"), "prefix_shared", str(out)], [here])
    distributed = torch.load(out)
    (reference_loss,), reference = step("padded", 16, 1)
    assert abs(distributed["loss"][0] - reference_loss) <= TOLERANCE
    for name, value in distributed["gradient"].items():
        torch.testing.assert_close(value, reference[name], atol=TOLERANCE, rtol=0, msg=name)
