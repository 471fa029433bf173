"""Every random stream of the project is derived from one master seed and a name.

Streams are keyed by *what* they drive (a trial's items, a model's initialisation, a data
preparation step), never by the order in which work happens to run, so that the worker count, the
chunking of a grid or a change to one step cannot move another stream's numbers.

Two derivations exist, one per experiment family, and both stay as they are so that published
results do not move:

- the synthetic grid: ``SeedSequence(master_seed, spawn_key=keys)`` with one or more keys
  (``numpy_rng``, ``torch_generator``), e.g. ``numpy_rng(42, "trial", 3, "items")``;
- LLM data preparation: ``SeedSequence([seed, key])`` with one step name (``step_rng``), e.g.
  ``step_rng(42, "test_split")``.

A string key enters as its CRC-32, an integer key as itself (non-negative).
"""

from __future__ import annotations

import zlib

import numpy as np
import torch


def key_to_int(key: int | str) -> int:
    """The integer a stream key enters the seed sequence as: CRC-32 of a string, else itself."""
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise TypeError(f"seed keys must be int or str, got {type(key).__name__}")
    if isinstance(key, str):
        return zlib.crc32(key.encode("utf-8"))
    if key < 0:
        raise ValueError(f"integer seed keys must be non-negative, got {key}")
    return key


def seed_sequence(master_seed: int, *keys: int | str) -> np.random.SeedSequence:
    """An independent ``SeedSequence`` for the stream named by ``keys`` (synthetic grid)."""
    return np.random.SeedSequence(int(master_seed), spawn_key=tuple(key_to_int(k) for k in keys))


def numpy_rng(master_seed: int, *keys: int | str) -> np.random.Generator:
    """A NumPy generator (PCG64) for the stream named by ``keys`` (synthetic grid)."""
    return np.random.Generator(np.random.PCG64(seed_sequence(master_seed, *keys)))


def torch_generator(master_seed: int, *keys: int | str) -> torch.Generator:
    """A CPU torch generator for the stream named by ``keys`` (synthetic grid)."""
    state = seed_sequence(master_seed, *keys).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)


def step_rng(seed: int, step: str) -> np.random.Generator:
    """The generator of data-preparation ``step`` under master ``seed`` (LLM family).

    Each step draws from its own stream, so changing what one step does (for example the filter
    fraction) never changes the random choices of another (for example the test split).
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), key_to_int(step)]))
