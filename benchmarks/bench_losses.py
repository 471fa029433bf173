"""ResponseRank loss, forward + backward: vectorised library vs a per-group, per-position loop.

The loop baseline is the straightforward implementation (one logsumexp per ranking position,
Python loops over groups and positions, autograd through it all), measured in the same run.

A second table times ``responserank_loss(..., layout=)`` in groups of about 10 comparisons
(N = 5000 is the synthetic grid's shape: a reused ranking layout, ``reduction="none"``) with the
CPU segmented suffix log-sum-exp (max shift + cumsum) against the same call with every block on
``torch.logcumsumexp``, alternating A B A B so that both see the same machine load.

    python benchmarks/bench_losses.py [--out results/benchmarks] [--sizes 64 1024 16384]
        [--layout-sizes 64 5000] [--layout-repeats 300]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path
from unittest import mock

import torch

from responserank import ranking_layout as layouts
from responserank.atomic_io import write_json_atomic, write_text_atomic
from responserank.losses import responserank_loss


def loop_responserank(
    margin: torch.Tensor, rank: torch.Tensor, group: torch.Tensor
) -> torch.Tensor:
    total = margin.new_zeros(())
    zero = margin.new_zeros(1)
    for g in torch.unique(group).tolist():
        members = torch.nonzero(group == g).squeeze(1)
        ordered = members[torch.sort(rank[members], stable=True).indices]
        e = margin[ordered]
        for k in range(len(ordered)):
            total = total - (e[k] - torch.logsumexp(torch.cat([e[k:], zero]), 0))
    return total


def _time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_case(n: int, n_groups: int, seed: int = 0) -> dict:
    gen = torch.Generator().manual_seed(seed)
    margin = torch.randn(n, generator=gen)
    rank = torch.rand(n, generator=gen)
    group = torch.randint(0, n_groups, (n,), generator=gen)

    def step(loss_fn):
        u = margin.clone().requires_grad_(True)
        loss_fn(u, rank, group).backward()
        return u.grad

    fast_grad = step(lambda u, r, g: responserank_loss(u, r, g, reduction="sum"))
    loop_grad = step(loop_responserank)
    max_grad_diff = float((fast_grad - loop_grad).abs().max())
    fast_repeats = 50 if n <= 1024 else 10
    loop_repeats = 5 if n <= 1024 else 1
    fast = _time(
        lambda: step(lambda u, r, g: responserank_loss(u, r, g, reduction="sum")), fast_repeats
    )
    loop = _time(lambda: step(loop_responserank), loop_repeats)
    return {
        "n": n,
        "groups": n_groups,
        "vectorised_s": fast,
        "loop_s": loop,
        "speedup": loop / fast,
        "max_abs_grad_diff": max_grad_diff,
    }


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_layout_case(n: int, repeats: int, seed: int = 0) -> dict:
    """Loss forward + backward with a precomputed layout: current CPU path vs logcumsumexp."""
    gen = torch.Generator().manual_seed(seed)
    n_groups = max(1, n // 10)
    margin = 2.0 * torch.randn(n, generator=gen)
    group = torch.randint(0, n_groups, (n,), generator=gen)
    layout = layouts.ranking_layout(torch.rand(n, generator=gen), group)

    def step() -> torch.Tensor:
        u = margin.clone().requires_grad_(True)
        responserank_loss(u, None, None, reduction="none", layout=layout).sum().backward()
        return u.grad

    def on_logcumsumexp():
        return mock.patch.object(layouts, "suffix_logsumexp_block", layouts.logcumsumexp_block)

    current_grad = step()
    with on_logcumsumexp():
        baseline_grad = step()
    current, baseline = [], []
    for _ in range(repeats):
        current.append(_seconds(step))
        with on_logcumsumexp():
            baseline.append(_seconds(step))
    return {
        "n": n,
        "groups": n_groups,
        "dense_rows": sum(block.num_rows for block in layout.blocks),
        "dense_width": max(block.width for block in layout.blocks),
        "repeats": repeats,
        "current_s": statistics.median(current),
        "logcumsumexp_s": statistics.median(baseline),
        "speedup": statistics.median(baseline) / statistics.median(current),
        "max_abs_grad_diff": float((current_grad - baseline_grad).abs().max()),
        "max_abs_grad": float(baseline_grad.abs().max()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/benchmarks"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 1024, 16384])
    parser.add_argument("--layout-sizes", type=int, nargs="+", default=[64, 5000])
    parser.add_argument("--layout-repeats", type=int, default=300)
    args = parser.parse_args()
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    rows = []
    for n in args.sizes:
        for n_groups in (8, max(1, n // 4)):
            row = bench_case(n, n_groups)
            rows.append(row)
            print(
                f"N={n:>6} groups={n_groups:>5}  vectorised {row['vectorised_s'] * 1e3:9.3f} ms  "
                f"loop {row['loop_s'] * 1e3:11.1f} ms  speedup {row['speedup']:8.1f}x  "
                f"max|grad diff| {row['max_abs_grad_diff']:.1e}",
                flush=True,
            )
    layout_rows = []
    for n in args.layout_sizes:
        row = bench_layout_case(n, args.layout_repeats)
        layout_rows.append(row)
        print(
            f"layout N={n:>6} groups={row['groups']:>5}  current {row['current_s'] * 1e3:.3f} ms  "
            f"logcumsumexp {row['logcumsumexp_s'] * 1e3:.3f} ms  speedup {row['speedup']:.2f}x  "
            f"max|grad diff| {row['max_abs_grad_diff']:.1e}",
            flush=True,
        )
    meta = {
        "benchmark": "responserank_loss forward+backward, float32, CPU, 1 thread",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
        "timed_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    write_json_atomic(
        args.out / "losses.json",
        {"meta": meta, "results": rows, "suffix_logsumexp": layout_rows},
    )
    lines = [
        "# ResponseRank loss: vectorised vs loop (forward + backward)",
        "",
        f"{meta['benchmark']}; torch {meta['torch']}; {meta['timed_at']}.",
        "",
        "| N | groups | vectorised (ms) | loop (ms) | speedup |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['n']} | {r['groups']} | {r['vectorised_s'] * 1e3:.3f} | {r['loop_s'] * 1e3:.1f} | "
        f"{r['speedup']:.0f}x |"
        for r in rows
    ]
    lines += [
        "",
        "## Segmented suffix log-sum-exp on the CPU: max shift + cumsum vs torch.logcumsumexp",
        "",
        '`responserank_loss(..., reduction="none", layout=)` forward + backward, random groups of '
        f"about 10 comparisons, median of {args.layout_repeats} calls of each, alternating A B; "
        "1/5/15-min load average before "
        f"{'/'.join(str(x) for x in meta['load_average_before'])}, after "
        f"{'/'.join(str(x) for x in meta['load_average_after'])} (2 cores).",
        "",
        "| N | groups | dense matrix | current (ms) | logcumsumexp (ms) | speedup | "
        "max abs grad diff (max abs grad) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['n']} | {r['groups']} | {r['dense_rows']} x {r['dense_width']} | "
        f"{r['current_s'] * 1e3:.3f} | {r['logcumsumexp_s'] * 1e3:.3f} | {r['speedup']:.2f}x | "
        f"{r['max_abs_grad_diff']:.1e} ({r['max_abs_grad']:.1f}) |"
        for r in layout_rows
    ]
    write_text_atomic(args.out / "losses.md", "\n".join(lines) + "\n")
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
