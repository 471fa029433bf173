"""Render every LLM figure and table from a cache folder into ``FIG_DIR/llm/``.

Whatever is present is rendered; everything left out (a metric no run has, a registered
configuration without runs, a cell with too few seeds for a band, no dataset annotations) becomes
a note that the command prints.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from responserank.atomic_io import write_text_atomic
from responserank.llm.analysis.cache import REGISTRY_FILE, load_cache, to_csv
from responserank.llm.analysis.dataset_stats import (
    ANNOTATIONS_FILE,
    per_annotator_rhos,
    read_annotations,
    rt_correlations,
)
from responserank.llm.analysis.figures import (
    Reach,
    category_grid_figure,
    fraction_curves_figure,
    rho_histogram_figure,
    study_figure,
)
from responserank.llm.analysis.metrics import HEADLINE, RB2_CATEGORIES, Metric
from responserank.llm.analysis.registry import Registry, Study, load_registry
from responserank.llm.analysis.runs_table import Results
from responserank.llm.analysis.studies import all_studies, comparison_pairs
from responserank.llm.analysis.tables import (
    compare_pairs,
    comparisons_frame,
    comparisons_table,
    correlations_table,
    fraction_table,
    summary_frame,
)
from responserank.plotting import (
    FIGURE_FORMATS,
    MIN_BAND_SAMPLES,
    data_caption,
    save_figure,
    style_context,
)

LOG = logging.getLogger(__name__)
OUTPUT_SUBDIR = "llm"
VARIABLE_LABELS = {"length_chars": "text length", "consensus": "consensus"}


@dataclass
class Output:
    written: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _fraction_stem(fraction: float) -> str:
    return f"{fraction:g}".replace(".", "_")


def _present(results: Results, registry: Registry, output: Output) -> list[str]:
    found = set(results.configs())
    for name in sorted(found - set(registry.configs)):
        output.notes.append(f"{name}: in the results but not in the registry; left out")
    for name in registry.configs:
        if name not in found:
            output.notes.append(f"{name}: registered, but the cache has no runs of it")
    return [name for name in registry.configs if name in found]


def _metrics(
    results: Results, candidates: Sequence[Metric], what: str, output: Output
) -> list[Metric]:
    present = [m for m in candidates if results.has_metric(m.key)]
    absent = [m.key for m in candidates if m not in present]
    if absent:
        output.notes.append(f"{what}: no run has {', '.join(absent)}; left out")
    return present


def _single_seed_notes(results: Results, configs: Sequence[str], metrics: Sequence[Metric]):
    for name in configs:
        for metric in metrics:
            for fraction in results.fractions(name, metric.key):
                seeds = results.values(name, fraction, metric.key).size
                if seeds < MIN_BAND_SAMPLES:
                    what = "a single seed" if seeds == 1 else f"{seeds} seeds"
                    yield (
                        f"{name} at fraction {fraction}, {metric.key}: {what}, so no confidence "
                        f"band (drawn from {MIN_BAND_SAMPLES} seeds on)"
                    )


def _reach_frame(reaches: Sequence[Reach]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "metric": r.metric,
                "config": r.config,
                "baseline": r.baseline,
                "baseline_fraction": r.baseline_fraction,
                "baseline_level_percent": r.reach.level,
                "reaches_at_fraction": r.reach.size,
                "at_smallest_fraction": r.reach.at_smallest,
                "description": r.reach.describe(),
            }
            for r in reaches
        ]
    )


def _studies(
    results: Results, registry: Registry, present: Sequence[str], fraction: float, output: Output
) -> list[Study]:
    drawable = []
    for study in all_studies(registry).values():
        members = [
            m
            for m in study.all_members
            if m in present and any(fraction in results.fractions(m, k.key) for k in HEADLINE)
        ]
        if len(members) >= 2:
            drawable.append(Study(study.name, study.title, members[0], tuple(members[1:])))
        else:
            output.notes.append(
                f"study {study.name}: fewer than two of {list(study.all_members)} have runs at "
                f"fraction {fraction}; no bar chart"
            )
    if not drawable:
        output.notes.append(
            "no ablation or sensitivity study to draw (define `studies` in the registry or "
            "register presets named <base>_<knob><value>)"
        )
    return drawable


def _captioned(figure: Figure, note: str | None) -> Figure:
    """``figure`` with a line saying where its data comes from, when the cache says (meta.json
    ``data_note``: e.g. runs on a generated fixture, not human preferences)."""
    if note:
        data_caption(figure, f"Data: {note}")
    return figure


def _dataset_statistics(
    cache_dir: Path, out_dir: Path, formats, output: Output, note: str | None = None
) -> None:
    path = cache_dir / ANNOTATIONS_FILE
    if not path.is_file():
        output.notes.append(
            f"dataset statistics skipped: {path.name} is not in the cache (collect with --dataset "
            "PATH, a local MultiPref-schema copy)"
        )
        return
    table = read_annotations(path)
    correlations = rt_correlations(table)
    frame = pd.DataFrame([c.as_row() for c in correlations])
    output.written.append(write_text_atomic(out_dir / "dataset_rt_correlations.csv", to_csv(frame)))
    output.written.append(
        write_text_atomic(
            out_dir / "dataset_rt_correlations.tex",
            correlations_table(correlations, VARIABLE_LABELS),
        )
    )
    rhos = {variable: per_annotator_rhos(table, variable) for variable in VARIABLE_LABELS}
    figure = _captioned(rho_histogram_figure(rhos, VARIABLE_LABELS), note)
    output.written += save_figure(figure, out_dir / "dataset_rt_correlations", formats)


def generate(
    cache_dir: Path,
    fig_dir: Path,
    registry_path: Path | None = None,
    formats: Sequence[str] = FIGURE_FORMATS,
    usetex: bool = False,
) -> Output:
    """Write every figure and table that the cached data supports; return paths and notes."""
    cache = load_cache(cache_dir)
    registry = load_registry(registry_path or cache_dir / REGISTRY_FILE)
    registry.register_styles()
    results = Results(cache.results[cache.results["config"].isin(list(registry.configs))])
    output = Output(warnings=list(registry.warnings))
    out_dir = fig_dir / OUTPUT_SUBDIR
    present = _present(results, registry, output)
    if not present:
        output.notes.append("nothing to draw: no registered configuration has runs")
        return output
    main = [name for name in registry.main if name in present]
    headline = _metrics(results, HEADLINE, "fraction curves, tables and tests", output)
    categories = _metrics(results, RB2_CATEGORIES, "RewardBench v2 category grid", output)
    output.notes += list(_single_seed_notes(results, present, [*headline, *categories]))
    full = results.all_fractions()[-1]

    summary = summary_frame(results, registry, present, [*headline, *categories])
    output.written.append(write_text_atomic(out_dir / "summary.csv", to_csv(summary)))
    for fraction in results.all_fractions():
        at = [n for n in present if (summary[summary["config"] == n]["fraction"] == fraction).any()]
        for metrics, stem in ((headline, "table_fraction"), (categories, "table_rb2_fraction")):
            if metrics:
                text = fraction_table(summary, registry, at, metrics, fraction)
                path = out_dir / f"{stem}_{_fraction_stem(fraction)}.tex"
                output.written.append(write_text_atomic(path, text))

    studies = _studies(results, registry, present, full, output)
    pairs = [
        (a, b) for a, b in comparison_pairs(registry, studies) if a in present and b in present
    ]
    comparisons, notes = compare_pairs(results, pairs, headline, full)
    output.notes += notes
    if comparisons:
        output.written.append(
            write_text_atomic(out_dir / "paired_tests.csv", to_csv(comparisons_frame(comparisons)))
        )
        output.written.append(
            write_text_atomic(
                out_dir / "paired_tests.tex", comparisons_table(comparisons, registry, headline)
            )
        )

    note = cache.meta.get("data_note")
    with style_context(usetex=usetex):
        if main and headline:
            figure, reaches = fraction_curves_figure(results, registry, main, headline)
            figure = _captioned(figure, note)
            output.written += save_figure(figure, out_dir / "fraction_curves", formats)
            if reaches:
                output.written.append(
                    write_text_atomic(out_dir / "baseline_level.csv", to_csv(_reach_frame(reaches)))
                )
        if main and categories:
            figure = _captioned(category_grid_figure(results, registry, main, categories), note)
            output.written += save_figure(figure, out_dir / "rewardbench_v2_categories", formats)
        for study in studies:
            figure = _captioned(study_figure(results, registry, study, headline, full), note)
            output.written += save_figure(figure, out_dir / f"study_{study.name}", formats)
        _dataset_statistics(cache_dir, out_dir, formats, output, note)
    for path in output.written:
        LOG.info("wrote %s", path)
    return output
