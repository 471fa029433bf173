"""One reader for both layouts of a synthetic results file: this project's and the published one's.

The published runner writes the same structure (``responserank.synthetic.results``) with four
differences, which ``normalise_layout`` turns into this project's layout before validation:

- ``metadata.dataset`` holds a display name ("Stochastic", "Drift Diffusion") instead of the
  dataset key;
- ``metadata.master_seed`` is absent (and ``metadata.timestamp`` present);
- ``dataset_metrics.test_confusion_matrix`` entries have ``"type": "confusion_matrix"`` (here
  ``"matrix"``);
- ``dataset_metrics.test_abs_logit_diff_rt_kendall_tau`` entries have ``"type": "histogram"`` with
  ``value = {"x": [tau], "range": [low, high]}`` (here a scalar ``tau``).

What a file lacks is returned as ``missing`` key paths, so readers can list it instead of failing.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from responserank.errors import ResultsFormatError

PROJECT = "project"
PUBLISHED = "published"

# Dataset key -> display name of the base dataset; the "_no_variability" ablations share it.
DATASET_DISPLAY_NAMES: dict[str, str] = {
    "deterministic_all": "Deterministic",
    "stochastic": "Stochastic",
    "drift_diffusion": "Drift-diffusion",
}
ABLATION_SUFFIX = "_no_variability"
PUBLISHED_MATRIX_TYPE = "confusion_matrix"
PUBLISHED_HISTOGRAM_TYPE = "histogram"


@dataclass
class Normalised:
    """A results dict in this project's layout, the layout it was read from, and what it lacks."""

    results: dict[str, Any]
    layout: str
    missing: list[str] = field(default_factory=list)


def _words(name: str) -> tuple[str, ...]:
    """The lower-case words of a name: "Drift Diffusion", "Drift-diffusion" and
    "drift_diffusion" all give ("drift", "diffusion")."""
    return tuple(re.findall(r"[0-9a-z]+", name.casefold()))


def _base_dataset(name: str) -> str | None:
    """The base dataset key a key or display name stands for, spelled in any case and with any
    separators between its words; None for a name that is neither."""
    words = _words(name)
    for base, label in DATASET_DISPLAY_NAMES.items():
        if words in (_words(label), _words(base)):
            return base
    return None


def dataset_key(name: str, path: Path) -> str:
    """The dataset key of ``metadata.dataset``: a key stays, a display name maps to its key.

    Display names are matched by their words, whatever the case and separators: the published
    files write "Drift Diffusion" where this project's table says "Drift-diffusion". A display
    name is shared by a dataset and its no-variability ablation; the file name (e.g.
    ``stochastic_no_variability.json``) decides between them. A name spelling the file name's
    words ("Stochastic No Variability") maps to the file name. Any other name is returned as it
    is (the caller checks it against the file name).
    """
    if name != path.stem and _words(name) == _words(path.stem):
        return path.stem
    base = _base_dataset(name)
    if base is not None:
        return path.stem if path.stem in (base, base + ABLATION_SUFFIX) else base
    return name


def _is_display_name(name: Any) -> bool:
    """A known dataset's display name (in any spelling), not one of this project's keys."""
    return isinstance(name, str) and name not in DATASET_DISPLAY_NAMES and bool(_base_dataset(name))


def _is_published(results: Mapping[str, Any]) -> bool:
    metadata = results.get("metadata")
    if isinstance(metadata, Mapping) and _is_display_name(metadata.get("dataset")):
        return True
    dataset_metrics = results.get("dataset_metrics")
    if not isinstance(dataset_metrics, Mapping):
        return False
    return any(
        isinstance(entry, Mapping)
        and entry.get("type") in (PUBLISHED_MATRIX_TYPE, PUBLISHED_HISTOGRAM_TYPE)
        for entries in dataset_metrics.values()
        if isinstance(entries, list)
        for entry in entries
    )


def _histogram_value(entry: Mapping[str, Any], path: Path, key_path: str) -> Any:
    value = entry.get("value")
    points = value.get("x") if isinstance(value, Mapping) else None
    if not isinstance(points, list) or len(points) != 1:
        raise ResultsFormatError.at(
            path,
            f"{key_path}.value",
            f"expected {{'x': [one value], 'range': [...]}}, got {value!r}",
        )
    return points[0]


def _normalise_entries(entries: Any, path: Path, key_path: str) -> Any:
    if not isinstance(entries, list):
        return entries
    converted = []
    for index, entry in enumerate(entries):
        if isinstance(entry, Mapping) and entry.get("type") == PUBLISHED_MATRIX_TYPE:
            entry = {**entry, "type": "matrix"}
        elif isinstance(entry, Mapping) and entry.get("type") == PUBLISHED_HISTOGRAM_TYPE:
            value = _histogram_value(entry, path, f"{key_path}[{index}]")
            entry = {**entry, "type": "scalar", "value": value}
        converted.append(entry)
    return converted


def normalise_layout(raw: Any, path: Path) -> Normalised:
    """``raw`` (a parsed results file) in this project's layout; the input is left unchanged.

    A file of this project's layout comes back as it is. Structural errors are left to the schema
    check that follows (``results.validate_results``).
    """
    path = Path(path)
    if not isinstance(raw, Mapping) or not _is_published(raw):
        return Normalised(raw, PROJECT)
    results = copy.deepcopy(dict(raw))
    metadata = results.get("metadata")
    missing: list[str] = []
    if isinstance(metadata, dict):
        if isinstance(metadata.get("dataset"), str):
            metadata["dataset"] = dataset_key(metadata["dataset"], path)
        if "master_seed" not in metadata:
            missing.append("metadata.master_seed (the grid cannot be rerun bit for bit)")
    dataset_metrics = results.get("dataset_metrics")
    if isinstance(dataset_metrics, dict):
        for name, entries in dataset_metrics.items():
            dataset_metrics[name] = _normalise_entries(entries, path, f"dataset_metrics.{name}")
    return Normalised(results, PUBLISHED, missing)
