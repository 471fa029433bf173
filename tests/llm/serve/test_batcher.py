"""Request batching: concurrent requests share calls, answers go back to their requests."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from responserank.llm.serve.batcher import RequestBatcher


def run(coroutine):
    return asyncio.run(coroutine)


async def _score_all(batcher: RequestBatcher, requests: list[list[list[int]]]):
    await batcher.start()
    try:
        return await asyncio.gather(
            *(batcher.score(ids) for ids in requests), return_exceptions=True
        )
    finally:
        await batcher.stop()


def fake_rewards(calls: list[int]):
    def score_ids(ids):
        calls.append(len(ids))
        if any(seq == [-1] for seq in ids):
            raise RuntimeError("forward failed")
        return np.array([float(sum(seq)) for seq in ids])

    return score_ids


def test_concurrent_requests_share_calls_and_get_their_own_rewards():
    calls: list[int] = []
    batcher = RequestBatcher(fake_rewards(calls), max_batch_size=32, max_wait_s=0.05)
    requests = [[[i], [i, 1]] for i in range(10)]
    answers = run(_score_all(batcher, requests))
    for i, answer in enumerate(answers):
        np.testing.assert_array_equal(answer, [i, i + 1])
    assert sum(calls) == 20 and len(calls) < 10
    assert (batcher.batches, batcher.sequences) == (len(calls), 20)


def test_a_batch_size_of_one_scores_one_request_per_call():
    calls: list[int] = []
    batcher = RequestBatcher(fake_rewards(calls), max_batch_size=1, max_wait_s=0.05)
    run(_score_all(batcher, [[[i]] for i in range(5)]))
    assert calls == [1] * 5


@pytest.mark.parametrize("wait", [0.0, 0.05])
def test_a_failing_call_fails_its_batch_only(wait):
    calls: list[int] = []
    batcher = RequestBatcher(fake_rewards(calls), max_batch_size=2, max_wait_s=wait)

    async def scenario():
        await batcher.start()
        try:
            bad = await asyncio.gather(batcher.score([[-1]]), return_exceptions=True)
            good = await batcher.score([[2], [3]])
            return bad, good
        finally:
            await batcher.stop()

    bad, good = run(scenario())
    assert isinstance(bad[0], RuntimeError)
    np.testing.assert_array_equal(good, [2.0, 3.0])
