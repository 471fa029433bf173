"""One seeding module, two derivations: each family's streams stay what they were."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

from responserank.seeding import key_to_int, numpy_rng, seed_sequence, step_rng, torch_generator


def test_llm_step_streams_are_seed_sequence_of_seed_and_step_crc():
    expected = np.random.default_rng(np.random.SeedSequence([7, zlib.crc32(b"test_split")])).random(
        5
    )
    assert np.array_equal(step_rng(7, "test_split").random(5), expected)
    assert not np.array_equal(step_rng(7, "filter").random(5), expected)


def test_synthetic_streams_are_spawn_keyed_by_what_they_drive():
    spawn = (zlib.crc32(b"trial"), 3, zlib.crc32(b"items"))
    expected = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(42, spawn_key=spawn))
    ).random(5)
    assert np.array_equal(numpy_rng(42, "trial", 3, "items").random(5), expected)
    state = np.random.SeedSequence(42, spawn_key=spawn).generate_state(1, dtype=np.uint64)[0]
    reference = torch.Generator().manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)
    assert torch.equal(
        torch.rand(4, generator=torch_generator(42, "trial", 3, "items")),
        torch.rand(4, generator=reference),
    )
    assert seed_sequence(42, "trial", 3).spawn_key == spawn[:2]


def test_bad_keys_are_refused():
    with pytest.raises(TypeError, match="int or str"):
        key_to_int(1.5)
    with pytest.raises(TypeError, match="int or str"):
        key_to_int(True)
    with pytest.raises(ValueError, match="non-negative"):
        key_to_int(-1)
