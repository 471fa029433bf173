"""Running code in a Python process that cannot import ``responserank`` (test-only).

A saved reward model must load and score with plain ``transformers``: the check runs the code in a
fresh interpreter whose ``sys.path`` lacks this package's source folder and whose import system
lacks the finder an editable install adds (through a ``.pth`` file), asserts first that
``responserank`` cannot be found and last that nothing imported it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import responserank

SOURCE_DIR = Path(responserank.__file__).resolve().parents[1]

PRELUDE = """import importlib.util, os, sys
_source = os.path.realpath({source!r})
sys.path[:] = [
    p for p in sys.path if os.path.realpath(p or ".") != _source and "responserank" not in p
]
sys.meta_path[:] = [f for f in sys.meta_path if "responserank" not in getattr(f, "__module__", "")]
sys.path_hooks[:] = [h for h in sys.path_hooks if "responserank" not in repr(h)]
sys.path_importer_cache.clear()
assert importlib.util.find_spec("responserank") is None, "responserank is still importable"
"""
POSTLUDE = """
assert not [m for m in sys.modules if m.split(".")[0] == "responserank"], "responserank imported"
"""


def run_without_package(code: str, cwd: str | Path, timeout_s: float = 300) -> str:
    """Stdout of ``code`` run in a fresh interpreter without ``responserank`` on its path (cwd
    ``cwd``); AssertionError with the end of stderr when it exits non-zero."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    program = PRELUDE.format(source=str(SOURCE_DIR)) + code + POSTLUDE
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout
