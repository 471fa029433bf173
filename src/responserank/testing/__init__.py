"""Code used only by tests, benchmarks and offline demos: fixture generators, the TRL reference trainer.

Never imported by production code."""
