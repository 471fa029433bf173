"""Strata and partitions: which comparisons are ranked against each other, and rank ablations."""
