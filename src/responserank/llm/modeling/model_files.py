"""Checks of a saved reward-model folder before it is loaded, each failure naming the file.

transformers and safetensors report a missing folder, a truncated ``config.json`` or a weights file
cut short (a full disk, a copy that stopped) with a traceback several libraries deep;
:func:`check_model_folder` finds the same problems first and raises one
:class:`~responserank.errors.InputFileError` that names the file and what was expected.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from responserank.errors import InputFileError

#: The files that make a folder a saved model: full weights, or an adapter on a base model.
MODEL_CONFIGS = ("config.json", "adapter_config.json")
#: JSON files of a saved model and its tokenizer that must parse when present.
JSON_FILES = (
    *MODEL_CONFIGS,
    "tokenizer_config.json",
    "tokenizer.json",
    "special_tokens_map.json",
    "model.safetensors.index.json",
)
#: Weight files of full weights (one of them must be there beside ``config.json``).
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "model*.bin")
#: Bytes of the little-endian header length at the start of a safetensors file.
HEADER_LENGTH_BYTES = 8


def _check_json(path: Path) -> None:
    try:
        value = json.loads(path.read_bytes().decode("utf-8"))
    except (ValueError, OSError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InputFileError(
            f"{path}: not valid JSON ({exc}); the saved model is truncated or damaged: save or "
            "copy it again"
        ) from exc
    if not isinstance(value, dict):
        raise InputFileError(f"{path}: expected a JSON object, got {type(value).__name__}")


def check_safetensors(path: Path) -> None:
    """Raise InputFileError when ``path`` is not a whole safetensors file: its header (an 8-byte
    length, then JSON naming each tensor's byte range) must parse and the file must be as long as
    the header says."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        prefix = handle.read(HEADER_LENGTH_BYTES)
        if len(prefix) < HEADER_LENGTH_BYTES:
            raise InputFileError(f"{path}: {size} bytes, too short for a safetensors file")
        (header_length,) = struct.unpack("<Q", prefix)
        if HEADER_LENGTH_BYTES + header_length > size:
            raise InputFileError(
                f"{path}: truncated safetensors file ({size} bytes, its header alone needs "
                f"{HEADER_LENGTH_BYTES + header_length}); save or copy the model again"
            )
        try:
            header = json.loads(handle.read(header_length).decode("utf-8"))
            ends = [
                int(entry["data_offsets"][1])
                for key, entry in header.items()
                if key != "__metadata__"
            ]
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise InputFileError(f"{path}: damaged safetensors header ({exc})") from exc
    expected = HEADER_LENGTH_BYTES + header_length + max(ends, default=0)
    if size != expected:
        raise InputFileError(
            f"{path}: truncated or damaged safetensors file ({size} bytes, its header describes "
            f"{expected}); save or copy the model again"
        )


def check_model_folder(model_dir: Path) -> None:
    """Check that ``model_dir`` holds a saved model whose JSON files and safetensors weights are
    whole (see the module docstring); does not load anything.

    Raises:
        InputFileError: the folder is missing or holds no saved model, or one of its files is
            truncated or damaged; the message names the file.
    """
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise InputFileError(
            f"{model_dir}: no such folder; expected a saved reward model "
            f"({' or '.join(MODEL_CONFIGS)})"
        )
    if not any((model_dir / name).is_file() for name in MODEL_CONFIGS):
        raise InputFileError(
            f"{model_dir} holds no saved model (expected {' or '.join(MODEL_CONFIGS)})"
        )
    for name in JSON_FILES:
        if (model_dir / name).is_file():
            _check_json(model_dir / name)
    full = not (model_dir / "adapter_config.json").is_file()
    if full and not any(any(model_dir.glob(pattern)) for pattern in WEIGHT_PATTERNS):
        raise InputFileError(
            f"{model_dir}: config.json but no weights file ({', '.join(WEIGHT_PATTERNS)}); the "
            "save did not finish: save or copy the model again"
        )
    for weights in sorted(model_dir.glob("*.safetensors")):
        check_safetensors(weights)
