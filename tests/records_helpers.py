"""Reading and changing the shipped REDCap export (data/raw/records.csv) in tests.

The export has one row per record x event x repeat instance; every person screened is a
record (the screening number, S001...), the participant ID (PP01...) is the identifier
field ``scr_participant_id`` of the screening form. Tests name participants as the paper
does (PP04) and cells by record, event, repeat instance and field, as REDCap does.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

RECORDS = "records.csv"
DICTIONARY = "data_dictionary.csv"
EVENTS = {
    "screening": "screening_arm_1",
    "baseline": "baseline_arm_1",
    "intervention": "intervention_arm_1",
    "week6": "week6_arm_1",
    "week14": "week14_arm_1",
    "month6": "month6_arm_1",
}


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    # bytes decoded, not read_text: that would turn a CR inside a quoted cell into LF
    rows = list(csv.reader(io.StringIO(Path(path).read_bytes().decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def quote(cell: str) -> str:
    """A cell as REDCap writes it: in double quotes (a quote doubled) when it holds a comma,
    a quote or a line break, a lone carriage return included. (Python 3.11's csv writer with
    ``lineterminator="\\n"`` leaves a lone CR unquoted: the file then has a ragged row.)"""
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def write_csv(path: Path, header: list[str], body: list[list[str]]) -> None:
    text = "".join(",".join(quote(c) for c in row) + "\n" for row in [header, *body])
    Path(path).write_text(text, encoding="utf-8", newline="")


def record_of(raw: Path, who: str) -> str:
    """The record ID of participant ``who`` (PP04), or ``who`` itself when it is a record ID."""
    if not who:
        return who
    header, body = read_csv(Path(raw) / RECORDS)
    pid = header.index("scr_participant_id")
    found = [r[0] for r in body if r[pid] == who]
    return found[0] if found else who


def participants(raw: Path) -> dict[str, str]:
    """Participant ID -> record ID of everyone enrolled."""
    header, body = read_csv(Path(raw) / RECORDS)
    pid = header.index("scr_participant_id")
    return {r[pid]: r[0] for r in body if r[pid]}


def row_index(
    header: list[str],
    body: list[list[str]],
    record: str,
    event: str,
    instrument: str = "",
    instance: str = "",
) -> int:
    """The position in ``body`` of the row of ``record`` at ``event`` (a repeating instrument's
    row: its ``instrument`` and ``instance``)."""
    ev, ins, inst = (
        header.index(c) for c in ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")
    )
    hits = [
        i
        for i, r in enumerate(body)
        if r[0] == record
        and r[ev] == EVENTS.get(event, event)
        and r[ins] == instrument
        and r[inst] == str(instance)
    ]
    assert len(hits) == 1, f"{len(hits)} rows for {record} {event} {instrument} {instance}"
    return hits[0]


def line_of(raw: Path, who: str, event: str, instrument: str = "", instance: str = "") -> int:
    """The physical line of that row in records.csv (the header is line 1; no cell spans lines)."""
    header, body = read_csv(Path(raw) / RECORDS)
    return row_index(header, body, record_of(raw, who), event, instrument, instance) + 2


def set_value(
    raw: Path, who: str, event: str, field: str, value: str, instrument: str = "", instance: str = ""
) -> str:
    """Write ``value`` into one cell of records.csv; returns the old value."""
    path = Path(raw) / RECORDS
    header, body = read_csv(path)
    i = row_index(header, body, record_of(raw, who), event, instrument, instance)
    j = header.index(field)
    old, body[i][j] = body[i][j], value
    write_csv(path, header, body)
    return old


def get_value(raw: Path, who: str, event: str, field: str, instrument: str = "", instance: str = "") -> str:
    header, body = read_csv(Path(raw) / RECORDS)
    return body[row_index(header, body, record_of(raw, who), event, instrument, instance)][
        header.index(field)
    ]


def form_rows(raw: Path, fields: list[str], event: str | None = None, instrument: str = "") -> list[dict]:
    """Rows (as dicts with ``record_id``, ``participant``, ``redcap_event_name``, instance and
    ``fields``) holding any of ``fields``, at ``event`` when given."""
    header, body = read_csv(Path(raw) / RECORDS)
    to_pid = {rec: pid for pid, rec in participants(raw).items()}
    out = []
    for r in body:
        row = dict(zip(header, r))
        if event is not None and row["redcap_event_name"] != EVENTS.get(event, event):
            continue
        if row["redcap_repeat_instrument"] != instrument:
            continue
        if not any(row[f] != "" for f in fields):
            continue
        out.append(
            {
                "record_id": row["record_id"],
                "participant": to_pid.get(row["record_id"], ""),
                "redcap_event_name": row["redcap_event_name"],
                "redcap_repeat_instance": row["redcap_repeat_instance"],
                **{f: row[f] for f in fields},
            }
        )
    return out
