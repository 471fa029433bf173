"""The ``runtime``, ``tracking`` and ``export`` groups: how a run executes, where its record goes,
what its model folder gets. None of them is part of the run identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from responserank.llm.config.fields import finite, help_field, require
from responserank.llm.data.batching.layouts import LAYOUTS

CHECKPOINT_CHOICES = ("epoch", "no")
WANDB_MODES = ("auto", "online", "offline", "disabled")
REWARD_STATS_SETS = ("train", "eval")


@dataclass(frozen=True)
class RuntimeConfig:
    """How the run executes; never part of the run identity."""

    eval_batch_size: int = help_field(32, "comparisons per evaluation batch")
    logging_steps: int = help_field(1, "optimizer steps between training-loss logs")
    dataloader_num_workers: int = help_field(0, "DataLoader worker processes")
    progress_bar: bool = help_field(True, "show progress bars")
    checkpoint: str = help_field("epoch", "epoch | no (a stop signal always checkpoints)")
    keep_checkpoints: bool = help_field(False, "keep checkpoints/ after the run finished")
    claim_timeout_s: float = help_field(
        3600.0, "a claim whose heartbeat is older counts as abandoned"
    )
    batch_layout: str = help_field(
        "padded",
        "padded | padding_free | prefix_shared | auto: sequences per row (docs/batch_layouts.md)",
    )
    tokens_per_row: int | None = help_field(
        None, "packed rows on sdpa/eager: at most this many tokens; null: at most padded's cost"
    )

    def __post_init__(self) -> None:
        require(
            self.batch_layout in LAYOUTS,
            "runtime.batch_layout",
            f"one of {list(LAYOUTS)}",
            self.batch_layout,
        )
        rows = self.tokens_per_row
        require(rows is None or rows >= 1, "runtime.tokens_per_row", "null or >= 1", rows)
        for key in ("eval_batch_size", "logging_steps"):
            value = getattr(self, key)
            require(value >= 1, f"runtime.{key}", "an integer >= 1", value)
        workers = self.dataloader_num_workers
        require(workers >= 0, "runtime.dataloader_num_workers", "an integer >= 0", workers)
        require(
            self.checkpoint in CHECKPOINT_CHOICES,
            "runtime.checkpoint",
            "'epoch' or 'no'",
            self.checkpoint,
        )
        timeout = self.claim_timeout_s
        require(finite(timeout) and timeout > 0, "runtime.claim_timeout_s", "seconds > 0", timeout)


@dataclass(frozen=True)
class ExportConfig:
    """What the saved model folder gets besides the weights; never part of the run identity."""

    reward_stats: str | None = help_field(
        "train", "reference set of the reward mean/std: train | eval | a JSONL file | null"
    )
    reward_stats_max: int | None = help_field(
        None, "at most this many responses (seeded); null: all"
    )
    model_card: bool = help_field(True, "write a model card (README.md) into the model folder")
    push_to_hub: bool = help_field(False, "upload the model folder to hub_repo_id after the run")
    hub_repo_id: str | None = help_field(None, "hub repository id (user/name) for push_to_hub")
    hub_private: bool = help_field(True, "create the hub repository as private")

    def __post_init__(self) -> None:
        ref, cap, repo = self.reward_stats, self.reward_stats_max, self.hub_repo_id
        ok = ref is None or ref in REWARD_STATS_SETS or Path(ref).is_file()
        require(ok, "export.reward_stats", "train, eval, null or an existing JSONL file", ref)
        require(cap is None or cap >= 1, "export.reward_stats_max", "null or >= 1", cap)
        require(bool(repo) or not self.push_to_hub, "export.hub_repo_id", "user/name", repo)


@dataclass(frozen=True)
class WandbConfig:
    """The wandb mirror of the run record."""

    mode: str = help_field("auto", "auto (online with credentials) | online | offline | disabled")
    project: str = help_field("rr-llm", "wandb project")
    entity: str | None = help_field(None, "wandb entity (team or user); null: the default")
    tags: list[str] = field(default_factory=list, metadata={"help": "tags of the wandb run"})

    def __post_init__(self) -> None:
        require(
            self.mode in WANDB_MODES,
            "tracking.wandb.mode",
            f"one of {list(WANDB_MODES)}",
            self.mode,
        )


@dataclass(frozen=True)
class TrackingConfig:
    """Where the run record goes; never part of the run identity."""

    output_root: str = help_field(
        "runs/llm", "run records go to <output_root>/<group_id>/<run_name>"
    )
    wandb: WandbConfig = field(
        default_factory=WandbConfig,
        metadata={"help": "the wandb mirror (mode, project, entity, tags)"},
    )
