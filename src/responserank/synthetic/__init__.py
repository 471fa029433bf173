"""Synthetic preference experiments: known utilities, simulated choices and response times.

The ground truth is known here, so a learner can be scored on how well it recovers utility
*differences* (preference strength), not only choices. ``experiment_runner`` is the entry point,
``results`` the collected-results format, ``analysis`` turns collected results into figures and
tables.
"""
