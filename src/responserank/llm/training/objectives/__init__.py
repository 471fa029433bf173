"""Training objectives: each maps a micro-batch's reward margins to ``responserank.losses`` calls.

One module per objective; the Hydra ``loss`` group selects one by ``_target_``.
"""

from responserank.errors import TableError
from responserank.llm.training.objectives.base import ComparisonBatch, PairwiseObjective

__all__ = ["ComparisonBatch", "PairwiseObjective", "TableError"]
