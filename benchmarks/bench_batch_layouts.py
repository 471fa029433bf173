"""Batch layouts against TRL's RewardTrainer: throughput, tokens computed and peak memory.

Systems, on the same comparisons, the same micro-batches (this project's sampler, epoch 0; TRL is
handed the same list) and the same initial weights, loss=bt, one micro-batch per optimizer step:

- ``trl``: ``trl.RewardTrainer`` (its collator pads every micro-batch to its longest sequence);
- ``padded``, ``padding_free``, ``prefix_shared``: ``RewardModelTrainer`` with that batch layout
  (``runtime.batch_layout``; sdpa attention, the automatic row bound).

Data: (a) ``multipref``: the MultiPref fixture (``responserank.testing.fixtures``) rendered
through the model's chat template as training renders it (short prompts, responses of 2-8
sentences); (b) ``long_prompt``: generated HH-RLHF-like rows whose prompt is a multi-turn
transcript about 3x as long as each response. Models: ``tiny`` (the ``tiny_llama`` preset: hidden
64, 2 layers) and ``proj`` (a random Llama with hidden 512, 4 layers, intermediate 1536: the
projections dominate the cost), both float32 with the MiniLM tokenizer.

Throughput: trials run interleaved (round r starts at system r, then the next ones in order), so
drifting machine load hits every system alike; each trial trains ``--warmup`` untimed then
``--steps`` timed optimizer steps from a fresh copy of the initial weights. Tokens computed per
comparison count every position of the model's input (pads included) of the timed micro-batches.
Peak memory: each system runs once more in a fresh process (same steps); reported as the peak
RSS during training (the kernel's high-water mark, restarted just before ``train()``) and its
increase over the RSS at that moment (gradients, optimizer state, activations).

    python benchmarks/bench_batch_layouts.py --rounds 3 --out-dir results/benchmarks
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch_layouts_report import (
    DATASETS,
    MODELS,
    SYSTEMS,
    data_profile,
    markdown,
    summarise,
)

PROJ_ARCHITECTURE = {
    "model_type": "llama",
    "hidden_size": 512,
    "intermediate_size": 1536,
    "num_hidden_layers": 4,
    "num_attention_heads": 8,
    "num_key_value_heads": 8,
    "max_position_embeddings": 2048,
    "tie_word_embeddings": False,
}


# ----------------------------------------------------------------------------------------------
# Inputs: tokenizer, comparisons, initial weights
# ----------------------------------------------------------------------------------------------


def model_settings(name: str):
    from omegaconf import OmegaConf

    from responserank.llm.config import model_spec
    from responserank.llm.train import CONFIG_DIR

    node = OmegaConf.to_container(OmegaConf.load(CONFIG_DIR / "model" / "tiny_llama.yaml"))
    if name == "proj":
        node["architecture"] = dict(PROJ_ARCHITECTURE)
    return model_spec(node)


def _long_prompt_rows(count: int, seed: int) -> tuple[list[str], list[str], list[str]]:
    """HH-RLHF-like rows: a transcript of 1-3 earlier turns, then two answers to the last question."""
    import numpy as np

    from responserank.testing.fixture_vocabulary import (
        GOOD_PHRASES,
        PROMPT_TEMPLATES,
        TOPICS,
        WEAK_PHRASES,
    )

    rng = np.random.default_rng(seed)
    phrases = GOOD_PHRASES + WEAK_PHRASES

    def answer(low: int, high: int) -> str:
        picks = rng.integers(len(phrases), size=int(rng.integers(low, high + 1)))
        return " ".join(phrases[int(i)] for i in picks)

    def question() -> str:
        topic = TOPICS[int(rng.integers(len(TOPICS)))]
        return PROMPT_TEMPLATES[int(rng.integers(len(PROMPT_TEMPLATES)))].format(topic=topic)

    prompts, chosen, rejected = [], [], []
    for _ in range(count):
        turns = [
            f"Human: {question()}\n\nAssistant: {answer(2, 5)}"
            for _ in range(int(rng.integers(1, 4)))
        ]
        prompts.append("\n\n".join([*turns, f"Human: {question()}"]))
        chosen.append(answer(2, 5))
        rejected.append(answer(2, 5))
    return prompts, chosen, rejected


def comparisons(dataset: str, tokenizer, count: int):
    """Token ids of ``count`` comparisons (seed 0) rendered as training renders them."""
    import numpy as np

    from responserank.llm.data.batching.pair_dataset import TokenizedPairs
    from responserank.llm.data.text import encode_conversations
    from responserank.testing.fixtures import multipref_fixture_rows

    if dataset == "multipref":
        _, rows = multipref_fixture_rows(count, seed=0)
        prompts = [row["prompt"] for row in rows]
        chosen = [row["chosen"][-1]["content"] for row in rows]
        rejected = [row["rejected"][-1]["content"] for row in rows]
    else:
        prompts, chosen, rejected = _long_prompt_rows(count, seed=0)
    return TokenizedPairs(
        chosen_ids=encode_conversations(tokenizer, prompts, chosen),
        rejected_ids=encode_conversations(tokenizer, prompts, rejected),
        rank=np.zeros(count, dtype=np.float64),
        partition=np.arange(count),
        target=np.ones(count, dtype=np.float32),
        reliability=np.full(count, np.nan, dtype=np.float32),
    )


def setup(model_name: str, dataset: str, args: argparse.Namespace) -> dict:
    from transformers import set_seed

    from responserank.llm.modeling.models import build_reward_model, load_tokenizer

    settings = model_settings(model_name)
    tokenizer = load_tokenizer(settings)
    pairs = comparisons(dataset, tokenizer, args.batch_size * (args.warmup + args.steps) * 2)
    set_seed(0)
    model = build_reward_model(settings, tokenizer)
    return {"tokenizer": tokenizer, "pairs": pairs, "model": model}


# ----------------------------------------------------------------------------------------------
# One trial
# ----------------------------------------------------------------------------------------------


def _arguments(args: argparse.Namespace, out: str) -> dict:
    return {
        "output_dir": out,
        "per_device_train_batch_size": args.batch_size,
        "gradient_accumulation_steps": 1,
        "max_steps": args.warmup + args.steps,
        "learning_rate": 1e-4,
        "lr_scheduler_type": "constant",
        "weight_decay": 0.0,
        "optim": "adamw_torch",
        "max_grad_norm": 1.0,
        "logging_strategy": "no",
        "save_strategy": "no",
        "eval_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "remove_unused_columns": False,
        "use_cpu": True,
        "seed": 0,
        "data_seed": 0,
        "dataloader_num_workers": 0,
    }


def _trainer(system: str, state: dict, args: argparse.Namespace, out: str):
    from transformers import TrainingArguments

    from responserank.llm.data.batching.layouts import PackedPairCollator
    from responserank.llm.data.batching.packing import PartitionBatchSampler
    from responserank.llm.data.batching.pair_dataset import PairCollator
    from responserank.llm.modeling.reward_forward import attn_implementation, row_budget
    from responserank.llm.training.objectives.bt import BradleyTerryObjective
    from responserank.llm.training.trainer import RewardModelTrainer
    from responserank.testing.trl_reference import trl_reward_trainer

    model, tokenizer, pairs = copy.deepcopy(state["model"]), state["tokenizer"], state["pairs"]
    if system == "trl":  # the micro-batches our trainer's sampler deals out (data_seed 0)
        sampler = PartitionBatchSampler(pairs.partition, args.batch_size, seed=0)
        batches = sampler.global_batches(0)
        return trl_reward_trainer(
            model, copy.deepcopy(tokenizer), pairs, batches, **_arguments(args, out)
        )
    pad = tokenizer.pad_token_id
    if system == "padded":
        collator = PairCollator(pad)
    else:
        budget = row_budget(attn_implementation(model), None, model.config)
        collator = PackedPairCollator(pad, system, budget)
    return RewardModelTrainer(
        model=model,
        args=TrainingArguments(**_arguments(args, out)),
        data_collator=collator,
        train_dataset=pairs,
        objective=BradleyTerryObjective(),
        show_progress=False,
    )


def trial(system: str, state: dict, args: argparse.Namespace) -> dict:
    from step_timer import StepTimer

    with tempfile.TemporaryDirectory() as out:
        trainer = _trainer(system, state, args, out)
        timer = StepTimer(args.warmup)
        trainer.add_callback(timer)
        collate, shapes = trainer.data_collator, []

        def counting(features):
            batch = collate(features)
            shapes.append((len(features), int(batch["input_ids"].numel())))
            return batch

        trainer.data_collator = counting
        baseline = _rss_mib()
        _reset_peak_rss()
        with contextlib.redirect_stderr(io.StringIO()):
            trainer.train()
        peak = _peak_rss_mib()
    timed = shapes[args.warmup : args.warmup + args.steps]
    comparisons = sum(c for c, _ in timed)
    seconds = sum(timer.durations)
    return {
        "system": system,
        "comparisons_per_s": comparisons / seconds,
        "tokens_per_comparison": sum(t for _, t in timed) / comparisons,
        "seconds": seconds,
        "comparisons": comparisons,
        "rss_before_mib": baseline,
        "peak_rss_mib": peak,
    }


def _rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _reset_peak_rss() -> None:
    """Restart the kernel's peak-RSS counter (VmHWM) at the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _peak_rss_mib() -> float:
    """Peak RSS since the last :func:`_reset_peak_rss` (VmHWM of /proc/self/status)."""
    with open("/proc/self/status") as handle:
        line = next(x for x in handle if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------


def memory(model: str, dataset: str, system: str, args: argparse.Namespace) -> dict:
    """Peak RSS of one trial in a fresh process."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        model,
        dataset,
        system,
        "--batch-size",
        str(args.batch_size),
        "--warmup",
        str(args.warmup),
        "--steps",
        str(args.steps),
        "--threads",
        str(args.threads),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory worker {model}/{dataset}/{system} failed:\n{done.stderr}")
    row = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "peak_rss_mib": row["peak_rss_mib"],
        "training_rss_mib": row["peak_rss_mib"] - row["rss_before_mib"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=1, help="optimizer steps not timed")
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps timed (proj)")
    parser.add_argument(
        "--tiny-steps",
        type=int,
        default=24,
        help="optimizer steps timed for the tiny model (its steps take about 0.1 s)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument("--out-dir", type=Path, help="write batch_layouts.json and .md here")
    parser.add_argument(
        "--from-json", type=Path, help="re-render the Markdown of a saved batch_layouts.json"
    )
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.from_json is not None:
        print(markdown(json.loads(args.from_json.read_text())))
        return

    import torch

    torch.set_num_threads(args.threads)
    if args.worker:
        model, dataset, system = args.worker
        print(json.dumps(trial(system, setup(model, dataset, args), args)))
        return

    from responserank.atomic_io import write_json_atomic, write_text_atomic

    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    results = {}
    for model in args.models:
        steps = args.tiny_steps if model == "tiny" else args.steps
        model_args = argparse.Namespace(**{**vars(args), "steps": steps})
        for dataset in args.datasets:
            key = f"{model} / {dataset}"
            state = setup(model, dataset, model_args)
            rows = []
            for round_index in range(args.rounds):
                order = args.systems[round_index % len(args.systems) :]
                order += args.systems[: round_index % len(args.systems)]
                for system in order:
                    row = trial(system, state, model_args)
                    for key_name in ("rss_before_mib", "peak_rss_mib"):  # per process only
                        row.pop(key_name)
                    rows.append({"round": round_index, **row})
                    print(
                        f"{key:22s} round {round_index} {system:14s} "
                        f"{row['comparisons_per_s']:7.2f} comp/s "
                        f"{row['tokens_per_comparison']:7.0f} tokens/comp",
                        flush=True,
                    )
            memory_rows = {}
            if not args.no_memory:
                for system in args.systems:
                    memory_rows[system] = memory(model, dataset, system, model_args)
                    print(f"{key:22s} memory {system:14s} {memory_rows[system]}", flush=True)
            results[key] = {
                "steps": steps,
                "profile": data_profile(state["pairs"]),
                "rows": rows,
                "memory": memory_rows,
                "summary": summarise(rows, args.systems, memory_rows),
            }
    record = {
        "command": "python benchmarks/bench_batch_layouts.py " + " ".join(argv or sys.argv[1:]),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "batch_size": args.batch_size,
        "warmup": args.warmup,
        "steps": {"tiny": args.tiny_steps, "proj": args.steps},
        "rounds": args.rounds,
        "wall_time_s": round(time.perf_counter() - started, 1),
        "results": results,
    }
    text = markdown(record)
    print(text)
    if args.out_dir is not None:
        write_json_atomic(args.out_dir / "batch_layouts.json", record)
        write_text_atomic(args.out_dir / "batch_layouts.md", text)


if __name__ == "__main__":
    main()
