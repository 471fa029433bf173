"""Rows of a preference dataset in TRL's layouts: reading them (hub id, files, folders) and rendering
conversational rows with the model's chat template through ``trl.data_utils``. The source that
turns them into comparisons is :mod:`responserank.llm.data.sources.hf_preference`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
from transformers import PreTrainedTokenizerBase
from trl.data_utils import apply_chat_template, maybe_extract_prompt

from responserank.errors import DataValidationError, InputFileError, invalid_value
from responserank.hub import DATASET_WAYS_OUT, require_available
from responserank.llm.data.text_fields import expected_text, is_acceptable_text
from responserank.reading import read_csv, read_json_lines, read_parquet_table, read_text

FILE_BUILDERS = {
    ".json": "json",
    ".jsonl": "json",
    ".parquet": "parquet",
    ".csv": "csv",
    ".arrow": "arrow",
}


WHAT = "a preference dataset in one of TRL's layouts"


def _load_local(path: Path, split: str) -> datasets.Dataset:
    """One split of a local file, folder of files or ``save_to_disk`` folder."""
    if path.is_dir():
        if (path / "state.json").is_file() or (path / "dataset_dict.json").is_file():
            loaded = datasets.load_from_disk(str(path))
            if isinstance(loaded, datasets.DatasetDict):
                if split not in loaded:
                    raise DataValidationError(
                        f"{path}: saved dataset has splits {sorted(loaded)}, not {split!r}"
                    )
                return loaded[split]
            return loaded
        return _load_with_datasets(path, lambda: datasets.load_dataset(str(path), split=split))
    if not path.is_file():
        raise DataValidationError(f"{path}: preference dataset not found")
    builder = FILE_BUILDERS.get(path.suffix)
    if builder is None:
        raise DataValidationError(f"{path}: expected one of {sorted(FILE_BUILDERS)} or a folder")
    _check_readable(path)
    return _load_with_datasets(
        path, lambda: datasets.load_dataset(builder, data_files=str(path), split="train")
    )


def _check_readable(path: Path) -> None:
    """Run the project's reading checks first, so an empty file, a header without rows, bytes
    that are not UTF-8, a ';'-separated CSV or a truncated JSON-lines line is reported with the
    file, the line and what was expected instead of a parser traceback from ``datasets``."""
    if path.suffix == ".csv":
        read_csv(path, WHAT)
    elif path.suffix == ".jsonl":
        read_json_lines(path, WHAT)
    elif path.suffix == ".json":
        read_text(path, WHAT)  # JSON or JSON lines: datasets accepts both
    elif path.suffix == ".parquet":
        read_parquet_table(path, WHAT)


def _load_with_datasets(path: Path, load: Callable[[], datasets.Dataset]) -> datasets.Dataset:
    """``load()``, with a failure of the ``datasets`` builders turned into an error naming the file."""
    try:
        return load()
    except DataValidationError:
        raise
    except Exception as error:  # datasets wraps parser errors in its own exception types
        cause = error.__cause__ or error
        raise InputFileError(
            f"{path}: cannot be read as {WHAT} ({type(cause).__name__}: {cause})"
        ) from error


def load_rows(
    name: str | None, config: str | None, split: str, path: str | None
) -> tuple[datasets.Dataset, str]:
    """The rows of one split and a description of where they come from (for messages)."""
    if (name is None) == (path is None):
        raise DataValidationError("dataset=hf_preference: set exactly one of name (hub id) or path")
    if path is not None:
        return _load_local(Path(path), split), f"{path} [{split}]"
    require_available(
        name, "dataset", DATASET_WAYS_OUT, repo_type="dataset", error=DataValidationError
    )
    try:
        rows = datasets.load_dataset(name, config, split=split)
    except (FileNotFoundError, ValueError, ConnectionError) as error:
        raise DataValidationError(
            f"{name} (config {config!r}, split {split!r}): cannot load: {error}"
        ) from error
    return rows, f"{name} [{split}]"


def check_messages(origin: str, row: int, field: str, value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value:
        raise invalid_value(origin, row, field, "a non-empty list of messages", value)
    for turn, message in enumerate(value):
        where = f"{field}[{turn}]"
        if not isinstance(message, Mapping):
            raise invalid_value(origin, row, where, "a message {role, content}", message)
        for key in ("role", "content"):
            if not isinstance(message.get(key), str):
                raise invalid_value(
                    origin, row, f"{where}.{key}", "a string", message.get(key, "<missing>")
                )
    return [{"role": m["role"], "content": m["content"]} for m in value]


def check_text(origin: str, row: int, field: str, value: Any, allow_empty: bool) -> str:
    """``value`` when it passes the text rule (:mod:`responserank.llm.data.text_fields`)."""
    if not is_acceptable_text(value, allow_empty):
        raise invalid_value(origin, row, field, expected_text(allow_empty), value)
    return value


@dataclass(frozen=True)
class Rendered:
    """One comparison as pipeline text: prompt, chosen, rejected and whether already rendered."""

    prompt: str
    chosen: str
    rejected: str
    rendered: bool
    #: A conversational response (chosen or rejected, after the prompt) holds a ``user`` turn.
    spoken_by_user: bool = False


def render_conversational(
    example: dict[str, Any], tokenizer: PreTrainedTokenizerBase, origin: str, row: int
) -> Rendered:
    """Chat-template rendering of a validated conversational example (explicit or implicit)."""
    chosen, rejected = example["chosen"], example["rejected"]
    if "prompt" not in example:
        # One conversation that merely starts the other leaves that side no response of its own.
        for side, mine, other in (("chosen", chosen, rejected), ("rejected", rejected, chosen)):
            if len(mine) <= len(other) and other[: len(mine)] == mine:
                raise invalid_value(
                    origin,
                    row,
                    side,
                    "a response after the shared prompt",
                    "a conversation the other side starts with",
                )
    split = maybe_extract_prompt(example)
    if not split["prompt"]:
        raise invalid_value(
            origin,
            row,
            "prompt",
            "a prompt shared by chosen and rejected (their common leading messages)",
            "no shared leading message",
        )
    for side in ("chosen", "rejected"):
        if not split[side]:
            raise invalid_value(
                origin,
                row,
                side,
                "a response after the shared prompt",
                "nothing after the prompt",
            )
        if not is_acceptable_text("".join(m["content"] for m in split[side])):
            raise invalid_value(
                origin,
                row,
                side,
                f"a response whose content is {expected_text(False)}",
                split[side],
            )
    try:
        text = apply_chat_template(
            {"prompt": split["prompt"], "chosen": split["chosen"], "rejected": split["rejected"]},
            tokenizer,
        )
    except ValueError as error:
        raise invalid_value(
            origin, row, "prompt", "a prompt the chat template accepts", str(error)
        ) from error
    by_user = any(m["role"] == "user" for side in ("chosen", "rejected") for m in split[side])
    return Rendered(text["prompt"], text["chosen"], text["rejected"], True, by_user)
