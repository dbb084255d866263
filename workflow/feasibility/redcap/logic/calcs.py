"""The dictionary's logic checked, and calculated fields recomputed.

* :func:`dictionary_failures` - branching logic or a calculation that is not REDCap logic
  at all (a syntax error) is a failure of the data dictionary naming the field; so are
  calculated fields that depend on each other in a cycle.
* :func:`calc_failures` - each calculated field is computed again, with the one logic
  engine, from the values stored in the export, and a stored value that differs is a
  failure naming its cell, the stored and the recomputed value. A calculation the engine
  cannot evaluate (an unknown function, ``today``, a smart variable) is one warning.

Comparing numbers: REDCap stores a calculation's result as a number. A stored value
matches when it is within 1e-9 of the recomputed value (relative to its size, at least
1), or when it has four or more decimals and is the recomputed value rounded to them (an
export, or a generator, that shortened a long fraction). Blank matches blank.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..messages import MAX_PER_RULE, Failure, fail, more_of
from ..model import Project
from ..tidy import FormTable
from .data import LazyText, Lookup, table_keys
from .evaluate import Context, calculate, check
from .syntax import LogicSyntaxError, NotEvaluated, Ref, parse, references

RELATIVE = 1e-9


def _source(project: Project) -> str:
    return project.sources[0] if project.sources else "data dictionary"


def _calc_graph(project: Project) -> tuple[dict[str, object], dict[str, list[str]]]:
    """Parsed calculations (a field whose calculation cannot be read is left out) and, for
    each, the calculated fields it reads."""
    nodes: dict[str, object] = {}
    for f in project.fields:
        if f.type != "calc":
            continue
        try:
            nodes[f.name] = parse(f.calculation)
        except NotEvaluated:
            continue
    deps = {
        name: list(
            dict.fromkeys(r.field for r in references(node) if isinstance(r, Ref) and r.field in nodes)
        )
        for name, node in nodes.items()
    }
    return nodes, deps


def cycles(deps: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle of the dependency graph once, as a path that returns to its start."""
    found: list[list[str]] = []
    seen_sets: set[frozenset] = set()
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            loop = path[path.index(name) :] + [name]
            key = frozenset(loop)
            if key not in seen_sets:
                seen_sets.add(key)
                found.append(loop)
            return
        state[name] = 1
        for d in deps.get(name, []):
            visit(d, path + [name])
        state[name] = 2

    for name in deps:
        visit(name, [])
    return found


def dictionary_failures(project: Project) -> list[Failure]:
    """Logic of the dictionary that cannot be read, and calculated fields in a cycle."""
    source = _source(project)
    out: list[Failure] = []
    for f in project.fields:
        if f.branching:
            try:
                parse(f.branching)
            except LogicSyntaxError as exc:
                out.append(
                    fail(
                        source,
                        f"the branching logic of {f.name} cannot be read: {exc}",
                        line=f.line,
                        field=f.name,
                        value=f.branching,
                    )
                )
            except NotEvaluated:
                pass
        if f.type == "calc":
            try:
                parse(f.calculation)
            except LogicSyntaxError as exc:
                out.append(
                    fail(
                        source,
                        f"the calculation of {f.name} cannot be read: {exc}",
                        line=f.line,
                        field=f.name,
                        value=f.calculation,
                    )
                )
            except NotEvaluated:
                pass
    _, deps = _calc_graph(project)
    for loop in cycles(deps):
        first = project.field[loop[0]]
        out.append(
            fail(
                source,
                "calculated fields depend on each other in a cycle: "
                + " -> ".join(loop)
                + " (REDCap cannot compute them)",
                line=first.line,
                field=first.name,
                value=first.calculation,
            )
        )
    return out


def _matches(stored: np.ndarray, text: np.ndarray, recomputed: np.ndarray) -> np.ndarray:
    """Stored numbers (NaN blank) equal to the recomputed ones, as the module docstring says."""
    both = ~np.isnan(stored) & ~np.isnan(recomputed)
    with np.errstate(invalid="ignore"):
        close = np.abs(stored - recomputed) <= RELATIVE * np.maximum(1.0, np.abs(recomputed))
    decimals = (
        pd.Series(text, dtype=object)
        .astype(str)
        .str.extract(r"\.(\d+)$")[0]
        .str.len()
        .astype("float64")
        .fillna(0)
        .to_numpy(dtype=int)
    )
    long = both & (decimals >= 4)
    if long.any():
        rounded = np.sign(recomputed) * np.floor(np.abs(recomputed) * 10.0**decimals + 0.5) / 10.0**decimals
        with np.errstate(invalid="ignore"):
            close |= long & (np.abs(rounded - stored) <= RELATIVE * np.maximum(1.0, np.abs(stored)))
    return (np.isnan(stored) & np.isnan(recomputed)) | (both & close)


def _shown(x: float) -> str:
    if np.isnan(x):
        return "blank"
    return f"{x:.10g}"


def calc_failures(
    project: Project, tables: dict[str, FormTable], file: str, *, lookup: Lookup | None = None
) -> list[Failure]:
    """Stored values of calculated fields that differ from their recomputed value (errors),
    and calculations that cannot be recomputed (one warning each)."""
    lookup = lookup or Lookup(project, tables)
    source = _source(project)
    nodes, deps = _calc_graph(project)
    in_cycle = {name for loop in cycles(deps) for name in loop}
    codes = project.missing_codes
    out: list[Failure] = []
    for f in project.fields:
        if f.type != "calc" or f.name not in nodes or f.name in in_cycle or f.form not in tables:
            continue
        table = tables[f.form]
        text = LazyText(table)
        if not len(table.data) or f.name not in text:
            continue
        node = nodes[f.name]
        keys = table_keys(project, table)
        try:
            check(node, project)
            recomputed = calculate(node, Context(project, lookup, keys, own=text, calc=True))
        except NotEvaluated as exc:
            out.append(
                fail(
                    source,
                    f"calculated field {f.name} not recomputed ({exc}): its stored values are not checked",
                    line=f.line,
                    field=f.name,
                    value=f.calculation,
                    severity="warning",
                )
            )
            continue
        raw = np.asarray(text[f.name], dtype=object)
        stripped = pd.Series(raw, dtype=object).fillna("").astype(str).str.strip()
        numeric = pd.to_numeric(stripped.where(stripped != ""), errors="coerce").to_numpy(dtype=float)
        readable = (stripped == "").to_numpy() | ~np.isnan(numeric)  # text that is no number: typed elsewhere
        coded = stripped.isin(codes).to_numpy() if codes else np.zeros(len(raw), dtype=bool)
        bad = readable & ~coded & ~_matches(numeric, stripped.to_numpy(dtype=object), recomputed)
        lines = table.data.index.to_numpy()
        where = np.flatnonzero(bad)
        if where.size > MAX_PER_RULE:
            out.append(
                more_of(
                    file,
                    f.name,
                    f"stored values differ from the calculation {f.calculation}",
                    int(where.size - MAX_PER_RULE),
                )
            )
        for i in where[:MAX_PER_RULE]:
            out.append(
                fail(
                    file,
                    f"the stored value ({_shown(numeric[i])}) differs from the calculation "
                    f"{f.calculation}, which gives {_shown(recomputed[i])}",
                    line=lines[i],
                    record=keys["record"][i],
                    event=keys["event"][i],
                    instance=keys["instance"][i],
                    field=f.name,
                    value=stripped.iat[i],
                )
            )
    return out


__all__ = ["dictionary_failures", "calc_failures", "cycles"]
