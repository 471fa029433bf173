"""Shared pieces of the batch-layout tests: a tiny random Llama, comparisons whose sides share a
token prefix, and one short training run of the reward-model trainer in a given layout."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence

import numpy as np
import torch
from train_helpers import tiny_model_config
from transformers import TrainerCallback, TrainingArguments, set_seed

from responserank.llm.config import model_spec
from responserank.llm.data.batching.layouts import PackedPairCollator
from responserank.llm.data.batching.pair_dataset import PairCollator, TokenizedPairs
from responserank.llm.modeling.models import build_reward_model, load_tokenizer
from responserank.llm.modeling.reward_forward import attn_implementation, row_budget
from responserank.llm.training.objectives.bt import BradleyTerryObjective
from responserank.llm.training.objectives.margin import MarginObjective
from responserank.llm.training.objectives.rapl_beta import RaplBetaObjective
from responserank.llm.training.objectives.rapl_eps import RaplEpsObjective
from responserank.llm.training.objectives.responserank import ResponseRankObjective
from responserank.llm.training.objectives.responserank_rapl import ResponseRankRaplObjective
from responserank.llm.training.trainer import RewardModelTrainer

PACKED = ("padding_free", "prefix_shared")
OBJECTIVES = {
    "bt": BradleyTerryObjective,
    "bt_soft": lambda: BradleyTerryObjective(soft_targets=True),
    "margin": MarginObjective,
    "rapl_beta": RaplBetaObjective,
    "rapl_eps": RaplEpsObjective,
    "responserank": ResponseRankObjective,
    "responserank_rapl": ResponseRankRaplObjective,
}


def tiny_model(attn: str = "sdpa", **overrides):
    """The tiny_llama preset (float32, seed 0) with ``attn`` attention, and its tokenizer."""
    cfg = tiny_model_config()
    cfg.attn_implementation = attn
    for key, value in overrides.items():
        cfg[key] = value
    tokenizer = load_tokenizer(model_spec(cfg))
    set_seed(0)
    return build_reward_model(model_spec(cfg), tokenizer), tokenizer


def prefixed_pairs(
    partition_sizes: Sequence[int],
    vocab_size: int,
    seed: int = 0,
    prompt_tokens: tuple[int, int] = (0, 40),
    response_tokens: tuple[int, int] = (1, 20),
    soft: bool = False,
) -> TokenizedPairs:
    """Comparisons whose two sides share a random prompt of ``prompt_tokens`` tokens (0 = no
    common prefix) followed by their own responses; distinct ranks inside each partition,
    reliabilities in (0.2, 1], targets 1 (or random in (0.5, 1) with ``soft``)."""
    rng = np.random.default_rng(seed)
    n = int(sum(partition_sizes))

    def tokens(low: int, high: int) -> list[int]:
        return rng.integers(1000, vocab_size, size=int(rng.integers(low, high + 1))).tolist()

    prompts = [tokens(*prompt_tokens) for _ in range(n)]
    return TokenizedPairs(
        chosen_ids=[p + tokens(*response_tokens) for p in prompts],
        rejected_ids=[p + tokens(*response_tokens) for p in prompts],
        rank=rng.permutation(n).astype(np.float64),
        partition=np.repeat(np.arange(len(partition_sizes)), partition_sizes),
        target=(rng.uniform(0.5, 1.0, n) if soft else np.ones(n)).astype(np.float32),
        reliability=rng.uniform(0.2, 1.0, n).astype(np.float32),
    )


def collator(layout: str, model, pad_token_id: int, tokens_per_row: int | None = None):
    if layout == "padded":
        return PairCollator(pad_token_id)
    return PackedPairCollator(
        pad_token_id, layout, row_budget(attn_implementation(model), tokens_per_row, model.config)
    )


class StepLosses(TrainerCallback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))


def train(
    layout: str,
    model,
    tokenizer,
    pairs: TokenizedPairs,
    loss: str,
    per_device: int,
    accumulation: int,
    steps: int,
    optim: str = "sgd",
    learning_rate: float = 1.0,
    gradient_checkpointing: bool = False,
) -> tuple[list[float], dict[str, torch.Tensor]]:
    """Train a copy of ``model`` for ``steps`` optimizer steps in ``layout``; returns the logged
    per-step losses and, per trainable parameter, initial minus final value."""
    model = copy.deepcopy(model)
    before = {k: v.detach().clone() for k, v in model.named_parameters() if v.requires_grad}
    log = StepLosses()
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(
            output_dir=out,
            per_device_train_batch_size=per_device,
            gradient_accumulation_steps=accumulation,
            max_steps=steps,
            learning_rate=learning_rate,
            optim=optim,
            lr_scheduler_type="constant",
            weight_decay=0.0,
            max_grad_norm=0.0,
            save_strategy="no",
            eval_strategy="no",
            logging_strategy="steps",
            logging_steps=1,
            report_to="none",
            disable_tqdm=True,
            remove_unused_columns=False,
            ddp_find_unused_parameters=False,
            use_cpu=True,
            seed=0,
            data_seed=0,
            activation_checkpointing=gradient_checkpointing,
            activation_checkpointing_kwargs={"use_reentrant": False},
        )
        trainer = RewardModelTrainer(
            model=model,
            args=args,
            data_collator=collator(layout, model, tokenizer.pad_token_id),
            train_dataset=pairs,
            objective=OBJECTIVES[loss](),
            callbacks=[log],
            show_progress=False,
        )
        trainer.train()
    after = dict(trainer.model.named_parameters())
    return log.losses, {k: before[k] - after[k].detach() for k in before}
