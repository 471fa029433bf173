"""The reward-model trainer: one ``transformers.Trainer`` subclass for every preference loss.

What it adds to the Trainer:

- batches come from :class:`PartitionBatchSampler`, so partitions stay whole inside micro-batches
  (and on one process), re-packed and reshuffled every epoch (``packing``: ``capacity`` or
  ``balanced``, see ``responserank.llm.data.batching.packing``);
- one forward pass per micro-batch scores chosen and rejected responses, in the batch layout its
  collator produced (padded, padding-free or prefix-shared rows, ``llm/data/batching/layouts.py``);
  the margins go to the configured :class:`PairwiseObjective` together with the batch's rank /
  partition / target / reliability columns;
- the loss of each micro-batch is the objective's *sum* divided by the number of comparisons in the
  whole optimizer step, counted over all accumulation steps and all processes, so 1 x 16 and 4 x 4
  micro-batching (or 2 processes x 8) give the same gradient;
- every training log row carries what TRL's ``RewardTrainer`` logs, over the micro-batches since
  the previous log and all processes (:class:`StepMetrics`): mean/min/max reward of the chosen
  and of the rejected responses, accuracy, mean margin, and the tokens seen so far;
- ``evaluate`` reports held-out pairwise accuracy (the margin's sign agrees with the target's
  side; r_chosen > r_rejected, strict, for hard labels), the objective's loss per comparison, the
  calibrated loss (BT loss after temperature scaling, which compares models trained with
  differently scaled losses), plus the packing cohesion of the current epoch, and lets callbacks
  (the eval suites) add their metrics before the row is logged; the best-model metric
  (``training.best_model``) is handed to transformers' checkpoint selection.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import Trainer

from responserank.calibration import calibrated_loss
from responserank.errors import ConfigError
from responserank.llm.data.batching.layouts import sequence_token_count
from responserank.llm.data.batching.packing import CohesionStats, PartitionBatchSampler
from responserank.llm.data.batching.pair_dataset import TokenizedPairs
from responserank.llm.modeling.models import save_adapter_base
from responserank.llm.modeling.reward_forward import sequence_rewards
from responserank.llm.training.objectives.base import ComparisonBatch, PairwiseObjective
from responserank.llm.training.schedules import STEP_DECAY, step_decay_scheduler

log = logging.getLogger(__name__)

LOSS_COLUMNS = ("rank", "partition", "target", "reliability")


def pairwise_metrics(margins: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Accuracy and calibrated loss of margins r_chosen - r_rejected against their targets.

    A target is the probability that the chosen side wins: above 0.5 the margin should be
    positive, below 0.5 negative (the 0/1 labels of the TRUE model), and ties (0.5) are left out.
    For hard labels (target 1) accuracy is the share with r_chosen > r_rejected (strict).
    """
    decided = target != 0.5
    oriented = torch.where(target > 0.5, margins, -margins)[decided]
    if oriented.numel() == 0:
        return {"accuracy": float("nan"), "calibrated_loss": float("nan")}
    return {
        "accuracy": float((oriented > 0).float().mean()),
        "calibrated_loss": calibrated_loss(oriented.double().cpu().numpy()),
    }


@dataclass
class StepMetrics:
    """Training statistics over the micro-batches since the last log (TRL's per-step metrics).

    ``add`` takes one micro-batch's rewards (float tensors of shape (B,)), targets and its count
    of non-pad tokens; ``summary`` combines every process's statistics (one all-gather) and
    returns the ``train/...`` entries of a log row, then starts the next window. ``tokens_seen``
    counts non-pad input tokens (chosen and rejected sides) since training started in this
    process; it restarts from 0 when a run resumes from a checkpoint.
    """

    tokens_seen: int = 0
    # One micro-batch after another on the training device, read back only at ``summary``, so
    # the training step waits on no host copy: sums of chosen and rejected rewards, comparisons,
    # correct, decided, tokens; then -min and max of chosen, -min and max of rejected.
    window: torch.Tensor | None = None

    def add(
        self,
        chosen: torch.Tensor,
        rejected: torch.Tensor,
        target: torch.Tensor,
        tokens: torch.Tensor | int,
    ) -> None:
        chosen, rejected = chosen.detach().double(), rejected.detach().double()
        target = target.to(chosen.device)
        decided = target != 0.5
        oriented = torch.where(target > 0.5, chosen - rejected, rejected - chosen)
        row = torch.stack(
            [
                chosen.sum(),
                rejected.sum(),
                torch.full_like(chosen[0], chosen.numel()),
                ((oriented > 0) & decided).sum().double(),
                decided.sum().double(),
                torch.as_tensor(tokens, device=chosen.device).double(),
                -chosen.min(),
                chosen.max(),
                -rejected.min(),
                rejected.max(),
            ]
        )
        if self.window is None:
            self.window = row
        else:
            self.window = torch.cat(
                [self.window[:6] + row[:6], torch.maximum(self.window[6:], row[6:])]
            )

    def summary(self, gather) -> dict[str, float]:
        """``gather`` maps a (k,) tensor to the (processes * k,) concatenation of all processes'."""
        local = self.window
        if local is None:
            local = torch.tensor([0.0] * 6 + [-math.inf] * 4, dtype=torch.float64)
        every = gather(local).reshape(-1, local.numel()).cpu()
        sums, extremes = every[:, :6].sum(dim=0), every[:, 6:].max(dim=0).values
        chosen_sum, rejected_sum, count, correct, decided, tokens = sums.tolist()
        self.tokens_seen += int(tokens)
        self.window = None  # a fresh window; only the token count carries on
        if not count:
            return {"train/tokens_seen": float(self.tokens_seen)}
        margin = (chosen_sum - rejected_sum) / count
        return {
            "train/tokens_seen": float(self.tokens_seen),
            "train/rewards/chosen_mean": chosen_sum / count,
            "train/rewards/chosen_min": -float(extremes[0]),
            "train/rewards/chosen_max": float(extremes[1]),
            "train/rewards/rejected_mean": rejected_sum / count,
            "train/rewards/rejected_min": -float(extremes[2]),
            "train/rewards/rejected_max": float(extremes[3]),
            "train/accuracy": correct / decided if decided else float("nan"),
            "train/mean_margin": margin,
        }


class EpochDataLoader(DataLoader):
    """A DataLoader that forwards ``set_epoch`` to its batch sampler (the Trainer calls it)."""

    def set_epoch(self, epoch: int) -> None:
        self.batch_sampler.set_epoch(epoch)


def comparison_batch(inputs: dict[str, torch.Tensor]) -> ComparisonBatch:
    return ComparisonBatch(**{name: inputs[name] for name in LOSS_COLUMNS})


class RewardModelTrainer(Trainer):
    """Trains a sequence-classification reward model on pairwise comparisons."""

    # compute_loss already normalises over the whole optimizer step.
    loss_is_scaled_for_ga = True

    def __init__(
        self,
        *args: Any,
        objective: PairwiseObjective,
        center_rewards_coefficient: float | None = None,
        lr_schedule: str | None = None,
        show_progress: bool = True,
        packing: str = "capacity",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.args.remove_unused_columns:
            raise ValueError(
                "RewardModelTrainer needs TrainingArguments(remove_unused_columns=False)"
            )
        self.objective = objective
        self.center_rewards_coefficient = center_rewards_coefficient or 0.0
        self.lr_schedule = lr_schedule
        self.show_progress = show_progress
        self.packing = packing
        self.batch_sampler: PartitionBatchSampler | None = None
        self.step_metrics = StepMetrics()

    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """Save as the Trainer does; the final save of a LoRA model on a randomly initialised base
        also writes that base (:func:`responserank.llm.modeling.models.save_adapter_base`), so the saved
        adapter can be reloaded for scoring."""
        super().save_model(output_dir, _internal_call)
        if not _internal_call and self.args.should_save:
            model = self.accelerator.unwrap_model(self.model)
            save_adapter_base(model, output_dir or self.args.output_dir)

    # ---- data -------------------------------------------------------------------------------

    def make_batch_sampler(self, dataset: TokenizedPairs) -> PartitionBatchSampler:
        seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
        return PartitionBatchSampler(
            dataset.partition,
            batch_size=self._train_batch_size,
            seed=seed,
            num_replicas=self.args.world_size,
            rank=self.args.process_index,
            packing=self.packing,
        )

    def get_train_dataloader(self) -> DataLoader:
        """Whole micro-batches per rank; not re-sharded by accelerate (the sampler already is)."""
        if self.train_dataset is None:
            raise ValueError("training requires a train_dataset")
        self.batch_sampler = self.make_batch_sampler(self.train_dataset)
        return EpochDataLoader(
            self.train_dataset,
            batch_sampler=self.batch_sampler,
            collate_fn=self.data_collator,
            num_workers=self.args.dataloader_num_workers,
            pin_memory=self.args.dataloader_pin_memory,
        )

    def cohesion(self, epoch: int) -> CohesionStats | None:
        return None if self.batch_sampler is None else self.batch_sampler.cohesion(epoch)

    def create_scheduler(self, num_training_steps: int, optimizer=None):
        """The configured schedule; ``step_decay`` is built here (see responserank.llm.training.schedules)."""
        if self.lr_schedule == STEP_DECAY and self.lr_scheduler is None:
            optimizer = self.optimizer if optimizer is None else optimizer
            self.lr_scheduler = step_decay_scheduler(optimizer, num_training_steps)
            return self.lr_scheduler
        return super().create_scheduler(num_training_steps, optimizer)

    # ---- loss -------------------------------------------------------------------------------

    def rewards(
        self, model: torch.nn.Module, inputs: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Rewards of the chosen and the rejected response of every comparison, from a batch in
        any layout (:func:`responserank.llm.modeling.reward_forward.sequence_rewards`)."""
        chosen, rejected = sequence_rewards(model, inputs).chunk(2)
        return chosen, rejected

    def _loss_sum(
        self, chosen: torch.Tensor, rejected: torch.Tensor, inputs: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        total = self.objective(chosen - rejected, comparison_batch(inputs))
        if self.center_rewards_coefficient:
            centering = ((chosen.float() + rejected.float()) ** 2).sum()
            total = total + self.center_rewards_coefficient * centering
        return total

    def _get_num_items_in_batch(self, batch_samples: list, device: torch.device) -> torch.Tensor:
        """Comparisons in the optimizer step: all its micro-batches, summed over processes."""
        count = sum(int(batch["partition"].numel()) for batch in batch_samples)
        total = torch.tensor(count, device=device, dtype=torch.long)
        if self.args.world_size > 1:
            total = self.accelerator.reduce(total, reduction="sum")
        return total

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, torch.Tensor],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ):
        chosen, rejected = self.rewards(model, inputs)
        total = self._loss_sum(chosen, rejected, inputs)
        if model.training:
            tokens = sequence_token_count(inputs)
            self.step_metrics.add(chosen, rejected, inputs["target"], tokens)
        if num_items_in_batch is None:
            loss = total / chosen.numel()
        else:
            # Data-parallel backends average gradients over processes; scale it back to a sum so
            # that the step's gradient is the mean over all its comparisons.
            loss = total * self.accelerator.num_processes / num_items_in_batch
        if return_outputs:
            return loss, {"chosen": chosen.detach(), "rejected": rejected.detach()}
        return loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        """Training log rows (those with ``loss``) get the :class:`StepMetrics` of their window."""
        if "loss" in logs:
            logs = {**logs, **self.step_metrics.summary(self._gather_stats)}
        super().log(logs, start_time)

    def _gather_stats(self, local: torch.Tensor) -> torch.Tensor:
        if self.args.world_size == 1:
            return local
        gathered = self.accelerator.gather(local.to(self.accelerator.device))
        return gathered.to("cpu", torch.float64)

    # ---- evaluation -------------------------------------------------------------------------

    @torch.no_grad()
    def heldout_metrics(self, eval_dataset: TokenizedPairs | None = None) -> dict[str, float]:
        """Pairwise accuracy (strict r_chosen > r_rejected) and the training loss per comparison
        over the whole held-out set, gathered from every process before it is computed."""
        loader = self.get_eval_dataloader(eval_dataset)
        model = self.model
        was_training = model.training
        model.eval()
        columns: dict[str, list[torch.Tensor]] = {name: [] for name in LOSS_COLUMNS}
        chosen_all, rejected_all = [], []
        try:
            for inputs in tqdm(
                loader,
                desc="held-out",
                leave=False,
                disable=not self.show_progress or not self.is_world_process_zero(),
            ):
                inputs = self._prepare_inputs(inputs)
                chosen, rejected = self.rewards(model, inputs)
                chosen, rejected = self.accelerator.gather_for_metrics(
                    (chosen.float(), rejected.float())
                )
                chosen_all.append(chosen)
                rejected_all.append(rejected)
                gathered = self.accelerator.gather_for_metrics(
                    {name: inputs[name] for name in LOSS_COLUMNS}
                )
                for name in LOSS_COLUMNS:
                    columns[name].append(gathered[name])
        finally:
            model.train(was_training)
        chosen = torch.cat(chosen_all)
        rejected = torch.cat(rejected_all)
        batch = {name: torch.cat(parts) for name, parts in columns.items()}
        margins = chosen - rejected
        loss = self._loss_sum(chosen, rejected, batch) / margins.numel()
        return {
            **{
                f"eval/heldout/{k}": v
                for k, v in pairwise_metrics(margins, batch["target"]).items()
            },
            "eval/heldout/loss": float(loss),
            "eval/heldout/mean_margin": float(margins.mean()),
            "eval/heldout/chosen_reward_mean": float(chosen.mean()),
            "eval/heldout/rejected_reward_mean": float(rejected.mean()),
            "eval/heldout/count": int(margins.numel()),
        }

    def evaluate(
        self,
        eval_dataset: TokenizedPairs | None = None,
        ignore_keys: list[str] | None = None,
        metric_key_prefix: str = "eval",
    ) -> dict[str, float]:
        metrics = self.heldout_metrics(eval_dataset)
        epoch = int(np.floor((self.state.epoch or 0.0) - 1e-9)) if self.state.epoch else 0
        stats = self.cohesion(max(epoch, 0))
        if stats is not None:
            metrics.update(
                {
                    "train/packing/share_partitions_intact": stats.share_partitions_intact,
                    "train/packing/mean_fragments_per_partition": stats.mean_fragments_per_partition,
                }
            )
        self.control = self.callback_handler.on_evaluate(
            self.args, self.state, self.control, metrics=metrics
        )
        self.log(metrics)
        self.accelerator.wait_for_everyone()
        return self._with_best_model_key(metrics)

    def _with_best_model_key(self, metrics: dict[str, float]) -> dict[str, float]:
        """``metrics`` plus the best-model metric (``training.best_model.metric``) under the name
        transformers looks it up by (``eval_<name>``); ConfigError when no evaluation made it."""
        selected = self.args.metric_for_best_model
        if not selected:
            return metrics
        if selected not in metrics:
            raise ConfigError(
                f"config key 'training.best_model.metric': expected one of the evaluation "
                f"metrics {sorted(k for k in metrics if k.startswith('eval/'))}, got {selected!r}"
            )
        return {**metrics, f"eval_{selected}": metrics[selected]}
