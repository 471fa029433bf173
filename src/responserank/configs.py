"""Where the Hydra configuration lives, and preset names checked before Hydra composes.

The repository's top-level ``conf/`` is the one source of every config. A built wheel carries it
as ``responserank/conf`` (mapped into the package at build time, see ``setup.py``); a checkout or
an editable install reads ``<repository>/conf``. :func:`config_dir` finds whichever is there, so
``python -m responserank.llm.train`` in a checkout and ``rr-train`` from an installed wheel compose
the same files.

:func:`check_group_choices` looks at the command line's group overrides (``experiment=rr_agre``,
``model=...``, ``+learner@learners.x=...``) before Hydra composes: an option that does not exist
fails on one line with the nearest valid names instead of Hydra's list of every option;
:func:`check_top_level_keys` does the same for a misspelt top-level key (``sed=43``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

from responserank.errors import ConfigError, unknown_key

PACKAGE_DIR = Path(__file__).resolve().parent
#: Inside an installed wheel, then in a checkout (``src/responserank`` -> repository root).
CONFIG_ROOTS = (PACKAGE_DIR / "conf", PACKAGE_DIR.parents[1] / "conf")
#: Options listed in full when a group has at most this many; otherwise only the nearest.
LIST_ALL_UP_TO = 12
#: Command-line flags after which the search path or config differs from the default one.
_OTHER_SEARCH_PATH = ("--config-dir", "-cd", "--config-path", "-cp", "--config-name", "-cn")


def config_root() -> Path:
    """The ``conf/`` folder: ``responserank/conf`` of an installed wheel, else the checkout's.

    Raises:
        ConfigError: neither exists (a wheel built without its configs).
    """
    for root in CONFIG_ROOTS:
        if (root / "llm" / "config.yaml").is_file():
            return root
    looked = ", ".join(str(root) for root in CONFIG_ROOTS)
    raise ConfigError(f"no configuration folder found (looked in {looked}); reinstall the package")


def config_dir(*parts: str) -> Path:
    """A folder under :func:`config_root`, e.g. ``config_dir("llm")`` or
    ``config_dir("synthetic", "learner")``."""
    return config_root().joinpath(*parts)


def group_options(group_dir: Path) -> list[str]:
    """The options of one config group: its YAML files (subfolders as ``sub/name``), sorted."""
    return sorted(
        p.relative_to(group_dir).with_suffix("").as_posix() for p in group_dir.rglob("*.yaml")
    )


def unknown_option_message(group: str, option: str, options: Sequence[str], where: Path) -> str:
    """One line: the unknown option, the nearest valid names, where the options live."""
    near = difflib.get_close_matches(option, options, n=5, cutoff=0.6)
    if len(options) <= LIST_ALL_UP_TO:
        listed = f"options: {', '.join(options)}"
    else:
        listed = f"{len(options)} options: ls {where}"
    hint = f"did you mean {', '.join(near)}? ({listed})" if near else listed
    return f"{group}={option}: no such option in config group '{group}'; {hint}"


def check_group_choices(root: Path, argv: Sequence[str]) -> None:
    """Refuse a group override of the command line whose option has no YAML file under ``root``.

    ``root`` is the primary config folder of the entry point (``conf/llm``, ``conf/synthetic``).
    Only groups that are folders of ``root`` are checked (``hydra/...`` and keys are left to
    Hydra); sweeps (``experiment=bt,rr_agree``) check every value, globs none. Nothing is checked
    when the command line adds a config folder or picks another primary config.

    Raises:
        ConfigError: the first unknown option, with the nearest valid names.
    """
    if any(word.split("=")[0] in _OTHER_SEARCH_PATH for word in argv):
        return
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ValueType
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for word in argv:
        if word.startswith("-") or "=" not in word:
            continue
        try:
            (override,) = parser.parse_overrides([word])
        except HydraException:
            continue  # Hydra reports syntax errors itself
        group = override.key_or_group
        group_dir = root / group
        if override.is_delete() or group.startswith("hydra") or not group_dir.is_dir():
            continue
        if override.value_type == ValueType.GLOB_CHOICE_SWEEP:
            continue
        values = (
            list(override.sweep_string_iterator())
            if override.is_sweep_override()
            else [override.get_value_element_as_str()]
        )
        options = group_options(group_dir)
        for value in values:
            if value != "null" and value not in options:
                raise ConfigError(unknown_option_message(group, value, options, group_dir))


def check_top_level_keys(root: Path, argv: Sequence[str], known: Mapping[str, str]) -> None:
    """Refuse a command-line override whose first key is neither a top-level key of the primary
    config nor a config group under ``root`` (``sed=43``, ``trainig.learning_rate=1e-5``), naming
    the nearest valid key; Hydra would refuse it too, without the suggestion. Keys below the top
    level are checked when the configuration is settled, where the chosen classes are known.

    ``known`` maps each top-level key to one line of help. Additions (``+key=``), deletions and
    ``hydra`` keys are left to Hydra, as is everything when the command line adds a config folder
    or picks another primary config.

    Raises:
        ConfigError: the first unknown key, with the nearest valid one.
    """
    if any(word.split("=")[0] in _OTHER_SEARCH_PATH for word in argv):
        return
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for word in argv:
        if word.startswith(("-", "+", "~")) or "=" not in word:
            continue
        try:
            (override,) = parser.parse_overrides([word])
        except HydraException:
            continue  # Hydra reports syntax errors itself
        first = override.key_or_group.split("/")[0].split(".")[0]
        if first == "hydra" or first in known or (root / first).is_dir():
            continue
        raise unknown_key(first, dict(known), "the run config")
