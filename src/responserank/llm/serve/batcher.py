"""Batching concurrent scoring requests into shared forward passes.

Each request's token sequences join a queue. A single worker takes the first waiting request, then
collects the requests that arrive within ``max_wait_s`` (or are already queued) until the batch
holds ``max_batch_size`` sequences, scores them in one call on its own thread (the event loop keeps
accepting requests meanwhile) and hands every request its rewards. Requests that arrive during a
forward pass form the next batch. A failing forward pass fails the requests of that batch only.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np


@dataclass
class _Job:
    ids: Sequence[Sequence[int]]
    future: asyncio.Future


class RequestBatcher:
    """``await batcher.score(ids)`` -> float64 rewards (n,), scored together with concurrent requests.

    ``score_ids`` maps a list of token sequences to their rewards (it splits them into forward
    passes of at most ``max_batch_size`` itself). ``batches`` and ``sequences`` count the calls
    and the sequences scored, for ``/health``.
    """

    def __init__(
        self,
        score_ids: Callable[[list[Sequence[int]]], np.ndarray],
        max_batch_size: int,
        max_wait_s: float,
    ) -> None:
        self.score_ids = score_ids
        self.max_batch_size = max_batch_size
        self.max_wait_s = max_wait_s
        self.batches = 0
        self.sequences = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reward-forward")

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    async def score(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        if self._queue is None:
            raise RuntimeError("the batcher is not running (start() it inside the event loop)")
        future = asyncio.get_running_loop().create_future()
        await self._queue.put(_Job(ids, future))
        return await future

    async def _collect(self, first: _Job) -> list[_Job]:
        loop = asyncio.get_running_loop()
        jobs, count = [first], len(first.ids)
        deadline = loop.time() + self.max_wait_s
        while count < self.max_batch_size:
            remaining = deadline - loop.time()
            try:
                if remaining <= 0:
                    job = self._queue.get_nowait()
                else:
                    job = await asyncio.wait_for(self._queue.get(), remaining)
            except (asyncio.QueueEmpty, TimeoutError):
                break
            jobs.append(job)
            count += len(job.ids)
        return jobs

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            jobs = [j for j in await self._collect(await self._queue.get()) if not j.future.done()]
            if not jobs:
                continue
            ids = [seq for job in jobs for seq in job.ids]
            try:
                rewards = await loop.run_in_executor(self._executor, self.score_ids, ids)
            except Exception as error:  # the batch fails, the server goes on
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(error)
                continue
            self.batches += 1
            self.sequences += len(ids)
            start = 0
            for job in jobs:
                stop = start + len(job.ids)
                if not job.future.done():
                    job.future.set_result(np.asarray(rewards[start:stop], dtype=np.float64))
                start = stop
