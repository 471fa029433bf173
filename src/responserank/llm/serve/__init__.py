"""A scoring server for a trained reward model: ``python -m responserank.llm.serve --model-dir PATH``.

FastAPI on uvicorn; ``POST /get_reward`` (OpenRLHF's remote reward model), ``POST /score``
(conversations rendered with the chat template), ``GET /health``. Concurrent requests are scored
together (``--max-batch-size``, ``--max-wait-ms``). See ``docs/serving.md``.
"""
