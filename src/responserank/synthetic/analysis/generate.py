"""Render every synthetic figure and table from a folder of collected per-dataset results.

Each dataset group (with / without stratum variability) is rendered from whichever of its datasets
are present, so a partial grid still gives figures; what is missing is reported, not guessed.
"""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from responserank.atomic_io import write_text_atomic
from responserank.errors import NoResultsError, ResultsFormatError
from responserank.plotting import save_figure, style_context
from responserank.synthetic.analysis.dataset_results import (
    GROUPS,
    METRICS,
    DatasetGroup,
    DatasetResults,
    parse_results,
)
from responserank.synthetic.analysis.figures import (
    FOCUS_LEARNER,
    REFERENCE_LEARNER,
    LevelReach,
    boxplot_figure,
    confusion_figure,
    kendall_figure,
    size_curves_figure,
)
from responserank.synthetic.analysis.learner_tests import SkippedTest, compare_learners
from responserank.synthetic.analysis.tables import metric_table, wilcoxon_csv, wilcoxon_table
from responserank.synthetic.results import read_results

FILE_PREFIX = "synthetic"


@dataclass
class GenerateReport:
    """What ``generate`` wrote, which expected results files were absent, and what it skipped.

    ``missing``: absent files of groups that are drawn from their other datasets;
    ``absent_groups``: groups without any dataset (name, expected files), not drawn;
    ``lacking``: ``<file>: <key path>`` of what a present file lacks (its panels, cells and tests
    are left out); ``nan_trials``: ``<file>: <key path>: k of n trials NaN`` (left out of means,
    boxes and tests, counted here); ``skipped_tests``: paired tests that could not run.
    """

    written: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    absent_groups: list[tuple[str, list[Path]]] = field(default_factory=list)
    lacking: list[str] = field(default_factory=list)
    nan_trials: list[str] = field(default_factory=list)
    skipped_tests: list[SkippedTest] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """Tests skipped for a metric a present learner lacks, one line each."""
        return [test.describe() for test in self.skipped_tests if not test.absent]

    def absence_summary(self) -> str | None:
        """One line for everything left out because these results never had it: groups without
        a dataset, and the learners whose paired tests were skipped (None when nothing was)."""
        parts = [
            f"{name}: no dataset present ({', '.join(path.name for path in files)})"
            for name, files in self.absent_groups
        ]
        absent = [test for test in self.skipped_tests if test.absent]
        if absent:
            learners = sorted({name for test in absent for name in test.absent})
            parts.append(
                f"learners {', '.join(learners)}: no results, {len(absent)} paired tests skipped"
            )
        return "; ".join(parts) or None


def read_dataset_results(path: Path) -> DatasetResults:
    """Load, validate and convert ``<cache>/<dataset>.json`` (either layout); its metadata must
    name that dataset (a published display name maps to the key, ``results_layout``)."""
    normalised = read_results(path)
    results = parse_results(normalised.results, path)
    if normalised.missing:
        results = dataclasses.replace(results, missing=(*normalised.missing, *results.missing))
    if results.dataset != path.stem:
        raise ResultsFormatError.at(
            path,
            "metadata.dataset",
            f"expected {path.stem!r} (the file name), got {results.dataset!r}",
        )
    return results


def _trial_count(results: DatasetResults) -> int:
    return len(next(iter(results.metrics.values()))) if results.metrics else 0


def _reach_csv(reaches: Sequence[tuple[str, str, LevelReach]]) -> str:
    rows = [
        {
            "dataset": dataset,
            "metric": metric,
            "reference": REFERENCE_LEARNER,
            "reference_full_mean": reach.level,
            "learner": FOCUS_LEARNER,
            "reached_at_fraction": math.nan if reach.size is None else reach.size,
            "note": reach.describe(),
        }
        for dataset, metric, reach in reaches
    ]
    columns = [
        "dataset",
        "metric",
        "reference",
        "reference_full_mean",
        "learner",
        "reached_at_fraction",
        "note",
    ]
    buffer = io.StringIO()
    pd.DataFrame(rows, columns=columns).to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def _render_group(
    group: DatasetGroup, datasets: list[DatasetResults], fig_dir: Path, report: GenerateReport
) -> None:
    stem = fig_dir / f"{FILE_PREFIX}_{group.name}"
    written = report.written
    written += save_figure(boxplot_figure(datasets, METRICS), f"{stem}_boxplots")
    for metric in METRICS:
        text = metric_table(group, datasets, metric)
        written.append(write_text_atomic(f"{stem}_{metric.short}_table.tex", text))

    comparisons, skipped = compare_learners(datasets)
    report.skipped_tests += skipped
    written.append(
        write_text_atomic(f"{stem}_wilcoxon.tex", wilcoxon_table(group, comparisons, METRICS))
    )
    written.append(write_text_atomic(f"{stem}_wilcoxon.csv", wilcoxon_csv(comparisons)))

    figure, reaches = size_curves_figure(datasets, METRICS)
    written += save_figure(figure, f"{stem}_dataset_size")
    written.append(write_text_atomic(f"{stem}_bt_level.csv", _reach_csv(reaches)))

    with_tau = [r for r in datasets if r.kendall_tau is not None]
    with_confusion = [r for r in datasets if r.confusion is not None]
    if with_tau:
        written += save_figure(kendall_figure(with_tau), f"{stem}_kendall_tau")
    if with_confusion:
        written += save_figure(confusion_figure(with_confusion), f"{stem}_confusion")


def generate(
    cache_dir: Path,
    fig_dir: Path,
    *,
    usetex: bool = False,
    groups: Sequence[DatasetGroup] = GROUPS,
    progress: Callable[[str], None] = print,
) -> GenerateReport:
    """Render the figures and tables of every group with at least one results file in ``cache_dir``.

    Raises ``NoResultsError`` when not a single expected ``<dataset>.json`` exists.
    """
    cache_dir, fig_dir = Path(cache_dir), Path(fig_dir)
    if not cache_dir.is_dir():
        raise NoResultsError(f"results folder {cache_dir} does not exist")
    report = GenerateReport()
    loaded: list[tuple[DatasetGroup, list[DatasetResults]]] = []
    expected: list[Path] = []
    for group in groups:
        present, absent = [], []
        for dataset in group.datasets:
            path = cache_dir / f"{dataset}.json"
            if path.is_file():
                results = read_dataset_results(path)
                present.append(results)
                report.lacking += [f"{path}: {key}" for key in results.missing]
                report.nan_trials += [
                    f"{path}: {key}: {count} of {_trial_count(results)} trials NaN"
                    for key, count in results.nan_trials.items()
                ]
            else:
                absent.append(path)
        expected += absent
        if present:
            report.missing += absent
        else:
            report.absent_groups.append((group.name, absent))
        loaded.append((group, present))
    if not any(present for _, present in loaded):
        names = ", ".join(str(path.name) for path in expected)
        raise NoResultsError(f"no results files in {cache_dir}; expected any of: {names}")

    with style_context(usetex=usetex):
        for group, present in loaded:
            if not present:
                continue
            progress(f"rendering {group.name}: {', '.join(r.dataset for r in present)}")
            _render_group(group, present, fig_dir, report)
    return report
