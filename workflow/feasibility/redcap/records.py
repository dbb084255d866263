"""The all-records export (raw values, CSV), from the download or the API.

Columns, in REDCap's order: the record ID; ``redcap_event_name`` (longitudinal);
``redcap_repeat_instrument`` and ``redcap_repeat_instance`` (repeating instruments or
events); ``redcap_data_access_group`` and ``redcap_survey_identifier`` (when exported);
then per form ``<form>_timestamp`` (surveys, when exported), the form's fields (a
checkbox as one ``field___code`` column per choice, plus one per missing-data code that
was used) and ``<form>_complete``. Descriptive fields have no column.

A labels export (headers such as ``Record ID``, ``Event Name``, ``Complete?``, or label
values such as ``Complete``/``Checked``) is named as such in one message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .files import Limits, TextTable, describe, read_csv_text
from .messages import Failure, fail
from .model import Project, Repeating, checkbox_column

EVENT = "redcap_event_name"
REPEAT_INSTRUMENT = "redcap_repeat_instrument"
REPEAT_INSTANCE = "redcap_repeat_instance"
DAG = "redcap_data_access_group"
SURVEY_ID = "redcap_survey_identifier"
# Header labels a labels export writes for REDCap's own columns.
LABEL_HEADERS = {
    "Record ID",
    "Event Name",
    "Repeat Instrument",
    "Repeat Instance",
    "Data Access Group",
    "Survey Identifier",
    "Survey Timestamp",
    "Complete?",
}
STATUS_LABELS = {"Incomplete", "Unverified", "Complete"}
CHECKBOX_LABELS = {"Checked", "Unchecked"}
# Columns an export may have beyond those of its project (each named as unknown); a header
# of more is refused at once, before its rows are read.
EXTRA_COLUMNS = 1000
DOWNLOAD_NAME = re.compile(r"_DATA_(\d{4}-\d{2}-\d{2})_(\d{2})(\d{2})")


@dataclass
class ColumnInfo:
    """What one export column holds."""

    name: str
    kind: str  # record_id, system, timestamp, field, checkbox, checkbox_missing, complete
    form: str = ""
    field: str = ""
    code: str = ""


@dataclass
class Records:
    """The export as text cells, with each row's physical line and the project it is read against."""

    text: TextTable
    project: Project
    columns: dict[str, ColumnInfo]
    export_date: date | None = None
    notes: list[str] = field(default_factory=list)
    # columns of the dictionary a restricted export leaves out, as REDCap's export rights do
    # (column -> why that is expected); empty: the export holds every column (issue 25.3)
    absent: dict[str, str] = field(default_factory=dict)

    @property
    def restricted(self) -> bool:
        return bool(self.absent)

    @property
    def file(self) -> str:
        return self.text.name

    @property
    def lines(self) -> np.ndarray:
        return self.text.lines

    def column(self, name: str) -> pa.Array:
        col = self.text.table.column(name)
        return col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col

    def has(self, name: str) -> bool:
        return name in self.columns

    def __len__(self) -> int:
        return len(self.text)


def export_date_from_name(path: str | Path) -> date | None:
    """The date in REDCap's download file name ``<Project>_DATA_YYYY-MM-DD_HHMM.csv``."""
    m = DOWNLOAD_NAME.search(Path(path).name)
    if not m:
        return None
    try:
        day = date.fromisoformat(m.group(1))
    except ValueError:
        return None
    return day if 1678 <= day.year <= 2261 else None  # beyond the years a date can have: not a download's


def expected_columns(project: Project) -> dict[str, ColumnInfo]:
    """Every column an all-records export of this project may hold, in REDCap's order."""
    out: dict[str, ColumnInfo] = {}
    rid = project.record_id_field
    out[rid] = ColumnInfo(rid, "record_id", project.record_id.form, rid)
    if project.longitudinal:
        out[EVENT] = ColumnInfo(EVENT, "system")
    out[REPEAT_INSTRUMENT] = ColumnInfo(REPEAT_INSTRUMENT, "system")
    out[REPEAT_INSTANCE] = ColumnInfo(REPEAT_INSTANCE, "system")
    out[DAG] = ColumnInfo(DAG, "system")
    out[SURVEY_ID] = ColumnInfo(SURVEY_ID, "system")
    for form in project.forms:
        out[f"{form.name}_timestamp"] = ColumnInfo(f"{form.name}_timestamp", "timestamp", form.name)
        for fld in project.form_fields(form.name):
            if fld.type == "checkbox":
                for code, _ in fld.choices:
                    col = checkbox_column(fld.name, code)
                    out[col] = ColumnInfo(col, "checkbox", form.name, fld.name, code)
                for code, _ in project.missing_data_codes:
                    col = checkbox_column(fld.name, code)
                    out.setdefault(col, ColumnInfo(col, "checkbox_missing", form.name, fld.name, code))
            elif fld.type != "descriptive":
                out[fld.name] = ColumnInfo(fld.name, "field", form.name, fld.name)
        out[f"{form.name}_complete"] = ColumnInfo(f"{form.name}_complete", "complete", form.name)
    return out


def _label_headers(header: list[str], name: str, project: Project) -> Failure | None:
    """A labels export, known by its header (REDCap's labels and the fields' labels)."""
    labels = {f.label.strip() for f in project.fields if f.label.strip()}
    hits = list(
        dict.fromkeys(h for h in header if h in LABEL_HEADERS or (h in labels and h not in project.field))
    )
    first_is_label = bool(header) and header[0] in {"Record ID", project.record_id.label.strip()}
    if (
        header
        and header[0] != project.record_id_field
        and (first_is_label or len(hits) >= max(1, len(header) // 4))
    ):
        return fail(
            name,
            "this is a labels export (its header holds labels such as "
            + ", ".join(f"'{h}'" for h in hits[:3])
            + "), not raw data: export the records as 'CSV / Microsoft Excel (raw data)' "
            "(API: rawOrLabel=raw, rawOrLabelHeaders=raw)",
            line=1,
        )
    return None


def _label_values(t: TextTable) -> Failure | None:
    """Raw headers with label values (Complete, Checked, …)."""
    header = t.header
    for h in header:
        if h.endswith("_complete") or "___" in h:
            col = t.table.column(h)
            values = set(pc.unique(col).to_pylist()) - {""}
            if values and values <= (STATUS_LABELS | CHECKBOX_LABELS):
                return fail(
                    t.name,
                    f"the values are labels (column {h} holds "
                    + ", ".join(f"'{v}'" for v in sorted(values)[:3])
                    + "), not raw codes: export the records as raw data "
                    "(API: rawOrLabel=raw)",
                    line=int(t.lines[0]) if len(t) else 1,
                    field=h,
                )
    return None


def read_records(
    path: str | Path, project: Project, *, limits: Limits | None = None, export_date: date | None = None
) -> tuple[Records | None, list[Failure]]:
    """Read the export and check its columns against the project. Records is None only when
    the file cannot be used at all (unreadable, a labels export, another project's); an
    unknown column is a failure and is left out, a missing one a failure."""
    path = Path(path)
    expected = expected_columns(project)
    t, failures = read_csv_text(
        path,
        "records export",
        limits,
        header_hook=lambda header, name: _label_headers(header, name, project),
        max_columns=len(expected) + EXTRA_COLUMNS,
    )
    if t is None:
        return None, failures
    return records_from_table(
        t, failures, project, export_date=export_date or export_date_from_name(path), described=describe(t)
    )


def records_from_table(
    t: TextTable,
    failures: list[Failure],
    project: Project,
    *,
    export_date: date | None = None,
    described: str = "",
) -> tuple[Records | None, list[Failure]]:
    """Records from the export's text cells (a CSV file's, or the project XML's ClinicalData
    laid out as REDCap's export, :func:`feasibility.redcap.xml.read_clinical_data`), its
    columns checked against the project."""
    expected = expected_columns(project)
    name = t.name
    notes = [f"{name}: {len(t):,} rows" + (f" ({described})" if described else "")]
    labels = _label_values(t)
    if labels is not None:
        return None, failures + [labels]
    header = t.header
    if header[0] != project.record_id_field:
        if project.record_id_field in header:
            failures.append(
                fail(
                    name,
                    f"the record ID {project.record_id_field} is column "
                    f"{header.index(project.record_id_field) + 1}, not the first column",
                    line=1,
                    field=project.record_id_field,
                )
            )
        else:
            return None, failures + [
                fail(
                    name,
                    f"the first column is '{header[0]}', but the data dictionary's "
                    f"record ID field is '{project.record_id_field}': is this the "
                    "export of another project?",
                    line=1,
                    field=header[0],
                )
            ]
    columns: dict[str, ColumnInfo] = {}
    for i, h in enumerate(header, start=1):
        info = expected.get(h)
        if info is None:
            hint = ""
            if h.startswith("redcap_"):
                hint = " (a REDCap column this project does not have)"
            elif "___" in h and h.split("___")[0] in project.field:
                hint = f" (not a choice of checkbox {h.split('___')[0]}, nor a missing-data code)"
            elif h.endswith("_timestamp") or h.endswith("_complete"):
                hint = " (no such form in the data dictionary)"
            elif h in {f.label for f in project.fields}:
                hint = " (a field label: is this a labels export?)"
            failures.append(
                fail(name, f"unknown column {i} '{h}': not in the data dictionary{hint}", line=1, field=h)
            )
            continue
        columns[h] = info
    if project.longitudinal and EVENT not in columns:
        return None, failures + [
            fail(
                name, f"the project is longitudinal but the export has no {EVENT} column", line=1, field=EVENT
            )
        ]
    if (REPEAT_INSTRUMENT in columns) != (REPEAT_INSTANCE in columns):
        failures.append(
            fail(name, f"the export has only one of {REPEAT_INSTRUMENT} and {REPEAT_INSTANCE}", line=1)
        )
    if project.repeating is not None and project.repeating.any and REPEAT_INSTANCE not in columns:
        failures.append(
            fail(
                name,
                "the project has repeating instruments or events but the export has no "
                f"{REPEAT_INSTRUMENT}/{REPEAT_INSTANCE} columns",
                line=1,
            )
        )
    absent, missing = absent_columns(project, expected, set(header))
    for col in missing:
        failures.append(
            fail(
                name,
                f"column of form {expected[col].form} is missing from the export (the data "
                "dictionary has it)",
                line=1,
                field=col,
            )
        )
    if absent:
        notes.append(restricted_note(project, absent))
    if len(t) == 0:
        failures.append(fail(name, "the export has a header but no records"))
    return Records(t, project, columns, export_date, notes, absent), failures


# Why a column may be absent from an export made under restricted user rights (REDCap's
# data export rights, per form: no access, de-identified, identifiers removed, full data set).
NO_EXPORT_RIGHTS = "form not in the export (the user's export rights exclude it)"
IDENTIFIER_REMOVED = "identifier field removed (export rights 'remove identifiers' or 'de-identified')"
DEIDENTIFIED = {
    "text": "free-text field removed (export rights 'de-identified')",
    "notes": "free-text field removed (export rights 'de-identified')",
    "date": "date field removed (export rights 'de-identified')",
}


def absent_columns(
    project: Project, expected: dict[str, ColumnInfo], present: set[str]
) -> tuple[dict[str, str], list[str]]:
    """The dictionary's columns the export lacks: those a restricted export leaves out as
    REDCap's export rights do (column -> why that is expected), and those it should hold
    (a failure each). A form with none of its columns has no export rights; an identifier
    field is removed by 'remove identifiers' and 'de-identified' rights, which also remove
    free text (text without validation, notes) and dates."""
    absent: dict[str, str] = {}
    missing: list[str] = []
    by_form: dict[str, list[str]] = {}
    for col, info in expected.items():
        if info.kind in ("field", "checkbox", "complete"):
            by_form.setdefault(info.form, []).append(col)
    for form, cols in by_form.items():
        gone = [c for c in cols if c not in present]
        if not gone:
            continue
        whole = len(gone) == len(cols) and project.record_id.form != form
        for col in gone:
            info = expected[col]
            fld = project.field.get(info.field) if info.field else None
            if whole:
                absent[col] = NO_EXPORT_RIGHTS
            elif fld is not None and fld.identifier:
                absent[col] = IDENTIFIER_REMOVED
            elif fld is not None and _deidentified_kind(fld):
                absent[col] = DEIDENTIFIED[_deidentified_kind(fld)]
            else:
                missing.append(col)
    return absent, missing


def _deidentified_kind(fld) -> str | None:
    """Which kind of column 'de-identified' export rights remove this field as (None: kept)."""
    validation = (fld.validation or "").lower()
    if fld.type == "notes" or (fld.type == "text" and not validation):
        return fld.type
    if fld.type == "text" and validation.startswith(("date", "datetime")):
        return "date"
    return None


def restricted_note(project: Project, absent: dict[str, str]) -> str:
    """One note saying the export is restricted, what it leaves out and why that is expected."""
    owner = project.column_owner
    by_reason: dict[str, list[str]] = {}
    for col, why in absent.items():
        name = (
            col[: -len("_complete")]
            if why == NO_EXPORT_RIGHTS and col.endswith("_complete")
            else (owner[col][0].name if col in owner else col)
        )
        if why == NO_EXPORT_RIGHTS and not col.endswith("_complete"):
            continue  # the form is named once, by its status column
        by_reason.setdefault(why, [])
        if name not in by_reason[why]:
            by_reason[why].append(name)
    parts = [f"{why}: {', '.join(names)}" for why, names in by_reason.items()]
    return (
        "restricted export: it holds a subset of the data dictionary's columns, as REDCap's export rights "
        "make it; absent, as expected - "
        + "; ".join(parts)
        + ". What the export holds is validated; what it lacks is not checked"
    )


def infer_repeating(records: Records) -> tuple[Repeating, list[str]]:
    """The repeating set-up the rows show, for a project whose settings do not say:
    a row naming an instrument repeats it at its event; a row with an instance and no
    instrument belongs to a repeating event."""
    if not records.has(REPEAT_INSTANCE):
        return Repeating(), []
    inst = records.column(REPEAT_INSTRUMENT)
    num = records.column(REPEAT_INSTANCE)
    event = records.column(EVENT) if records.has(EVENT) else pa.array([""] * len(records))
    has_num = pc.not_equal(pc.utf8_trim_whitespace(num), "")
    has_inst = pc.not_equal(pc.utf8_trim_whitespace(inst), "")
    pairs = pa.table({"e": event, "f": inst}).filter(has_inst).group_by(["e", "f"]).aggregate([])
    known_forms = set(records.project.form)
    instruments = {
        (e if records.project.longitudinal else "", f)
        for e, f in zip(pairs.column("e").to_pylist(), pairs.column("f").to_pylist())
        if f in known_forms
    }
    ev = pc.unique(pc.filter(event, pc.and_(has_num, pc.invert(has_inst)))).to_pylist()
    events = {e for e in ev if e in records.project.event} if records.project.longitudinal else set()
    notes = []
    if instruments or events:
        desc = [f"{f}" + (f" at {e}" if e else "") for e, f in sorted(instruments)] + [
            f"event {e}" for e in sorted(events)
        ]
        notes.append("repeating set-up read from the records (not declared): " + ", ".join(desc))
    return Repeating(frozenset(instruments), frozenset(events)), notes
