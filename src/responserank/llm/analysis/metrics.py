"""The metrics the LLM figures and tables report, with their display names.

All are accuracies or scores on [0, 1] in the run record and are shown in percent (points).
"""

from __future__ import annotations

from dataclasses import dataclass

from responserank.llm.evaluation.rewardbench_v2 import SUBSETS as RB2_SUBSETS


@dataclass(frozen=True)
class Metric:
    key: str  # run-record name
    label: str  # axis / column label (without the unit)
    short: str  # file-name part

    def axis_label(self) -> str:
        return f"{self.label} (%)"


HEADLINE: tuple[Metric, ...] = (
    Metric("eval/heldout/accuracy", "Held-out accuracy", "heldout"),
    Metric("eval/rewardbench_v1/overall", "RewardBench v1", "rb1"),
    Metric("eval/rewardbench_v2/overall", "RewardBench v2", "rb2"),
)
RB2_CATEGORIES: tuple[Metric, ...] = tuple(
    Metric(f"eval/rewardbench_v2/subset/{name}", name, name.lower().replace(" ", "_"))
    for name in RB2_SUBSETS
)
PERCENT = 100.0
