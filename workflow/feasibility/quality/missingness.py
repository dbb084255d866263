"""Missing data per field: answered, missing-data codes, hidden by branching logic, blank.

Each field is counted over its form's rows (one per record, event and instance where the
form has data). A cell is

* *answered* when it has a value (a checkbox: at least one box ticked);
* a *missing-data code* (``UNK``, ``NASK``, …) when REDCap's missing-data code was entered
  (``missing_codes.parquet``), counted code by code;
* *hidden* when it is blank and the field's branching logic hides it on that row, so that a
  question not asked is not counted as missing; the logic is evaluated with the REDCap
  library's parser and evaluator (``feasibility.redcap.logic``) over the validated
  tables; logic it cannot read (functions, arithmetic, fields dropped as identifiers) is
  named in a note and its blanks count as blank;
* *blank* otherwise (a checkbox with no box ticked is blank).

Calculated fields ignore branching logic (REDCap computes them whether shown or not).
Identifier fields are not in the validated data and are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feasibility.redcap.logic import Context, NotEvaluated, Ref, evaluate, parse, references
from feasibility.tables.common import cell, cells_frame

from .data import CLASSIC_EVENT, EVENT, INSTANCE, RECORD, QualityData

MISSINGNESS_TABLE = "quality_missingness"
MISSINGNESS_EVENT_TABLE = "quality_missingness_event"
CODES_TABLE = "quality_missing_codes"
DATE_FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M", "datetime_seconds": "%Y-%m-%d %H:%M:%S"}


def value_columns(field: dict) -> list[str]:
    """The field's columns in its validated table (a checkbox: one per choice)."""
    return list(field.get("columns") or [])


def counted_fields(data: QualityData) -> list[dict]:
    """Fields with a column in the validated data, in dictionary order, except the record ID."""
    record_field = data.codebook.get("record_id_field")
    out = []
    for f in data.codebook.get("fields") or []:
        cols = value_columns(f)
        if f["name"] == record_field or not cols or cols == ["record_id"]:
            continue
        if f["form"] in data.tables and all(c in data.tables[f["form"]].columns for c in cols):
            out.append(f)
    return out


# ------------------------------------------------------------------------ branching logic
def _date_format(field: dict) -> str:
    v = field.get("validation") or ""
    if v.startswith("datetime_seconds"):
        return DATE_FORMATS["datetime_seconds"]
    if v.startswith("datetime"):
        return DATE_FORMATS["datetime"]
    return DATE_FORMATS["date"]


def as_text(values: pd.Series, field: dict | None = None) -> np.ndarray:
    """Typed values as REDCap writes them in an export (what branching logic compares):
    ``1``/``0`` for a checkbox box, whole numbers without decimals, dates ``YYYY-MM-DD``;
    a missing value is ``""``."""
    s = values
    if pd.api.types.is_bool_dtype(s.dtype) or str(s.dtype) == "boolean":
        b = s.astype("boolean")
        return np.where(b.isna(), "", np.where(b.fillna(False), "1", "0")).astype(object)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s.dt.strftime(_date_format(field or {})).fillna("").to_numpy(dtype=object)
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("Int64").astype("string").fillna("").to_numpy(dtype=object)
    if pd.api.types.is_float_dtype(s.dtype):
        arr = s.to_numpy(dtype=float)
        return np.array(
            ["" if np.isnan(x) else np.format_float_positional(x, trim="-") for x in arr], dtype=object
        )
    return s.astype("string").fillna("").to_numpy(dtype=object)


class _TableText:
    """Column -> export text of one validated table, missing-data codes put back (REDCap
    compares a code like any other value), converted when first asked for."""

    def __init__(self, data: QualityData, form: str):
        self.data, self.form = data, form
        self.table = data.tables[form]
        self.cache: dict[str, np.ndarray] = {}
        self.column_field = {
            c: f for f in data.codebook.get("fields") or [] if f["form"] == form for c in value_columns(f)
        }

    def __contains__(self, column) -> bool:
        return column in self.table.columns

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self.cache:
            f = self.column_field.get(column)
            text = as_text(self.table[column], f)
            if f is not None:
                codes = self.data.missing[
                    (self.data.missing["form"] == self.form) & (self.data.missing["field"] == f["name"])
                ]
                if len(codes):
                    where = (
                        self.keys()
                        .reset_index()
                        .merge(
                            codes.rename(columns={RECORD: "record", EVENT: "event", INSTANCE: "inst"}).assign(
                                instance=lambda d: d["inst"].astype("string").fillna("")
                            )[["record", "event", "instance", "code"]],
                            on=["record", "event", "instance"],
                            how="inner",
                        )
                    )
                    text = text.copy()
                    text[where["index"].to_numpy()] = where["code"].astype(str).to_numpy()
            self.cache[column] = text
        return self.cache[column]

    def keys(self) -> pd.DataFrame:
        if getattr(self, "_keys", None) is None:
            self._keys = self._make_keys()
        return self._keys.copy()

    def _make_keys(self) -> pd.DataFrame:
        t = self.table
        n = len(t)
        return pd.DataFrame(
            {
                "record": t[RECORD].astype("string").fillna("").to_numpy(dtype=object),
                "event": (
                    t[EVENT].astype("string").fillna("").to_numpy(dtype=object)
                    if EVENT in t.columns
                    else np.full(n, CLASSIC_EVENT, dtype=object)
                ),
                "instance": (
                    t[INSTANCE].astype("Int64").astype("string").fillna("").to_numpy(dtype=object)
                    if INSTANCE in t.columns
                    else np.full(n, "", dtype=object)
                ),
            }
        )


class _Lookup:
    """Values of any field for (record, event, instance) keys, resolved as REDCap does: the
    same event (the same instance of a repeating event, else the first), or the named event."""

    def __init__(self, data: QualityData):
        self.data = data
        self.text: dict[str, _TableText] = {}
        self.column_of = {}
        for f in data.codebook.get("fields") or []:
            cols = value_columns(f)
            if f.get("type") == "checkbox":
                for (code, _), col in zip(f.get("choices") or [], cols):
                    self.column_of[(f["name"], str(code))] = col
            elif cols:
                self.column_of[(f["name"], None)] = cols[0]

    def table(self, form: str) -> _TableText:
        if form not in self.text:
            self.text[form] = _TableText(self.data, form)
        return self.text[form]

    def __call__(self, ref: Ref, keys: pd.DataFrame) -> np.ndarray:
        f = self.data.fields[ref.field]
        col = self.column_of[(ref.field, ref.code)]
        src = self.table(f["form"])
        n = len(keys)
        if not len(src.table):
            return np.full(n, "", dtype=object)
        base = src.keys()
        base["value"] = src[col]
        base["order"] = pd.to_numeric(base["instance"].replace("", "0"), errors="coerce").fillna(0)
        on = ["record"]
        left = keys[["record", "event", "instance"]].copy()
        if ref.event is not None:
            base = base[base["event"] == ref.event]
        elif self.data.longitudinal:
            on.append("event")
            repeating_events = set((self.data.codebook.get("repeating") or {}).get("events") or [])
            exact = (left["event"].isin(repeating_events) & (left["instance"] != "")).to_numpy()
            if exact.any():
                matched = left.merge(
                    base[["record", "event", "instance", "value"]],
                    on=["record", "event", "instance"],
                    how="left",
                )["value"]
                return np.where(exact, matched.fillna("").to_numpy(dtype=object), self._first(left, base, on))
        return self._first(left, base, on)

    @staticmethod
    def _first(left: pd.DataFrame, base: pd.DataFrame, on: list[str]) -> np.ndarray:
        firsts = base.sort_values("order", kind="stable").drop_duplicates(on, keep="first")
        return (
            left[on]
            .merge(firsts[on + ["value"]], on=on, how="left")["value"]
            .fillna("")
            .to_numpy(dtype=object)
        )


def _check(node, data: QualityData, lookup: _Lookup) -> None:
    """Every reference names a field present in the validated data (identifiers are not)."""
    for ref in references(node):
        if not isinstance(ref, Ref):
            continue
        f = data.fields.get(ref.field)
        if f is None:
            raise NotEvaluated(f"[{ref.field}] is not a field of the project")
        if ref.field in data.identifiers_dropped:
            raise NotEvaluated(f"[{ref.field}] is an identifier, dropped after validation")
        if (ref.field, ref.code) not in lookup.column_of:
            raise NotEvaluated(f"[{ref}] names no column of the validated data")
        if ref.event is not None and ref.event not in {e["unique_name"] for e in data.events}:
            raise NotEvaluated(f"[{ref.event}] is not an event of the project")


def shown_mask(data: QualityData, field: dict, lookup: _Lookup | None = None) -> np.ndarray:
    """Whether the field is shown on each row of its form's table (its branching logic
    evaluated); :class:`NotEvaluated` when the logic cannot be evaluated."""
    lookup = lookup or _Lookup(data)
    node = parse(field["branching"])
    _check(node, data, lookup)
    own = lookup.table(field["form"])
    return evaluate(node, Context(None, lookup, own.keys(), own=own))


# ------------------------------------------------------------------------------ counting
@dataclass(frozen=True)
class FieldMissingness:
    form: str
    field: str
    label: str
    type: str
    rows: int
    answered: int
    blank: int
    hidden: int | None  # None: no branching logic, or not evaluated
    codes: dict[str, int]
    logic: str  # "" none, "evaluated", or why it was not evaluated


def field_missingness(data: QualityData, *, branching: bool = True) -> list[FieldMissingness]:
    """Every counted field's answered, coded, hidden and blank cells."""
    codes = (
        data.missing.groupby(["form", "field", "code"], observed=True).size()
        if len(data.missing)
        else pd.Series(dtype=int)
    )
    code_list = [c for c, _ in data.missing_data_codes]
    code_list += sorted({str(c) for c in data.missing["code"].dropna().unique()} - set(code_list))
    lookup = _Lookup(data)
    out = []
    for f in counted_fields(data):
        t = data.tables[f["form"]]
        cols = value_columns(f)
        if f.get("type") == "checkbox":
            boxes = t[cols].astype("boolean")
            has = boxes.fillna(False).any(axis=1).to_numpy()
        else:
            has = t[cols[0]].notna().to_numpy()
        by_code = {c: int(codes.get((f["form"], f["name"], c), 0)) for c in code_list}
        coded = _coded_rows(data, f, lookup.table(f["form"]))
        logic, hidden = "", None
        if f.get("branching") and f.get("type") != "calc":
            logic = "evaluated"
            if not branching:
                logic = "not evaluated (quality.missingness.branching is off)"
            elif len(t):
                try:
                    shown = shown_mask(data, f, lookup)
                    hidden = int((~shown & ~has & ~coded).sum())
                except NotEvaluated as exc:
                    logic = f"not evaluated: {exc}"
            else:
                hidden = 0
        answered = int(has.sum())
        blank = len(t) - answered - int(coded.sum()) - (hidden or 0)
        out.append(
            FieldMissingness(
                f["form"],
                f["name"],
                f.get("label") or f["name"],
                f.get("type", ""),
                len(t),
                answered,
                blank,
                hidden,
                by_code,
                logic,
            )
        )
    return out


def missingness_by_event(data: QualityData, *, branching: bool = True) -> pd.DataFrame:
    """Per field and event: the form's rows there, and the field's cells blank, coded and hidden
    (as :func:`field_missingness` counts them, split by event). Columns form, field, event, rows,
    answered, coded, hidden, blank."""
    lookup = _Lookup(data)
    out = []
    for f in counted_fields(data):
        t = data.tables[f["form"]]
        if not len(t):
            continue
        cols = value_columns(f)
        has = (
            t[cols].astype("boolean").fillna(False).any(axis=1).to_numpy()
            if f.get("type") == "checkbox"
            else t[cols[0]].notna().to_numpy()
        )
        coded = _coded_rows(data, f, lookup.table(f["form"]))
        hidden = np.zeros(len(t), dtype=bool)
        if branching and f.get("branching") and f.get("type") != "calc":
            try:
                hidden = ~shown_mask(data, f, lookup) & ~has & ~coded
            except NotEvaluated:
                pass
        event = (
            t[EVENT].astype("string").fillna(CLASSIC_EVENT).to_numpy()
            if EVENT in t.columns
            else np.full(len(t), CLASSIC_EVENT, dtype=object)
        )
        frame = pd.DataFrame(
            {
                "event": event,
                "answered": has,
                "coded": coded,
                "hidden": hidden,
                "blank": ~has & ~coded & ~hidden,
            }
        )
        sums = frame.groupby("event", sort=False).agg(
            rows=("answered", "size"),
            answered=("answered", "sum"),
            coded=("coded", "sum"),
            hidden=("hidden", "sum"),
            blank=("blank", "sum"),
        )
        for event, r in sums.iterrows():
            out.append(
                {"form": f["form"], "field": f["name"], "event": event, **{k: int(v) for k, v in r.items()}}
            )
    columns = ["form", "field", "event", "rows", "answered", "coded", "hidden", "blank"]
    return pd.DataFrame(out, columns=columns)


def missingness_event_cells(data: QualityData, by_event: pd.DataFrame) -> pd.DataFrame:
    """Blank cells, n (%) of the form's rows at each event: row groups are forms (instrument
    labels), rows the fields blank somewhere, columns events."""
    blank_somewhere = set(by_event.loc[by_event["blank"] > 0, "field"])
    order = {e["unique_name"]: i for i, e in enumerate(data.events)}
    shown = by_event[by_event["field"].isin(blank_somewhere)].copy()
    shown = shown.assign(order=shown["event"].map(order)).sort_values("order", kind="stable")
    field_rank = {f: i for i, f in enumerate(dict.fromkeys(by_event["field"]))}
    shown = shown.assign(f=shown["field"].map(field_rank)).sort_values(["f", "order"], kind="stable")
    cells = []
    for r in shown.itertuples(index=False):
        cells.append(
            cell(
                MISSINGNESS_EVENT_TABLE,
                data.form_label(r.form),
                r.field,
                data.event_label(r.event) if data.longitudinal else "Blank",
                "n_pct",
                decimals=0,
                estimate=100.0 * r.blank / r.rows if r.rows else float("nan"),
                n=int(r.blank),
                denominator=int(r.rows),
            )
        )
    return cells_frame(cells)


def _coded_rows(data: QualityData, field: dict, text: _TableText) -> np.ndarray:
    """Rows of the field's form table where a missing-data code was entered for it."""
    m = data.missing[(data.missing["form"] == field["form"]) & (data.missing["field"] == field["name"])]
    mask = np.zeros(len(text.table), dtype=bool)
    if len(m):
        keys = text.keys().reset_index()
        hit = keys.merge(
            m.assign(
                record=m[RECORD].astype("string").fillna(""),
                event=m[EVENT].astype("string").fillna(""),
                instance=m[INSTANCE].astype("Int64").astype("string").fillna(""),
            )[["record", "event", "instance"]].astype(object),
            on=["record", "event", "instance"],
            how="inner",
        )
        mask[hit["index"].to_numpy()] = True
    return mask


def missingness_frame(items: list[FieldMissingness]) -> pd.DataFrame:
    """One row per field: form, field, label, type, rows, answered, each code, hidden, blank, logic."""
    codes = list(items[0].codes) if items else []
    rows = [
        {
            "form": i.form,
            "field": i.field,
            "label": i.label,
            "type": i.type,
            "rows": i.rows,
            "answered": i.answered,
            **{f"code {c}": i.codes.get(c, 0) for c in codes},
            "hidden": i.hidden,
            "blank": i.blank,
            "logic": i.logic,
        }
        for i in items
    ]
    frame = pd.DataFrame(
        rows,
        columns=[
            "form",
            "field",
            "label",
            "type",
            "rows",
            "answered",
            *[f"code {c}" for c in codes],
            "hidden",
            "blank",
            "logic",
        ],
    )
    frame["hidden"] = frame["hidden"].astype("Int64")
    return frame


def row_label(item: FieldMissingness) -> str:
    return item.field


def missingness_cells(
    data: QualityData, items: list[FieldMissingness], *, only_incomplete: bool = False
) -> pd.DataFrame:
    """Tidy cells: per field (rows grouped by form) its rows, then answered, each code,
    hidden and blank as n (%) of the rows."""
    cells = []
    for i in items:
        if only_incomplete and not (i.blank or any(i.codes.values())):
            continue
        group, label = data.form_label(i.form), row_label(i)
        cells.append(
            cell(
                MISSINGNESS_TABLE, group, label, "rows", "count", decimals=0, estimate=float(i.rows), n=i.rows
            )
        )
        parts = [
            ("answered", i.answered),
            *[(f"code:{c}", n) for c, n in i.codes.items()],
            ("hidden", i.hidden),
            ("blank", i.blank),
        ]
        for column, n in parts:
            if n is None:
                cells.append(
                    cell(MISSINGNESS_TABLE, group, label, column, "n_pct", decimals=0, denominator=i.rows)
                )
                continue
            cells.append(
                cell(
                    MISSINGNESS_TABLE,
                    group,
                    label,
                    column,
                    "n_pct",
                    decimals=0,
                    estimate=100.0 * n / i.rows if i.rows else float("nan"),
                    n=n,
                    denominator=i.rows,
                )
            )
    return cells_frame(cells)


def missing_codes_used(data: QualityData) -> pd.DataFrame:
    """Each missing-data code (defined by the project, or found): its label, the cells and
    fields it was entered for, and the forms."""
    m = data.missing
    labels = dict(data.missing_data_codes)
    codes = list(labels) + sorted({str(c) for c in m["code"].dropna().unique()} - set(labels))
    rows = []
    for c in codes:
        part = m[m["code"] == c]
        rows.append(
            {
                "code": c,
                "label": labels.get(c, "(not defined by the project)"),
                "cells": len(part),
                "fields": int(part[["form", "field"]].drop_duplicates().shape[0]),
                "forms": ", ".join(data.form_label(f) for f in dict.fromkeys(part["form"])),
            }
        )
    return pd.DataFrame(rows, columns=["code", "label", "cells", "fields", "forms"])


__all__ = [
    "field_missingness",
    "FieldMissingness",
    "missingness_frame",
    "missingness_cells",
    "missing_codes_used",
    "shown_mask",
    "missingness_by_event",
    "missingness_event_cells",
    "MISSINGNESS_EVENT_TABLE",
    "as_text",
    "counted_fields",
    "MISSINGNESS_TABLE",
    "CODES_TABLE",
]
