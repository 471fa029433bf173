"""The model card (``README.md``) of a saved reward model folder.

Training gathers the facts of the run (:func:`responserank.llm.training.model_folder.card_facts`):
base model, data source and the sha256 of the training comparisons as tokenised, loss, strength
signal, key hyperparameters, which checkpoint was kept, evaluation results, reward statistics.
:func:`render_card` turns them into a Hugging Face model card (YAML metadata from
``huggingface_hub.ModelCardData`` plus Markdown) whose "How to load and score" snippet uses plain
``transformers`` only; the facts themselves are kept in the metadata (``responserank:``), so
``python -m responserank.llm.export merge`` can re-render the card for the merged folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from responserank.atomic_io import write_text_atomic

CARD_NAME = "README.md"
FACTS_KEY = "responserank"

#: Rendering and tokenisation exactly as training did it (``responserank.llm.data.text``).
SCORE_SNIPPET = '''import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

model_dir = "{model_ref}"  # this folder, or its hub repository id
MAX_LENGTH = {max_length}  # tokens; training cut longer inputs here
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForSequenceClassification.from_pretrained(model_dir).eval()


def reward(prompt: str, response: str) -> float:
    """The raw reward of one (prompt, response) pair."""
    if tokenizer.chat_template:  # the conversation as the chat template renders it
        messages = [{{"role": "user", "content": prompt}}, {{"role": "assistant", "content": response}}]
        text = tokenizer.apply_chat_template(messages, tokenize=False)
        special = False  # the template already holds the special tokens
    else:  # no template: the plain transcript, with the tokenizer's special tokens
        text = f"Human: {{prompt}}\\n\\nAssistant: {{response}}"
        special = True
    inputs = tokenizer(
        text, add_special_tokens=special, truncation=True, max_length=MAX_LENGTH, return_tensors="pt"
    )
    with torch.no_grad():
        return model(**inputs).logits[0, 0].item()


def normalised_reward(prompt: str, response: str) -> float:
    """(reward - mean) / std with the reward statistics stored in config.json."""
    return (reward(prompt, response) - model.config.mean) / model.config.std
'''


def score_snippet(model_ref: str, max_length: int) -> str:
    """The card's scoring code: plain transformers, no ``responserank`` import."""
    return SCORE_SNIPPET.format(model_ref=model_ref, max_length=int(max_length))


def _table(rows: list[tuple[str, Any]]) -> str:
    lines = ["| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows]
    return "\n".join(lines)


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _statistics_section(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "No reward statistics were computed for this model (`export.reward_stats=null`)."
    return (
        f"Mean **{stats['mean']:.6g}**, std **{stats['std']:.6g}** over {stats['count']} "
        f"distinct responses of the `{stats['reference']}` reference set, stored in `config.json` "
        "(`mean`, `std` and `reward_statistics`). ResponseRank's anchored Plackett-Luce loss and "
        "RAPL's per-label beta change the scale of the raw rewards, so an RL loop that tunes a KL "
        "coefficient or a threshold should use `(reward - mean) / std`."
    )


def _loading_section(facts: dict[str, Any], model_ref: str) -> str:
    if facts.get("adapter"):
        return (
            "This folder holds a LoRA adapter. Merge it into a plain `transformers` model with\n\n"
            "```bash\npython -m responserank.llm.export merge <this folder> <merged folder>\n```\n\n"
            "and score the merged folder with the code its card shows."
        )
    code = score_snippet(model_ref, facts["max_length"])
    return (
        "Plain `transformers`, nothing from the training package:\n\n"
        f"```python\n{code}```\n\n"
        "Served over HTTP: `python -m responserank.llm.serve --model-dir <this folder>` "
        '(`POST /get_reward` with `{"query": [texts]}`).'
    )


def render_card(facts: dict[str, Any]) -> ModelCard:
    """The model card of a run's facts (see the module docstring for the keys)."""
    model_ref = facts.get("hub_repo_id") or "."
    data = ModelCardData(
        base_model=facts.get("base_model_hub_id"),
        datasets=facts.get("dataset_hub_id"),
        library_name="transformers",
        pipeline_tag="text-classification",
        tags=["reward-model", "responserank"],
        **{FACTS_KEY: facts},
    )
    hyper = facts["hyperparameters"]
    training = _table(
        [
            ("base model", f"`{facts['base_model']}`"),
            ("data", f"`{facts['dataset']}`"),
            ("comparisons", ", ".join(f"{k} {v}" for k, v in facts["sizes"].items())),
            *((f"data sha256 ({k})", f"`{v}`") for k, v in facts["data_sha256"].items()),
            ("loss", f"`{facts['loss']}`"),
            ("strength signal", f"`{facts['signal']}`"),
            ("stratifier", f"`{facts['stratifier']}`"),
            *((key, f"`{value}`") for key, value in hyper.items()),
            ("saved model", facts["selection"]),
        ]
    )
    metrics = facts.get("metrics") or {}
    results = _table([(f"`{k}`", _number(v)) for k, v in sorted(metrics.items())])
    body = "\n\n".join(
        [
            f"# Reward model `{facts['run_name']}`",
            "A sequence-classification reward model: one scalar reward per (prompt, response), "
            "higher is better; margin = r(chosen) - r(rejected).",
            "## Training",
            training,
            "## Evaluation",
            results if metrics else "No evaluation was run.",
            "## Reward statistics",
            _statistics_section(facts.get("reward_statistics")),
            "## How to load and score",
            _loading_section(facts, model_ref),
        ]
    )
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}\n")


def write_card(model_dir: str | Path, facts: dict[str, Any]) -> Path:
    """Render the card of ``facts`` into ``<model_dir>/README.md`` (atomically)."""
    return write_text_atomic(Path(model_dir) / CARD_NAME, str(render_card(facts)))


def read_facts(model_dir: str | Path) -> dict[str, Any] | None:
    """The run facts kept in a folder's card metadata, or None without a card."""
    path = Path(model_dir) / CARD_NAME
    if not path.is_file():
        return None
    facts = ModelCard.load(path).data.to_dict().get(FACTS_KEY)
    return dict(facts) if isinstance(facts, dict) else None
