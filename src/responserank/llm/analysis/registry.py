"""The results registry: which experiment groups the LLM analysis reads and how they are shown.

Runs are identified by group id (``<preset>_<config hash>``, see ``responserank.llm.runs.identity``),
which changes whenever anything that defines the experiment changes. The registry names the group
that stands for each configuration in the paper, so figures stay stable while hashes move::

    baseline: bt                      # dashed full-data line; first member of every paired test
    main: [bt, rr_stated, rr_agree]   # curves of the metric-vs-fraction figures
    configs:
      bt:
        group_id: bt_cb9786c944
        label: BT                     # optional: display name (default: the shared style's)
        color: "#0072B2"              # optional: any matplotlib colour
        marker: o                     # optional: any matplotlib marker
        linestyle: "-"                # optional: -, --, -., : (or solid, dashed, ...)
      rr_agree: {group_id: rr_agree_0a1b2c3d4e, label: RR-Agree, color: "#D55E00", marker: s}
    studies:                          # optional: bar-chart groups (more are derived from names)
      partition_size: {title: Partition size, base: rr_agree, members: [rr_agree_spread2]}

The registry of the published analysis is read too (``experiments`` instead of ``configs``)::

    experiments:
      bt: {egid: bt-v1.0-59a54a7b, display_name: BT (baseline), color: "#E74C3C", marker: ^,
           linestyle: "--"}

``egid`` is the group id and ``display_name`` the label; baseline, main curves and studies take
their defaults. A published style value matplotlib cannot draw (``linestyle: ':-'``) is a warning
(``Registry.warnings``, naming the file, the configuration and the value) and that configuration
gets the default for it; in this project's format it is an error. A registry may relabel and restyle any configuration, ``bt`` included: its style
is registered under the configuration's namespaced name (``ConfigEntry.method``), so it wins in
the figures drawn from that registry and leaves the shared style of other figures alone.

Every error names the file and the key path. ``update_from_runs`` (re)writes group ids from local
run records, so nobody copies hashes by hand.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from matplotlib import colors as mcolors
from matplotlib import lines as mlines
from matplotlib.markers import MarkerStyle

from responserank.atomic_io import write_text_atomic
from responserank.errors import RegistryError
from responserank.plotting import MethodStyle, method_style, register_method, registered_methods
from responserank.reading import read_yaml

TOP_LEVEL_KEYS = ("baseline", "main", "configs", "studies")
PUBLISHED_KEY = "experiments"
# Published entry key -> this project's configuration key.
PUBLISHED_CONFIG_KEYS = {
    "egid": "group_id",
    "display_name": "label",
    "color": "color",
    "marker": "marker",
    "linestyle": "linestyle",
}
CONFIG_KEYS = ("group_id", "label", "color", "marker", "linestyle")
STYLE_FIELDS = ("label", "color", "marker", "linestyle")
# Line styles that draw a line (matplotlib's short and long names; "None" and "" draw none).
LINESTYLES = (
    *(s for s in mlines.lineStyles if s.strip() and s != "None"),
    "solid",
    "dashed",
    "dashdot",
    "dotted",
)
STUDY_KEYS = ("title", "base", "members")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
DEFAULT_BASELINE = "bt"
DEFAULT_MAIN = ("bt", "rr_stated", "rr_agree")
DEFAULT_MARKER = "o"
DEFAULT_LINESTYLE = "-"
HEADER = """\
# Registry of the LLM analysis (python -m responserank.llm.analysis.cli): which experiment group
# (run_identity group id) stands for each configuration, its display name and plot style, the
# baseline, the curves of the fraction figures, and bar-chart studies. See the README, section
# "LLM analysis". `cli registry --runs-dir runs/llm` rewrites the group ids from local run records.
"""


@dataclass(frozen=True)
class ConfigEntry:
    """One configuration: the group whose runs stand for it and how it is drawn."""

    name: str
    group_id: str
    style: MethodStyle

    @property
    def method(self) -> str:
        """The name under which the shared figure style knows this configuration.

        Namespaced, so reloading a registry with other colours in the same process is allowed,
        while a name of the shared style itself (``bt``) must keep its look (see ``_style``).
        """
        return f"llm:{self.name}"


@dataclass(frozen=True)
class Study:
    """Configurations compared side by side in one bar chart; ``base`` is drawn first."""

    name: str
    title: str
    base: str
    members: tuple[str, ...]

    @property
    def all_members(self) -> tuple[str, ...]:
        return (self.base, *[m for m in self.members if m != self.base])


@dataclass(frozen=True)
class Registry:
    path: Path
    baseline: str
    main: tuple[str, ...]
    configs: dict[str, ConfigEntry]
    studies: dict[str, Study] = field(default_factory=dict)
    #: One line per style value of a published registry that could not be used (file, key, value).
    warnings: tuple[str, ...] = ()

    def register_styles(self) -> None:
        """Give every configuration its look in the shared figure style."""
        for entry in self.configs.values():
            style = entry.style
            register_method(
                entry.method,
                style.label,
                style.color,
                style.marker,
                style.linestyle,
                overwrite=True,
            )


def _fail(path: Path, key: str, message: str) -> RegistryError:
    return RegistryError(f"{path}: {key}: {message}")


def _name(path: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise _fail(
            path, key, f"expected a configuration name (letters, digits, _.+-), got {value!r}"
        )
    return value


def _names(path: Path, key: str, value: Any, known: Mapping[str, Any]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(path, key, f"expected a non-empty list of configuration names, got {value!r}")
    names = tuple(_name(path, f"{key}[{i}]", v) for i, v in enumerate(value))
    for i, name in enumerate(names):
        if name not in known:
            raise _fail(path, f"{key}[{i}]", f"{name!r} is not in configs; known: {sorted(known)}")
    return names


def _check_keys(path: Path, key: str, mapping: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = sorted(set(mapping) - set(allowed))
    if unknown:
        raise _fail(path, key, f"unknown key(s) {unknown}; valid: {list(allowed)}")


def _style(path: Path, key: str, name: str, raw: Mapping[str, Any]) -> MethodStyle:
    """The entry's style: the given fields over the shared style registered for ``name``.

    A name the shared style does not know gets a stable fallback colour, a circle and a solid
    line for whatever the entry leaves out.
    """
    current = method_style(name)
    if name not in registered_methods():
        current = MethodStyle(current.label, current.color, DEFAULT_MARKER, DEFAULT_LINESTYLE)
    values = {attr: raw.get(attr, getattr(current, attr)) for attr in STYLE_FIELDS}
    for style_field, value in values.items():
        expected = _style_problem(style_field, value)
        if expected is not None:
            raise _fail(path, f"{key}.{style_field}", f"expected {expected}, got {value!r}")
    return MethodStyle(**values)


def _style_problem(kind: str, value: Any) -> str | None:
    """What a usable style value of ``kind`` (label, color, marker, linestyle) looks like, or
    None when ``value`` is usable."""
    if kind == "label":
        usable = isinstance(value, str) and bool(value)
        return None if usable else "a non-empty string"
    if kind == "color":
        usable = isinstance(value, str) and mcolors.is_color_like(value)
        return None if usable else "a matplotlib colour"
    if kind == "marker":
        try:
            MarkerStyle(value)
        except (ValueError, TypeError):
            return "a matplotlib marker (o, s, ^, D, ...)"
        return None
    return None if value in LINESTYLES else f"one of {list(LINESTYLES)}"


def _config(path: Path, name: str, raw: Any) -> ConfigEntry:
    key = f"configs.{name}"
    _name(path, "configs", name)
    if not isinstance(raw, dict):
        raise _fail(path, key, f"expected a mapping with group_id (and style keys), got {raw!r}")
    _check_keys(path, key, raw, CONFIG_KEYS)
    group = raw.get("group_id")
    if not isinstance(group, str) or not group.strip():
        raise _fail(path, f"{key}.group_id", f"expected a group id string, got {group!r}")
    return ConfigEntry(name=name, group_id=group, style=_style(path, key, name, raw))


def _study(path: Path, name: str, raw: Any, configs: Mapping[str, Any]) -> Study:
    key = f"studies.{name}"
    _name(path, "studies", name)
    if not isinstance(raw, dict):
        raise _fail(path, key, f"expected a mapping with base and members, got {raw!r}")
    _check_keys(path, key, raw, STUDY_KEYS)
    members = _names(path, f"{key}.members", raw.get("members"), configs)
    base = raw.get("base", members[0])
    _name(path, f"{key}.base", base)
    if base not in configs:
        raise _fail(path, f"{key}.base", f"{base!r} is not in configs; known: {sorted(configs)}")
    title = raw.get("title", name.replace("_", " "))
    if not isinstance(title, str):
        raise _fail(path, f"{key}.title", f"expected a string, got {title!r}")
    study = Study(name=name, title=title, base=base, members=members)
    if len(study.all_members) < 2:
        raise _fail(path, f"{key}.members", "a study compares at least two configurations")
    return study


def _from_published(raw: Mapping[str, Any], path: Path) -> tuple[dict[str, Any], list[str]]:
    """This project's registry mapping from a published one (``experiments: <name>: {egid, ...}``)
    and a warning per unusable style value.

    The published file is taken as it is: a style value matplotlib cannot draw (e.g.
    ``linestyle: ':-'``) is left out, so that configuration gets the default for it, and the
    warning names the file, the key and the value.
    """
    _check_keys(path, "<top level>", raw, (PUBLISHED_KEY,))
    experiments = raw[PUBLISHED_KEY]
    if not isinstance(experiments, dict) or not experiments:
        raise _fail(
            path, PUBLISHED_KEY, f"expected a non-empty mapping of experiments, got {experiments!r}"
        )
    configs = {}
    warnings = []
    for name, entry in experiments.items():
        key = f"{PUBLISHED_KEY}.{name}"
        if not isinstance(entry, dict):
            raise _fail(path, key, f"expected a mapping with egid (and style keys), got {entry!r}")
        _check_keys(path, key, entry, tuple(PUBLISHED_CONFIG_KEYS))
        if "egid" not in entry:
            raise _fail(path, f"{key}.egid", "missing: the experiment group id of its runs")
        config = {}
        for published_key, value in entry.items():
            target = PUBLISHED_CONFIG_KEYS[published_key]
            expected = _style_problem(target, value) if target in STYLE_FIELDS else None
            if expected is None:
                config[target] = value
            else:
                warnings.append(
                    f"{path}: {key}.{published_key}: expected {expected}, got {value!r}; "
                    f"configuration {name!r} is drawn with the default {target}"
                )
        configs[name] = config
    return {"configs": configs}, warnings


def parse_registry(raw: Any, path: Path) -> Registry:
    """Validate the parsed YAML of ``path`` (this project's format or the published one)."""
    if not isinstance(raw, dict):
        raise _fail(path, "<top level>", f"expected a mapping with 'configs', got {raw!r}")
    warnings: list[str] = []
    if PUBLISHED_KEY in raw:
        raw, warnings = _from_published(raw, path)
    _check_keys(path, "<top level>", raw, TOP_LEVEL_KEYS)
    raw_configs = raw.get("configs")
    if not isinstance(raw_configs, dict) or not raw_configs:
        raise _fail(
            path, "configs", f"expected a non-empty mapping of configurations, got {raw_configs!r}"
        )
    configs = {name: _config(path, name, entry) for name, entry in raw_configs.items()}
    seen: dict[str, str] = {}
    for name, entry in configs.items():
        if entry.group_id in seen:
            raise _fail(
                path,
                f"configs.{name}.group_id",
                f"{entry.group_id!r} is also the group of {seen[entry.group_id]!r}",
            )
        seen[entry.group_id] = name
    baseline = raw.get("baseline", DEFAULT_BASELINE)
    _name(path, "baseline", baseline)
    if "baseline" in raw and baseline not in configs:
        raise _fail(path, "baseline", f"{baseline!r} is not in configs; known: {sorted(configs)}")
    if "main" in raw:
        main = _names(path, "main", raw["main"], configs)
    else:
        main = tuple(name for name in DEFAULT_MAIN if name in configs) or tuple(configs)
    raw_studies = raw.get("studies") or {}
    if not isinstance(raw_studies, dict):
        raise _fail(path, "studies", f"expected a mapping of studies, got {raw_studies!r}")
    studies = {name: _study(path, name, entry, configs) for name, entry in raw_studies.items()}
    return Registry(path, baseline, main, configs, studies, tuple(warnings))


def load_registry(path: Path) -> Registry:
    """Read and validate a registry file."""
    if not path.is_file():
        raise RegistryError(
            f"{path}: registry not found; create it with `python -m "
            "responserank.llm.analysis.cli registry --runs-dir runs/llm --registry "
            f"{path}` or by hand (format: README, section 'LLM analysis')"
        )
    return parse_registry(read_yaml(path, "the run registry (a YAML mapping)"), path)


def dump_registry(raw: Mapping[str, Any]) -> str:
    """The registry file text: the header, then the mapping in a stable key order."""
    ordered = {key: raw[key] for key in TOP_LEVEL_KEYS if key in raw}
    body = yaml.safe_dump(ordered, sort_keys=False, allow_unicode=True, width=100)
    return HEADER + body


@dataclass(frozen=True)
class FoundGroup:
    """A group of finished local runs of one preset."""

    experiment: str
    group_id: str
    runs: int
    last_finished: str


def update_from_runs(
    registry_path: Path, groups: Sequence[FoundGroup], dry_run: bool = False
) -> tuple[str, list[str]]:
    """Point every preset found in ``groups`` at its group id; keep labels, styles and studies.

    A preset with several groups (e.g. runs before and after a config change) takes the group with
    the most recently finished run; the notes say which others were seen. New presets are added
    with the shared style. Returns the new file text and the notes; writes it unless ``dry_run``.
    """
    raw: dict[str, Any] = {}
    if registry_path.is_file():
        raw = read_yaml(registry_path, "the run registry (a YAML mapping)", allow_empty=True) or {}
        parse_registry(raw, registry_path)
        if isinstance(raw, dict) and PUBLISHED_KEY in raw:
            raw, _ = _from_published(raw, registry_path)  # rewritten in this project's format
    configs: dict[str, Any] = dict(raw.get("configs") or {})
    notes: list[str] = []
    by_experiment: dict[str, list[FoundGroup]] = {}
    for group in groups:
        by_experiment.setdefault(group.experiment, []).append(group)
    for experiment, found in sorted(by_experiment.items()):
        chosen = max(found, key=lambda g: (g.last_finished, g.runs))
        others = sorted(g.group_id for g in found if g is not chosen)
        if others:
            notes.append(
                f"{experiment}: {len(found)} groups; using {chosen.group_id} (latest finished run), "
                f"not {', '.join(others)}"
            )
        entry = dict(configs.get(experiment) or {})
        previous = entry.get("group_id")
        entry["group_id"] = chosen.group_id
        if "label" not in entry:
            entry["label"] = method_style(experiment).label
        configs[experiment] = {key: entry[key] for key in CONFIG_KEYS if key in entry}
        if previous is None:
            notes.append(f"{experiment}: added with group {chosen.group_id} ({chosen.runs} runs)")
        elif previous != chosen.group_id:
            notes.append(f"{experiment}: group {previous} -> {chosen.group_id}")
    raw = {**raw, "configs": configs}
    text = dump_registry(raw)
    parse_registry(yaml.safe_load(text), registry_path)
    if not dry_run:
        write_text_atomic(registry_path, text)
    return text, notes
