"""``generate`` on a hand-made cache: every file, table values, tests against scipy, missing data."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest
from analysis_helpers import SEEDS, synthetic_results, write_cache_dir
from scipy import stats

from responserank.errors import CacheError
from responserank.llm.analysis.cache import (
    load_cache,
    to_csv,
)
from responserank.llm.analysis.cli import main
from responserank.llm.analysis.generate import generate
from responserank.llm.analysis.registry import load_registry
from responserank.llm.analysis.studies import comparison_pairs, derive_studies
from responserank.stats import holm_adjust

HELDOUT = "eval/heldout/accuracy"
RB2 = "eval/rewardbench_v2/overall"


def _values(frame: pd.DataFrame, config: str, fraction: float, metric: str) -> np.ndarray:
    rows = frame[
        (frame["config"] == config) & (frame["fraction"] == fraction) & (frame["metric"] == metric)
    ]
    return rows.sort_values("seed")["value"].to_numpy()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """One ``generate`` run on the full hand-made cache, shared by the read-only tests."""
    root = tmp_path_factory.mktemp("generated")
    cache = write_cache_dir(root / "cache")
    return generate(cache, root / "fig", formats=["png"]), root / "fig" / "llm"


def test_every_figure_and_table_is_written(generated):
    output, out = generated
    expected = {
        "summary.csv",
        "table_fraction_0_25.tex",
        "table_fraction_0_5.tex",
        "table_fraction_1.tex",
        "table_rb2_fraction_0_25.tex",
        "table_rb2_fraction_0_5.tex",
        "table_rb2_fraction_1.tex",
        "paired_tests.csv",
        "paired_tests.tex",
        "fraction_curves.png",
        "baseline_level.csv",
        "rewardbench_v2_categories.png",
        "study_rr_agree_spread.png",
    }
    assert expected <= {p.name for p in out.iterdir()}
    assert {p.name for p in output.written} == {p.name for p in out.iterdir()}
    notes = "\n".join(output.notes)
    assert "bt_lr1em5: registered, but the cache has no runs of it" in notes
    assert "study bt_sensitivity" in notes
    assert "dataset statistics skipped" in notes


def test_fraction_table_cells_equal_a_recomputation(generated):
    _, out = generated
    frame = synthetic_results()
    tex = (out / "table_fraction_1.tex").read_text()
    rows = {
        line.split(" & ")[0]: line.removesuffix(" \\\\").split(" & ")[1:]
        for line in tex.splitlines()
        if " & " in line and not line.startswith("Method")
    }
    assert set(rows) == {"BT", "RR-Agree", "RR-Agree (2)", "RR-Agree (4)"}
    means = {}
    for label, config in (
        ("BT", "bt"),
        ("RR-Agree", "rr_agree"),
        ("RR-Agree (4)", "rr_agree_spread4"),
    ):
        values = 100 * _values(frame, config, 1.0, HELDOUT)
        half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
        means[label] = f"{values.mean():.1f}"
        cell = rows[label][0]
        assert re.fullmatch(rf"\$(\\mathbf{{)?{values.mean():.1f}}}? \\pm {half:.1f}\$", cell), cell
    best = max(means, key=lambda k: float(means[k]))
    assert rows[best][0].startswith("$\\mathbf{")
    assert sum(r[0].startswith("$\\mathbf{") for r in rows.values()) == 1
    summary = pd.read_csv(out / "summary.csv")
    row = summary[(summary["config"] == "rr_agree") & (summary["fraction"] == 0.5)]
    row = row[row["metric"] == RB2].iloc[0]
    values = _values(frame, "rr_agree", 0.5, RB2)
    assert row["mean"] == pytest.approx(values.mean())
    assert row["sd"] == pytest.approx(values.std(ddof=1))
    assert row["n_seeds"] == len(SEEDS)


def test_paired_tests_equal_scipy_and_holm(generated):
    tests = pd.read_csv(generated[1] / "paired_tests.csv")
    frame = synthetic_results()
    assert set(zip(tests["baseline"], tests["other"], strict=True)) == {
        ("bt", "rr_agree"),
        ("rr_agree", "rr_agree_spread2"),
        ("rr_agree", "rr_agree_spread4"),
    }
    assert (tests["fraction"] == 1.0).all()
    for row in tests.itertuples():
        a = _values(frame, row.baseline, 1.0, row.metric)
        b = _values(frame, row.other, 1.0, row.metric)
        reference = stats.ttest_rel(b, a)
        assert row.t_statistic == pytest.approx(reference.statistic)
        assert row.t_p == pytest.approx(reference.pvalue)
        diff = b - a
        assert row.cohens_dz == pytest.approx(diff.mean() / diff.std(ddof=1))
        assert row.n_pairs == len(SEEDS)
        levene = stats.levene(a, b)
        assert row.levene_p == pytest.approx(levene.pvalue)
    assert tests["t_p_holm"].tolist() == pytest.approx(holm_adjust(tests["t_p"].tolist()))
    assert tests["levene_p_holm"].tolist() == pytest.approx(holm_adjust(tests["levene_p"].tolist()))


def test_pairing_is_by_seed(cache_dir, tmp_path):
    frame = synthetic_results()
    # rr_agree loses seed 43 and gains 45 and 46: the t-test pairs the shared seeds 42 and 44,
    # Levene compares all runs (3 vs 4)
    extra = frame[(frame["config"] == "rr_agree") & (frame["seed"] == 43)]
    changed = pd.concat(
        [
            frame[~((frame["config"] == "rr_agree") & (frame["seed"] == 43))],
            extra.assign(seed=45, value=extra["value"] + 0.02),
            extra.assign(seed=46, value=extra["value"] - 0.03),
        ]
    )
    (cache_dir / "results.csv").write_text(to_csv(changed))
    generate(cache_dir, tmp_path / "fig", formats=["png"])
    tests = pd.read_csv(tmp_path / "fig" / "llm" / "paired_tests.csv")
    row = tests[(tests["other"] == "rr_agree") & (tests["metric"] == HELDOUT)].iloc[0]

    def by_seed(config):
        rows = changed[
            (changed["config"] == config)
            & (changed["fraction"] == 1.0)
            & (changed["metric"] == HELDOUT)
        ]
        return rows.set_index("seed")["value"].sort_index()

    bt, rr = by_seed("bt"), by_seed("rr_agree")
    assert row.n_pairs == 2
    assert row.t_p == pytest.approx(stats.ttest_rel(rr.loc[[42, 44]], bt.loc[[42, 44]]).pvalue)
    assert row.levene_p == pytest.approx(stats.levene(bt.to_numpy(), rr.to_numpy()).pvalue)


def test_baseline_level_crossing_is_the_linear_interpolation(generated):
    reaches = pd.read_csv(generated[1] / "baseline_level.csv")
    row = reaches[(reaches["config"] == "rr_agree") & (reaches["metric"] == HELDOUT)].iloc[0]
    frame = synthetic_results()
    level = 100 * _values(frame, "bt", 1.0, HELDOUT).mean()
    means = [100 * _values(frame, "rr_agree", f, HELDOUT).mean() for f in (0.25, 0.5, 1.0)]
    assert row.baseline_level_percent == pytest.approx(level)
    # by construction RR-Agree crosses BT's full-data level between 0.5 and 1.0
    assert means[1] < level <= means[2]
    expected = 0.5 + (level - means[1]) / (means[2] - means[1]) * 0.5
    assert row.reaches_at_fraction == pytest.approx(expected)


def test_only_some_metrics_renders_what_it_can(cache_dir, tmp_path, capsys):
    frame = synthetic_results()
    (cache_dir / "results.csv").write_text(to_csv(frame[frame["metric"] == HELDOUT]))
    assert main(["generate", str(cache_dir), str(tmp_path / "fig"), "--formats", "png"]) == 0
    printed = capsys.readouterr().out
    assert (
        "missing: fraction curves, tables and tests: no run has eval/rewardbench_v1/overall"
        in printed
    )
    assert "missing: RewardBench v2 category grid" in printed
    names = {p.name for p in (tmp_path / "fig" / "llm").iterdir()}
    assert "fraction_curves.png" in names
    assert not any(name.startswith(("rewardbench_v2", "table_rb2")) for name in names)
    tex = (tmp_path / "fig" / "llm" / "table_fraction_1.tex").read_text()
    assert "RewardBench" not in tex


def test_studies_and_pairs_derived_from_names(cache_dir):
    registry = load_registry(cache_dir / "registry.yaml")
    studies = derive_studies(registry)
    assert set(studies) == {"rr_agree_spread", "bt_sensitivity"}
    assert studies["rr_agree_spread"].all_members == (
        "rr_agree",
        "rr_agree_spread2",
        "rr_agree_spread4",
    )
    assert studies["bt_sensitivity"].all_members == ("bt", "bt_lr1em5")
    assert comparison_pairs(registry, [studies["rr_agree_spread"]]) == [
        ("bt", "rr_agree"),
        ("rr_agree", "rr_agree_spread2"),
        ("rr_agree", "rr_agree_spread4"),
    ]


def test_malformed_cache_names_file_row_and_column(cache_dir, tmp_path):
    frame = synthetic_results()
    frame["value"] = frame["value"].astype(object)
    frame.loc[3, "value"] = "high"
    (cache_dir / "results.csv").write_text(to_csv(frame))
    with pytest.raises(CacheError, match=r"results\.csv, row 4, column 'value': expected a finite"):
        load_cache(cache_dir)
    doubled = pd.concat([synthetic_results(), synthetic_results().iloc[:1]])
    (cache_dir / "results.csv").write_text(to_csv(doubled))
    with pytest.raises(CacheError, match="appear more than once"):
        load_cache(cache_dir)
    assert main(["generate", str(tmp_path / "nowhere"), str(tmp_path / "fig")]) == 2


def test_score_outside_its_range_is_refused_naming_row_and_metric(cache_dir, tmp_path, capsys):
    frame = synthetic_results()
    row = int(frame.index[frame["metric"] == "eval/heldout/accuracy"][1])
    frame.loc[row, "value"] = 7.5
    (cache_dir / "results.csv").write_text(to_csv(frame))
    assert main(["generate", str(cache_dir), str(tmp_path / "fig")]) == 2
    message = capsys.readouterr().err
    assert (
        f"results.csv, row {row + 1}, column 'value': metric 'eval/heldout/accuracy' is a score "
        "in [0, 1], got 7.5 (1 rows outside)"
    ) in message
    assert not (tmp_path / "fig").exists()


@pytest.mark.skipif(shutil.which("latex") is not None, reason="LaTeX is installed here")
def test_usetex_without_latex_fails_before_writing(cache_dir, tmp_path, capsys):
    assert main(["generate", str(cache_dir), str(tmp_path / "fig"), "--usetex"]) == 2
    assert "usetex needs a LaTeX installation" in capsys.readouterr().err
    assert not (tmp_path / "fig").exists()
