"""Fixtures of the LLM analysis tests (helpers in analysis_helpers)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from analysis_helpers import write_cache_dir

# The training tests' helpers (config composition, fast settings) are reused for real runs.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))


@pytest.fixture
def cache_dir(tmp_path) -> Path:
    return write_cache_dir(tmp_path / "cache")
