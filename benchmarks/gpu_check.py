"""GPU check of reward-model training: tokens/s, step time and peak memory of a randomly
initialised Llama-architecture model of about 1B parameters (built from a config, no weights to
download), bf16 + gradient checkpointing, for

- ``bt`` and ``rr_agree``: this project's RewardModelTrainer (partition-aware batches, per-step
  normalised Bradley-Terry / ResponseRank loss), full fine-tune, LoRA, and QLoRA 4-bit when
  bitsandbytes imports;
- ``trl``: TRL's RewardTrainer on the same model and comparisons (the library baseline);
- batch layouts (``responserank.llm.data.batching.layouts``): ``bt`` full fine-tune in
  ``padding_free`` and ``prefix_shared`` rows with sdpa, ``padding_free`` with flash-attention 2
  (when its wheel imports), ``prefix_shared`` with flex attention, and ``rr_agree`` QLoRA in
  ``prefix_shared``; every other configuration uses the padded layout and sdpa.

Every configuration runs in a fresh process (its own peak memory) on the same random weights and
the same random comparisons (token ids: a prompt of 256-768 tokens shared by both sides, then
responses of 64-256 tokens, HH-RLHF-like proportions). Tokens/s counts the real (non-pad) tokens
of the timed optimizer steps (a shared prompt counted on both sides, as if forwarded twice);
computed tokens count every input position (pads included, a shared prompt once); the step time
is their mean wall time.

    benchmarks/gpu_check.sh                 # the 1B check on a GPU (< 8 min on one H100/H200)
    benchmarks/gpu_check.sh --toy           # the same code path at toy size on CPU (tests)

Writes ``<out>/gpu_check.json`` (default ``results/benchmarks/``) after every configuration, so
an outer time limit leaves what was measured; a configuration is not started (``skipped: out of
time``) once less than :data:`MIN_CONFIGURATION_S` of the check's ``budget_s`` (445 s) is left.
Offline: the tokenizer is a word-level one built here, the model comes from a config.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS = "benchmarks/gpu_check_requirements.txt"
REQUIRED_MODULES = ("trl", "datasets", "numpy", "scipy", "sklearn", "pandas", "omegaconf", "peft")

#: Llama-3.2-1B's shape (1.24B parameters with the score head): hidden 2048, 16 layers, GQA 32/8.
SIZES = {
    "1b": {
        "architecture": {
            "hidden_size": 2048,
            "intermediate_size": 8192,
            "num_hidden_layers": 16,
            "num_attention_heads": 32,
            "num_key_value_heads": 8,
            "max_position_embeddings": 4096,
            "tie_word_embeddings": True,
        },
        "vocab_size": 128256,
        "prompt_lengths": (256, 768),
        "response_lengths": (64, 256),
        "comparisons": 512,
        "batch_size": 8,
        "warmup": 2,
        "steps": 8,
        "timeout_s": 150,
        "budget_s": 445,
    },
    "toy": {
        "architecture": {
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 128,
            "tie_word_embeddings": True,
        },
        "vocab_size": 300,
        "prompt_lengths": (4, 16),
        "response_lengths": (2, 12),
        "comparisons": 48,
        "batch_size": 4,
        "warmup": 1,
        "steps": 2,
        "timeout_s": 300,
        "budget_s": 3000,
    },
}
#: (trainer, fine-tuning, batch layout, attention), in the order they run.
CONFIGURATIONS = (
    ("bt", "full", "padded", "sdpa"),
    ("rr_agree", "full", "padded", "sdpa"),
    ("trl", "full", "padded", "sdpa"),
    ("bt", "lora", "padded", "sdpa"),
    ("rr_agree", "lora", "padded", "sdpa"),
    ("trl", "lora", "padded", "sdpa"),
    ("rr_agree", "qlora", "padded", "sdpa"),
    ("bt", "full", "padding_free", "sdpa"),
    ("bt", "full", "prefix_shared", "sdpa"),
    ("bt", "full", "padding_free", "flash_attention_2"),
    ("bt", "full", "prefix_shared", "flex_attention"),
    ("rr_agree", "qlora", "prefix_shared", "sdpa"),
)


def configuration_name(trainer: str, tuning: str, layout: str, attention: str) -> str:
    """``trainer:tuning``, then the layout and the attention where they differ from padded/sdpa
    (``bt:full``, ``bt:full:prefix_shared``, ``bt:full:padding_free:flash_attention_2``)."""
    parts = [trainer, tuning]
    if layout != "padded" or attention != "sdpa":
        parts.append(layout)
    if attention != "sdpa":
        parts.append(attention)
    return ":".join(parts)


PAD, EOS = "<pad>", "<eos>"
#: A configuration is not started with less of the check's time budget left than this.
MIN_CONFIGURATION_S = 25


# ----------------------------------------------------------------------------------------------
# Shared inputs: one random model and one set of comparisons for every configuration
# ----------------------------------------------------------------------------------------------


def write_model(size: dict, directory: Path, dtype: str) -> int:
    """A word-level tokenizer and a randomly initialised Llama reward model saved to
    ``directory`` (seed 0); returns the parameter count."""
    import torch
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from transformers import PreTrainedTokenizerFast, set_seed

    from responserank.llm.config import model_spec
    from responserank.llm.modeling.models import build_reward_model

    vocab = {PAD: 0, EOS: 1, **{f"w{i}": i for i in range(2, size["vocab_size"])}}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(WordLevel(vocab, unk_token=EOS)),
        pad_token=PAD,
        eos_token=EOS,
        padding_side="right",
    )
    set_seed(0)
    model_cfg = model_spec(
        {"architecture": {"model_type": "llama", **size["architecture"]}, "dtype": dtype}
    )
    model = build_reward_model(model_cfg, tokenizer)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    count = sum(p.numel() for p in model.parameters())
    del model
    torch.cuda.empty_cache()
    return count


def comparisons(size: dict, partitioned: bool):
    """Random comparisons (seed 0): token ids of a shared prompt and two responses, and for
    ResponseRank partitions of 1-4 comparisons with distinct ranks (agreement-like strata);
    Bradley-Terry keeps one each."""
    import numpy as np

    from responserank.llm.data.batching.pair_dataset import TokenizedPairs

    rng = np.random.default_rng(0)
    n = size["comparisons"]

    def tokens(low: int, high: int) -> list[int]:
        return rng.integers(2, size["vocab_size"], size=int(rng.integers(low, high + 1))).tolist()

    prompts = [tokens(*size["prompt_lengths"]) for _ in range(n)]
    chosen = [p + tokens(*size["response_lengths"]) for p in prompts]
    rejected = [p + tokens(*size["response_lengths"]) for p in prompts]
    sizes = rng.integers(1, 5, size=n)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n
    partition = np.repeat(np.arange(len(sizes)), sizes) if partitioned else np.arange(n)
    return TokenizedPairs(
        chosen_ids=chosen,
        rejected_ids=rejected,
        rank=rng.permutation(n).astype(np.float64),
        partition=partition,
        target=np.ones(n, dtype=np.float32),
        reliability=np.full(n, np.nan, dtype=np.float32),
    )


# ----------------------------------------------------------------------------------------------
# One configuration (a worker process)
# ----------------------------------------------------------------------------------------------


def run_configuration(
    trainer_name: str, tuning: str, layout: str, attention: str, size: dict, model_dir: Path
) -> dict:
    import torch
    from step_timer import StepTimer
    from transformers import set_seed

    from responserank.llm.config import model_spec
    from responserank.llm.data.batching.layouts import sequence_token_count
    from responserank.llm.modeling.models import build_reward_model, load_tokenizer

    cuda = torch.cuda.is_available()
    model_cfg = model_spec(
        {
            "name_or_path": str(model_dir),
            "dtype": "bfloat16" if cuda else "float32",
            "gradient_checkpointing": True,
            "attn_implementation": attention,
            "quantization": "4bit" if tuning == "qlora" else None,
            "lora": {
                "enabled": tuning != "full",
                "r": 16,
                "alpha": 32,
                "dropout": 0.0,
                "target_modules": "all-linear",
            },
        }
    )
    tokenizer = load_tokenizer(model_cfg)
    set_seed(0)
    model = build_reward_model(model_cfg, tokenizer)
    data = comparisons(size, partitioned=trainer_name == "rr_agree")
    common = {
        "per_device_train_batch_size": size["batch_size"],
        "gradient_accumulation_steps": 1,
        "max_steps": size["warmup"] + size["steps"],
        "learning_rate": 1e-5,
        "lr_scheduler_type": "constant",
        "bf16": cuda,
        "use_cpu": not cuda,
        "activation_checkpointing": True,
        "activation_checkpointing_kwargs": {"use_reentrant": False},
        "save_strategy": "no",
        "eval_strategy": "no",
        "logging_strategy": "no",
        "report_to": "none",
        "disable_tqdm": True,
        "seed": 0,
        "dataloader_num_workers": 0,
    }

    with tempfile.TemporaryDirectory() as out:
        if trainer_name == "trl":
            trainer = _trl_trainer(model, tokenizer, data, out, common)
        else:
            trainer = _project_trainer(model, tokenizer, data, out, common, trainer_name, layout)
        timer = StepTimer(size["warmup"])
        trainer.add_callback(timer)
        collate, tokens, computed = trainer.data_collator, [], []

        def counting_collator(features):
            batch = collate(features)
            tokens.append(int(sequence_token_count(batch)))
            computed.append(int(batch["input_ids"].numel()))
            return batch

        trainer.data_collator = counting_collator
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        trainer.train()
    timed = slice(size["warmup"], size["warmup"] + size["steps"])
    timed_tokens = sum(tokens[timed])
    timed_comparisons = size["batch_size"] * len(timer.durations)
    seconds = sum(timer.durations)
    if cuda:
        peak_mib, memory_kind = torch.cuda.max_memory_allocated() / 2**20, "cuda_max_allocated"
    else:
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        memory_kind = "process_peak_rss"
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {
        "trainer": trainer_name,
        "tuning": tuning,
        "layout": layout,
        "attention": attention,
        "status": "measured",
        "steps_timed": len(timer.durations),
        "comparisons_per_step": size["batch_size"],
        "comparisons_per_s": round(timed_comparisons / seconds, 2),
        "computed_tokens_per_comparison": round(sum(computed[timed]) / timed_comparisons, 1),
        "tokens_per_s": round(timed_tokens / seconds, 1),
        "step_time_s": round(seconds / len(timer.durations), 4),
        "peak_memory_mib": round(peak_mib, 1),
        "memory_kind": memory_kind,
        "trainable_parameters": trainable,
    }


def _project_trainer(model, tokenizer, data, out, common, name, layout):
    from transformers import TrainingArguments

    from responserank.llm.data.batching.layouts import PackedPairCollator
    from responserank.llm.data.batching.pair_dataset import PairCollator
    from responserank.llm.modeling.reward_forward import attn_implementation, row_budget
    from responserank.llm.training.objectives.bt import BradleyTerryObjective
    from responserank.llm.training.objectives.responserank import ResponseRankObjective
    from responserank.llm.training.trainer import RewardModelTrainer

    objective = ResponseRankObjective() if name == "rr_agree" else BradleyTerryObjective()
    args = TrainingArguments(
        output_dir=out, remove_unused_columns=False, ddp_find_unused_parameters=False, **common
    )
    if layout == "padded":
        collator = PairCollator(tokenizer.pad_token_id)
    else:
        budget = row_budget(attn_implementation(model), None, model.config)
        collator = PackedPairCollator(tokenizer.pad_token_id, layout, budget)
    return RewardModelTrainer(
        model=model,
        args=args,
        data_collator=collator,
        train_dataset=data,
        processing_class=tokenizer,
        objective=objective,
        show_progress=False,
    )


def _trl_trainer(model, tokenizer, data, out, common):
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    dataset = Dataset.from_dict({"chosen_ids": data.chosen_ids, "rejected_ids": data.rejected_ids})
    args = RewardConfig(output_dir=out, max_length=None, **common)
    return RewardTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)


# ----------------------------------------------------------------------------------------------
# Driver
# ----------------------------------------------------------------------------------------------


def missing_modules() -> list[str]:
    missing = []
    for name in REQUIRED_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def qlora_unavailable() -> str | None:
    """Why QLoRA cannot run here, or None."""
    import torch

    if not torch.cuda.is_available():
        return "needs a CUDA device"
    try:
        importlib.import_module("bitsandbytes")
    except Exception as error:  # bitsandbytes raises more than ImportError without its libraries
        return f"bitsandbytes does not import ({type(error).__name__}: {error})"
    return None


def attention_unavailable(attention: str) -> str | None:
    """Why the attention kernel cannot train here, or None."""
    import torch
    from transformers.utils import is_flash_attn_2_available

    if attention == "flash_attention_2" and not is_flash_attn_2_available():
        return "flash-attn 2 is not installed (or has no kernel for this device)"
    if attention == "flex_attention" and not torch.cuda.is_available():
        return "needs a CUDA device (torch has no flex-attention backward on the CPU)"
    return None


def _worker_command(args: argparse.Namespace, configuration: tuple[str, ...], model_dir: Path):
    command = [sys.executable, __file__, "--worker", *configuration, str(model_dir)]
    return command + (["--toy"] if args.toy else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--toy", action="store_true", help="toy model and data (CPU path test)")
    parser.add_argument("--out", type=Path, default=REPO / "results" / "benchmarks")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="TRAINER:TUNING[:LAYOUT[:ATTENTION]]",
        help="run only these configurations, e.g. rr_agree:lora trl:full bt:full:prefix_shared "
        "(default: all)",
    )
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.toy = args.toy or os.environ.get("RR_GPU_CHECK_TOY") == "1"
    size = SIZES["toy" if args.toy else "1b"]

    if args.worker:
        *configuration, model_dir = args.worker
        print(json.dumps(run_configuration(*configuration, size, Path(model_dir))))
        return 0

    known = [configuration_name(*c) for c in CONFIGURATIONS]
    unknown = sorted(set(args.only or ()) - set(known))
    if unknown:
        print(f"error: unknown configurations {unknown}; choose from {known}", file=sys.stderr)
        return 2
    selected = [
        c for c, name in zip(CONFIGURATIONS, known, strict=True) if name in (args.only or known)
    ]
    missing = missing_modules()
    if missing:
        print(
            f"error: missing modules {', '.join(missing)}; install the wheels in {REQUIREMENTS}",
            file=sys.stderr,
        )
        return 2
    import torch
    import transformers

    cuda = torch.cuda.is_available()
    if not cuda and not args.toy:
        print(
            "error: no CUDA device; the 1B check needs a GPU (--toy runs the CPU path)",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    rows: list[dict] = []
    from responserank.atomic_io import write_text_atomic

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / ("gpu_check_toy.json" if args.toy else "gpu_check.json")

    def write(parameters: int) -> dict:
        """The record so far, written after every configuration: a check stopped by its outer
        time limit still leaves what it measured."""
        record = {
            "size": "toy" if args.toy else "1b",
            "device": torch.cuda.get_device_name(0) if cuda else "cpu",
            "precision": "bf16" if cuda else "float32",
            "gradient_checkpointing": True,
            "parameters": parameters,
            "comparisons_per_step": size["batch_size"],
            "prompt_tokens": list(size["prompt_lengths"]),
            "response_tokens_per_side": list(size["response_lengths"]),
            "steps": {"warmup": size["warmup"], "timed": size["steps"]},
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
                "transformers": transformers.__version__,
                "trl": importlib.import_module("trl").__version__,
                "peft": importlib.import_module("peft").__version__,
            },
            "wall_time_s": round(time.perf_counter() - started, 1),
            "results": rows,
        }
        write_text_atomic(path, json.dumps(record, indent=2) + "\n")
        return record

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        parameters = write_model(size, model_dir, "bfloat16" if cuda else "float32")
        print(f"random Llama reward model: {parameters:,} parameters", flush=True)
        for configuration in selected:
            trainer, tuning, layout, attention = configuration
            row = {"trainer": trainer, "tuning": tuning, "layout": layout, "attention": attention}
            name = configuration_name(*configuration)
            left = size["budget_s"] - (time.perf_counter() - started)
            reason = qlora_unavailable() if tuning == "qlora" else None
            reason = reason or attention_unavailable(attention)
            if not reason and left < MIN_CONFIGURATION_S:
                reason = f"out of time (the whole check is bounded to {size['budget_s']} s)"
            if reason:
                rows.append({**row, "status": f"skipped: {reason}"})
                print(f"{name:40s} skipped: {reason}", flush=True)
                write(parameters)
                continue
            limit = int(min(size["timeout_s"], left))
            try:
                done = subprocess.run(
                    _worker_command(args, configuration, model_dir),
                    capture_output=True,
                    text=True,
                    timeout=limit,
                    env={**os.environ, "TOKENIZERS_PARALLELISM": "false"},
                )
            except subprocess.TimeoutExpired:
                rows.append({**row, "status": f"failed: over {limit} s"})
                write(parameters)
                continue
            if done.returncode != 0:
                rows.append({**row, "status": "failed", "error": done.stderr[-2000:]})
                print(f"{name:40s} failed:\n{done.stderr[-2000:]}", flush=True)
                write(parameters)
                continue
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(result)
            write(parameters)
            print(
                f"{name:40s} {result['comparisons_per_s']:>8.2f} comparisons/s "
                f"{result['tokens_per_s']:>10.0f} tokens/s "
                f"{result['computed_tokens_per_comparison']:>7.0f} computed/comparison "
                f"{result['step_time_s']:.3f} s/step {result['peak_memory_mib']:>9.0f} MiB",
                flush=True,
            )
    record = write(parameters)
    print(f"wrote {path} ({record['wall_time_s']} s)")
    return 1 if any(r["status"].startswith("failed") for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
