"""The metrics the LLM figures and tables report, with their display names.

All are accuracies or scores in the run record, shown in percent (points). Each is a fraction in
[0, 1] except the RewardBench v2 Ties score and the v2 overall mean that includes it: their margin
term (weight ``TIES_WEIGHTS["correctness_margin_score"]``, a tanh in [-1, 1]) can take them down to
minus that weight.
"""

from __future__ import annotations

from dataclasses import dataclass

from responserank.llm.evaluation.rewardbench_v2 import SUBSETS as RB2_SUBSETS
from responserank.llm.evaluation.rewardbench_v2 import TIES, TIES_WEIGHTS


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
RB2_LOWEST = -TIES_WEIGHTS["correctness_margin_score"]
# Metric -> (lowest, highest) possible value; caches and imports holding a value outside are refused.
SCORE_RANGES: dict[str, tuple[float, float]] = {
    **{metric.key: (0.0, 1.0) for metric in (*HEADLINE, *RB2_CATEGORIES)},
    "eval/rewardbench_v2/overall": (RB2_LOWEST, 1.0),
    f"eval/rewardbench_v2/subset/{TIES}": (RB2_LOWEST, 1.0),
}
