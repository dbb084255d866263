"""Layers run one way (issue 22.3): the package's imports, read statically, never run from a
lower layer to a higher one, and never in a cycle. The layers are docs/design.md's table."""

from __future__ import annotations

import re

from feasibility.imports import PACKAGE, import_graph
from projectcopy import ROOT

DESIGN = ROOT / "docs" / "design.md"
# Imports that break the rules today and are being removed by another change; each must
# still exist (delete it here when it is gone). analysis.tables loads the table kinds, and
# the kinds import analysis.tables back: issue 22.1/22.2 moves the table machinery under
# tables/.
KNOWN: set[tuple[str, str]] = set()


def layers() -> dict[str, int]:
    """docs/design.md's "Layers" table: entry (a module or package, without the package's
    name) -> its layer."""
    text = DESIGN.read_text(encoding="utf-8").split("## Layers", 1)[1].split("\n## ", 1)[0]
    found = {}
    for m in re.finditer(r"^\| (\d+) \| [^|]* \| ([^|]*) \|$", text, re.MULTILINE):
        for entry in m[2].split(","):
            found[entry.strip()] = int(m[1])
    assert found, f"{DESIGN} has no table of layers under '## Layers'"
    return found


def layer_of(module: str, table: dict[str, int]) -> int | None:
    """The layer of ``module``: that of the longest entry it is, or lies under."""
    parts = module.split(".")[1:]
    for i in range(len(parts), 0, -1):
        if ".".join(parts[:i]) in table:
            return table[".".join(parts[:i])]
    return None


def test_every_module_is_on_a_layer():
    table = layers()
    missing = sorted(m for m in import_graph() if m != PACKAGE and layer_of(m, table) is None)
    assert not missing, f"modules on no layer of {DESIGN}'s table: {missing}"


def test_no_import_runs_from_a_lower_layer_to_a_higher_one():
    table = layers()
    graph = import_graph()
    upward = sorted(
        (m, n)
        for m, imported in graph.items()
        if m != PACKAGE
        for n in imported
        if n != PACKAGE and layer_of(n, table) > layer_of(m, table)
    )
    assert set(upward) >= KNOWN, f"known exceptions no longer found (delete them): {KNOWN - set(upward)}"
    wrong = [
        f"{m} (layer {layer_of(m, table)}) imports {n} (layer {layer_of(n, table)})"
        for m, n in upward
        if (m, n) not in KNOWN
    ]
    assert not wrong, "\n".join(wrong)


def cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle():
    graph = {
        m: frozenset(n for n in imported if (m, n) not in KNOWN) for m, imported in import_graph().items()
    }
    assert cycles(graph) == []


def test_the_checks_see_an_upward_import_and_a_cycle():
    """The two checks on a graph made up for them: a module of layer 1 importing one of
    layer 2, and two modules importing each other."""
    table = {"io": 1, "redcap": 2}
    assert layer_of("feasibility.redcap.tidy", table) > layer_of("feasibility.io", table)
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"a"})}
    assert cycles(graph) == [["a", "b", "c"]]


def test_the_graph_reads_every_form_of_import(tmp_path):
    """``import``, ``from`` (absolute and relative, of a module or of a name), an import
    inside a function, and a module named in a string are all edges."""
    pkg = tmp_path / "feasibility"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    for name in ("a", "b", "c", "d", "e"):
        (pkg / f"{name}.py").write_text("X = 1\n")
    (pkg / "sub" / "m.py").write_text(
        "import feasibility.a\nfrom ..b import X\nfrom .. import c\n"
        "def f():\n    from feasibility.d import X\n"
        "KINDS = {'e': 'feasibility.e'}\n"
    )
    assert import_graph(pkg)["feasibility.sub.m"] == {f"feasibility.{n}" for n in "abcde"}


def _declared(names: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", n, maxsplit=1)[0].lower().replace("_", "-") for n in names}


def _imported(folder) -> set[str]:
    """The top-level names of the libraries the files under ``folder`` import."""
    import ast
    import sys

    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return {n for n in found if n not in sys.stdlib_module_names and n != PACKAGE}


def test_every_library_the_package_imports_is_a_declared_dependency():
    """pyproject.toml declares every library the package imports directly (a library that
    another brings along today may not tomorrow), and the test extra those the tests import."""
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _declared(project["dependencies"])
    test = runtime | _declared(project["optional-dependencies"]["test"])
    dists = packages_distributions()
    local = {p.stem for p in (ROOT / "tests").rglob("*.py")}

    def missing(modules: set[str], declared: set[str]) -> list[str]:
        return sorted(
            m
            for m in modules
            if m not in local and not {d.lower().replace("_", "-") for d in dists.get(m, [m])} & declared
        )

    assert missing(_imported(ROOT / "workflow" / "feasibility"), runtime) == []
    assert missing(_imported(ROOT / "tests"), test) == []
