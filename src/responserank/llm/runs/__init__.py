"""The run record of an LLM training run: claim, identity, record on disk, interrupts, wandb mirror."""
