"""Training throughput (tokens/s) and peak memory of the reward-model trainer.

Runs the real training path (``responserank.llm.train`` data preparation, RewardModelTrainer,
partition-aware batching) for a few optimizer steps per configuration, each in a fresh
subprocess so that peak memory is its own, and compares two batch layouts:

- ``dynamic``: what training uses: each micro-batch is padded to its longest sequence;
- ``padded``: the naive baseline: every sequence padded to ``training.max_length``.

Tokens/s counts real (non-pad) tokens of the optimizer steps after ``--warmup`` steps. Peak
memory is ``torch.cuda.max_memory_allocated`` on a GPU and the process's peak RSS on CPU.

    python benchmarks/bench_llm_throughput.py --model tiny_llama --presets bt rr_agree
    python benchmarks/bench_llm_throughput.py --model llama31_8b_instruct --steps 20 \
        --max-length 1024 --comparisons 2000      # on a GPU with the gated weights available

``--model`` is a preset of conf/llm/model; ``--set key=value`` adds any config override
(for example ``--set model.name_or_path=meta-llama/Llama-3.2-1B``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

LAYOUTS = ("dynamic", "padded")


def _worker(args: argparse.Namespace) -> dict:
    import contextlib
    import io

    import torch
    from accelerate import PartialState
    from hydra import compose, initialize_config_dir
    from step_timer import StepTimer
    from transformers.trainer_utils import IntervalStrategy

    from responserank.llm.config import validate
    from responserank.llm.modeling.models import load_tokenizer
    from responserank.llm.runs.lifecycle import RunLifecycle
    from responserank.llm.train import CONFIG_DIR, build_trainer
    from responserank.llm.training.run_data import prepare_run_data
    from responserank.testing.fixtures import write_multipref_fixture

    with tempfile.TemporaryDirectory() as tmp:
        fixture = write_multipref_fixture(Path(tmp) / "multipref", args.comparisons, seed=0)
        overrides = [
            f"experiment={args.preset}",
            f"model={args.model}",
            f"dataset.path={fixture}",
            f"dataset.test_size={max(1, args.comparisons // 10)}",
            f"training.per_device_batch_size={args.batch_size}",
            f"training.gradient_accumulation_steps={args.accumulation}",
            f"training.max_length={args.max_length}",
            "training.num_epochs=100",
            f"training.pad_to_multiple_of={args.max_length if args.layout == 'padded' else 'null'}",
            "runtime.checkpoint=no",
            "runtime.progress_bar=false",
            "tracking.wandb.mode=disabled",
            f"tracking.output_root={Path(tmp) / 'runs'}",
            *args.set,
        ]
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = compose("config", overrides=overrides)
        spec = validate(cfg)
        tokenizer = load_tokenizer(spec.model)
        with contextlib.redirect_stderr(io.StringIO()):
            data = prepare_run_data(spec, tokenizer, show_progress=False)
        lifecycle = RunLifecycle(spec, {}, PartialState())
        trainer = build_trainer(spec, data, tokenizer, [], lifecycle)
        trainer.args.max_steps = args.warmup + args.steps
        trainer.args.eval_strategy = IntervalStrategy.NO
        trainer.args.logging_strategy = IntervalStrategy.NO
        timer = StepTimer(args.warmup)
        trainer.add_callback(timer)

        collate = trainer.data_collator
        counted = {"real": 0, "padded": 0, "batches": 0}

        def counting_collator(features):
            batch = collate(features)
            counted["batches"] += 1
            if counted["batches"] > args.warmup * args.accumulation:
                counted["real"] += int(batch["attention_mask"].sum())
                counted["padded"] += int(batch["input_ids"].numel())
            return batch

        trainer.data_collator = counting_collator
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        trainer.train()

    if torch.cuda.is_available():
        peak_mib = torch.cuda.max_memory_allocated() / 2**20
        memory_kind = "cuda_max_allocated"
    else:
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        memory_kind = "process_peak_rss"
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return {
        "model": args.model,
        "preset": args.preset,
        "layout": args.layout,
        "device": device,
        "threads": torch.get_num_threads(),
        "steps_timed": args.steps,
        "comparisons_per_step": args.batch_size * args.accumulation,
        "seconds": round(timer.elapsed, 3),
        "tokens_per_s": round(counted["real"] / timer.elapsed, 1),
        "padded_share": round(1 - counted["real"] / max(counted["padded"], 1), 3),
        "peak_memory_mib": round(peak_mib, 1),
        "memory_kind": memory_kind,
    }


def _table(rows: list[dict]) -> str:
    head = "| model | preset | batches | tokens/s | pad share | peak MiB | device |"
    lines = [head, "|---|---|---|---:|---:|---:|---|"]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['preset']} | {r['layout']} | {r['tokens_per_s']:.0f} | "
            f"{r['padded_share']:.2f} | {r['peak_memory_mib']:.0f} ({r['memory_kind']}) | {r['device']} |"
        )
    return "\n".join(lines)


def _ratios(rows: list[dict]) -> list[str]:
    """Per preset: tokens/s of dynamic padding over the padded baseline, pooled over repeats."""
    out = []
    for preset in dict.fromkeys(r["preset"] for r in rows):
        speed = {
            layout: [
                r["tokens_per_s"] for r in rows if (r["preset"], r["layout"]) == (preset, layout)
            ]
            for layout in LAYOUTS
        }
        if all(speed.values()):
            ratio = (sum(speed["dynamic"]) / len(speed["dynamic"])) / (
                sum(speed["padded"]) / len(speed["padded"])
            )
            out.append(f"{preset}: dynamic / padded tokens per second = {ratio:.1f}x")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny_llama", help="preset of conf/llm/model")
    parser.add_argument("--presets", nargs="+", default=["bt", "rr_agree"])
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=LAYOUTS)
    parser.add_argument(
        "--comparisons", type=int, default=400, help="size of the generated MultiPref fixture"
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--accumulation", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--warmup", type=int, default=2, help="optimizer steps not timed")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps timed")
    parser.add_argument("--set", nargs="*", default=[], help="extra Hydra overrides")
    parser.add_argument("--output", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--preset", help=argparse.SUPPRESS)
    parser.add_argument("--layout", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print("RESULT " + json.dumps(_worker(args)))
        return

    rows = []
    for preset in args.presets:
        for layout in args.layouts:
            command = [
                sys.executable,
                __file__,
                "--worker",
                "--preset",
                preset,
                "--layout",
                layout,
                "--model",
                args.model,
                "--comparisons",
                str(args.comparisons),
                "--batch-size",
                str(args.batch_size),
                "--accumulation",
                str(args.accumulation),
                "--max-length",
                str(args.max_length),
                "--warmup",
                str(args.warmup),
                "--steps",
                str(args.steps),
                "--set",
                *args.set,
            ]
            done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
            results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode or not results:
                sys.stderr.write(done.stderr[-4000:])
                raise SystemExit(f"benchmark of {preset}/{layout} failed (exit {done.returncode})")
            rows.append(json.loads(results[-1].removeprefix("RESULT ")))
            print(json.dumps(rows[-1]), flush=True)
    print(_table(rows))
    print("\n".join(_ratios(rows)))
    if args.output:
        from responserank.atomic_io import write_json_atomic

        write_json_atomic(args.output, rows)


if __name__ == "__main__":
    main()
