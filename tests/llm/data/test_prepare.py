"""prepare_data end to end through the Hydra groups under conf/llm (contract B and C)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from responserank.errors import ConfigError
from responserank.llm.config import data_spec
from responserank.llm.data.prepare import CORE_COLUMNS, prepare_data
from responserank.llm.data.stats import format_stats

CONF = Path(__file__).resolve().parents[3] / "conf" / "llm"
GROUPS = ("signal", "stratifier", "partitioner", "rank_transform", "filter", "sampler", "target")
PACKAGES = {
    "signal": "experiment.train_signal",
    "stratifier": "experiment.train_stratifier",
    "partitioner": "experiment.train_partitioner",
    "rank_transform": "experiment.train_rank_transform",
    "filter": "experiment.train_filter",
    "sampler": "experiment.sampler",
    "target": "experiment.train_target",
}
PRIMARY = """
defaults:
  - dataset: multipref
  - signal: none
  - stratifier: global
  - partitioner: noop
  - rank_transform: none
  - filter: none
  - sampler: annotator
  - target: hard
  - _self_
hydra:
  searchpath:
    - file://{conf}
seed: 42
training:
  max_length: 512
experiment:
  fraction: 1.0
"""


@pytest.fixture
def compose_cfg(tmp_path, multipref_dir):
    """Compose a config from conf/llm's data groups with a minimal primary config."""
    (tmp_path / "config.yaml").write_text(PRIMARY.format(conf=CONF))

    def _compose(*overrides):
        with initialize_config_dir(config_dir=str(tmp_path), version_base="1.3"):
            return compose(
                "config",
                overrides=[f"dataset.path={multipref_dir}", "dataset.test_size=10", *overrides],
            )

    return _compose


def _yaml_options(group):
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("group", GROUPS)
def test_every_option_carries_its_package_and_instantiates(group, compose_cfg):
    for option in _yaml_options(group):
        extra = (
            ["experiment.train_filter.value=Chat"] if (group, option) == ("filter", "field") else []
        )
        cfg = compose_cfg(f"{group}={option}", *extra)
        node = OmegaConf.select(cfg, PACKAGES[group])
        assert node is not None and "_target_" in node, (group, option)
        instantiate(node)


def test_dataset_variants(compose_cfg):
    expected = {
        "multipref": (0.5, False),
        "multipref_tietotal": (0.5, True),
        "multipref_tietotal_s25": (0.25, True),
        "multipref_tietotal_s75": (0.75, True),
    }
    for option, (slight, ties) in expected.items():
        source = instantiate(compose_cfg(f"dataset={option}").dataset)
        assert (source.slight_preference_value, source.ties_in_agreement_total) == (slight, ties)


def test_contract_columns_and_types(compose_cfg, tokenizer):
    cfg = compose_cfg("signal=agreement", "partitioner=round_robin_auto", "target=agreement")
    prepared = prepare_data(data_spec(cfg), tokenizer)
    for table in (prepared.train, prepared.eval):
        assert list(table.columns[: len(CORE_COLUMNS)]) == list(CORE_COLUMNS)
        assert table["partition"].dtype == np.int64
        assert table["rank"].dtype == table["target"].dtype == np.float64
        assert table["reliability"].isna().all()
        assert all(isinstance(v, str) for v in table["prompt"])
    train, evaluation = prepared.train, prepared.eval
    np.testing.assert_allclose(train["rank"], -train["agreement_score"])
    np.testing.assert_allclose(train["target"], 0.5 + 0.5 * train["agreement_score"])
    assert evaluation["rank"].isna().all()
    assert evaluation["partition"].tolist() == list(range(len(evaluation)))
    assert (evaluation["target"] == 1.0).all()
    # round_robin_auto: no two rows of a partition share a rank
    assert not train.duplicated(["partition", "rank"]).any()
    assert set(train["partition"]) == set(range(train["partition"].max() + 1))


def test_bt_preset_makes_every_row_a_singleton(compose_cfg, tokenizer):
    train = prepare_data(data_spec(compose_cfg()), tokenizer).train
    assert train["rank"].isna().all()
    assert train["partition"].tolist() == list(range(len(train)))


def test_annotator_strata_and_round_robin(compose_cfg, tokenizer):
    cfg = compose_cfg(
        "signal=stated_strength",
        "stratifier=annotator",
        "partitioner=round_robin",
        "experiment.train_partitioner.target_size=3",
    )
    train = prepare_data(data_spec(cfg), tokenizer).train
    assert (train["stratum"] == train["annotator"]).all()
    assert (train.groupby("partition")["annotator"].nunique() == 1).all()
    assert train.groupby("partition").size().max() <= 3
    assert set(train["rank"]) <= {0.0, 1.0}


def test_same_seed_same_tables_other_seed_other_tables(compose_cfg, tokenizer):
    overrides = ("signal=real_rt", "partitioner=random_size", "experiment.fraction=0.5")
    first = prepare_data(data_spec(compose_cfg(*overrides)), tokenizer)
    again = prepare_data(data_spec(compose_cfg(*overrides)), tokenizer)
    other = prepare_data(data_spec(compose_cfg(*overrides, "seed=7")), tokenizer)
    pd.testing.assert_frame_equal(first.train, again.train)
    pd.testing.assert_frame_equal(first.eval, again.eval)
    assert first.stats == again.stats
    assert not first.train["comparison_id"].equals(other.train["comparison_id"])


def test_fraction_sampling_and_stats(compose_cfg, tokenizer):
    full = prepare_data(data_spec(compose_cfg("signal=agreement")), tokenizer)
    half = prepare_data(
        data_spec(compose_cfg("signal=agreement", "experiment.fraction=0.5")), tokenizer
    )
    n = len(full.train)
    assert len(half.train) == round(0.5 * n)
    assert half.stats["dropped"]["fraction_sampling"] == n - round(0.5 * n)
    stats = full.stats
    # held-out comparisons whose annotators mostly tied leave the 10-comparison test split
    assert stats["dropped"]["test_common_ties"] > 0
    assert stats["sizes"] == {"train": n, "eval": 10 - stats["dropped"]["test_common_ties"]}
    assert stats["source"]["comparisons_loaded"] == 60
    assert stats["dropped"]["ties"] + n == stats["source"]["train_comparisons"]
    assert stats["train"]["partitions"]["count"] == 1
    assert stats["train"]["partitions"]["size_histogram"] == {str(n): 1}
    assert stats["train"]["signal"]["max"] == pytest.approx(-full.train["agreement_score"].min())
    assert stats["components"]["signal"] == "Agreement()"
    assert stats["components"]["sampler"] == "AnnotatorSampler()"
    assert "partitions:" in format_stats(stats)


def test_random_filter_leaves_singletons(compose_cfg, tokenizer):
    cfg = compose_cfg(
        "signal=agreement", "filter=random_filter", "experiment.train_filter.fraction=0.25"
    )
    prepared = prepare_data(data_spec(cfg), tokenizer)
    train = prepared.train
    removed = round(0.25 * len(train))
    assert train["rank"].isna().sum() == removed == prepared.stats["ranks_removed_by_filter"]
    assert prepared.stats["train"]["partitions"]["singletons"] == removed
    assert prepared.stats["components"]["filter"] == "RandomFilter(fraction=0.25, rounding='round')"


def test_published_filter_order_filters_the_sampled_rows_with_a_floor_count(compose_cfg, tokenizer):
    options = ("signal=agreement", "filter=random_filter", "experiment.train_filter.fraction=0.3")
    ours = prepare_data(data_spec(compose_cfg(*options, "experiment.fraction=0.5")), tokenizer)
    published = prepare_data(
        data_spec(
            compose_cfg(
                *options,
                "experiment.fraction=0.5",
                "+experiment.rank_filter_order=after_sampling",
                "experiment.train_filter.rounding=floor",
            )
        ),
        tokenizer,
    )
    n_sampled = len(published.train)
    assert n_sampled == len(ours.train)
    # published order: exactly floor(f * n) of the sampled rows lose their rank
    removed = math.floor(0.3 * n_sampled)
    assert published.train["rank"].isna().sum() == removed
    assert published.stats["ranks_removed_by_filter"] == removed
    assert published.stats["rank_filter_order"] == "after_sampling"
    # default order: the filter saw the whole table, so the sampled share varies around f
    assert ours.stats["rank_filter_order"] == "before_sampling"
    whole_table = len(prepare_data(data_spec(compose_cfg(*options)), tokenizer).train)
    assert ours.stats["ranks_removed_by_filter"] == round(0.3 * whole_table)


def test_unknown_rank_filter_order_names_the_key(compose_cfg, tokenizer):
    with pytest.raises(ConfigError, match=r"experiment\.rank_filter_order must be one of"):
        prepare_data(data_spec(compose_cfg("+experiment.rank_filter_order=sometimes")), tokenizer)


def test_field_filter_keeps_only_matching_ranks(compose_cfg, tokenizer):
    cfg = compose_cfg("signal=real_rt", "filter=field", "experiment.train_filter.value=Open QA")
    train = prepare_data(data_spec(cfg), tokenizer).train
    ranked = train["rank"].notna()
    assert ranked.any()
    assert (train.loc[ranked, "category"] == "Open QA").all()
    assert train.loc[~ranked, "category"].ne("Open QA").all()


def test_rank_transform_keeps_each_partitions_ranks(compose_cfg, tokenizer):
    base = prepare_data(
        data_spec(compose_cfg("signal=real_rt", "stratifier=annotator")), tokenizer
    ).train
    shuffled = prepare_data(
        data_spec(
            compose_cfg("signal=real_rt", "stratifier=annotator", "rank_transform=random_rank")
        ),
        tokenizer,
    ).train
    assert (base["partition"] == shuffled["partition"]).all()
    for p, group in base.groupby("partition"):
        assert sorted(group["rank"]) == sorted(shuffled.loc[shuffled["partition"] == p, "rank"])
    assert not base["rank"].equals(shuffled["rank"])


def test_preference_table_dataset(tmp_path, compose_cfg, tokenizer):
    table = pd.DataFrame(
        {
            "prompt": [f"q{i}" for i in range(8)],
            "chosen": ["good"] * 8,
            "rejected": ["bad"] * 8,
            "rt": [5, 3, 8, 1, 2, 9, 4, 7],
            "who": ["a", "b"] * 4,
        }
    )
    path = tmp_path / "prefs.csv"
    table.to_csv(path, index=False)
    cfg = compose_cfg(
        "dataset=preference_table",
        f"dataset.path={path}",
        "dataset.test_size=2",
        "dataset.strength_column=rt",
        "dataset.annotator_column=who",
        "signal=real_rt",
        "stratifier=annotator",
        "partitioner=round_robin_auto",
    )
    prepared = prepare_data(data_spec(cfg), tokenizer)
    assert len(prepared.train) == 6 and len(prepared.eval) == 2
    assert prepared.train.groupby("partition")["annotator"].nunique().eq(1).all()
    np.testing.assert_array_equal(prepared.train["rank"], prepared.train["response_time"])


def test_degenerate_rows_are_counted_in_the_data_statistics(tmp_path, compose_cfg, tokenizer):
    rows = [(f"q{i}", f"good {i}", f"bad {i}") for i in range(12)]
    rows += [rows[0], rows[1], ("q same", "same answer", "same answer")]
    path = tmp_path / "prefs.csv"
    pd.DataFrame(rows, columns=["prompt", "chosen", "rejected"]).to_csv(path, index=False)
    cfg = compose_cfg(
        "dataset=preference_table",
        f"dataset.path={path}",
        "dataset.duplicates=drop",
        "dataset.test_size=0",
        "sampler=uniform",
    )
    stats = prepare_data(data_spec(cfg), tokenizer).stats
    assert stats["source"]["duplicate_rows"] == 2
    assert stats["dropped"]["duplicate_rows"] == 2
    assert stats["dropped"]["identical_pairs"] == 1
    assert stats["sizes"]["train"] == 12
    assert "identical_pairs: 1" in format_stats(stats)


def test_a_tiny_fraction_warns_with_the_counts(compose_cfg, tokenizer, caplog):
    full = len(prepare_data(data_spec(compose_cfg("signal=agreement")), tokenizer).train)
    tiny = prepare_data(
        data_spec(compose_cfg("signal=agreement", "experiment.fraction=0.01")), tokenizer
    )
    assert len(tiny.train) == 1
    assert tiny.stats["dropped"]["fraction_sampling"] == full - 1
    expected = f"step 'fraction_sampling (fraction=0.01)' left only 1 comparison(s) ({full} -> 1)"
    assert expected in caplog.text


def test_a_sampler_keeping_nothing_names_the_step(compose_cfg, tokenizer, monkeypatch):
    from responserank.errors import DataValidationError
    from responserank.llm.data import samplers

    monkeypatch.setattr(
        samplers.AnnotatorSampler, "select", lambda self, table, fraction, rng: np.arange(0)
    )
    with pytest.raises(
        DataValidationError,
        match=r"dataset MultiPrefSource: step 'fraction_sampling \(fraction=0\.5\)' left no "
        r"comparisons \(\d+ -> 0\)",
    ):
        prepare_data(data_spec(compose_cfg("experiment.fraction=0.5")), tokenizer)
