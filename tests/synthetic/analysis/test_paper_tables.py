"""The committed synthetic tables in paper/figures match the committed results they come from."""

from __future__ import annotations

from pathlib import Path

import pytest

from responserank.synthetic.analysis.dataset_results import GROUPS, METRICS
from responserank.synthetic.analysis.generate import read_dataset_results
from responserank.synthetic.analysis.learner_tests import compare_learners
from responserank.synthetic.analysis.tables import metric_table, wilcoxon_csv, wilcoxon_table

REPO_ROOT = Path(__file__).resolve().parents[3]
RESULTS = REPO_ROOT / "results" / "synthetic"
FIGURES = REPO_ROOT / "paper" / "figures"


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.name)
def test_committed_tables_are_current(group):
    files = [RESULTS / f"{dataset}.json" for dataset in group.datasets]
    if not all(path.is_file() for path in files) or not FIGURES.is_dir():
        pytest.skip("committed results or paper figures not present")
    datasets = [read_dataset_results(path) for path in files]
    stem = FIGURES / f"synthetic_{group.name}"
    hint = "re-run: python -m responserank.synthetic.analysis.cli generate results/synthetic paper/figures"
    for metric in METRICS:
        committed = Path(f"{stem}_{metric.short}_table.tex").read_text(encoding="utf-8")
        assert committed == metric_table(group, datasets, metric), hint
    comparisons, _ = compare_learners(datasets)
    committed = Path(f"{stem}_wilcoxon.tex").read_text(encoding="utf-8")
    assert committed == wilcoxon_table(group, comparisons, METRICS), hint
    committed = Path(f"{stem}_wilcoxon.csv").read_text(encoding="utf-8")
    assert committed == wilcoxon_csv(comparisons), hint
