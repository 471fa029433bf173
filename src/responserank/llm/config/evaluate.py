"""The schema of ``python -m responserank.llm.evaluate``: the type and help of every key of
``conf/llm/evaluate.yaml``, which holds the values (the one home of the command's defaults).

:func:`responserank.llm.config.settle_evaluate` checks the composed config against
:class:`EvaluateConfig` (unknown keys with the nearest valid one, types, ranges) and returns the
frozen object the command reads; the suites are built from its ``eval`` node with
:func:`responserank.llm.config.build_suites`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from responserank.llm.config.experiment import EvalConfig
from responserank.llm.config.fields import require
from responserank.llm.config.model import MODEL_DTYPES
from responserank.llm.data.batching.layouts import LAYOUTS

QUANTIZATION_CHOICES = ("auto", None, "4bit")


@dataclass(frozen=True)
class EvaluateWandbConfig:
    """The wandb run the scores are mirrored into (default: the one the run record names)."""

    run_id: str | None = field(metadata={"help": "wandb run id; null: the run record's"})
    project: str | None = field(metadata={"help": "wandb project; null: the run's config.yaml"})
    entity: str | None = field(metadata={"help": "wandb entity; null: the run's config.yaml"})


@dataclass(frozen=True)
class EvaluateConfig:
    """Scoring a saved reward model on the suites of the ``eval`` group, or a file of inputs."""

    model_dir: str = field(
        metadata={
            "help": "folder with the saved model (HF format or a PEFT adapter) and its tokenizer"
        }
    )
    suites: Any = field(
        metadata={"help": "names of the eval-group suites to run, in order; null: all"}
    )
    batch_size: int = field(
        metadata={"help": "pairs per forward pass (length-sorted batches), >= 1"}
    )
    max_length: int | None = field(
        metadata={"help": "tokens per (prompt, response); longer inputs are truncated and counted"}
    )
    drop_truncated: bool = field(
        metadata={"help": "leave rows with an over-long input out of the scores instead"}
    )
    batch_layout: str = field(
        metadata={"help": "padded | padding_free | prefix_shared | auto: inputs per forward pass"}
    )
    tokens_per_row: int | None = field(
        metadata={
            "help": "packed rows on sdpa/eager: at most this many tokens; null: at most padded's cost"
        }
    )
    attn_implementation: str | None = field(
        metadata={
            "help": "null: transformers' default | sdpa | eager | flash_attention_2 | flex_attention"
        }
    )
    device: str = field(metadata={"help": "auto (cuda when available) | cpu | cuda | cuda:N"})
    dtype: str = field(metadata={"help": "auto (as saved) | float32 | bfloat16 | float16"})
    quantization: str | None = field(
        metadata={"help": "adapters: auto (as the run trained, from its config.yaml) | null | 4bit"}
    )
    force: bool = field(metadata={"help": "also evaluate a run whose record still says running"})
    rewards: str = field(
        metadata={"help": "raw | normalized (with the model folder's reward statistics)"}
    )
    score_file: str | None = field(
        metadata={"help": "JSON-lines inputs to score instead of running suites"}
    )
    score_output: str | None = field(
        metadata={"help": "where score_file's rewards go (default <score_file>.rewards.jsonl)"}
    )
    output: str | None = field(
        metadata={
            "help": "results JSON when model_dir is not in a run record (<model_dir>.evaluation.json)"
        }
    )
    wandb: EvaluateWandbConfig = field(
        metadata={"help": "the wandb run to mirror the scores into (run_id, project, entity)"},
    )
    eval: EvalConfig = field(metadata={"help": "the suites (eval=NAME, conf/llm/eval/)"})

    def __post_init__(self) -> None:
        require(self.batch_size >= 1, "batch_size", "an integer >= 1", self.batch_size)
        length = self.max_length
        require(length is None or length >= 1, "max_length", "null or >= 1", length)
        require(
            self.batch_layout in LAYOUTS,
            "batch_layout",
            f"one of {list(LAYOUTS)}",
            self.batch_layout,
        )
        rows = self.tokens_per_row
        require(rows is None or rows >= 1, "tokens_per_row", "null or >= 1", rows)
        dtypes = ("auto", *MODEL_DTYPES)
        require(self.dtype in dtypes, "dtype", f"one of {list(dtypes)}", self.dtype)
        require(
            self.quantization in QUANTIZATION_CHOICES,
            "quantization",
            f"one of {list(QUANTIZATION_CHOICES)}",
            self.quantization,
        )

    @property
    def suite_names(self) -> list[str] | None:
        """The requested suites (``suites=rb`` or ``suites=[a,b]``); None runs all of them."""
        if self.suites is None:
            return None
        return [self.suites] if isinstance(self.suites, str) else [str(s) for s in self.suites]
