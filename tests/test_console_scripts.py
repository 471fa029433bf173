"""Every console command of ``[project.scripts]`` names a callable that exists, and its module is
one of the documented ``python -m`` entry points (the commands are aliases, not a second path)."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]


@pytest.mark.parametrize(("command", "target"), sorted(SCRIPTS.items()))
def test_console_command_targets_a_callable(command, target):
    module_name, _, attribute = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as missing:
        if not module_name.startswith(str(missing.name)):  # a third-party package
            pytest.skip(f"{command}: optional dependency {missing.name} is not installed")
        raise
    assert callable(getattr(module, attribute)), target
    source = Path(module.__file__).read_text(encoding="utf-8")
    assert 'if __name__ == "__main__":' in source, f"{module_name} has no python -m form"


def test_commands_are_named_consistently():
    assert all(name.startswith(("rr-", "responserank-")) for name in SCRIPTS)
    for needed in ("rr-train", "rr-evaluate", "rr-synthetic", "responserank-serve"):
        assert needed in SCRIPTS
