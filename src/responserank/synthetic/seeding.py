"""Every random stream of the grid is derived from one master seed.

Streams are keyed by *what* they drive (a trial's data, a model's initialisation, an RT
permutation), never by the order in which work happens to run, so that the worker count or the
chunking of the grid cannot change a single number.
"""

from __future__ import annotations

import zlib

import numpy as np
import torch


def _key_to_int(key: int | str) -> int:
    if isinstance(key, bool) or not isinstance(key, int | str):
        raise TypeError(f"seed keys must be int or str, got {type(key).__name__}")
    if isinstance(key, str):
        return zlib.crc32(key.encode("utf-8"))
    if key < 0:
        raise ValueError(f"integer seed keys must be non-negative, got {key}")
    return key


def seed_sequence(master_seed: int, *keys: int | str) -> np.random.SeedSequence:
    """An independent ``SeedSequence`` for the stream named by ``keys``."""
    return np.random.SeedSequence(int(master_seed), spawn_key=tuple(_key_to_int(k) for k in keys))


def numpy_rng(master_seed: int, *keys: int | str) -> np.random.Generator:
    """A NumPy generator for the stream named by ``keys``."""
    return np.random.Generator(np.random.PCG64(seed_sequence(master_seed, *keys)))


def torch_generator(master_seed: int, *keys: int | str) -> torch.Generator:
    """A CPU torch generator for the stream named by ``keys``."""
    state = seed_sequence(master_seed, *keys).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & 0x7FFF_FFFF_FFFF_FFFF)


def size_key(fraction: float) -> str:
    """The canonical text of a dataset-size fraction, as used in result files ("0.5", "1.0")."""
    return repr(float(fraction))
