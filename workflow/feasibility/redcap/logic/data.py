"""REDCap logic over a project's tidy tables: references resolved, and values present where
a field's branching logic hides it.

References are resolved across the tidy tables as REDCap resolves them: a field of the
same form from the same row; a field of another form at the same event of the same record
(the same instance on a repeating event, else the first); ``[event][field]`` at that
event (first instance). Expressions the evaluator cannot handle are listed once each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from ..messages import Failure, fail
from ..model import Project, checkbox_column
from ..records import EVENT, REPEAT_INSTANCE
from ..tidy import RECORD_ID, FormTable
from .evaluate import Context, check, evaluate
from .syntax import LogicSyntaxError, NotEvaluated, Ref, parse


def _objects(arr) -> np.ndarray:
    if arr is None:
        return None
    if isinstance(arr, (pa.Array, pa.ChunkedArray)):
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)
    return np.asarray(arr, dtype=object)


class LazyText(dict):
    """Column -> text cells of a form table, converted from Arrow when first asked for."""

    def __init__(self, table: FormTable):
        super().__init__()
        self.table = table

    def __contains__(self, key) -> bool:
        return key in self.table.text

    def __getitem__(self, key):
        if not dict.__contains__(self, key):
            dict.__setitem__(self, key, _objects(self.table.text[key]))
        return dict.__getitem__(self, key)


def table_keys(project: Project, table: FormTable) -> pd.DataFrame:
    n = len(table.data)
    text = LazyText(table)
    return pd.DataFrame(
        {
            "record": text[RECORD_ID] if n else np.array([], dtype=object),
            "event": text[EVENT] if EVENT in text else np.full(n, "", dtype=object),
            "instance": text[REPEAT_INSTANCE] if REPEAT_INSTANCE in text else np.full(n, "", dtype=object),
        }
    )


class Lookup:
    """Values of any field for a set of (record, event, instance) keys."""

    def __init__(self, project: Project, tables: dict[str, FormTable]):
        self.project = project
        self.tables = tables
        self._keys: dict[str, pd.DataFrame] = {}
        self._text: dict[str, LazyText] = {}

    def keys(self, form: str) -> pd.DataFrame:
        if form not in self._keys:
            k = table_keys(self.project, self.tables[form])
            k["order"] = pd.to_numeric(k["instance"].replace("", "0"), errors="coerce").fillna(0).to_numpy()
            self._keys[form] = k
        return self._keys[form]

    def text(self, form: str) -> LazyText:
        if form not in self._text:
            self._text[form] = LazyText(self.tables[form])
        return self._text[form]

    def __call__(self, ref: Ref, keys: pd.DataFrame) -> np.ndarray:
        f = self.project.field[ref.field]
        col = checkbox_column(f.name, ref.code) if ref.code is not None else f.name
        form = f.form
        n = len(keys)
        if form not in self.tables or col not in self.tables[form].text or not len(self.tables[form].data):
            return np.full(n, "", dtype=object)
        base = self.keys(form).copy()
        base["value"] = self.text(form)[col]
        on = ["record"]
        if ref.event is not None:
            base = base[base["event"] == ref.event]
            left = keys[["record"]].copy()
        else:
            left = keys[["record", "event", "instance"]].copy()
            if self.project.longitudinal:
                on.append("event")
                repeating_events = self.project.repeating.events if self.project.repeating else frozenset()
                if repeating_events:
                    exact = left["event"].isin(repeating_events) & (left["instance"] != "")
                    if exact.any():
                        matched = left.merge(
                            base[["record", "event", "instance", "value"]],
                            on=["record", "event", "instance"],
                            how="left",
                        )["value"]
                        first = self._first(left, base, on)
                        return np.where(exact.to_numpy(), matched.fillna("").to_numpy(dtype=object), first)
        return self._first(left, base, on)

    @staticmethod
    def _first(left: pd.DataFrame, base: pd.DataFrame, on: list[str]) -> np.ndarray:
        firsts = base.sort_values("order", kind="stable").drop_duplicates(on, keep="first")
        out = left[on].merge(firsts[on + ["value"]], on=on, how="left")["value"]
        return out.fillna("").to_numpy(dtype=object)


def shown_rows(project: Project, f, table: FormTable, lookup: Lookup) -> tuple[np.ndarray | None, str | None]:
    """Where field ``f``'s branching logic shows it, one boolean per row of its form's table
    (None with the reason when the logic cannot be evaluated; every row shown when the field
    has no logic, or its logic cannot even be read: that is a dictionary failure)."""
    n = len(table.data)
    if not f.branching:
        return np.ones(n, dtype=bool), None
    try:
        node = parse(f.branching)
        check(node, project)
    except LogicSyntaxError:
        return np.ones(n, dtype=bool), None  # a dictionary failure (logic.calcs.dictionary_failures)
    except NotEvaluated as exc:
        return None, str(exc)
    if not n:
        return np.ones(0, dtype=bool), None
    try:
        shown = evaluate(node, Context(project, lookup, table_keys(project, table), own=LazyText(table)))
    except NotEvaluated as exc:
        return None, str(exc)
    return np.asarray(shown, dtype=bool), None


def hidden_values(
    project: Project,
    tables: dict[str, FormTable],
    file: str,
    *,
    severity: str = "warning",
    missing: set[tuple[int, str]] | None = None,
    lookup: Lookup | None = None,
) -> tuple[list[Failure], list[str]]:
    """Failures for values present where their field's branching logic hides it; the
    expressions not evaluated, once each."""
    failures: list[Failure] = []
    notes: list[str] = []
    missing = missing or set()
    lookup = lookup or Lookup(project, tables)
    for f in project.fields:
        if not f.branching or f.type in ("descriptive", "calc") or f.form not in tables:
            continue  # REDCap computes a calculated field whether shown or not
        table = tables[f.form]
        shown, why = shown_rows(project, f, table, lookup)
        if shown is None:
            notes.append(f"branching logic of {f.name} not evaluated ({why}): {f.branching}")
            continue
        if not len(table.data):
            continue
        text = LazyText(table)
        keys = table_keys(project, table)
        lines = table.data.index.to_numpy()
        if f.type == "checkbox":
            cols = [c for c in f.export_columns if c in text]
            if not cols:
                continue
            ticked = np.column_stack([text[c] == "1" for c in cols])
            has = ticked.any(axis=1)
            codes = [c for c, _ in f.choices if checkbox_column(f.name, c) in cols]
            values = [", ".join(codes[j] for j in np.flatnonzero(row)) for row in ticked]
        else:
            if f.name not in text:
                continue
            values = text[f.name]
            has = values != ""
        bad = np.flatnonzero(~shown & has)
        for i in bad:
            if (int(lines[i]), f.name) in missing:
                continue
            failures.append(
                fail(
                    file,
                    f"a value is present where the branching logic hides the field "
                    f"(shown only if {f.branching})",
                    line=lines[i],
                    record=keys["record"][i],
                    event=keys["event"][i],
                    instance=keys["instance"][i],
                    field=f.name,
                    value=values[i] if f.type != "checkbox" else f"ticked: {values[i]}",
                    severity=severity,
                )
            )
    return failures, notes


__all__ = ["Lookup", "hidden_values", "shown_rows", "table_keys"]
