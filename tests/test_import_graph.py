"""The package's modules import each other without cycles (function-level and typing-only imports
included), and no module imports from a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(path: Path) -> str:
    parts = path.with_suffix("").relative_to(SRC).parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST, typing_only: bool):
    """Every node of ``tree``; without ``typing_only``, not those inside ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if not typing_only and _is_type_checking_block(node):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _import_graph(typing_only: bool = True) -> nx.DiGraph:
    modules = {_module_name(p): p for p in (SRC / "responserank").rglob("*.py")}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for name, path in modules.items():
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8")), typing_only):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t if t in modules else node.module for t in targets]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            graph.add_edges_from((name, t) for t in targets if t in modules and t != name)
    return graph


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(_import_graph()))
    assert cycles == [], f"import cycles: {cycles[:5]}"


def test_true_items_does_not_reach_into_scale():
    graph = _import_graph()
    assert graph.has_edge(
        "responserank.llm.data.sources.scale", "responserank.llm.data.sources.true"
    )
    assert not graph.has_edge(
        "responserank.llm.data.sources.true", "responserank.llm.data.sources.scale"
    )


# (importer prefix, imported prefixes it must not use): each layer imports only lower ones.
LAYER_RULES = [
    (
        "responserank.llm.data",
        (
            "responserank.llm.training",
            "responserank.llm.runs",
            "responserank.llm.evaluation",
            "responserank.llm.analysis",
        ),
    ),
    (
        "responserank.llm.evaluation",
        (
            "responserank.llm.training",
            "responserank.llm.data.prepare",
            "responserank.llm.data.strata",
            "responserank.llm.runs",
            "responserank.llm.analysis",
        ),
    ),
    ("responserank.llm.training", ("responserank.llm.analysis",)),
    (
        "responserank.llm.modeling",
        (
            "responserank.llm.training",
            "responserank.llm.runs",
            "responserank.llm.evaluation",
            "responserank.llm.data.prepare",
            "responserank.llm.analysis",
        ),
    ),
    ("responserank.llm.runs", ("responserank.llm.training", "responserank.llm.analysis")),
    ("responserank.synthetic", ("responserank.llm",)),
]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_no_module_imports_a_higher_layer():
    graph = _import_graph()
    upward = [
        (a, b)
        for a, b in graph.edges
        for importer, banned in LAYER_RULES
        if _within(a, importer) and any(_within(b, x) for x in banned)
    ]
    assert upward == []


def test_production_code_never_imports_the_testing_package():
    graph = _import_graph()
    offenders = [
        (a, b)
        for a, b in graph.edges
        if _within(b, "responserank.testing") and not _within(a, "responserank.testing")
    ]
    assert offenders == []


#: The modules that may read Hydra's composed config (and so import omegaconf): the entry points
#: that compose it, the package that settles it into a typed run specification, and the command
#: line plumbing that reports what Hydra could not compose. Everything else reads the settled
#: specification (``responserank.llm.config.RunSpec``, ``responserank.synthetic.grid.Experiment``).
OMEGACONF_READERS = (
    "responserank.llm.config",
    "responserank.llm.train",
    "responserank.llm.evaluate",
    "responserank.synthetic.experiment_runner",
    "responserank.cli_errors",
)


def _imports_omegaconf(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(name == "omegaconf" or name.startswith("omegaconf.") for name in names):
            return True
    return False


def test_only_entry_points_and_the_config_package_import_omegaconf():
    readers = []
    for path in sorted((SRC / "responserank").rglob("*.py")):
        name = _module_name(path)
        if _imports_omegaconf(path) and not any(_within(name, a) for a in OMEGACONF_READERS):
            readers.append(name)
    assert readers == [], "settle the config at the entry point and pass the typed spec down"
