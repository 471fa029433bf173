"""Bad input fails before any model is built, naming the file or key, the row and the field."""

from __future__ import annotations

import pytest
from train_helpers import FAST, compose_config

from responserank.errors import ConfigError, DataValidationError, TableError
from responserank.llm.train import (
    run,
)


@pytest.fixture(autouse=True)
def no_model(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("bad input must fail before the model is built")

    monkeypatch.setattr("responserank.llm.train.build_reward_model", refuse)


@pytest.mark.parametrize("fraction", ["0", "1.5", "-0.1"])
def test_fraction_outside_unit_interval(fraction, fixture_overrides):
    cfg = compose_config(
        ["experiment=bt", *FAST, *fixture_overrides, f"experiment.fraction={fraction}"]
    )
    with pytest.raises(ConfigError, match=r"'experiment.fraction': expected a number in \(0, 1\]"):
        run(cfg)


def test_ties_with_allow_ties_false(fixture_overrides, multipref_fixture):
    # Stated strength has two values; without round-robin partitions each stratum is full of ties.
    cfg = compose_config(["experiment=rr_stated", "partitioner=noop", *FAST, *fixture_overrides])
    with pytest.raises(TableError) as caught:
        run(cfg)
    message = str(caught.value)
    assert str(multipref_fixture) in message
    assert "tied 'rank' values inside a 'partition'" in message
    assert "row 0 (comparison_id=" in message


def test_missing_columns_in_a_preference_table(tmp_path):
    table = tmp_path / "prefs.csv"
    table.write_text("prompt,chosen\nhi,hello\n")
    cfg = compose_config(
        [
            "dataset=preference_table",
            f"dataset.path={table}",
            *FAST,
            f"tracking.output_root={tmp_path / 'runs'}",
        ]
    )
    with pytest.raises(
        DataValidationError, match=r"prefs.csv: missing required column\(s\) \['rejected'\]"
    ):
        run(cfg)


def test_unknown_loss_target_is_refused(fixture_overrides):
    cfg = compose_config(["experiment=bt", *FAST, *fixture_overrides])
    cfg.loss = {"_target_": "collections.OrderedDict"}
    with pytest.raises(ConfigError, match="not a PairwiseObjective"):
        run(cfg)
