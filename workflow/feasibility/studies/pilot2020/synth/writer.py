"""Write a synthetic cohort as REDCap's own downloads of the paper's project.

The cohort builders (``cohort.py``, ``scaled.py``) make one table per group of forms
(``crf.EXPORTS``), keyed by participant. This module writes what a REDCap project gives a
data manager, with the REDCap library's writers (``feasibility.redcap.write``):

* ``data_dictionary.csv``: the download's 18 columns, from ``crf.py``;
* ``instrument_designations.csv`` (``arm_num, unique_event_name, form``) and
  ``events.csv`` (the API's events export: labels and day offsets);
* ``records.csv``: one all-records export, raw values, as the API writes it (no byte-order
  mark, LF line ends): one row per record x event x repeat instance, every person screened
  a record whose ID is the screening number, the participant ID an identifier field;
* ``project.xml``: the same metadata as REDCap's project XML (CDISC ODM).

Cell text is the cohort's values formatted column by column (each column's distinct
values formatted once): dates as YYYY-MM-DD, whole numbers without a decimal point, one or
two decimals for the fields validated as number_1dp / number_2dp.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import crf
from feasibility.io import csv_text, write_text

RECORD, EVENT, INSTANCE = "record_id", "redcap_event_name", "redcap_repeat_instance"
EVENT_OFFSETS = {
    "screening_arm_1": 0,
    "baseline_arm_1": 7,
    "intervention_arm_1": 14,
    "week6_arm_1": 56,
    "week14_arm_1": 112,
    "month6_arm_1": 196,
}


def _fmt(value, fld: crf.Field | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    if fld is not None and fld.validation in ("number_1dp", "number_2dp"):
        return f"{float(value):.{1 if fld.validation == 'number_1dp' else 2}f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def column_text(values: pd.Series, fld: crf.Field | None) -> np.ndarray:
    """The export text of one column (an object array of str, "" for a missing value)."""
    positions, distinct = pd.factorize(values, use_na_sentinel=True)
    cells = np.array([_fmt(v, fld) for v in distinct] + [""], dtype=object)
    return cells[positions]  # position -1 (missing) takes the last cell, ""


def _csv(rows: list[list[str]]) -> str:
    return csv_text(rows)


# ------------------------------------------------------------------------------- metadata
def dictionary_csv_text(sites: tuple[tuple[int, str], ...] = crf.SITES) -> str:
    """The REDCap data dictionary (the download's 18 columns) of every field; ``sites`` is
    the study's own site list, written as the choices of the site fields."""
    return _csv([crf.DICTIONARY_COLUMNS] + [crf.dictionary_row(fld, sites) for fld in crf.fields()])


def designations_csv_text() -> str:
    return _csv(
        [["arm_num", "unique_event_name", "form"]]
        + [[str(crf.ARM), event, form] for event, forms in crf.DESIGNATIONS.items() for form in forms]
    )


def events_csv_text() -> str:
    """REDCap's events export (API ``content=event``): labels and day offsets."""
    rows = [
        [
            "event_name",
            "arm_num",
            "unique_event_name",
            "custom_event_label",
            "event_id",
            "days_offset",
            "offset_min",
            "offset_max",
        ]
    ]
    for i, (event, label) in enumerate(crf.EVENTS.items(), start=1):
        rows.append([label, str(crf.ARM), event, "", str(100 + i), str(EVENT_OFFSETS[event]), "0", "0"])
    return _csv(rows)


def project(folder: Path):
    """The paper's REDCap project, read back from the metadata files written to ``folder``
    (the writer and the validator read one and the same dictionary)."""
    from feasibility.redcap import read_metadata

    proj, failures = read_metadata(
        folder / crf.DICTIONARY_FILE,
        folder / crf.DESIGNATIONS_FILE,
        events=folder / crf.EVENTS_FILE,
        repeating={"instruments": [{"event": e, "form": f} for e, f in crf.REPEATING]},
    )
    errors = [f.message() for f in failures if f.severity == "error"]
    if proj is None or errors:
        raise ValueError("the generated metadata do not make a REDCap project:\n" + "\n".join(errors))
    forms = tuple(dataclasses.replace(f, label=crf.FORM_LABELS[f.name]) for f in proj.forms)
    return dataclasses.replace(proj, title=crf.PROJECT_TITLE, forms=forms)


# -------------------------------------------------------------------------------- records
def participant_records(screening: pd.DataFrame) -> dict[str, str]:
    """Participant ID -> record ID (the screening number) of everyone enrolled."""
    enrolled = screening.dropna(subset=["scr_participant_id"])
    return dict(zip(enrolled["scr_participant_id"].astype(str), enrolled[RECORD].astype(str)))


def form_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The cohort's tables (one per ``crf.EXPORTS`` group, keyed by participant) as one text
    table per form and event, keyed by record ID: what REDCap would export of each form."""
    to_record = participant_records(tables["screening"])
    by_column = {c: f for f in crf.fields() for c in f.columns()}
    parts: dict[str, list[pd.DataFrame]] = {}
    for name, export in crf.EXPORTS.items():
        df = tables[name].reset_index(drop=True)
        known = set(crf.export_columns(export)) | {RECORD, EVENT, INSTANCE, "redcap_repeat_instrument"}
        unknown = set(df.columns) - known - crf.NOT_IN_PROJECT
        if unknown:
            raise ValueError(f"{name}: columns not in the data dictionary: {sorted(unknown)}")
        ids = df[RECORD].astype(str)
        records = ids if name == "screening" else ids.map(to_record)
        if records.isna().any():
            raise ValueError(
                f"{name}: participants not enrolled at screening: {sorted(set(ids[records.isna()]))[:5]}"
            )
        keys = {RECORD: records.to_numpy(dtype=object), EVENT: df[EVENT].astype(str).to_numpy(dtype=object)}
        if export.repeating:
            keys[INSTANCE] = df[INSTANCE].astype("int64").to_numpy()
        for form in export.forms:
            columns = [c for f in crf.form_fields(form) for c in f.columns()] + [f"{form}_complete"]
            text = {
                c: (column_text(df[c], by_column.get(c)) if c in df else np.full(len(df), "", dtype=object))
                for c in columns
            }
            parts.setdefault(form, []).append(pd.DataFrame({**keys, **text}))
    return {form: pd.concat(frames, ignore_index=True) for form, frames in parts.items()}


def records_csv_text(proj, forms: dict[str, pd.DataFrame]) -> str:
    from feasibility.redcap.write import records_frame

    frame = records_frame(proj, forms)
    return _csv([list(frame.columns)] + frame.to_numpy().tolist())


# --------------------------------------------------------------------------------- writing
def write_project(
    tables: dict[str, pd.DataFrame], out: Path, sites: tuple[tuple[int, str], ...] = crf.SITES
) -> list[Path]:
    """Write REDCap's downloads of the cohort to ``out``; returns the paths written."""
    from feasibility.redcap.write import project_xml

    out = Path(out)
    written = []
    for name, text in (
        (crf.DICTIONARY_FILE, dictionary_csv_text(sites)),
        (crf.DESIGNATIONS_FILE, designations_csv_text()),
        (crf.EVENTS_FILE, events_csv_text()),
    ):
        write_text(out / name, text)
        written.append(out / name)
    proj = project(out)
    write_text(out / crf.RECORDS_FILE, records_csv_text(proj, form_tables(tables)))
    write_text(out / crf.PROJECT_XML_FILE, project_xml(proj))
    return [out / crf.RECORDS_FILE, *written, out / crf.PROJECT_XML_FILE]
