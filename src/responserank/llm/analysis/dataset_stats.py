"""How response time relates to text length and to annotator consensus in MultiPref-schema data.

ResponseRank only helps if response time carries strength information beyond reading effort, so the
paper reports two Spearman correlations: response time vs. total text length (reading cost), and
response time vs. consensus (mean preference of all annotators of the comparison, oriented to the
side this annotation chose) within each annotator, which removes each person's own pace.

``annotation_table`` reads a local copy of a MultiPref-schema dataset (hub layout, e.g. the one
``python -m responserank.testing.fixtures`` writes) into one row per annotation; ``collect`` caches
it as ``dataset_annotations.csv`` so ``generate`` needs no data. ``rt_correlations`` computes the
statistics from that table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from responserank.llm.data.signals.agreement import agreement_statistics
from responserank.llm.data.signals.labels import SIDE
from responserank.llm.data.sources.multipref import DEFAULT_CONFIG, LOCAL_FOLDERS
from responserank.llm.data.sources.multipref_schema import parse_default
from responserank.llm.data.sources.raw_rows import find_config_folder, read_local_config
from responserank.reading import read_csv
from responserank.stats import summarize

ANNOTATIONS_FILE = "dataset_annotations.csv"
#: Tag in a dataset card's front matter that marks generated (not human) preference data; the
#: fixture generator sets it, and figures drawn from such runs say so.
GENERATED_DATA_TAG = "generated-data"
ANNOTATION_COLUMNS: tuple[str, ...] = (
    "annotator",
    "annotator_type",
    "response_time",
    "length_chars",
    "consensus",
)
#: Annotators with fewer usable annotations get no within-annotator correlation.
MIN_ANNOTATIONS = 10
SLIGHT_PREFERENCE_VALUE = 0.5


def annotation_table(path: Path) -> pd.DataFrame:
    """One row per annotation of config ``default`` of the local copy at ``path``.

    ``length_chars``: characters of prompt and both responses; ``consensus``: the comparison's mean
    preference (+1 clearly, +0.5 slightly, 0 tie, over all its annotations) oriented to the side
    this annotation prefers; empty for a Tie annotation, which prefers no side.
    """
    raw = read_local_config(find_config_folder(Path(path), LOCAL_FOLDERS[DEFAULT_CONFIG]))
    tables = parse_default(raw)
    annotations = tables.annotations
    agreement = agreement_statistics(
        annotations["comparison"],
        annotations["label"],
        SLIGHT_PREFERENCE_VALUE,
        ties_in_total=False,
    )
    comparisons = tables.comparisons
    length = (
        comparisons["text"].str.len()
        + comparisons["completion_a"].str.len()
        + comparisons["completion_b"].str.len()
    )
    side = annotations["label"].map(SIDE).to_numpy(dtype=float)
    mean_preference = agreement.loc[annotations["comparison"], "mean_preference"].to_numpy()
    consensus = np.where(side == 0, np.nan, side * mean_preference)
    return pd.DataFrame(
        {
            "annotator": annotations["annotator"].to_numpy(),
            "annotator_type": annotations["annotator_type"].to_numpy(),
            "response_time": annotations["response_time"].to_numpy(dtype=float),
            "length_chars": length.to_numpy()[annotations["comparison"].to_numpy()],
            "consensus": consensus,
        }
    )


@dataclass(frozen=True)
class Correlation:
    """Spearman's rho of response time vs. one variable: pooled, and within each annotator."""

    variable: str
    n: int
    pooled_rho: float
    pooled_p: float
    annotators: int
    mean_rho: float
    ci_low: float
    ci_high: float
    median_rho: float
    share_negative: float

    def as_row(self) -> dict[str, float | int | str]:
        return dict(vars(self))


def _spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan
    result = stats.spearmanr(x, y)
    return float(result.statistic), float(result.pvalue)


def correlation(
    table: pd.DataFrame, variable: str, min_annotations: int = MIN_ANNOTATIONS
) -> Correlation:
    """Response time vs. ``variable`` over the rows where both are present.

    Within-annotator: Spearman's rho per annotator with at least ``min_annotations`` rows (and
    spread in both variables); the mean over annotators comes with a 95% t interval.
    """
    usable = table.dropna(subset=["response_time", variable])
    pooled_rho, pooled_p = _spearman(
        usable["response_time"].to_numpy(float), usable[variable].to_numpy(float)
    )
    rhos = per_annotator_rhos(table, variable, min_annotations)
    summary = summarize(rhos)
    return Correlation(
        variable=variable,
        n=len(usable),
        pooled_rho=pooled_rho,
        pooled_p=pooled_p,
        annotators=int(rhos.size),
        mean_rho=summary.mean,
        ci_low=summary.ci_low,
        ci_high=summary.ci_high,
        median_rho=float(np.median(rhos)) if rhos.size else math.nan,
        share_negative=float((rhos < 0).mean()) if rhos.size else math.nan,
    )


def per_annotator_rhos(
    table: pd.DataFrame, variable: str, min_annotations: int = MIN_ANNOTATIONS
) -> np.ndarray:
    """The within-annotator Spearman rhos that :func:`correlation` averages (for histograms)."""
    usable = table.dropna(subset=["response_time", variable])
    rhos = []
    for _, rows in usable.groupby("annotator", sort=True):
        if len(rows) >= min_annotations:
            rho, _ = _spearman(
                rows["response_time"].to_numpy(float), rows[variable].to_numpy(float)
            )
            if not math.isnan(rho):
                rhos.append(rho)
    return np.asarray(rhos)


def rt_correlations(table: pd.DataFrame) -> list[Correlation]:
    """Response time vs. text length (all annotations) and vs. consensus (non-tie annotations)."""
    return [correlation(table, "length_chars"), correlation(table, "consensus")]


def read_annotations(path: Path) -> pd.DataFrame:
    """The cached annotation table; a missing column or a non-numeric value is an error."""
    frame = read_csv(
        path,
        "the cached annotation table",
        required=ANNOTATION_COLUMNS,
        dtype={"annotator": str, "annotator_type": str},
    )
    missing = [c for c in ANNOTATION_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}")
    for column in ("response_time", "length_chars", "consensus"):
        numeric = pd.to_numeric(frame[column], errors="coerce")
        bad = numeric.isna() & frame[column].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ValueError(
                f"{path}, row {row + 1}, column {column!r}: expected a number, "
                f"got {frame[column].iloc[row]!r}"
            )
        frame[column] = numeric
    return frame[list(ANNOTATION_COLUMNS)]


def generated_data_note(dataset: Path) -> str | None:
    """A caption for figures of runs on ``dataset`` when its card (``README.md`` front matter)
    carries the tag :data:`GENERATED_DATA_TAG`; None for data not marked as generated."""
    card = Path(dataset) / "README.md"
    if not card.is_file():
        return None
    parts = card.read_text(encoding="utf-8").split("---\n")
    if len(parts) < 3 or parts[0]:
        return None
    try:
        front = yaml.safe_load(parts[1]) or {}
    except yaml.YAMLError:
        return None
    tags = front.get("tags") if isinstance(front, dict) else None
    if not isinstance(tags, list) or GENERATED_DATA_TAG not in tags:
        return None
    return f"generated fixture ({Path(dataset).name}), not human preferences"
