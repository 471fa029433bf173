"""The documentation holds: the site builds in strict mode with its generated reference and results
tables, the README stays one page with the two quick-start commands, and every training command
line of the README and the docs composes with Hydra (a renamed key or preset fails here)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
TRAIN = "python -m responserank.llm.train"


def _command_lines(text: str) -> list[str]:
    """Every ``python -m responserank.llm.train`` command of a page (continuation lines joined,
    inline code spans and code blocks alike), without placeholders such as ``<preset>`` or ``$L``."""
    joined = text.replace("\\\n", " ")
    found = []
    for match in re.finditer(re.escape(TRAIN) + r"[^`\n|#]*", joined):
        line = match.group(0).strip()
        if not re.search(r"[<$]|\.\.\.", line):
            found.append(line)
    return found


def _first_of_each_sweep(overrides: list[str]) -> list[str]:
    parsed = OverridesParser.create().parse_overrides(overrides)
    return [
        o.input_line
        if not o.is_sweep_override()
        else f"{o.key_or_group}={next(iter(o.sweep_string_iterator()))}"
        for o in parsed
    ]


def _documented_commands() -> list[tuple[str, str]]:
    pages = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]
    return [(p.name, line) for p in pages for line in _command_lines(p.read_text())]


def test_the_readme_is_one_page_with_the_two_quick_start_commands():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quick_start, flags=re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["./run_full_mini.sh", "./run_tests"]
    assert "source scripts/activate" in readme


def test_every_documented_training_command_composes():
    import responserank.llm.config  # noqa: F401  (registers the typed schema)
    from responserank.configs import config_dir

    commands = _documented_commands()
    assert len(commands) >= 20, commands  # README, Commands, LLM, RAPL, Scaling pages
    failures = []
    for page, line in commands:
        words = shlex.split(line)[len(TRAIN.split()) :]
        overrides = _first_of_each_sweep([w for w in words if "=" in w and not w.startswith("-")])
        try:
            with initialize_config_dir(config_dir=str(config_dir("llm")), version_base="1.3"):
                compose("config", overrides=overrides, return_hydra_config=True)
        except Exception as error:  # collect them all, report together
            failures.append(f"{page}: {line}\n    {type(error).__name__}: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_the_site_builds_strictly_with_its_generated_pages(tmp_path):
    pytest.importorskip("mkdocs")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    reference = (site / "configuration" / "index.html").read_text()
    for preset in sorted((REPO / "conf" / "llm" / "experiment").glob("*.yaml")):
        assert f"<code>{preset.stem}</code>" in reference, preset.stem
    for key in ("training.learning_rate", "runtime.claim_timeout_s", "master_seed", "batch_size"):
        assert f"<code>{key}</code>" in reference, key
    results = (site / "results" / "index.html").read_text()
    assert "generated:" not in results and results.count("<table>") >= 4
    for page in site.rglob("*.html"):
        assert "<!-- generated:" not in page.read_text(), page
