"""The training core: the reward-model Trainer, its callbacks, schedules and objectives."""
