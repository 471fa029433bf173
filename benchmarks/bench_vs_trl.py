"""Training throughput of this project's trainer against TRL's ``RewardTrainer``, interleaved.

Systems, all on the same model preset (same initial weights), the same generated MultiPref data,
the same micro-batch size, one micro-batch per optimizer step and dynamic padding (each
micro-batch padded to its longest sequence, right side):

- ``ours_bt``: ``experiment=bt`` through the real data preparation and ``RewardModelTrainer``;
- ``ours_rr_agree``: ``experiment=rr_agree`` with the default (capacity) packing;
- ``ours_rr_agree_balanced``: the same with ``training.packing=balanced``;
- ``trl``: ``trl.RewardTrainer`` with its own data loader on the comparisons of ``ours_bt``.

Trials run interleaved (A B C D A B C D ...), so drifting machine load hits every system alike.
Each trial trains ``--warmup`` untimed then ``--steps`` timed optimizer steps (by default the
rest of one epoch, so every system sees all of its comparisons) from a fresh trainer; it counts
comparisons and real (non-pad) tokens of the timed steps. The summary gives
per system the median and range of comparisons/s and tokens/s, and each system's median ratio to
TRL over the rounds (ratio of the same round's trials).

    python benchmarks/bench_vs_trl.py --rounds 7 --out-dir results/benchmarks
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import os
import platform
import statistics
import sys
import tempfile
from pathlib import Path

SYSTEMS = ("ours_bt", "ours_rr_agree", "ours_rr_agree_balanced", "trl")


class Counter:
    """Wraps a trainer's ``training_step``: counts the comparisons and real tokens of the
    micro-batches trained after the warm-up (the data loader may collate ahead, so not there)."""

    def __init__(self, trainer, warmup: int) -> None:
        self.trainer = trainer
        self.step = trainer.training_step
        self.warmup = warmup
        self.comparisons = 0
        self.tokens = 0
        trainer.training_step = self

    def __call__(self, model, inputs, *args, **kwargs):
        if self.trainer.state.global_step >= self.warmup:
            self.comparisons += int(inputs["input_ids"].shape[0]) // 2
            self.tokens += int(inputs["attention_mask"].sum())
        return self.step(model, inputs, *args, **kwargs)


def _prepare(args: argparse.Namespace, tmp: Path) -> dict:
    """Tokenizer, initial model and the prepared data of each preset."""
    from hydra import compose, initialize_config_dir
    from transformers import set_seed

    from responserank.llm.config import validate
    from responserank.llm.modeling.models import build_reward_model, load_tokenizer
    from responserank.llm.train import CONFIG_DIR
    from responserank.llm.training.run_data import prepare_run_data
    from responserank.testing.fixtures import write_multipref_fixture

    fixture = write_multipref_fixture(tmp / "multipref", args.comparisons, seed=0)
    shared = [
        f"model={args.model}",
        f"dataset.path={fixture}",
        "dataset.test_size=0",
        f"training.per_device_batch_size={args.batch_size}",
        "training.gradient_accumulation_steps=1",
        f"training.max_length={args.max_length}",
        "runtime.progress_bar=false",
        *args.set,
    ]
    configs = {
        "bt": ["experiment=bt", *shared],
        "rr_agree": ["experiment=rr_agree", *shared],
    }
    prepared = {}
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        for name, overrides in configs.items():
            spec = validate(compose("config", overrides=overrides))
            tokenizer = load_tokenizer(spec.model)
            with contextlib.redirect_stderr(io.StringIO()):
                data = prepare_run_data(spec, tokenizer, show_progress=False)
            prepared[name] = {"cfg": spec, "data": data, "objective": spec.loss}
    spec = prepared["bt"]["cfg"]
    tokenizer = load_tokenizer(spec.model)
    set_seed(0)
    model = build_reward_model(spec.model, tokenizer)
    return {"tokenizer": tokenizer, "model": model, "presets": prepared}


def _arguments(args: argparse.Namespace, out: Path) -> dict:
    import torch

    return {
        "output_dir": str(out),
        "per_device_train_batch_size": args.batch_size,
        "gradient_accumulation_steps": 1,
        "num_train_epochs": 1,
        "max_steps": args.warmup + args.steps if args.steps else -1,
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
        "use_cpu": not torch.cuda.is_available(),
        "seed": 0,
        "data_seed": 0,
        "dataloader_num_workers": 0,
    }


def _trainer(system: str, setup: dict, args: argparse.Namespace, out: Path):
    from transformers import TrainingArguments
    from trl import RewardConfig, RewardTrainer

    from responserank.llm.data.batching.pair_dataset import PairCollator
    from responserank.llm.training.trainer import RewardModelTrainer
    from responserank.testing.trl_reference import NEUTRAL_REWARD_CONFIG, trl_dataset

    tokenizer = setup["tokenizer"]
    model = copy.deepcopy(setup["model"])
    arguments = _arguments(args, out)
    if system == "trl":
        pairs = setup["presets"]["bt"]["data"].train
        trainer = RewardTrainer(
            model=model,
            args=RewardConfig(**{**NEUTRAL_REWARD_CONFIG, **arguments}),
            train_dataset=trl_dataset(pairs),
            processing_class=copy.deepcopy(tokenizer),
        )
    else:
        preset = setup["presets"]["bt" if system == "ours_bt" else "rr_agree"]
        trainer = RewardModelTrainer(
            model=model,
            args=TrainingArguments(**arguments),
            data_collator=PairCollator(tokenizer.pad_token_id),
            train_dataset=preset["data"].train,
            objective=preset["objective"],
            show_progress=False,
            packing="balanced" if system.endswith("balanced") else "capacity",
        )
    return trainer


def trial(system: str, setup: dict, args: argparse.Namespace, tmp: Path) -> dict:
    trainer = _trainer(system, setup, args, tmp / system)
    counter = Counter(trainer, args.warmup)
    from step_timer import StepTimer

    timer = StepTimer(args.warmup)
    trainer.add_callback(timer)
    trainer.train()
    return {
        "system": system,
        "seconds": timer.elapsed,
        "comparisons": counter.comparisons,
        "tokens": counter.tokens,
        "comparisons_per_s": counter.comparisons / timer.elapsed,
        "tokens_per_s": counter.tokens / timer.elapsed,
        "steps": trainer.state.global_step - args.warmup,
        "comparisons_per_micro_batch": counter.comparisons
        / (trainer.state.global_step - args.warmup),
    }


def summarise(rows: list[dict], systems: list[str]) -> dict:
    """Median and range per system, and the median over rounds of each round's ratio to TRL."""
    summary = {}
    rounds = max(r["round"] for r in rows) + 1
    by = {(r["round"], r["system"]): r for r in rows}
    for system in systems:
        mine = [r for r in rows if r["system"] == system]
        entry = {}
        for key in ("comparisons_per_s", "tokens_per_s", "comparisons_per_micro_batch"):
            values = [r[key] for r in mine]
            entry[key] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
            }
        if "trl" in systems:
            for key in ("comparisons_per_s", "tokens_per_s"):
                ratios = [by[(i, system)][key] / by[(i, "trl")][key] for i in range(rounds)]
                entry[f"{key}_ratio_to_trl"] = {
                    "median": statistics.median(ratios),
                    "min": min(ratios),
                    "max": max(ratios),
                }
        summary[system] = entry
    return summary


def markdown(record: dict) -> str:
    lines = [
        "# Reward-model training throughput: this project's trainer vs trl.RewardTrainer",
        "",
        f"`{record['command']}`",
        "",
        f"Machine: {record['platform']}, {record['cpu_count']} cores, torch threads "
        f"{record['torch_threads']}, load average {record['load_average_before']:.1f} before / "
        f"{record['load_average_after']:.1f} after (other jobs shared the cores). Model "
        f"`{record['model']}`, batch {record['batch_size']} comparisons, one micro-batch per "
        f"step, timed: {record['steps'] or 'the rest of one epoch'} (steps) after "
        f"{record['warmup']} warm-up steps, {record['rounds']} "
        "interleaved rounds.",
        "",
        "| system | comparisons / micro-batch | comparisons/s (median, range) | tokens/s (median, range) "
        "| vs TRL, comparisons/s (median of rounds, range) | vs TRL, tokens/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for system, entry in record["summary"].items():
        fill = entry["comparisons_per_micro_batch"]["median"]
        cps, tps = entry["comparisons_per_s"], entry["tokens_per_s"]
        ratio_c = entry.get("comparisons_per_s_ratio_to_trl")
        ratio_t = entry.get("tokens_per_s_ratio_to_trl")

        def _ratio(r):
            return f"{r['median']:.2f}x ({r['min']:.2f}-{r['max']:.2f})" if r else "-"

        lines.append(
            f"| {system} | {fill:.2f} | {cps['median']:.1f} ({cps['min']:.1f}-{cps['max']:.1f}) | "
            f"{tps['median']:.0f} ({tps['min']:.0f}-{tps['max']:.0f}) | {_ratio(ratio_c)} | "
            f"{_ratio(ratio_t)} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny_llama", help="preset of conf/llm/model")
    parser.add_argument("--comparisons", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--warmup", type=int, default=2, help="optimizer steps not timed")
    parser.add_argument(
        "--steps", type=int, default=0, help="optimizer steps timed (0: the rest of one epoch)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--set", nargs="*", default=[], help="extra Hydra overrides")
    parser.add_argument("--out-dir", type=Path, help="write bench_vs_trl.json and .md here")
    args = parser.parse_args(argv)

    import torch

    from responserank.atomic_io import write_json_atomic, write_text_atomic

    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        setup = _prepare(args, Path(tmp))
        for round_index in range(args.rounds):
            for system in args.systems:
                with contextlib.redirect_stderr(io.StringIO()):
                    row = trial(system, setup, args, Path(tmp))
                rows.append({"round": round_index, **row})
                print(
                    f"round {round_index} {system:24s} {row['comparisons_per_s']:8.1f} comp/s "
                    f"{row['tokens_per_s']:9.0f} tok/s",
                    flush=True,
                )
    record = {
        "command": "python benchmarks/bench_vs_trl.py " + " ".join(argv or sys.argv[1:]),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "load_average_before": load_before,
        "load_average_after": os.getloadavg()[0],
        "model": args.model,
        "comparisons": args.comparisons,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "warmup": args.warmup,
        "steps": args.steps,
        "rounds": args.rounds,
        "rows": rows,
        "summary": summarise(rows, args.systems),
    }
    text = markdown(record)
    print(text)
    if args.out_dir is not None:
        write_json_atomic(args.out_dir / "bench_vs_trl.json", record)
        write_text_atomic(args.out_dir / "bench_vs_trl.md", text)


if __name__ == "__main__":
    main()
