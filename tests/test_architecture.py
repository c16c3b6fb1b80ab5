"""The house plan holds: imports point down the layers, never in a circle, never at a private name.

Read from the source with ``ast`` (nothing is imported): every ``import`` of every module under
``src/``, wherever it stands, those under ``if TYPE_CHECKING:`` included (an annotation is an
arrow too: a module that names another's class depends on it). Importing ``spheres.a.b`` runs
``spheres/a/__init__.py`` first, so an import is also an arrow to each package above the module
it names (but the root ``spheres``, the public face, which imports from every layer and is
imported by none).
docs/ARCHITECTURE.md draws the layers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# The layers, bottom first: a module may import its own layer and those below it.
LAYERS = (
    ("spheres.errors", "spheres.paths"),
    ("spheres.schema",),
    ("spheres.model",),
    ("spheres.config",),
    ("spheres.analysis",),
    ("spheres.run", "spheres.verify"),
    ("spheres.sweeps", "spheres.studies", "spheres.bench", "spheres.viz", "spheres.calibrate",
     "spheres.explore"),
    ("spheres.report",),
    ("spheres.cli", "hydra_plugins"),
    ("spheres",),
)
# Imports that may wait until a function runs: heavy optional dependencies, only loaded when
# the feature that needs them is used (the cluster launchers, the classroom page, a browser).
LAZY = ("ray", "solara", "playwright", "submitit", "mesa.visualization", "distributed",
        "spheres.calibrate.smc",  # the module that imports pyabc (the [calibrate] extra)
        "spheres.explore.regions",  # the one that imports EMA Workbench (the [explore] extra)
        "ema_workbench")


def module_name(path: Path) -> str:
    """The dotted module name of a source file (a package is its ``__init__``)."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def is_package(name: str) -> bool:
    """Whether ``name`` is a package (its ``__init__``), not a plain module."""
    return MODULES[name].name == "__init__.py"


def imports(name: str) -> list[tuple[ast.AST, str, list[str], bool]]:
    """Each import of a module: the node, the module it names, the names taken, and whether it
    stands at the top of the module (outside functions)."""
    tree = ast.parse(MODULES[name].read_text(), str(MODULES[name]))
    at_top = {id(n) for n in tree.body}
    at_top |= {id(n) for stmt in tree.body if isinstance(stmt, ast.If | ast.Try)
               for n in ast.walk(stmt)}
    package = name if is_package(name) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node, alias.name, [], id(node) in at_top))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append((node, base, [a.name for a in node.names], id(node) in at_top))
    return found


def arrows(name: str) -> set[str]:
    """The modules of this project that importing ``name`` runs (directly)."""
    out: set[str] = set()
    for _, target, taken, _ in imports(name):
        if not target.startswith(("spheres", "hydra_plugins")):
            continue
        named = [f"{target}.{t}" for t in taken if f"{target}.{t}" in MODULES] or [target]
        for module in named:
            parts = module.split(".")
            out.update(".".join(parts[:i]) for i in range(2, len(parts) + 1)
                       if ".".join(parts[:i]) in MODULES)
    out.discard(name)
    return out


GRAPH = {name: arrows(name) for name in MODULES}


def layer(name: str) -> int:
    """The layer of a module: that of the longest prefix listed in LAYERS."""
    best, rank = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank >= 0, f"{name} is in no layer of the house plan"
    return rank


def cycles() -> list[list[str]]:
    """The import circles: each strongly connected group of modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(GRAPH[v] - {"spheres"}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_the_source_is_read() -> None:
    """The walk sees the package, its model and the plugins, and their imports."""
    assert {"spheres.model.model", "spheres.cli", "spheres.schema"} <= set(MODULES)
    assert "spheres.schema" in GRAPH["spheres.model.model"]


def test_no_import_circles() -> None:
    """No module imports, through others, a module that imports it."""
    assert cycles() == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name: str) -> None:
    """A module imports only modules of its own layer or below."""
    up = sorted(t for t in GRAPH[name] if t != "spheres" and layer(t) > layer(name))
    assert not up, f"{name} (layer {layer(name)}) imports from above: {up}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_names_across_modules(name: str) -> None:
    """No module takes a ``_private`` name from another module, nor Hydra's ``_internal``."""
    for node, target, taken, _ in imports(name):
        assert "hydra._internal" not in target, f"{name}:{node.lineno} imports {target}"
        private = [t for t in taken if t.startswith("_") and not t.startswith("__")]
        assert not private or target == name, f"{name}:{node.lineno} imports {private}"
        assert not any(part.startswith("_") and not part.startswith("__")
                       for part in target.split(".")), f"{name}:{node.lineno} {target}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_stand_at_the_top(name: str) -> None:
    """Imports are at the top of a module, but for the heavy optional dependencies."""
    late = [f"{target}:{node.lineno}" for node, target, _, top in imports(name)
            if not top and not target.startswith(LAZY)]
    assert not late, f"{name} imports inside functions: {late}"


def test_the_checks_can_fail() -> None:
    """A made-up circle and an upward arrow are found by the same functions."""
    GRAPH["spheres.errors"].add("spheres.paths")
    GRAPH["spheres.paths"].add("spheres.errors")
    try:
        assert ["spheres.errors", "spheres.paths"] in cycles()
    finally:
        GRAPH["spheres.errors"].discard("spheres.paths")
        GRAPH["spheres.paths"].discard("spheres.errors")
    assert layer("spheres.model.rules") > layer("spheres.schema")
    assert layer("spheres.config.validate") > layer("spheres.model.network")


def listing(path: Path, heading: str) -> str:
    """The first ``text`` code block after ``heading`` in a Markdown file."""
    text = path.read_text()
    after = text[text.index(heading):]
    start = after.index("```text\n") + len("```text\n")
    return after[start:after.index("```", start)]


def listed_files(block: str) -> set[str]:
    """The file names a listing names, a range ``a.py .. b.py`` standing for the files between."""
    names = set(re.findall(r"\b\w+\.py\b", block))
    for first, last in re.findall(r"\b(\w+\.py)\s*\.\.\s*(\w+\.py)\b", block):
        names |= {p.name for p in MODULES.values() if first <= p.name <= last}
    return names


DOCS = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("doc", "heading", "depth"), [
    ("docs/ARCHITECTURE.md", "## The rooms", None),
    ("README.md", "## Layout", 1),
])
def test_the_layout_docs_match_the_tree(doc: str, heading: str, depth: int | None) -> None:
    """The layout listings name every package (and, to their depth, every module) of ``src/``,
    and no file that is not there."""
    block = listing(DOCS / doc, heading)
    files = listed_files(block)
    dirs = set(re.findall(r"\b(\w+)/", block))
    for path in MODULES.values():
        rel = path.relative_to(SRC)
        for package in rel.parts[:-1]:
            assert package in dirs, f"{doc} does not list {package}/"
        if path.name != "__init__.py" and (depth is None or len(rel.parts) <= depth + 1):
            assert path.name in files, f"{doc} does not list {rel}"
    every = {p.name for p in MODULES.values()}
    assert files <= every, f"{doc} lists files that are not in src/: {sorted(files - every)}"


def test_the_odd_names_every_rule() -> None:
    """Each function of ``model/rules.py`` is named in docs/ODD.md, beside the rule it writes."""
    tree = ast.parse(MODULES["spheres.model.rules"].read_text())
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)
                 and not n.name.startswith("_")}
    odd = (DOCS / "docs" / "ODD.md").read_text()
    named = set(re.findall(r"rules\.(\w+)", odd))
    assert functions, "rules.py defines no function"
    assert functions <= named, f"docs/ODD.md does not name {sorted(functions - named)}"
