"""A wrong key of the synthetic runner's config fails before any work, naming the nearest valid
key: at the top level (checked on the command line), in the dataset node and in a learner."""

from __future__ import annotations

import pytest

from responserank.configs import check_top_level_keys
from responserank.errors import ConfigError
from responserank.synthetic.experiment_runner import CONFIG_DIR, top_level_keys
from responserank.synthetic.grid import Experiment
from synthetic.runner_helpers import TINY, compose_config


@pytest.mark.parametrize(
    ("override", "nearest"),
    [("num_trial=2", "did you mean num_trials"), ("master_sed=1", "did you mean master_seed")],
)
def test_a_misspelt_top_level_key_names_the_nearest_one(override, nearest):
    with pytest.raises(ConfigError, match=nearest):
        check_top_level_keys(CONFIG_DIR, [*TINY, override], top_level_keys())
    check_top_level_keys(CONFIG_DIR, [*TINY, "dataset=stochastic", "-m"], top_level_keys())


@pytest.mark.parametrize(
    ("override", "nearest"),
    [
        ("+dataset.num_stratta=3", r"did you mean dataset\.num_strata \(int\)\?"),
        ("+learners.bt.epochs=3", r"did you mean learners\.bt\.num_epochs\?"),
    ],
)
def test_a_wrong_nested_key_names_the_nearest_one(override, nearest):
    with pytest.raises(ConfigError, match=nearest):
        Experiment.from_config(compose_config([*TINY, "dataset=stochastic", override]))
