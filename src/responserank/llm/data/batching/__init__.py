"""From comparisons to model batches: token lengths, partition-aware packing, collation."""
