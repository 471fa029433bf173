"""The synthetic stratum settings under their former names (num_partitions,
partition_rt_variability) still configure the same data."""

from __future__ import annotations

import numpy as np

from responserank.synthetic.grid import Experiment
from responserank.synthetic.trial_data import generate_trial
from synthetic.runner_helpers import compose_config


def _experiment(overrides: list[str]) -> Experiment:
    return Experiment.from_config(compose_config(["dataset=stochastic", *overrides]))


def test_former_stratum_keys_are_aliases_of_the_stratum_keys():
    by_alias = _experiment(["dataset.num_partitions=3", "dataset.partition_rt_variability=0.5"])
    by_name = _experiment(["dataset.num_strata=3", "dataset.stratum_rt_variability=0.5"])
    assert by_alias.dataset.num_strata == by_name.dataset.num_strata == 3
    assert by_alias.dataset.stratum_rt_variability == 0.5
    assert by_alias.to_record()["dataset"] == by_name.to_record()["dataset"]
    assert "num_partitions" not in by_alias.to_record()["dataset"]
    a, b = generate_trial(by_alias.dataset, 42, 0), generate_trial(by_name.dataset, 42, 0)
    assert a.stratum.max() == 2
    assert np.array_equal(a.rt, b.rt) and np.array_equal(a.stratum, b.stratum)


def test_a_stored_record_with_the_former_names_reads_back():
    record = _experiment([]).to_record()
    dataset = dict(record["dataset"])
    dataset["num_partitions"] = dataset.pop("num_strata")
    dataset["partition_rt_variability"] = dataset.pop("stratum_rt_variability")
    experiment = Experiment.from_config({**record, "dataset": dataset})
    assert experiment.dataset.num_strata == 5
    assert experiment.dataset.stratum_rt_variability == 3.0
