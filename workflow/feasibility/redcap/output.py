"""Validated data as docs/design.md's "Validated data" interface, and what validation's
report (``feasibility.redcap.report``) says of a result.

``<form>.parquet`` (one tidy table per instrument, identifiers dropped), ``codebook.json``
(the project's metadata) and ``missing_codes.parquet`` (every missing-data code found).
Deterministic: the same inputs give byte-identical files (fixed column and row order, no
timestamps, atomic writes through ``feasibility.io``).
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from .. import io as fio
from .model import Project
from .tidy import MISSING_COLUMNS, RECORD_ID
from .validate import Result


def plain(text: str) -> str:
    """A label as plain text: HTML tags and REDCap's piping braces removed, entities decoded."""
    text = re.sub(r"<br\s*/?>", " ", text or "", flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def codebook(
    project: Project,
    derived: dict[str, list[str]] | None = None,
    dropped: list[str] | None = None,
    labels: dict[str, str] | None = None,
    absent: dict[str, str] | None = None,
    inferred: bool = False,
) -> dict:
    """The Project as ``codebook.json`` (docs/design.md); with ``labels`` (field -> its label
    column, ``validation.labels``), each field names its ``label_column``. ``absent``:
    columns a restricted export leaves out (column -> why), not among a field's ``columns``
    and listed under ``absent``; ``inferred``: designations inferred from the records."""
    derived = derived or {}
    dropped = set(dropped or [])
    absent = absent or {}
    rep = project.repeating
    fields = []
    for f in project.fields:
        fields.append(
            {
                "name": f.name,
                "form": f.form,
                "type": f.type,
                "label": plain(f.label),
                "note": plain(f.note),
                "validation": f.validation or None,
                "min": f.min_text or None,
                "max": f.max_text or None,
                "choices": [[c, plain(label)] for c, label in f.codes],
                "identifier": f.identifier,
                "required": f.required,
                "branching": f.branching or None,
                "annotation": f.annotation or None,
                "export_columns": list(f.export_columns),
                # the record ID under its own name; a restricted export's absent columns left out
                "columns": [] if f.name in dropped else [c for c in f.export_columns if c not in absent],
                "slider_labels": list(f.slider_labels) if f.type == "slider" else None,
                "calculation": f.calculation or None,
            }
        )
    if labels:
        for f in fields:
            f["label_column"] = labels.get(f["name"])
    book = {
        "title": project.title or None,
        "sources": list(project.sources),
        "record_id_field": project.record_id_field,
        "longitudinal": project.longitudinal,
        "arms": {str(a.num): a.name for a in project.arms},
        "events": [
            {"unique_name": e.unique_name, "label": e.label, "arm": e.arm, "day_offset": e.day_offset}
            for e in project.events
        ],
        "designations": {e.unique_name: list(project.forms_of(e.unique_name)) for e in project.events},
        "repeating": {
            "instruments": [{"event": e or None, "form": f} for e, f in sorted(rep.instruments)]
            if rep
            else [],
            "events": sorted(rep.events) if rep else [],
        },
        "forms": [
            {"name": f.name, "label": f.label, "fields": list(f.fields), "derived": derived.get(f.name, [])}
            for f in project.forms
        ],
        "fields": fields,
        "missing_data_codes": [[c, label] for c, label in project.missing_data_codes],
        "identifiers_dropped": sorted(dropped),
    }
    if labels:
        book["labels"] = True
    if absent:  # a restricted export (issue 25.3): what it leaves out and why
        book["absent"] = dict(absent)
    if inferred:  # designations inferred from the records (issue 25.4)
        book["designations_inferred"] = True
    return book


def _for_parquet(df: pd.DataFrame) -> pd.DataFrame:
    out = df.reset_index(drop=True)
    for c in out.columns:
        if isinstance(out[c].dtype, pd.StringDtype):
            out[c] = out[c].astype("string[python]")
    return out


def write_validated(result: Result, folder: str | Path, failed_too: bool = False) -> list[Path]:
    """Write ``<form>.parquet``, ``codebook.json`` and ``missing_codes.parquet``, the record
    ID under its project's own name (``codebook.json``'s ``record_id_field``; readers key
    their tables by it with :func:`own_record_id`). Refuses a result with errors unless
    ``failed_too`` (the tables the data-quality report describes data that did not pass
    with; the workflow's success record still needs passing data)."""
    if result.project is None or result.records is None or (not result.ok and not failed_too):
        raise ValueError(f"validation failed ({len(result.errors)} error(s)); nothing written")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    own = {RECORD_ID: result.project.record_id_field}  # the record ID keeps its project's name (issue 25.8)
    for form in result.project.forms:
        path = folder / f"{form.name}.parquet"
        fio.write_parquet(path, _for_parquet(result.tables[form.name]).rename(columns=own))
        written.append(path)
    path = folder / "codebook.json"
    fio.write_json(
        path,
        codebook(
            result.project,
            result.derived,
            result.dropped,
            result.labels,
            absent=_absent(result),
            inferred=result.designations_inferred,
        ),
    )
    written.append(path)
    missing = result.missing.drop(columns=["line"], errors="ignore")
    missing = missing.astype(
        {
            "record_id": "string",
            "redcap_event_name": "string",
            "form": "string",
            "field": "string",
            "code": "string",
            "redcap_repeat_instance": "Int64",
        }
    )
    path = folder / "missing_codes.parquet"
    fio.write_parquet(path, _for_parquet(missing[MISSING_COLUMNS]).rename(columns=own))
    written.append(path)
    return written


def own_record_id(frame: pd.DataFrame, record_id_field: str | None) -> pd.DataFrame:
    """A validated table as the readers key it: its record ID column (the project's own name,
    ``record_id_field``) as ``record_id``."""
    if record_id_field and record_id_field != RECORD_ID and record_id_field in frame.columns:
        return frame.rename(columns={record_id_field: RECORD_ID})
    return frame


def missing_summary(result: Result) -> pd.DataFrame:
    """Missing-data codes counted by form, field and code."""
    m = result.missing
    if not len(m):
        return pd.DataFrame(columns=["form", "field", "code", "label", "n"])
    labels = dict(result.project.missing_data_codes) if result.project else {}
    out = m.groupby(["form", "field", "code"], sort=True).size().rename("n").reset_index()
    out.insert(3, "label", out["code"].map(labels).fillna(""))
    return out


def report_dict(result: Result) -> dict:
    rec = result.records
    return {
        "ok": result.ok,
        "errors": len(result.errors),
        "warnings": len(result.warnings),
        "export": rec.file if rec else None,
        "export_date": result.export_date.isoformat() if result.export_date else None,
        "rows": len(rec) if rec else 0,
        # every record of the export, those with no data beyond their ID included (issue 25.6)
        "records": max(
            len(result.record_ids),
            int(pd.concat([t["record_id"] for t in result.tables.values()]).nunique())
            if result.tables
            else 0,
        ),
        "records_without_data": _without_data(result),
        "events": _events(result),
        "absent": _absent(result),
        "designations_inferred": result.designations_inferred,
        "forms": {k: int(len(v)) for k, v in result.tables.items()},
        "missing_data_codes": missing_summary(result).to_dict(orient="records") if result.project else [],
        "notes": result.notes,
        "failures": [f.as_dict() for f in result.failures],
    }


def _absent(result: Result) -> dict[str, str]:
    """The columns a restricted export leaves out (column -> why that is expected)."""
    return dict(result.records.absent) if result.records is not None else {}


def _without_data(result: Result) -> int:
    """Records of the export with no data beyond their record ID (in no form's table)."""
    if not result.record_ids:
        return 0
    with_data = set()
    for t in result.tables.values():
        with_data |= set(t["record_id"].astype(str))
    return sum(1 for r in result.record_ids if r not in with_data)


def _events(result: Result) -> int | None:
    """Events of a longitudinal export that hold a row (None: a classic project)."""
    if (
        result.records is None
        or not result.project.longitudinal
        or not result.records.has("redcap_event_name")
    ):
        return None
    import pyarrow.compute as pc

    ev = pc.utf8_trim_whitespace(result.records.column("redcap_event_name"))
    return len({e for e in pc.unique(ev).to_pylist() if e in result.project.event})


__all__ = ["own_record_id", "write_validated", "codebook", "report_dict", "missing_summary", "plain"]
