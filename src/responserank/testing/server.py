"""Starting the real scoring server in a subprocess (127.0.0.1, a port it picks), for tests and the
load benchmark (test-only code)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np

#: Words the generated transcripts are made of (tests and the load benchmark).
SAMPLE_WORDS = [
    "the",
    "a",
    "model",
    "answer",
    "explains",
    "clearly",
    "why",
    "each",
    "step",
    "follows",
    "from",
    "last",
    "one",
    "reward",
    "human",
    "preference",
    "response",
    "prompt",
    "helpful",
    "honest",
    "short",
    "long",
    "detailed",
    "summary",
    "question",
    "because",
]

READY = re.compile(r"serving .* on (http://[\d.]+:\d+)")


@contextlib.contextmanager
def running_server(
    model_dir: Path, *options: str, timeout_s: float = 180
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``python -m responserank.llm.serve`` on 127.0.0.1 with a port it picks; yields its base
    URL (once ``/health`` answers) and the process, which is stopped (SIGTERM) afterwards."""
    command = [sys.executable, "-m", "responserank.llm.serve", "--model-dir", str(model_dir)]
    command += ["--host", "127.0.0.1", "--port", "0", *options]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        url = _wait_ready(process, timeout_s)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen, timeout_s: float) -> str:
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(f"the server exited ({process.wait()}):\n{''.join(seen)[-3000:]}")
        seen.append(line)
        found = READY.search(line)
        if found:
            url = found.group(1)
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                        return url
                time.sleep(0.1)
    raise AssertionError(f"the server did not start in {timeout_s} s:\n{''.join(seen)[-3000:]}")


def post(url: str, path: str, payload: object | None = None, content: bytes | None = None):
    """A POST with a JSON payload (or raw bytes), through a real HTTP client."""
    if content is not None:
        return httpx.post(f"{url}{path}", content=content, timeout=60)
    return httpx.post(f"{url}{path}", json=payload, timeout=60)


def texts(
    n: int,
    seed: int = 0,
    words: Sequence[str] = SAMPLE_WORDS,
    prompt_words: tuple[int, int] = (2, 8),
    response_words: tuple[int, int] = (3, 25),
) -> list[str]:
    """``n`` transcripts ``Human: ...\\n\\nAssistant: ...`` of varied length from ``words``; the
    word counts are drawn from the half-open ranges ``prompt_words`` and ``response_words``."""
    rng = np.random.default_rng(seed)
    return [
        f"Human: {' '.join(rng.choice(words, size=int(rng.integers(*prompt_words))))}\n\nAssistant: "
        + " ".join(rng.choice(words, size=int(rng.integers(*response_words))))
        for _ in range(n)
    ]
