"""Preference data sources: one module per dataset, each producing the comparison table."""
