"""Statistics of a prepared comparison table, logged by dry runs and stored with each run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

QUANTILES = {
    "min": 0.0,
    "q05": 0.05,
    "q25": 0.25,
    "median": 0.5,
    "q75": 0.75,
    "q95": 0.95,
    "max": 1.0,
}


def distribution(values: np.ndarray) -> dict[str, float]:
    """Count, mean and quantiles of the finite ``values`` (plain floats, JSON-ready)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return {"count": 0}
    summary = {"count": int(finite.size), "mean": float(finite.mean())}
    summary.update({name: float(np.quantile(finite, q)) for name, q in QUANTILES.items()})
    return summary


def tied_rows(rank: np.ndarray, group: np.ndarray) -> int:
    """Ranked rows that share their rank with another row of the same group."""
    ranked = ~np.isnan(rank)
    if not ranked.any():
        return 0
    sizes = pd.DataFrame({"group": group[ranked], "rank": rank[ranked]}).value_counts()
    return int(sizes[sizes > 1].sum())


def table_statistics(table: pd.DataFrame) -> dict[str, Any]:
    """Sizes, strata, partition sizes, signal distribution and rank ties of a prepared table."""
    rank = table["rank"].to_numpy(dtype=np.float64)
    ranked = ~np.isnan(rank)
    partition = table["partition"].to_numpy()
    partition_sizes = np.bincount(pd.factorize(partition)[0]) if len(table) else np.zeros(0, int)
    size_counts = pd.Series(partition_sizes).value_counts().sort_index()
    stats: dict[str, Any] = {
        "rows": len(table),
        "ranked_rows": int(ranked.sum()),
        "unranked_rows": int((~ranked).sum()),
        "signal": distribution(rank),
        "unique_ranks": int(np.unique(rank[ranked]).size),
        "partitions": {
            "count": int(partition_sizes.size),
            "singletons": int((partition_sizes == 1).sum()),
            "size_histogram": {str(int(k)): int(v) for k, v in size_counts.items()},
        },
        "rank_ties": {
            "rows_tied_within_partition": tied_rows(rank, partition),
            "rows_tied_globally": tied_rows(rank, np.zeros(len(table), dtype=np.int64)),
        },
        "target": distribution(table["target"].to_numpy(dtype=np.float64)),
    }
    if "stratum" in table.columns:
        strata_sizes = table.loc[ranked, "stratum"].value_counts().to_numpy()
        stats["strata"] = {"count": int(strata_sizes.size), "size": distribution(strata_sizes)}
    if "annotator" in table.columns:
        stats["annotators"] = int(table["annotator"].nunique())
    reliability = table["reliability"].to_numpy(dtype=np.float64)
    if np.isfinite(reliability).any():
        stats["reliability"] = {
            **distribution(reliability),
            "zero_weight_rows": int((reliability == 0).sum()),
        }
    return stats


def format_stats(stats: dict[str, Any]) -> str:
    """Human-readable YAML rendering of :func:`prepare_data`'s statistics, for dry-run logs."""
    import yaml

    return yaml.safe_dump(stats, sort_keys=False, default_flow_style=False)
