"""MultiPref (``allenai/multipref``): four annotations per comparison, two crowdworkers, two experts.

Steps, in order: agreement statistics over all annotations of each comparison, identical pairs
dropped (completion A and B the same text: no preference to learn), length filter (drop
comparisons whose conversation A or B exceeds ``max_length`` tokens), seeded test split
(``test_size`` comparisons; labels from config ``human_overall_binarized``; comparisons whose
annotators mostly tied, ``tie_is_common``, leave the test set as in the published runs unless
``keep_test_ties``), then for training one annotation per comparison picked at random
(``random_choice``) and ties dropped. Each step's count goes into the data statistics; a step that
leaves no training comparison is refused naming the step and the counts before and after it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from transformers import PreTrainedTokenizerBase

from responserank.llm.data.aggregation import random_choice
from responserank.llm.data.batching.lengths import fits
from responserank.llm.data.degenerate import require_left, test_size_hint
from responserank.llm.data.signals.agreement import (
    COUNT_COLUMNS,
    agreement_statistics,
    directional_agreement,
)
from responserank.llm.data.signals.labels import SIDE, STRENGTH, TIE
from responserank.llm.data.sources.base import SourceTables
from responserank.llm.data.sources.multipref_schema import (
    MultiPrefTables,
    binarized_chosen_is_a,
    parse_binarized,
    parse_default,
)
from responserank.llm.data.sources.raw_rows import (
    RawRows,
    find_config_folder,
    read_hub_config,
    read_local_config,
)
from responserank.llm.data.split import holdout_mask
from responserank.seeding import step_rng

DEFAULT_CONFIG = "default"
BINARIZED_CONFIG = "human_overall_binarized"
# Local folder names tried for each config: the hub repository layout first, then the config name.
LOCAL_FOLDERS = {
    DEFAULT_CONFIG: ("data", "default"),
    BINARIZED_CONFIG: ("human_overall_binarized",),
}
PASSTHROUGH = ("prompt_id", "source", "category", "subject_study")

log = logging.getLogger(__name__)


def _oriented(frame: pd.DataFrame, chosen_is_a: np.ndarray) -> pd.DataFrame:
    """prompt/chosen/rejected and model columns with the chosen side first."""
    return pd.DataFrame(
        {
            "comparison_id": frame["comparison_id"].to_numpy(),
            "prompt": frame["text"].to_numpy(),
            "chosen": np.where(chosen_is_a, frame["completion_a"], frame["completion_b"]),
            "rejected": np.where(chosen_is_a, frame["completion_b"], frame["completion_a"]),
            "model_chosen": np.where(chosen_is_a, frame["model_a"], frame["model_b"]),
            "model_rejected": np.where(chosen_is_a, frame["model_b"], frame["model_a"]),
            **{name: frame[name].to_numpy() for name in PASSTHROUGH},
        }
    )


@dataclass
class MultiPrefSource:
    """MultiPref from the hub (``path`` unset) or from a local copy of both configs.

    A local copy at ``path`` holds config ``default`` in ``data/`` (the hub repository layout) or
    ``default/``, and ``human_overall_binarized`` in ``human_overall_binarized/``; each folder is a
    ``save_to_disk`` dataset or ``*.parquet`` / ``*.jsonl`` files in the hub schema.
    """

    hub_id: str = "allenai/multipref"
    path: str | None = None
    test_size: int = 2000
    slight_preference_value: float = 0.5
    ties_in_agreement_total: bool = False
    keep_test_ties: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.slight_preference_value <= 1.0:
            raise ValueError(
                f"slight_preference_value must be in [0, 1], got {self.slight_preference_value}"
            )

    def _raw(self, config: str) -> RawRows:
        if self.path is None:
            return read_hub_config(self.hub_id, config)
        return read_local_config(find_config_folder(Path(self.path), LOCAL_FOLDERS[config]))

    def load(self, tokenizer: PreTrainedTokenizerBase, max_length: int, seed: int) -> SourceTables:
        tables = parse_default(self._raw(DEFAULT_CONFIG))
        comparisons = tables.comparisons
        stats = agreement_statistics(
            tables.annotations["comparison"],
            tables.annotations["label"],
            self.slight_preference_value,
            self.ties_in_agreement_total,
        )
        where = f"MultiPref {self.path or self.hub_id}"
        same = (comparisons["completion_a"] == comparisons["completion_b"]).to_numpy(dtype=bool)
        if same.any():
            log.warning(
                "%s: dropped %d of %d comparison(s) whose completions A and B are identical",
                where,
                int(same.sum()),
                len(comparisons),
            )
        require_left("identical_pairs", len(comparisons), int((~same).sum()), where)
        fit = fits(
            tokenizer,
            comparisons["text"].tolist(),
            comparisons["completion_a"].tolist(),
            comparisons["completion_b"].tolist(),
            max_length,
        )
        keep = fit & ~same
        require_left(
            f"length_filter (max_length={max_length})", int((~same).sum()), int(keep.sum()), where
        )
        kept = np.flatnonzero(keep)
        in_test = holdout_mask(
            comparisons["comparison_id"].to_numpy()[kept],
            self.test_size,
            step_rng(seed, "test_split"),
        )
        test_rows, train_rows = kept[in_test], kept[~in_test]
        step = f"test_split (test_size={self.test_size})"
        hint = test_size_hint(self.test_size, len(kept))
        require_left(step, len(kept), len(train_rows), where, hint)
        train, ties = self._train_table(tables, stats, train_rows, seed)
        require_left(
            "ties (one random annotation per comparison, ties dropped)",
            len(train_rows),
            len(train),
            where,
        )
        test = self._test_table(comparisons.iloc[test_rows])
        common_ties = test["tie_is_common"].to_numpy(dtype=bool)
        if not self.keep_test_ties:
            test = test[~common_ties].reset_index(drop=True)
        return SourceTables(
            train=train,
            eval=test,
            dropped={
                "identical_pairs": int(same.sum()),
                "length_filter": int((~fit & ~same).sum()),
                "ties": ties,
                "test_common_ties": 0 if self.keep_test_ties else int(common_ties.sum()),
            },
            counts={
                "comparisons_loaded": len(comparisons),
                "annotations_loaded": len(tables.annotations),
                "test_comparisons": len(test_rows),
                "train_comparisons": len(train_rows),
            },
        )

    def _test_table(self, comparisons: pd.DataFrame) -> pd.DataFrame:
        """Held-out comparisons labelled by the binarized config (read only when needed)."""
        if comparisons.empty:
            table = _oriented(comparisons, np.zeros(0, dtype=bool))
            table["tie_is_common"] = np.zeros(0, dtype=bool)
            return table
        binarized = parse_binarized(self._raw(BINARIZED_CONFIG))
        chosen_is_a = binarized_chosen_is_a(comparisons, binarized)
        table = _oriented(comparisons, chosen_is_a)
        tie_is_common = binarized.loc[comparisons["comparison_id"], "tie_is_common"]
        table["tie_is_common"] = tie_is_common.to_numpy(dtype=bool)
        return table

    def _train_table(
        self,
        tables: MultiPrefTables,
        stats: pd.DataFrame,
        train_rows: np.ndarray,
        seed: int,
    ) -> tuple[pd.DataFrame, int]:
        """One random annotation per training comparison, oriented to its chosen side; ties out."""
        annotations = tables.annotations[tables.annotations["comparison"].isin(train_rows)]
        picked = annotations.iloc[
            random_choice(annotations["comparison"].to_numpy(), step_rng(seed, "aggregation"))
        ]
        is_tie = picked["label"].to_numpy() == TIE
        picked = picked[~is_tie]
        chosen_is_a = picked["label"].map(SIDE).to_numpy() > 0
        rows = picked["comparison"].to_numpy()
        comparison_stats = stats.loc[rows]
        table = _oriented(tables.comparisons.iloc[rows], chosen_is_a)
        table["annotator"] = picked["annotator"].to_numpy()
        table["annotator_type"] = picked["annotator_type"].to_numpy()
        table["overall_pref"] = picked["label"].to_numpy()
        table["stated_strength"] = picked["label"].map(STRENGTH).to_numpy()
        table["response_time"] = picked["response_time"].to_numpy(dtype=np.float64)
        table["chosen_is_a"] = chosen_is_a
        for name in COUNT_COLUMNS.values():
            table[name] = comparison_stats[name].to_numpy()
        table["agreement_score"] = comparison_stats["agreement_score"].to_numpy()
        table["agreement_directional"] = directional_agreement(comparison_stats, chosen_is_a)
        mean_preference = comparison_stats["mean_preference"].to_numpy()
        table["mean_preference"] = mean_preference
        table["consensus"] = np.where(chosen_is_a, mean_preference, -mean_preference)
        return table, int(is_tie.sum())
