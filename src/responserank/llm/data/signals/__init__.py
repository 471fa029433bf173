"""Signals: what a comparison carries besides the choice (strength ranks, reliability, soft targets)."""
