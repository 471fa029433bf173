"""Fraction samplers: exact counts, whole annotators, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from responserank.llm.data.samplers import AnnotatorSampler, UniformSampler, target_count

# Annotator a has rows 0, 2, 5; b has rows 1, 4; c has row 3.
TABLE = pd.DataFrame({"annotator": ["a", "b", "a", "c", "b", "a"]})


def test_annotator_sampler_takes_whole_annotators_then_part_of_the_next(preset_rng):
    # Sorted annotators a, b, c; permutation [2, 0, 1] -> order c, a, b. Target round(0.5 * 6) = 3:
    # all of c (1 row) fits, a (3 rows) does not, so two of a's rows are added: 0 and 2.
    rng = preset_rng(permutation=[2, 0, 1])
    assert AnnotatorSampler().select(TABLE, 0.5, rng).tolist() == [0, 2, 3]


def test_annotator_sampler_stops_exactly_at_whole_annotators(preset_rng):
    # Order b, c, a; target round(0.5 * 6) = 3 = b (2) + c (1).
    rng = preset_rng(permutation=[1, 2, 0])
    assert AnnotatorSampler().select(TABLE, 0.5, rng).tolist() == [1, 3, 4]


def test_annotator_sampler_leaves_at_most_one_annotator_partial():
    annotators = np.repeat([f"w{i}" for i in range(30)], np.arange(1, 31))
    table = pd.DataFrame({"annotator": annotators})
    for seed in range(5):
        kept = AnnotatorSampler().select(table, 0.3, np.random.default_rng(seed))
        assert kept.size == round(0.3 * len(table))
        taken = table.iloc[kept]["annotator"].value_counts()
        full = table["annotator"].value_counts()[taken.index]
        assert (taken < full).sum() <= 1


def test_uniform_sampler_count_and_order():
    table = pd.DataFrame({"x": range(100)})
    kept = UniformSampler().select(table, 0.37, np.random.default_rng(0))
    assert kept.size == 37
    assert np.all(np.diff(kept) > 0)
    again = UniformSampler().select(table, 0.37, np.random.default_rng(0))
    np.testing.assert_array_equal(kept, again)


@pytest.mark.parametrize("sampler", [UniformSampler(), AnnotatorSampler()])
def test_fraction_one_keeps_everything(sampler):
    assert sampler.select(TABLE, 1.0, None).tolist() == list(range(6))


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_fraction_must_be_in_zero_one(fraction):
    with pytest.raises(ValueError, match=r"experiment.fraction must be in \(0, 1\]"):
        target_count(10, fraction)


def test_tiny_fraction_keeps_one_row():
    assert target_count(10, 0.01) == 1


def test_annotator_sampler_without_annotators_samples_uniformly():
    table = pd.DataFrame({"x": range(20)})
    kept = AnnotatorSampler().select(table, 0.3, np.random.default_rng(5))
    expected = UniformSampler().select(table, 0.3, np.random.default_rng(5))
    assert kept.tolist() == expected.tolist()
    assert kept.size == 6
