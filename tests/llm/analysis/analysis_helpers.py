"""Shared pieces of the LLM analysis tests: a registry file and a hand-made results cache.

The pytest fixtures are defined in this folder's conftest.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from responserank.llm.analysis.cache import COLUMNS, to_csv

REGISTRY_TEXT = """\
baseline: bt
main: [bt, rr_agree]
configs:
  bt: {group_id: bt_0000000001}
  rr_agree: {group_id: rr_agree_0000000002, label: RR-Agree, color: "#D55E00", marker: s}
  rr_agree_spread2: {group_id: rr_agree_spread2_0000000003, label: RR-Agree (2)}
  rr_agree_spread4: {group_id: rr_agree_spread4_0000000004, label: RR-Agree (4)}
  bt_lr1em5: {group_id: bt_lr1em5_0000000005, label: BT lr 1e-5}
"""
SEEDS = (42, 43, 44)
FRACTIONS = (0.25, 0.5, 1.0)
METRICS = (
    "eval/heldout/accuracy",
    "eval/rewardbench_v1/overall",
    "eval/rewardbench_v2/overall",
    "eval/rewardbench_v2/subset/Factuality",
    "eval/rewardbench_v2/subset/Precise IF",
    "eval/rewardbench_v2/subset/Math",
    "eval/rewardbench_v2/subset/Safety",
    "eval/rewardbench_v2/subset/Focus",
    "eval/rewardbench_v2/subset/Ties",
)
# Mean level per configuration; curves rise with the fraction, RR above BT.
LEVELS = {"bt": 0.60, "rr_agree": 0.64, "rr_agree_spread2": 0.62, "rr_agree_spread4": 0.63}


def synthetic_results(seed: int = 0) -> pd.DataFrame:
    """A results table in the cache schema with random but reproducible values."""
    rng = np.random.default_rng(seed)
    rows = []
    for config, level in LEVELS.items():
        group = f"{config}_000000000{list(LEVELS).index(config) + 1}"
        fractions = FRACTIONS if config in ("bt", "rr_agree") else (1.0,)
        for fraction in fractions:
            for s in SEEDS:
                for metric in METRICS:
                    value = level - 0.1 * (1.0 - fraction) + rng.normal(0, 0.01)
                    rows.append(
                        (config, group, f"{group}-{fraction!r}-{s}", fraction, s, metric, value)
                    )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_cache_dir(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "registry.yaml").write_text(REGISTRY_TEXT)
    (folder / "results.csv").write_text(to_csv(synthetic_results()))
    return folder
