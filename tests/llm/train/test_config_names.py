"""One name per setting: the column-mapping options are named alike in every source (the former
preference-table names still work, with a warning, and keep the run's group id), and the pipeline
steps keep their published command-line forms."""

from __future__ import annotations

import logging

import pytest
from train_helpers import compose_config

from responserank.llm.config import plain_config, validate
from responserank.llm.data.sources.hf_preference import HfPreferenceSource
from responserank.llm.data.sources.preference_table import PreferenceTableSource
from responserank.llm.runs.identity import group_id

TABLE = ["dataset=preference_table", "dataset.path=/data/prefs.csv"]


def test_every_source_names_its_strength_column_alike():
    for source in (HfPreferenceSource, PreferenceTableSource):
        fields = source.__dataclass_fields__
        assert {"strength_column", "strength_kind"} <= set(fields), source.__name__


def test_the_former_preference_table_names_warn_and_configure_the_same_source(caplog):
    with caplog.at_level(logging.WARNING):
        former = PreferenceTableSource(
            path="x.csv", signal_column="s", signal_kind="stated_strength"
        )
    assert "dataset.signal_column is the former name of dataset.strength_column" in caplog.text
    assert former == PreferenceTableSource(
        path="x.csv", strength_column="s", strength_kind="stated_strength"
    )


@pytest.mark.parametrize("preset", ["bt", "rr_stated"])
def test_both_names_give_the_group_id_of_the_published_name(preset):
    by_new = compose_config([f"experiment={preset}", *TABLE, "dataset.strength_column=rt"])
    by_former = compose_config([f"experiment={preset}", *TABLE, "dataset.signal_column=rt"])
    assert group_id(plain_config(by_new)) == group_id(plain_config(by_former))
    assert validate(by_new).dataset == validate(by_former).dataset


def test_the_published_command_forms_still_compose():
    spec = validate(
        compose_config(
            [
                "experiment=rr_agree",
                "experiment.fraction=0.1",
                "experiment.train_partitioner.target_size=4",
                "seed=43",
                "dry_run=true",
            ]
        )
    )
    assert spec.experiment.train_partitioner.target_size == 4
    assert (spec.seed, spec.experiment.fraction, spec.dry_run) == (43, 0.1, True)
    assert spec.run_name == f"{spec.group_id}-0.1-43"
