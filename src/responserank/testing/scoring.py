"""Test helpers around scoring: rewards as ``python -m responserank.llm.evaluate`` gives them, and a
small saved reward model folder built without training (test-only)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from transformers import set_seed

from responserank.llm.config import model_spec
from responserank.llm.evaluate import CONF_DIR, evaluate
from responserank.llm.evaluation.reward_stats import RewardStatistics, write_reward_statistics
from responserank.llm.evaluation.scoring import RewardModelScorer
from responserank.llm.modeling.models import build_reward_model, load_tokenizer


def evaluate_rows(
    model_dir: str | Path, rows: Sequence[dict[str, Any]], work_dir: Path, *overrides: str
) -> list[dict[str, Any]]:
    """``evaluate score_file=...`` on ``rows`` ({prompt, response} or {text}): each row with its
    ``reward`` and ``truncated``, in order."""
    inputs, output = work_dir / "evaluate_inputs.jsonl", work_dir / "evaluate_rewards.jsonl"
    inputs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(
            "evaluate",
            [
                f"model_dir={model_dir}",
                f"score_file={inputs}",
                f"score_output={output}",
                *overrides,
            ],
        )
    if evaluate(cfg) != {}:
        raise AssertionError("evaluate with score_file should return no suite metrics")
    return [json.loads(line) for line in output.read_text().splitlines()]


def save_model_folder(
    model_cfg: Any, out_dir: Path, reference_texts: Sequence[str], seed: int = 0
) -> RewardStatistics:
    """A seeded, untrained reward model of ``model_cfg`` saved to ``out_dir`` with its tokenizer
    and the reward statistics of ``reference_texts`` (full transcripts); returns the statistics."""
    model = model_spec(model_cfg)
    tokenizer = load_tokenizer(model)
    set_seed(seed)
    model = build_reward_model(model, tokenizer).eval()
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    scorer = RewardModelScorer(model, tokenizer, 8, None, show_progress=False)
    rewards = scorer.score_ids(scorer.encode_transcripts(reference_texts, None))
    stats = RewardStatistics.of(rewards, "test texts")
    write_reward_statistics(out_dir, stats)
    return stats
