"""The table kinds, collected: every module ``tables/<kind>.py`` that declares a kind.

A kind's module declares, as literals at its top level (``feasibility.config.table_kinds``
reads them from its source, so that checking a study file imports no table code):

``KIND``
    its name, the ``kind`` a study file's table declaration gives;
``DEFAULTS``
    what it assumes where a declaration is silent (its ``build`` reads them);
``SCHEMA``
    its own properties of a table declaration, a JSON Schema fragment in YAML
    (``description``, ``properties``, ``required``, ``$defs``): the study file's schema
    allows a table of this kind these and the properties every kind shares, nothing else;
``READS``
    what of the study file beyond its declaration it reads, so that a change there reruns
    its tables (``every_timepoint_by_default``, ``adjustment``);

and a function ``build(analysis, table_id, raw, small_cell_threshold=None)`` returning a
:class:`feasibility.tables.base.TableResult`. Nothing else names a kind: adding one is
adding its module (and its tests); docs/tables.md shows how.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from feasibility.analysis.expressions import ExpressionError
from feasibility.config import table_kinds
from feasibility.tables.base import TableResult

PACKAGE = "feasibility.tables"


def kinds(package: str = PACKAGE, declared: dict[str, dict] | None = None) -> dict[str, ModuleType]:
    """Each kind's module, by kind name, in the order of their file names."""
    declared = table_kinds() if declared is None else declared
    out = {}
    for name, d in declared.items():
        module = import_module(f"{package}.{d['module']}")
        for attr in ("KIND", "DEFAULTS", "SCHEMA", "READS", "build"):
            if not hasattr(module, attr):
                raise TypeError(f"{module.__name__} declares table kind {name!r} but no {attr}")
        if module.KIND != name or module.DEFAULTS != d["defaults"]:
            raise TypeError(f"{module.__name__}: KIND and DEFAULTS must be literals")
        out[name] = module
    return out


def build_table(
    analysis,
    table_id: str,
    small_cell_threshold: int | None = None,
    modules: dict[str, ModuleType] | None = None,
) -> TableResult:
    """The declared table ``table_id``: tidy cells and one great-tables table, made by the
    module of its kind."""
    tables = analysis.spec.tables
    if table_id not in tables:
        raise KeyError(f"no table {table_id!r} declared (tables: {', '.join(tables)})")
    raw = tables[table_id]
    kind = raw.get("kind")
    modules = kinds() if modules is None else modules
    if kind not in modules:
        raise ValueError(f"table {table_id!r}: unknown kind {kind!r} (kinds: {', '.join(modules)})")
    try:
        return modules[kind].build(analysis, table_id, raw, small_cell_threshold=small_cell_threshold)
    except ExpressionError:
        raise
    except ValueError as exc:
        text = str(exc)
        raise ValueError(text if text.startswith("table ") else f"table {table_id!r}: {text}") from None


def build_tables(analysis, small_cell_threshold: int | None = None) -> dict[str, TableResult]:
    """Every declared table, in declaration order."""
    return {tid: build_table(analysis, tid, small_cell_threshold) for tid in analysis.spec.tables}
