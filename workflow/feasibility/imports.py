"""The package's own import graph, read statically from its source (``ast``; nothing is
imported): which of its modules each module imports.

Two users: the workflow derives each rule's code inputs from it
(``workflow/rules/common.smk``, :func:`step_files`: editing any module a step imports
reruns that step and nothing else), and the layer test (``tests/test_layers.py``) checks
that imports run one way, from a higher layer to a lower one (docs/design.md, "Layers").

What counts as an import of a module ``m``:

* ``import feasibility.a.b`` and ``from feasibility.a import b`` (or their relative forms),
  anywhere in the file, inside a function too (the package imports its heavy parts late);
* a string constant that names a module of the package, not a package
  (``"feasibility.figures.flow"``): how a module that loads others by name
  (``importlib.import_module``) says which (a logger named ``"feasibility.analysis"`` is
  no import);
* the ``__init__`` of every package above an imported module (Python runs it first).

``from P import name`` imports ``P.name`` when that is a module, else ``P``.
"""

from __future__ import annotations

import ast
import functools
import os
from pathlib import Path

PACKAGE = "feasibility"
PIPELINE = f"{PACKAGE}.pipeline"  # the rules' entry points
SOURCE = Path(__file__).resolve().parent  # workflow/feasibility


def module_files(root: str | os.PathLike = SOURCE) -> dict[str, Path]:
    """Every module of the package under ``root`` (its source folder), by dotted name
    (a package by its own name, for its ``__init__.py``)."""
    root = Path(root)
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if "__pycache__" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join((PACKAGE, *parts))] = path
    return found


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of the module a ``from ... import`` reads from."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports_of(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    named: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(node, module, is_package)
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                named.add(sub if sub in modules else source)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in modules
            and modules[node.value].name != "__init__.py"
        ):  # a logger's name is not an import
            named.add(node.value)
    return _ours(named, modules) - {module}


def _ours(named, modules: dict[str, Path]) -> set[str]:
    """The package's modules among the dotted names ``named`` (an attribute of a module
    stands for the module; another package's names are dropped)."""
    found = set()
    for name in named:
        if name != PACKAGE and not name.startswith(PACKAGE + "."):
            continue
        while name and name not in modules:
            name = name.rpartition(".")[0]
        found.add(name)
    return found


def _packages_above(name: str) -> set[str]:
    """The packages whose ``__init__`` Python runs before module ``name``."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


@functools.lru_cache(maxsize=4)
def _graph(root: str) -> dict[str, frozenset[str]]:
    modules = module_files(root)
    return {m: frozenset(_imports_of(m, p, modules)) for m, p in modules.items()}


def import_graph(root: str | os.PathLike = SOURCE) -> dict[str, frozenset[str]]:
    """Module -> the package's modules it names in an import (see the module's docstring;
    the packages above them, whose ``__init__`` runs first, are left to :func:`closure`)."""
    return _graph(str(Path(root).resolve()))


def closure(modules, root: str | os.PathLike = SOURCE) -> set[str]:
    """``modules`` and every module of the package they import, directly or not."""
    graph = import_graph(root)
    seen: set[str] = set()
    todo = list(modules)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in graph:
            raise KeyError(f"{name} is not a module of the package in {root}")
        seen.add(name)
        todo += graph[name] | _packages_above(name)
    return seen


def step_modules(step: str, root: str | os.PathLike = SOURCE) -> set[str]:
    """The modules one rule's entry point runs: ``feasibility.pipeline.<step>`` with the
    imports inside it and inside the helpers of ``pipeline`` it calls, the imports at the
    top of ``pipeline``, and all that these import."""
    path = Path(root) / "pipeline.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    if step not in functions:
        raise KeyError(f"{path} has no entry point {step!r}")
    graph_root = Path(root)
    modules = module_files(graph_root)
    top = ast.Module(
        body=[n for n in tree.body if not isinstance(n, ast.FunctionDef | ast.ClassDef)], type_ignores=[]
    )
    bodies, todo = [top], [step]
    seen: set[str] = set()
    while todo:  # the entry point and the functions and classes of pipeline it uses
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        bodies.append(functions[name])
        todo += [n.id for n in ast.walk(functions[name]) if isinstance(n, ast.Name) and n.id in functions]
    found = {PACKAGE}
    named: set[str] = set()
    for body in bodies:
        for node in ast.walk(body):
            if isinstance(node, ast.ImportFrom):
                source = _resolve(node, PIPELINE, False)
                for alias in node.names:
                    sub = f"{source}.{alias.name}"
                    named.add(sub if sub in modules else source)
            elif isinstance(node, ast.Import):
                named.update(alias.name for alias in node.names)
    found |= _ours(named, modules)
    found.discard(PIPELINE)  # not all of it: only what this step runs
    return closure(found, graph_root) | {PIPELINE}


def files_of(modules, root: str | os.PathLike = SOURCE) -> list[Path]:
    """The source files of ``modules``, sorted."""
    paths = module_files(root)
    return sorted(paths[m] for m in modules)
