"""A small synthetic MultiPref in the exact hub schema, for tests and offline demos.

``write_multipref_fixture(path, n_comparisons, seed)`` writes the three configs in the layout of the
hub repository ``allenai/multipref`` (revision 1291023, the ``main`` branch since early 2025)::

    <path>/README.md                                             dataset card with a ``configs:`` block
    <path>/data/train-00000-of-00001.parquet                     config "default"
    <path>/gpt4_overall_binarized/train-00000-of-00001.parquet   config "gpt4_overall_binarized"
    <path>/human_overall_binarized/train-00000-of-00001.parquet  config "human_overall_binarized"

(``file_format="jsonl"`` writes ``train-00000-of-00001.jsonl`` files instead.) Because of the card,
``datasets.load_dataset(<path>, "human_overall_binarized")`` works as it does on the hub id, so
both ``dataset.path=<path>`` and ``dataset.hub_id=<path>`` load it like ``allenai/multipref``. From the shell:
``python -m responserank.testing.fixtures <path> --comparisons 300 --seed 0``. The data carry real strength
information. Every response has a latent quality q ~ N(0, 1) and is assembled from short sentences,
each drawn from a vocabulary of "good" phrases with probability sigmoid(2 q) and from "weak" phrases
otherwise, so a text model can learn the quality. Each comparison gets four annotations (two
crowdworkers, two experts from fixed pools); an annotator perceives d = q_A - q_B + noise (experts
are less noisy) and answers Tie for |d| < 0.25, slightly better for |d| < 1, clearly better above.
Time spent grows with text length and the annotator's own pace and shrinks with |q_A - q_B|, so
agreement, stated strength and response time all track the true preference strength. The binarized
config picks the side with the larger summed ordinal vote (the better latent side when the vote is
even) and sets ``tie_is_common`` when Tie is the most frequent vote. The GPT-4 config stands in for
an automatic judge: it sees q_A - q_B + N(0, 0.3^2) from a separate random stream (so the other
configs do not depend on it), prefers the side that looks better and marks |d| < 0.25 as a tie.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from responserank.atomic_io import write_bytes_atomic, write_text_atomic
from responserank.cli_errors import exit_on_project_error
from responserank.llm.data.signals.labels import (
    A_CLEARLY,
    A_SLIGHTLY,
    B_CLEARLY,
    B_SLIGHTLY,
    SIDE,
    TIE,
    ordinal,
)
from responserank.testing.fixture_vocabulary import (
    CATEGORIES,
    DEGREES,
    GOOD_PHRASES,
    MODELS,
    NAMES_FIRST,
    NAMES_LAST,
    PROMPT_TEMPLATES,
    REASONS,
    SOURCES,
    SUBJECTS,
    TOPICS,
    WEAK_PHRASES,
)

# Config name -> folder, as in the hub repository (the card's ``configs:`` block).
CONFIG_FOLDERS = {
    "default": "data",
    "gpt4_overall_binarized": "gpt4_overall_binarized",
    "human_overall_binarized": "human_overall_binarized",
}
SHARD_NAME = "train-00000-of-00001"
JUDGE_STREAM = 1  # random stream of the GPT-4 stand-in, apart from the main stream
JUDGE_NOISE = 0.3

NORMAL_WORKERS = 8
EXPERT_WORKERS = 6
TIE_THRESHOLD = 0.25
CLEAR_THRESHOLD = 1.0
START_TIME = dt.datetime(2024, 5, 1, 9, 0, 0)


def _annotator_names(rng: np.random.Generator, count: int) -> list[str]:
    pairs = [f"{a}_{b}" for a in NAMES_FIRST for b in NAMES_LAST]
    return [pairs[i] for i in rng.choice(len(pairs), size=count, replace=False)]


def _response(rng: np.random.Generator, quality: float, topic: str) -> str:
    good_probability = 1.0 / (1.0 + np.exp(-2.0 * quality))
    sentences = [f"Let me talk about {topic}."]
    for _ in range(int(rng.integers(2, 8))):
        pool = GOOD_PHRASES if rng.random() < good_probability else WEAK_PHRASES
        sentences.append(pool[int(rng.integers(len(pool)))])
    return " ".join(sentences)


def _label(perceived: float) -> str:
    if abs(perceived) < TIE_THRESHOLD:
        return TIE
    if perceived > 0:
        return A_CLEARLY if perceived >= CLEAR_THRESHOLD else A_SLIGHTLY
    return B_CLEARLY if perceived <= -CLEAR_THRESHOLD else B_SLIGHTLY


def _confidence(perceived: float) -> str:
    if abs(perceived) >= 1.5:
        return "absolutely-confident"
    return "fairly-confident" if abs(perceived) >= 0.6 else "not-confident"


def _annotation(
    rng: np.random.Generator,
    annotator: dict[str, Any],
    gap: float,
    characters: int,
    when: dt.datetime,
) -> dict[str, Any]:
    perceived = gap + annotator["noise"] * rng.normal()
    aspects = {}
    for aspect in ("helpful", "truthful", "harmless"):
        aspect_view = perceived + 0.5 * rng.normal()
        label = _label(aspect_view)
        reasons = (
            [] if label == TIE else sorted(rng.choice(REASONS, size=2, replace=False).tolist())
        )
        aspects[f"{aspect}_pref"] = label
        aspects[f"{aspect}_checked_reasons"] = reasons
        aspects[f"{aspect}_own_reason"] = ""
        aspects[f"{aspect}_confidence"] = _confidence(aspect_view)
    seconds = annotator["pace"] * (0.5 + characters / 1000.0) * np.exp(-0.6 * abs(gap))
    seconds *= float(np.exp(0.25 * rng.normal()))
    return {
        "evaluator": annotator["name"],
        **aspects,
        "overall_pref": _label(perceived),
        "overall_confidence": _confidence(perceived),
        "time_spent": int(max(1, round(seconds))),
        "timestamp": when.strftime("%Y-%m-%d %H:%M:%S.%f"),
    }


def _annotators(rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    names = _annotator_names(rng, NORMAL_WORKERS + EXPERT_WORKERS)
    normal = [
        {"name": n, "noise": float(rng.uniform(0.4, 1.0)), "pace": float(rng.uniform(60, 200))}
        for n in names[:NORMAL_WORKERS]
    ]
    expert = [
        {"name": n, "noise": float(rng.uniform(0.2, 0.6)), "pace": float(rng.uniform(120, 400))}
        for n in names[NORMAL_WORKERS:]
    ]
    return normal, expert


def _conversation(prompt: str, response: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}, {"role": "assistant", "content": response}]


def _binarized(row: dict[str, Any], quality_a: float, quality_b: float) -> dict[str, Any]:
    votes = [a["overall_pref"] for a in row["normal_worker_annotations"]]
    votes += [a["overall_pref"] for a in row["expert_worker_annotations"]]
    score = sum(ordinal(v, 0.5) for v in votes)
    a_wins = score > 0 or (score == 0 and quality_a >= quality_b)
    sides = [SIDE[v] for v in votes]
    tie_is_common = sides.count(0) >= max(sides.count(1), sides.count(-1))
    return _binarized_row(row, a_wins, tie_is_common)


def _judged(row: dict[str, Any], perceived: float) -> dict[str, Any]:
    """A ``*_overall_binarized`` row from one judge's perceived difference q_A - q_B."""
    return _binarized_row(row, perceived >= 0, abs(perceived) < TIE_THRESHOLD)


def _binarized_row(row: dict[str, Any], a_wins: bool, tie_is_common: bool) -> dict[str, Any]:
    """The ``*_overall_binarized`` schema: both conversations oriented to the winning side."""
    first, second = ("a", "b") if a_wins else ("b", "a")
    return {
        "comparison_id": row["comparison_id"],
        "prompt_id": row["prompt_id"],
        "prompt": row["text"],
        "chosen": _conversation(row["text"], row[f"completion_{first}"]),
        "chosen_model": row[f"model_{first}"],
        "rejected": _conversation(row["text"], row[f"completion_{second}"]),
        "rejected_model": row[f"model_{second}"],
        "tie_is_common": bool(tie_is_common),
    }


def gpt4_binarized_rows(
    default_rows: list[dict[str, Any]], qualities: list[tuple[float, float]], seed: int
) -> list[dict[str, Any]]:
    """Rows of config ``gpt4_overall_binarized``: a low-noise judge of the latent qualities."""
    rng = np.random.default_rng([seed, JUDGE_STREAM])
    noise = rng.normal(0.0, JUDGE_NOISE, size=len(default_rows))
    return [
        _judged(row, quality_a - quality_b + float(eps))
        for row, (quality_a, quality_b), eps in zip(default_rows, qualities, noise, strict=True)
    ]


def multipref_fixture_rows(
    n_comparisons: int, seed: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of config ``default`` and of ``human_overall_binarized`` (same comparison order)."""
    default_rows, binarized_rows, _ = _fixture_rows(n_comparisons, seed)
    return default_rows, binarized_rows


def _fixture_rows(
    n_comparisons: int, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[float, float]]]:
    """Default rows, human-binarized rows and each comparison's latent qualities (q_A, q_B)."""
    if n_comparisons < 1:
        raise ValueError(f"n_comparisons must be >= 1, got {n_comparisons}")
    rng = np.random.default_rng(seed)
    normal, expert = _annotators(rng)
    default_rows, binarized_rows, qualities = [], [], []
    for index in range(n_comparisons):
        topic = TOPICS[int(rng.integers(len(TOPICS)))]
        prompt = PROMPT_TEMPLATES[int(rng.integers(len(PROMPT_TEMPLATES)))].format(topic=topic)
        quality_a, quality_b = rng.normal(size=2)
        completion_a = _response(rng, quality_a, topic)
        completion_b = _response(rng, quality_b, topic)
        model_a, model_b = rng.choice(MODELS, size=2, replace=False).tolist()
        characters = len(prompt) + len(completion_a) + len(completion_b)
        when = START_TIME + dt.timedelta(minutes=7 * index)
        row = {
            "comparison_id": rng.bytes(16).hex(),
            "prompt_id": rng.bytes(16).hex(),
            "text": prompt,
            "model_a": model_a,
            "completion_a": completion_a,
            "model_b": model_b,
            "completion_b": completion_b,
            "source": SOURCES[int(rng.integers(len(SOURCES)))],
            "category": CATEGORIES[int(rng.integers(len(CATEGORIES)))],
            "subject_study": SUBJECTS[int(rng.integers(len(SUBJECTS)))],
            "highest_level_degree": DEGREES[int(rng.integers(len(DEGREES)))],
        }
        for group, pool in (
            ("normal_worker_annotations", normal),
            ("expert_worker_annotations", expert),
        ):
            picked = rng.choice(len(pool), size=2, replace=False)
            row[group] = [
                _annotation(rng, pool[int(k)], quality_a - quality_b, characters, when)
                for k in picked
            ]
        default_rows.append(row)
        binarized_rows.append(_binarized(row, quality_a, quality_b))
        qualities.append((float(quality_a), float(quality_b)))
    return default_rows, binarized_rows, qualities


def _annotation_type():
    import pyarrow as pa

    fields = [pa.field("evaluator", pa.string())]
    for aspect in ("helpful", "truthful", "harmless"):
        fields += [
            pa.field(f"{aspect}_pref", pa.string()),
            pa.field(f"{aspect}_checked_reasons", pa.list_(pa.string())),
            pa.field(f"{aspect}_own_reason", pa.string()),
            pa.field(f"{aspect}_confidence", pa.string()),
        ]
    fields += [
        pa.field("overall_pref", pa.string()),
        pa.field("overall_confidence", pa.string()),
        pa.field("time_spent", pa.int64()),
        pa.field("timestamp", pa.string()),
    ]
    return pa.struct(fields)


def _schemas():
    import pyarrow as pa

    text_fields = ("comparison_id", "prompt_id", "text", "model_a", "completion_a", "model_b")
    text_fields += ("completion_b", "source", "category", "subject_study", "highest_level_degree")
    annotations = pa.list_(_annotation_type())
    default = pa.schema(
        [pa.field(name, pa.string()) for name in text_fields]
        + [
            pa.field("normal_worker_annotations", annotations),
            pa.field("expert_worker_annotations", annotations),
        ]
    )
    message = pa.struct([pa.field("content", pa.string()), pa.field("role", pa.string())])
    binarized = pa.schema(
        [
            pa.field("comparison_id", pa.string()),
            pa.field("prompt_id", pa.string()),
            pa.field("prompt", pa.string()),
            pa.field("chosen", pa.list_(message)),
            pa.field("chosen_model", pa.string()),
            pa.field("rejected", pa.list_(message)),
            pa.field("rejected_model", pa.string()),
            pa.field("tie_is_common", pa.bool_()),
        ]
    )
    return default, binarized


def _write_parquet(path: Path, rows: list[dict[str, Any]], schema: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    write_bytes_atomic(path, buffer.getvalue().to_pybytes())


def write_multipref_fixture(
    path: str | Path, n_comparisons: int, seed: int = 0, file_format: str = "parquet"
) -> Path:
    """Write a deterministic synthetic MultiPref (both configs) under ``path``; return ``path``."""
    if file_format not in ("parquet", "jsonl"):
        raise ValueError(f"file_format must be one of ['jsonl', 'parquet'], got {file_format!r}")
    root = Path(path)
    default_rows, binarized_rows, qualities = _fixture_rows(n_comparisons, seed)
    default_schema, binarized_schema = _schemas()
    rows_by_config = {
        "default": (default_rows, default_schema),
        "gpt4_overall_binarized": (
            gpt4_binarized_rows(default_rows, qualities, seed),
            binarized_schema,
        ),
        "human_overall_binarized": (binarized_rows, binarized_schema),
    }
    for config, (rows, schema) in rows_by_config.items():
        folder = root / CONFIG_FOLDERS[config]
        if file_format == "parquet":
            _write_parquet(folder / f"{SHARD_NAME}.parquet", rows, schema)
        else:
            lines = "".join(json.dumps(row, sort_keys=True) + "\n" for row in rows)
            write_text_atomic(folder / f"{SHARD_NAME}.jsonl", lines)
    write_text_atomic(root / "README.md", dataset_card(n_comparisons, seed))
    return root


def dataset_card(n_comparisons: int, seed: int) -> str:
    """The dataset card: the hub's ``configs:`` block (config -> data files), the tag
    ``generated-data`` (figures of runs on it say so) and a short note."""
    blocks = "".join(
        f"- config_name: {config}\n  data_files:\n  - split: train\n    path: {folder}/train-*\n"
        for config, folder in CONFIG_FOLDERS.items()
    )
    return (
        f"---\nconfigs:\n{blocks}tags:\n- generated-data\n---\n\n"
        "# Synthetic MultiPref fixture\n\n"
        f"{n_comparisons} invented comparisons (seed {seed}) in the file layout and schema of the "
        "hub dataset `allenai/multipref` (revision 1291023), written by "
        "`python -m responserank.testing.fixtures`. The texts and annotations are generated; "
        "see that module for the generative model.\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: write a fixture for offline demos (``dataset.path=<path>``)."""
    parser = argparse.ArgumentParser(description="Write a synthetic MultiPref in the hub layout.")
    parser.add_argument(
        "path", type=Path, help="output folder (dataset card and one folder per config)"
    )
    parser.add_argument("--comparisons", type=int, default=300, help="number of comparisons")
    parser.add_argument("--seed", type=int, default=0, help="random seed")
    parser.add_argument("--format", choices=("parquet", "jsonl"), default="parquet")
    args = parser.parse_args(argv)
    if args.comparisons < 1:
        parser.error(f"--comparisons must be at least 1, got {args.comparisons}")
    root = write_multipref_fixture(args.path, args.comparisons, args.seed, args.format)
    print(f"wrote {args.comparisons} comparisons to {root}")


def cli() -> None:
    """The ``rr-fixtures`` command: :func:`main` with project errors on one line."""
    with exit_on_project_error():
        main()


if __name__ == "__main__":
    cli()
