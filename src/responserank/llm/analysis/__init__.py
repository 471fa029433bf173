"""Collect LLM run results and render their figures and tables (``cli``)."""
