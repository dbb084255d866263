"""The validation results by rule and severity, with counts and first examples.

Read from the validation report (``results/<id>/validation/report.json``, written by
``feasibility.redcap.write_report``): its failures are grouped by severity, field and rule,
and counted (a failure standing for *n more cells like this* adds its *n*). Examples name
the export line, event and instance and the value as written, but never the record: the
record ID is removed from every rule's text, and values are withheld where they could name
a person: identifier fields, the record ID, free text; a date is shown by its shape
(``9999-99-99``), which says what is wrong with it without the date itself.
"""

from __future__ import annotations

import re

import pandas as pd

from .data import QualityData

VALIDATION_TABLE = "quality_validation"
SEVERITY_LABELS = {"error": "Errors", "warning": "Warnings"}
WITHHELD = "withheld"
_MORE = re.compile(r" \(and (?P<n>[\d,]+) more cells of .* like this: only the first [\d,]+ are listed\)$")
_LINE = re.compile(r"\b(on line|line) \d+")
_CODED_TYPES = {"radio", "dropdown", "yesno", "truefalse", "checkbox", "slider", "calc"}
_SAFE_TEXT_VALIDATIONS = ("integer", "number", "time")


def scrub(text: str, record: str = "") -> str:
    """``text`` without the record ID ``record``: ``record 101 has …`` becomes ``a record has …``,
    any other mention of it ``‹record›``."""
    text = text or ""
    if record:
        text = re.sub(rf"\brecord '?{re.escape(record)}'?(?![\w-])", "a record", text)
        if len(record) >= 3:  # shorter IDs ("1", "12") would hit ordinary numbers
            text = re.sub(rf"(?<![\w-]){re.escape(record)}(?![\w-])", "‹record›", text)
    return text


_DESIGN_COLUMNS = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
)


def _kind(field: dict | None, name: str = "") -> str:
    """How an example value may be shown: value, shape (dates) or withheld. A failure of the
    file (no field) shows its value (a header, a separator); a column that is not a field of
    the dictionary (a survey identifier may be an e-mail address) is withheld, except
    REDCap's own event, repeat, group and form-status columns."""
    if field is None:
        if not name or name in _DESIGN_COLUMNS or name.endswith("_complete"):
            return "value"
        return WITHHELD
    if field.get("identifier"):
        return WITHHELD
    validation = field.get("validation") or ""
    if validation.startswith(("date", "datetime")):
        return "shape"
    if field.get("type") in _CODED_TYPES:
        return "value"
    if field.get("type") == "text" and validation.startswith(_SAFE_TEXT_VALIDATIONS):
        return "value"
    return WITHHELD


def shown_value(
    value: str, field: dict | None, record: str = "", record_field: str | None = None, field_name: str = ""
) -> str:
    """The example value as the report may print it."""
    if value in ("", None):
        return ""
    name = field_name or (field or {}).get("name")
    if value == record or name in (record_field, "record_id"):
        return WITHHELD
    kind = _kind(field, name or "")
    if kind == WITHHELD:
        return WITHHELD
    if kind == "shape":
        return re.sub(r"\d", "9", value)
    return value if len(value) <= 40 else value[:39] + "…"


def example_text(failure: dict, field: dict | None, record_field: str | None) -> str:
    """``line 12, baseline_arm_1, instance 2: '9999-99-99'`` (no record)."""
    where = []
    if failure.get("line"):
        where.append(f"line {failure['line']}")
    if failure.get("event"):
        where.append(str(failure["event"]))
    if failure.get("instance"):
        where.append(f"instance {failure['instance']}")
    value = shown_value(
        str(failure.get("value") or ""),
        field,
        str(failure.get("record") or ""),
        record_field,
        str(failure.get("field") or ""),
    )
    text = ", ".join(where)
    if value == WITHHELD:
        return f"{text}: value withheld" if text else "value withheld"
    if value:
        return f"{text}: ‘{value}’" if text else f"‘{value}’"
    return text


def validation_summary(
    report: dict | None, data: QualityData | None = None, *, examples: int = 3
) -> pd.DataFrame:
    """One row per severity, field and rule: the cells it failed and its first examples.

    Columns: severity, field, form, rule, cells, examples (one a line), in the order
    errors first, then by cells (most first), then field and rule."""
    columns = ["severity", "field", "form", "rule", "cells", "examples"]
    failures = (report or {}).get("failures") or []
    if not failures:
        return pd.DataFrame(columns=columns)
    fields = data.fields if data is not None else {}
    record_field = data.codebook.get("record_id_field") if data is not None else None
    groups: dict[tuple, dict] = {}
    for f in failures:
        rule = str(f.get("rule") or "")
        extra = 1
        more = _MORE.search(rule)
        if more:
            rule, extra = rule[: more.start()], int(more["n"].replace(",", ""))
        rule = scrub(_LINE.sub(r"\1 …", rule), str(f.get("record") or ""))
        key = (f.get("severity") or "error", f.get("field") or "", rule)
        g = groups.setdefault(key, {"cells": 0, "examples": []})
        g["cells"] += extra
        if not more and len(g["examples"]) < examples:
            g["examples"].append(example_text(f, fields.get(f.get("field") or ""), record_field))
    rows = [
        {
            "severity": sev,
            "field": fld,
            "form": (fields.get(fld) or {}).get("form", ""),
            "rule": rule,
            "cells": g["cells"],
            "examples": "\n".join(e for e in g["examples"] if e),
        }
        for (sev, fld, rule), g in groups.items()
    ]
    out = pd.DataFrame(rows, columns=columns)
    out["order"] = out["severity"].map({"error": 0, "warning": 1}).fillna(2)
    out = out.sort_values(
        ["order", "cells", "field", "rule"], ascending=[True, False, True, True], kind="stable"
    )
    return out.drop(columns="order").reset_index(drop=True)


def validation_notes(report: dict | None) -> list[str]:
    """The validation report's notes (what was read, what could not be checked), record IDs removed."""
    return [scrub(str(n)) for n in (report or {}).get("notes") or []]


__all__ = [
    "validation_summary",
    "validation_notes",
    "scrub",
    "shown_value",
    "VALIDATION_TABLE",
    "SEVERITY_LABELS",
]
