"""What a trained reward model folder carries for its users: reward statistics, a model card, a
merged (adapter-free) copy, and the hub upload. ``python -m responserank.llm.export --help``."""
