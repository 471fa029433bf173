"""Settings of the scoring server (one dataclass: defaults, help, checks; the command line is
generated from it)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from responserank.errors import ConfigError
from responserank.llm.evaluation.reward_stats import REWARD_MODES

OVERLONG_CHOICES = ("truncate", "refuse")


def _help(default: Any, text: str) -> Any:
    return field(default=default, metadata={"help": text})


@dataclass
class ServeSettings:
    """How ``python -m responserank.llm.serve`` loads the model and answers requests."""

    model_dir: str = field(metadata={"help": "saved reward model folder (full weights or adapter)"})
    host: str = _help("127.0.0.1", "address to listen on (0.0.0.0: every interface)")
    port: int = _help(8000, "port to listen on; 0 picks a free one (printed at start)")
    max_batch_size: int = _help(32, "texts per forward pass; concurrent requests share one")
    max_wait_ms: float = _help(5.0, "how long a batch waits for more requests after its first")
    max_length: int | None = _help(
        None, "tokens per input; default: the card's training max_length, else 1024 (capped)"
    )
    overlong: str = _help("truncate", "truncate (score cut, reported) | refuse (HTTP 413)")
    rewards: str = _help("raw", "raw | normalized: (reward - mean) / std from config.json")
    max_request_texts: int = _help(1024, "texts one request may send (more: HTTP 413)")
    max_body_bytes: int = _help(16 * 2**20, "request body size limit in bytes (more: HTTP 413)")
    device: str = _help("auto", "auto | cpu | cuda | cuda:N")
    dtype: str = _help("auto", "auto (as saved) | float32 | bfloat16 | float16")
    log_level: str = _help("warning", "uvicorn log level (info logs every request)")

    def __post_init__(self) -> None:
        checks = [
            (self.max_batch_size >= 1, "max_batch_size", "an integer >= 1"),
            (math.isfinite(self.max_wait_ms) and self.max_wait_ms >= 0, "max_wait_ms", ">= 0"),
            (self.max_length is None or self.max_length >= 1, "max_length", "null or >= 1"),
            (self.overlong in OVERLONG_CHOICES, "overlong", f"one of {list(OVERLONG_CHOICES)}"),
            (self.rewards in REWARD_MODES, "rewards", f"one of {list(REWARD_MODES)}"),
            (self.max_request_texts >= 1, "max_request_texts", "an integer >= 1"),
            (self.max_body_bytes >= 1, "max_body_bytes", "an integer >= 1"),
            (0 <= self.port <= 65535, "port", "0 ... 65535"),
        ]
        for ok, name, expected in checks:
            if not ok:
                value = getattr(self, name)
                raise ConfigError(f"--{name.replace('_', '-')}: expected {expected}, got {value!r}")


def _parse_optional_int(text: str) -> int | None:
    return None if text.lower() in ("null", "none") else int(text)


def parse_settings(argv: Sequence[str] | None = None) -> ServeSettings:
    """Settings from the command line (``--model-dir PATH --max-batch-size 16 ...``)."""
    parser = argparse.ArgumentParser(
        prog="python -m responserank.llm.serve",
        description="Serve a reward model over HTTP: POST /get_reward, POST /score, GET /health.",
    )
    for item in fields(ServeSettings):
        kind = {"int": int, "float": float}.get(str(item.type).split(" ")[0], str)
        if item.name == "max_length":
            kind = _parse_optional_int
        required = item.default is MISSING
        parser.add_argument(
            f"--{item.name.replace('_', '-')}",
            dest=item.name,
            type=kind,
            required=required,
            default=None if required else item.default,
            help=f"{item.metadata['help']}" + ("" if required else f" (default: {item.default})"),
        )
    return ServeSettings(**vars(parser.parse_args(argv)))
