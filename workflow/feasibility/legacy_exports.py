"""TEMPORARY SHIM (phase B): the paper's twelve validated exports, rebuilt from the per-form tables.

Validation now writes DESIGN.md's interface, one tidy table per instrument
(``results/validated/<form>.parquet`` + ``codebook.json``). The analysis rules that have
not moved to the analysis library yet (derive, scoring, tables, figures, values) still
read the twelve exports of the paper's first layout, typed as the old validation typed
them. :func:`legacy_exports` rebuilds exactly those tables from the interface (the reverse
of ``tests/analysis/legacy.py``), into ``results/legacy/<export>.parquet`` (rule
``legacy_exports``), so that every table cell, figure and report text stays as it was.

What differs from the old tables, by design of the REDCap project: participants are keyed
by their record ID (the screening number) instead of the participant ID, and the
identifier fields are not there (date of birth, participant ID, screening ID): age at
consent comes as the column ``age``, which validation derived before it dropped them.

Delete this module, its rule and ``tests/test_legacy_exports.py`` once every analysis
rule reads ``results/validated/`` (issue 16).
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import crf

RECORD, EVENT, INSTANCE = "record_id", "redcap_event_name", "redcap_repeat_instance"


def _old_dtype(values: pd.Series, field: dict | None) -> pd.Series:
    """A column as the old validation typed it: numbers and codes float64, checkboxes 0/1
    float64, dates datetime64, text object (None for blank)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[ns]")
    if pd.api.types.is_bool_dtype(values) or (field is not None and field["type"] == "checkbox"):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return values.astype("float64")
    return values.astype(object).where(values.notna(), None)


def legacy_exports(validated: str | Path) -> dict[str, pd.DataFrame]:
    """The twelve exports of ``crf.EXPORTS`` from the per-form tables in ``validated``."""
    folder = Path(validated)
    book = json.loads((folder / "codebook.json").read_text(encoding="utf-8"))
    fields = {f["name"]: f for f in book["fields"]}
    column_field = {c: f for f in book["fields"] for c in f["export_columns"]}
    forms = {f["name"]: f for f in book["forms"]}
    sites = [[int(code), label] for code, label in fields["scr_site"]["choices"]]
    order = {e["unique_name"]: i for i, e in enumerate(book["events"])}
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in forms}
    out = {}
    for name, export in crf.EXPORTS.items():
        keys = [RECORD, EVENT] + ([INSTANCE] if export.repeating else [])
        parts = []
        for form in export.forms:
            df = tables[form]
            df = df[df[EVENT].isin(export.events)]
            columns = [c for n in [*forms[form]["fields"], *forms[form].get("derived", [])]
                       for c in (fields[n]["export_columns"] if n in fields else [n]) if c in df]
            parts.append(df[keys + columns + [f"{form}_complete"]].set_index(keys))
        frame = parts[0].join(parts[1:], how="outer") if len(parts) > 1 else parts[0]
        frame = frame.reset_index()
        for form in export.forms:          # a form with no data in a row: 'Incomplete', as REDCap writes it
            frame[f"{form}_complete"] = frame[f"{form}_complete"].fillna(0)
        columns = {RECORD: frame[RECORD].astype(str).astype(object), EVENT: frame[EVENT].astype(str).astype(object)}
        if export.repeating:
            columns["redcap_repeat_instrument"] = pd.Series(export.repeating, index=frame.index, dtype=object)
            columns[INSTANCE] = frame[INSTANCE].astype("float64")
        for column in frame.columns.difference(keys, sort=False):
            columns[column] = _old_dtype(frame[column], column_field.get(column))
        legacy = pd.DataFrame(columns)
        sort = pd.DataFrame({"r": legacy[RECORD], "e": legacy[EVENT].map(order),
                             "i": legacy[INSTANCE] if export.repeating else 0})
        legacy = legacy.loc[sort.sort_values(["r", "e", "i"], kind="stable").index].reset_index(drop=True)
        if any(f in legacy for f in crf.SITE_FIELDS):
            legacy.attrs["sites"] = sites
        out[name] = legacy
    return out


def write_legacy_exports(validated: str | Path, out: dict[str, str]) -> None:
    """Write each export of ``legacy_exports`` to its path in ``out`` (export -> path)."""
    from .io import write_parquet

    for name, table in legacy_exports(validated).items():
        write_parquet(out[name], table)


__all__ = ["legacy_exports", "write_legacy_exports"]
