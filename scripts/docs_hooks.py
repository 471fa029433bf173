"""MkDocs hooks: the reference and results parts of the docs are generated while the site builds.

A page marks a generated part with a line ``<!-- generated: NAME -->``; :func:`on_page_markdown`
replaces it with the Markdown :data:`GENERATORS` makes from the code and the committed files, so
the docs cannot drift from them:

- ``config-typed``: every key of the typed run configuration (the dataclasses registered in Hydra's
  ConfigStore, walked generically through ``dataclasses.fields`` and ``metadata["help"]``);
- ``config-primary-*``: the keys of an untyped primary config, with their inline comments;
- ``config-presets``: every option of every config group, with the first comment of its YAML;
- ``commands``: the console commands of ``pyproject.toml`` and their ``python -m`` forms;
- ``results-*`` / ``benchmark-*``: tables computed from ``results/`` (or included from it).

:func:`on_config` adds the optional pages (``OPTIONAL_PAGES``) to the navigation when they exist.
Run by ``mkdocs build`` (``mkdocs.yml``: ``hooks``); ``tests/test_docs.py`` builds with --strict.
"""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONF = REPO / "conf"
RESULTS = REPO / "results"
MARKER = re.compile(r"^<!-- generated: ([\w-]+) -->$", re.MULTILINE)
#: Pages other work may add; listed in the navigation (section, title) only when present.
OPTIONAL_PAGES = {
    "design.md": ("Reference", "Design and layout"),
    "serving.md": ("Families", "Serving a reward model"),
    "batch_layouts.md": ("Families", "Batch layouts"),
    "lie_rt_study.md": ("Families", "Response times on LIE"),
}


def _cell(value: Any) -> str:
    text = "null" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


# ---- configuration -----------------------------------------------------------------------------


def _type_name(hint: Any) -> str:
    text = hint if isinstance(hint, str) else getattr(hint, "__name__", None) or str(hint)
    return str(text).replace("typing.", "").replace("NoneType", "None")


def _walk(schema: type, prefix: str = "") -> Iterator[list[str]]:
    """Rows (key, type, default, help) of a dataclass schema, nested dataclasses flattened."""
    try:
        hints = typing.get_type_hints(schema)
    except (NameError, TypeError):
        hints = {}
    for item in dataclasses.fields(schema):
        key = f"{prefix}{item.name}"
        hint = hints.get(item.name, item.type)
        nested = item.default_factory if dataclasses.is_dataclass(item.default_factory) else None
        nested = nested or (hint if dataclasses.is_dataclass(hint) else None)
        if nested is not None:
            yield from _walk(nested, f"{key}.")
            continue
        if item.default is not dataclasses.MISSING:
            default = item.default
        elif item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        else:
            default = "(required)"
        if str(default) == "???":
            default = "(chosen by its config group)"
        help_text = item.metadata.get("help", "")
        yield [f"`{key}`", f"`{_type_name(hint)}`", f"`{default}`", help_text]


def _registered_schemas() -> list[tuple[str, type]]:
    """The project's dataclass schemas in Hydra's ConfigStore (importing the config registers them)."""
    import importlib

    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    importlib.import_module("responserank.llm.config")
    found = []
    for name, node in sorted(ConfigStore.instance().repo.items()):
        if not name.endswith(".yaml") or not hasattr(node, "node"):
            continue
        schema = OmegaConf.get_type(node.node)
        if dataclasses.is_dataclass(schema) and schema.__module__.startswith("responserank"):
            found.append((name.removesuffix(".yaml"), schema))
    return found


def config_typed() -> str:
    blocks = []
    for name, schema in _registered_schemas():
        rows = list(_walk(schema))
        blocks.append(
            f"**`{name}`** (`{schema.__module__}.{schema.__qualname__}`, {len(rows)} keys)\n\n"
            + _table(["key", "type", "default", "help"], rows)
        )
    return "\n\n".join(blocks)


def _primary_keys(path: Path) -> list[list[str]]:
    """Keys of a YAML primary config (outside ``defaults`` and ``hydra``), with inline comments."""
    import yaml

    loaded = yaml.safe_load(path.read_text())
    comments: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in path.read_text().splitlines():
        found = re.match(r"^(\s*)([\w.]+):(.*)$", line)
        if not found:
            continue
        indent = len(found.group(1))
        stack = [(i, k) for i, k in stack if i < indent] + [(indent, found.group(2))]
        if "#" in found.group(3):
            comments[".".join(k for _, k in stack)] = found.group(3).split("#", 1)[1].strip()

    def rows(node: dict, prefix: str) -> Iterator[list[str]]:
        for key, value in node.items():
            if not prefix and key in ("defaults", "hydra"):
                continue
            full = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                yield from rows(value, f"{full}.")
            else:
                kind = type(value).__name__ if value is not None else "any (null)"
                yield [f"`{full}`", f"`{kind}`", f"`{value}`", comments.get(full, "")]

    return list(rows(loaded, ""))


def _primary(*parts: str) -> Callable[[], str]:
    return lambda: _table(["key", "type", "default", "help"], _primary_keys(CONF.joinpath(*parts)))


def preset_description(path: Path) -> str:
    """The leading comment of a config file (``# @package`` lines left out), as one line."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        text = line.lstrip("#").strip()
        if not text.startswith("@package"):
            lines.append(text)
    return " ".join(lines)


def config_presets() -> str:
    blocks = []
    for family in ("llm", "synthetic", "accelerate"):
        root = CONF / family
        groups = sorted({p.parent for p in root.rglob("*.yaml") if p.parent != root})
        if family == "accelerate":
            groups = [root]
        for group in groups:
            rows = [[f"`{p.stem}`", preset_description(p)] for p in sorted(group.glob("*.yaml"))]
            where = group.relative_to(REPO).as_posix()
            blocks.append(
                f"### `{where}/` ({len(rows)})\n\n" + _table(["option", "what it is"], rows)
            )
    return "\n\n".join(blocks)


def commands() -> str:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    rows = []
    for name, target in scripts.items():
        module = target.split(":")[0].removesuffix(".__main__")
        rows.append([f"`{name}`", f"`python -m {module}`"])
    return _table(["command", "the same as"], rows)


# ---- results -----------------------------------------------------------------------------------


def _synthetic_files(names: tuple[str, ...]) -> list[Path]:
    return [RESULTS / "synthetic" / f"{name}.json" for name in names]


def results_synthetic_paper() -> str:
    from responserank.synthetic.summary import PAPER_DATASETS, pivot_tables

    return pivot_tables(_synthetic_files(PAPER_DATASETS), "1.0")


def results_synthetic_reliability() -> str:
    from responserank.synthetic.summary import pivot_tables

    files = _synthetic_files(("reliability_mix", "reliability_mix_no_variability"))
    return "\n\n".join(pivot_tables(files, size) for size in ("1.0", "0.5"))


def results_reliability_sweep() -> str:
    sweep = json.loads((RESULTS / "synthetic" / "reliability_sweep.json").read_text())

    def gain(cell: dict, parent: str) -> str:
        acc = cell["gains"][f"over_{parent}"]["choice_accuracy"]
        pdc = cell["gains"][f"over_{parent}"]["pearson_distance_correlation"]
        return (
            f"{acc['mean']:+.3f} ± {acc['ci_half_width']:.3f} "
            f"({pdc['mean']:+.3f} ± {pdc['ci_half_width']:.3f})"
        )

    rows = [
        [c["unreliable_share"], f"{c['proxy_quality']:g}", gain(c, "rr"), gain(c, "rapl_beta")]
        for c in sweep["cells"]
    ]
    header = ["unreliable share", "proxy quality", "over `rr`", "over `rapl_beta`"]
    trials = sorted({c["num_trials"] for c in sweep["cells"]})
    return (
        f"Gain of `rr_rapl` in accuracy (PDC in brackets), mean ± 95% CI half-width of the "
        f"per-trial difference over {', '.join(map(str, trials))} trials, dataset "
        f"`{sweep['dataset']}` at size {sweep['size']}:\n\n" + _table(header, rows)
    )


def _mean_sd(row: Any, name: str) -> str:
    return f"{row[f'{name}_mean']:.3f} ± {row[f'{name}_std']:.3f}"


def results_rapl_cpu() -> str:
    import pandas as pd

    frame = pd.read_csv(RESULTS / "rapl" / "lie_fold0_minilm_cpu_summary.csv")
    measures = ("length_weight", "correctness_weight", "ratio", "heldout_accuracy")
    rows = []
    for _, r in frame.iterrows():
        arm = "-" if r["arm"] == "none" else f"{r['arm']} ({'is_prob' if r['is_prob'] else 'raw'})"
        rows.append([r["experiment"], arm, int(r["n_runs"]), *(_mean_sd(r, m) for m in measures)])
    header = ["preset", "ARM", "runs", "length weight", "correctness weight", "ratio"]
    return "Mean ± standard deviation over seeds:\n\n" + _table(
        [*header, "held-out accuracy"], rows
    )


def results_llm() -> str:
    import pandas as pd

    from responserank.stats import summarize

    frame = pd.read_csv(RESULTS / "llm" / "results.csv")
    meta = json.loads((RESULTS / "llm" / "meta.json").read_text())
    held = frame[frame["metric"] == "eval/heldout/accuracy"]
    configs = list(dict.fromkeys(held["config"]))
    rows = []
    for fraction in sorted(held["fraction"].unique()):
        row: list[Any] = [f"{fraction:g}"]
        for config in configs:
            values = held[(held["config"] == config) & (held["fraction"] == fraction)]["value"]
            s = summarize(100 * values.to_numpy())
            row.append(f"{s.mean:.1f} ± {s.ci_half_width:.1f} (n={s.n})")
        rows.append(row)
    note = meta.get("data_note") or "data as recorded in meta.json"
    return (
        f"Held-out accuracy in percent, mean ± 95% t-interval half-width over seeds "
        f"({meta['runs']} runs; data: {note}):\n\n" + _table(["fraction", *configs], rows)
    )


def _benchmark(name: str) -> Callable[[], str]:
    def include() -> str:
        text = (RESULTS / "benchmarks" / f"{name}.md").read_text()
        return re.sub(
            r"^(#+) ", lambda m: "#" * min(len(m.group(1)) + 2, 6) + " ", text, flags=re.M
        )

    return include


GENERATORS: dict[str, Callable[[], str]] = {
    "config-typed": config_typed,
    "config-primary-llm": _primary("llm", "config.yaml"),
    "config-primary-evaluate": _primary("llm", "evaluate.yaml"),
    "config-primary-synthetic": _primary("synthetic", "config.yaml"),
    "config-presets": config_presets,
    "commands": commands,
    "results-synthetic-paper": results_synthetic_paper,
    "results-synthetic-reliability": results_synthetic_reliability,
    "results-reliability-sweep": results_reliability_sweep,
    "results-rapl-cpu": results_rapl_cpu,
    "results-llm": results_llm,
    **{
        f"benchmark-{p.stem}": _benchmark(p.stem)
        for p in sorted((RESULTS / "benchmarks").glob("*.md"))
    },
}


def render(markdown: str, page: str = "") -> str:
    """``markdown`` with every generated marker replaced; an unknown name is an error."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in GENERATORS:
            raise KeyError(f"{page}: unknown generated part {name!r}; known: {sorted(GENERATORS)}")
        return GENERATORS[name]().strip()

    return MARKER.sub(replace, markdown)


# ---- MkDocs events -----------------------------------------------------------------------------


def on_config(config, **_: Any):
    docs = Path(config["docs_dir"])
    nav = config["nav"] or []
    for page, (section, title) in OPTIONAL_PAGES.items():
        if not (docs / page).is_file():
            continue
        for entry in nav:
            if isinstance(entry, dict) and section in entry:
                entry[section].append({title: page})
                break
        else:
            nav.append({title: page})
    return config


#: A Markdown link to a file of the repository outside docs/ (``[text](../results/x.md)``).
OUTSIDE_LINK = re.compile(r"\[([^\]]+)\]\(\.\./([^)#\s]+)\)")


def repository_links(markdown: str) -> str:
    """Links to repository files outside the site become the text and the path in code: the site
    is built from docs/ alone, so such a link would be broken there."""
    return OUTSIDE_LINK.sub(lambda m: f"{m.group(1)} (`{m.group(2)}`)", markdown)


def on_page_markdown(markdown: str, page, **_: Any) -> str:
    return repository_links(render(markdown, page.file.src_uri))
