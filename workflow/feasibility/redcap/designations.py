"""Instrument designations inferred from the records (issue 25.4).

A longitudinal project's export has a ``redcap_event_name`` column; without the instrument
designations (or the project XML) the dictionary alone describes a classic project, and
the export's events would be unknown. REDCapTidieR and others infer the designations from
the data: a form is designated at an event where any record has data for it. So does this:
the events are those the export names (in the order they first appear; the arm from the
``_arm_N`` ending of the unique name), and the inference is stated in the report. Giving
the instrument designations (or the project XML) overrides it.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import numpy as np

from .model import Arm, Event, Project
from .records import EVENT, Records

HEAD_BYTES = 1 << 16
_ARM = re.compile(r"_arm_(\d+)$")


def export_has_events(path: str | Path) -> bool:
    """Whether the export's header holds ``redcap_event_name`` (its first 64 kB read)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except OSError:
        return False
    text = head.decode("utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n")
    first = next(csv.reader([text.split("\n", 1)[0]]), [])
    return EVENT in [c.strip() for c in first]


def provisional(project: Project, path: str | Path) -> Project:
    """The project with the export's events, every form designated at every event: the
    export is read against it, then :func:`infer` keeps the pairs that hold data."""
    import pyarrow.csv as pcsv

    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(encoding="utf-8"),
            convert_options=pcsv.ConvertOptions(
                include_columns=[EVENT], column_types={EVENT: "string"}, strings_can_be_null=False
            ),
        )
        names = [e.strip() for e in table.column(EVENT).to_pylist() if e and e.strip()]
    except Exception:  # noqa: BLE001 - the export is read (and its faults named) by read_records
        names = []
    events = list(dict.fromkeys(names))
    return _with(project, events, [(e, f.name) for e in events for f in project.forms])


def _with(project: Project, events: list[str], pairs: list[tuple[str, str]]) -> Project:
    def arm(name: str) -> int:
        m = _ARM.search(name)
        return int(m.group(1)) if m else 1

    evs = tuple(Event(e, e, arm(e)) for e in events)
    arms = tuple(Arm(a, f"Arm {a}") for a in sorted({e.arm for e in evs}))
    return dataclasses.replace(project, events=evs, arms=arms, designations=tuple(pairs))


def infer(records: Records) -> tuple[Project, str]:
    """The designations the records show (a form at an event where any row has data for it),
    and a note saying they were inferred."""
    from .tidy import _present, row_keys

    project = records.project
    keys = row_keys(records)
    event = np.asarray(keys.event, dtype=object)
    events = [e.unique_name for e in project.events]
    with_data = {}
    for form in project.forms:
        present = _present(records, project, form.name) & keys.usable
        with_data[form.name] = set(event[present])
    pairs = [(e, form.name) for e in events for form in project.forms if e in with_data[form.name]]
    inferred = _with(project, events, pairs)
    desc = "; ".join(f"{e}: {', '.join(f for ev, f in pairs if ev == e) or 'no form'}" for e in events)
    note = (
        "instrument designations inferred from the records (none were given): a form is designated at an "
        f"event where any record has data for it - {desc}. Give redcap.instrument_designations (or "
        "redcap.project_xml) to override them"
    )
    return inferred, note


__all__ = ["export_has_events", "provisional", "infer"]
