"""The query list: every validation failure and warning and every data-quality finding, one
row each, for the data manager to send to the sites (issue 24).

Rules, as REDCap's Data Quality module letters them (A to I), computed from the project's
dictionary and its validated data, plus the validation report's failures and warnings and
the study's own checks (``quality.checks``):

* **A** blank values (a field blank on a row of its form, not hidden by its branching logic;
  a checkbox with no box ticked); **B** the same for required fields;
* **C** values that break the field's validation type, and **G** values that are not a
  choice code: the validation report's findings (validation checks every raw value of the
  export; the validated tables are typed, so such a value cannot survive into them), and G
  recomputed for the coded fields;
* **D** values outside the field's validation minimum or maximum (recomputed; REDCap lets a
  user save such a value after a warning);
* **E** outliers of numeric fields (integer, number, slider, calc) and date fields: beyond
  :data:`OUTLIER_IQR` interquartile ranges below the lower or above the upper quartile of
  the field's values (Tukey's far-out values), among :data:`OUTLIER_MIN_VALUES` values or
  more; a *check*, never a failure;
* **F** values present where the field's branching logic hides it;
* **H** calculated fields whose stored value differs from the formula: the validation
  report's findings when validation recomputes calculated fields (not recomputed here);
* **I** cells holding a missing-data code;
* a study rule's ID (validation's cross-form rules) or a check's ID (``quality.checks``).

Each query has an ID that stays the same from one export to the next (:func:`query_id`: a
hash of its rule, record, event, instance and field), so that queries can be tracked
(``feasibility.quality.tracking``). The list holds record IDs: it is for the study team.
Identifier fields never appear (the validated data hold none, and a validation finding on
an identifier field has its value withheld).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd

from feasibility.redcap.logic import Context, NotEvaluated, Ref, evaluate, parse, references

from .data import CLASSIC_EVENT, NO_GROUP, QualityData
from .missingness import _check, _coded_rows, _Lookup, as_text, counted_fields, shown_mask, value_columns
from .settings import Check, checks_from_settings  # noqa: F401 - defined there: no heavy import at start-up

QUERY_COLUMNS = [
    "query_id",
    "status",
    "site",
    "record_id",
    "event",
    "event_label",
    "instance",
    "form",
    "instrument",
    "field",
    "field_label",
    "value",
    "rule",
    "rule_name",
    "message",
    "severity",
    "first_seen",
]
RULE_NAMES = {
    "A": "Blank value",
    "B": "Blank required value",
    "C": "Validation error (field type)",
    "D": "Out of range",
    "E": "Outlier",
    "F": "Hidden field with a value",
    "G": "Invalid multiple-choice value",
    "H": "Incorrect calculated value",
    "I": "Missing-data code",
}
OVERDUE = "overdue"
SEVERITIES = ("error", "warning", "check")
RULE_SEVERITY = {
    "A": "check",
    "B": "warning",
    "C": "error",
    "D": "warning",
    "E": "check",
    "F": "warning",
    "G": "error",
    "H": "warning",
    "I": "check",
}
OUTLIER_IQR = 3.0
OUTLIER_MIN_VALUES = 10
PROJECT_SITE = "(project)"  # a validation finding about a file, not a record
WITHHELD = "withheld"
FOR_WHOM = (
    "For the study team only: this list names records by their record ID so that each site can find "
    "and correct them. Identifier fields never appear in it. Do not share it outside the study team."
)
OUTLIER_RULE = (
    f"beyond {OUTLIER_IQR:g} interquartile ranges below the lower or above the upper quartile of "
    f"the field's values (at least {OUTLIER_MIN_VALUES} values)"
)

_NUMERIC_VALIDATIONS = ("integer", "number")
_DATE_VALIDATIONS = ("date", "datetime")
_CODED = ("radio", "dropdown", "yesno", "truefalse")
_DESIGN_COLUMNS = (
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
)
# validation's rule texts -> REDCap's letters (feasibility.redcap's messages)
_LETTER_PATTERNS = [
    ("H", re.compile(r"calculat", re.IGNORECASE)),
    ("F", re.compile(r"branching logic hides")),
    ("B", re.compile(r"required field is blank")),
    ("D", re.compile(r"(below|above) the validation (minimum|maximum)|slider value outside")),
    ("G", re.compile(r"not a code of")),
    ("C", re.compile(r"not a valid |not a whole number")),
]
_STUDY_RULE = re.compile(r"^(?P<id>[A-Za-z][\w.-]*): ")


def query_id(rule: str, record: str, event: str, instance: str, field: str) -> str:
    """The query's ID: the same finding (rule, record, event, instance, field) has the same ID in
    every export."""
    key = "\x1f".join(str(x or "") for x in (rule, record, event, instance, field))
    return "Q" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:10].upper()


def rule_letter(text: str) -> str | None:
    """REDCap's letter of a validation failure's rule text, or None."""
    for letter, pattern in _LETTER_PATTERNS:
        if pattern.search(text or ""):
            return letter
    return None


# ------------------------------------------------------------------------------ the list
class _Rows:
    """Collects query rows: single ones (validation's, checks') as dicts, a rule's findings on
    one field as a column-wise chunk (fast at 100,000 records), then one frame; a finding made
    twice (validation and a rule here) keeps its first row."""

    def __init__(self, data: QualityData):
        self.data = data
        self.chunks: list[dict] = []
        self.dag = data.record_dag.to_dict() if data.has_dags else {}
        self.event_labels = {e["unique_name"]: e.get("label") or e["unique_name"] for e in data.events}
        self.form_labels = {f["name"]: f.get("label") or f["name"] for f in data.forms}

    def _site(self, record: str) -> str:
        if not record:
            return PROJECT_SITE
        return self.dag.get(record, NO_GROUP) if self.data.has_dags else NO_GROUP

    def add(
        self,
        *,
        rule: str,
        record: str,
        event: str,
        instance: str,
        field: str,
        value: str,
        message: str,
        severity: str,
        form: str | None = None,
        rule_name: str | None = None,
    ) -> None:
        self.add_many(
            rule=rule,
            records=[record or ""],
            events=[event or ""],
            instances=[instance or ""],
            field=field or "",
            values=[value],
            message=message,
            severity=severity,
            form=form,
            rule_name=rule_name,
        )

    def add_many(
        self,
        *,
        rule: str,
        records,
        events,
        instances,
        field: str,
        values,
        message: str,
        severity: str,
        form: str | None = None,
        rule_name: str | None = None,
    ) -> None:
        n = len(records)
        if not n:
            return
        f = self.data.fields.get(field) or {}
        form = form or f.get("form") or ""
        records, events, instances = list(records), list(events), list(instances)
        self.chunks.append(
            {
                "query_id": [query_id(rule, r, e, i, field) for r, e, i in zip(records, events, instances)],
                "status": [""] * n,
                "site": [self._site(r) for r in records],
                "record_id": records,
                "event": events,
                "event_label": [self.event_labels.get(e, e) if e else "" for e in events],
                "instance": instances,
                "form": [form] * n,
                "instrument": [self.form_labels.get(form, form) if form else ""] * n,
                "field": [field] * n,
                "field_label": [
                    f.get("label") or ("Complete?" if field.endswith("_complete") and form else "")
                ]
                * n,
                "value": [str(v) for v in values],
                "rule": [rule] * n,
                "rule_name": [rule_name or RULE_NAMES.get(rule, "")] * n,
                "message": [message] * n,
                "severity": [severity] * n,
                "first_seen": [""] * n,
            }
        )

    def bulk(
        self,
        rule: str,
        keys: pd.DataFrame,
        idx: np.ndarray,
        field: dict,
        values,
        message: str,
        severity: str | None = None,
    ) -> None:
        if not len(idx):
            return
        self.add_many(
            rule=rule,
            records=keys["record"].to_numpy()[idx],
            events=keys["event"].to_numpy()[idx],
            instances=keys["instance"].to_numpy()[idx],
            field=field["name"],
            values=[""] * len(idx) if values is None else values.at(idx),
            message=message,
            severity=severity or RULE_SEVERITY[rule],
            form=field["form"],
        )

    def frame(self) -> pd.DataFrame:
        if not self.chunks:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in QUERY_COLUMNS})
        frame = pd.concat([pd.DataFrame(c, columns=QUERY_COLUMNS) for c in self.chunks], ignore_index=True)
        return frame.drop_duplicates("query_id", keep="first").reset_index(drop=True)


class _Values:
    """A field's values as exported text, made only for the rows asked for (formatting every
    number of a large table would cost more than finding the few queries)."""

    def __init__(self, make):
        self.make = make

    def at(self, idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(idx, dtype=int)
        return np.asarray(self.make(idx), dtype=object) if len(idx) else np.array([], dtype=object)


def _validation_rows(out: _Rows, data: QualityData) -> None:
    """The validation report's failures and warnings, one query each."""
    study_rules = {
        str(r.get("id")) for r in ((data.validation or {}).get("settings") or {}).get("rules") or []
    }
    for f in (data.validation or {}).get("failures") or []:
        text = str(f.get("rule") or "")
        letter = rule_letter(text)
        m = _STUDY_RULE.match(text)
        if m and (m["id"] in study_rules or not letter):
            rule, name = m["id"], "Study rule"
        elif letter:
            rule, name = letter, RULE_NAMES[letter]
        else:
            rule, name = "validation", "Validation"
        field = str(f.get("field") or "")
        meta = data.fields.get(field)
        value = str(f.get("value") or "")
        if value and _withheld(meta, field, data):
            text = text.replace(value, WITHHELD)
            value = WITHHELD
        record = str(f.get("record") or "")
        if record and field == data.codebook.get("record_id_field"):
            value = record
        out.add(
            rule=rule,
            record=record,
            event=str(f.get("event") or ""),
            instance=str(f.get("instance") or ""),
            field=field,
            value=value,
            message=text,
            severity=str(f.get("severity") or "error"),
            form=(meta or {}).get("form") or (field if field in {x["name"] for x in data.forms} else None),
            rule_name=name,
        )


def _withheld(meta: dict | None, name: str, data: QualityData) -> bool:
    """An identifier field's value, or a column that is not a field of the dictionary (a survey
    identifier may be an e-mail address), is never shown."""
    if meta is None:
        return (
            bool(name)
            and name not in _DESIGN_COLUMNS
            and not name.endswith("_complete")
            and name != data.codebook.get("record_id_field")
        )
    return bool(meta.get("identifier")) or name in data.identifiers_dropped


def _numbers(f: dict, series: pd.Series) -> pd.Series | None:
    """The field's values as numbers (dates as days), or None when it is neither numeric nor a date."""
    v = f.get("validation") or ""
    if f.get("type") in ("slider", "calc") or (
        f.get("type") == "text" and v.startswith(_NUMERIC_VALIDATIONS)
    ):
        return pd.to_numeric(series, errors="coerce").astype(float)
    if f.get("type") == "text" and v.startswith(_DATE_VALIDATIONS):
        dates = pd.to_datetime(series, errors="coerce")
        return (dates - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    return None


def _limit(f: dict, key: str) -> float | None:
    raw = f.get(key)
    if raw in (None, ""):
        return None
    v = f.get("validation") or ""
    if v.startswith(_DATE_VALIDATIONS):
        when = pd.to_datetime(str(raw), errors="coerce")
        return None if pd.isna(when) else (when - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1)
    try:
        return float(raw)
    except ValueError:
        return None


def _field_rows(out: _Rows, data: QualityData, lookup: _Lookup) -> list[str]:
    """Rules A, B, D, E, F and G on every field of the validated data; returns notes (logic not evaluated)."""
    notes = []
    for f in counted_fields(data):
        t = data.tables[f["form"]]
        if not len(t):
            continue
        text = lookup.table(f["form"])
        keys = text.keys()
        cols = value_columns(f)
        if f.get("type") == "checkbox":
            ticked = t[cols].astype("boolean").fillna(False).to_numpy()
            has = ticked.any(axis=1)
            codes = [str(c) for c, _ in f.get("choices") or []]
            values = _Values(
                lambda idx: [", ".join(codes[j] for j in np.flatnonzero(r)) for r in ticked[idx]]
            )
        else:
            has = t[cols[0]].notna().to_numpy()
            values = _Values(lambda idx, series=t[cols[0]], field=f: as_text(series.iloc[idx], field))
        coded = _coded_rows(data, f, text)
        shown = np.ones(len(t), dtype=bool)
        if f.get("branching") and f.get("type") != "calc":
            try:
                shown = shown_mask(data, f, lookup)
            except NotEvaluated as exc:
                notes.append(
                    f"branching logic of {f['name']} not evaluated ({exc}): its blanks are listed "
                    "under rule A and no hidden value under rule F"
                )
        blank = ~has & ~coded & shown
        out.bulk("A", keys, np.flatnonzero(blank), f, None, "blank value")
        if f.get("required"):
            out.bulk("B", keys, np.flatnonzero(blank), f, None, "required field is blank")
        if f.get("branching") and f.get("type") != "calc":
            out.bulk(
                "F",
                keys,
                np.flatnonzero(has & ~shown),
                f,
                values,
                f"a value is present where the branching logic hides the field (shown only if "
                f"{f['branching']})",
            )
        if f.get("type") in _CODED:
            allowed = {str(c) for c, _ in f.get("choices") or []}
            if f.get("type") in ("yesno", "truefalse") and not allowed:
                allowed = {"0", "1"}
            present = np.flatnonzero(has)
            bad = np.zeros(len(t), dtype=bool)
            bad[present] = ~np.isin(values.at(present).astype(str), sorted(allowed))
            out.bulk(
                "G",
                keys,
                np.flatnonzero(bad),
                f,
                values,
                f"not a code of {f['name']} (its codes are {', '.join(sorted(allowed))})",
            )
        if f.get("type") == "checkbox":
            continue
        numbers = _numbers(f, t[cols[0]])
        if numbers is None:
            continue
        x = numbers.to_numpy(dtype=float)
        lo, hi = _limit(f, "min"), _limit(f, "max")
        if lo is not None:
            out.bulk(
                "D", keys, np.flatnonzero(x < lo), f, values, f"below the validation minimum {f.get('min')}"
            )
        if hi is not None:
            out.bulk(
                "D", keys, np.flatnonzero(x > hi), f, values, f"above the validation maximum {f.get('max')}"
            )
        present = x[~np.isnan(x)]
        if len(present) >= OUTLIER_MIN_VALUES:
            q1, q3 = np.quantile(present, [0.25, 0.75])
            iqr = q3 - q1
            if iqr > 0:
                low, high = q1 - OUTLIER_IQR * iqr, q3 + OUTLIER_IQR * iqr
                out.bulk(
                    "E",
                    keys,
                    np.flatnonzero((x < low) | (x > high)),
                    f,
                    values,
                    f"outlier: outside {_shown_limit(f, low)} to {_shown_limit(f, high)} (quartiles "
                    f"∓ {OUTLIER_IQR:g} × IQR of the field's values)",
                )
    return notes


def _shown_limit(f: dict, x: float) -> str:
    if (f.get("validation") or "").startswith(_DATE_VALIDATIONS):
        return (pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(x))).strftime("%Y-%m-%d")
    return f"{x:.4g}"


def _missing_code_rows(out: _Rows, data: QualityData) -> None:
    labels = dict(data.missing_data_codes)
    m = data.missing
    for r in m.itertuples(index=False):
        code = str(r.code)
        label = labels.get(code, "not defined by the project")
        instance = "" if pd.isna(r.redcap_repeat_instance) else str(int(r.redcap_repeat_instance))
        event = "" if pd.isna(r.redcap_event_name) else str(r.redcap_event_name)
        out.add(
            rule="I",
            record=str(r.record_id),
            event=event,
            instance=instance,
            field=str(r.field),
            value=code,
            message=f"missing-data code {code} ({label})",
            severity=RULE_SEVERITY["I"],
            form=str(r.form),
        )


def _check_rows(out: _Rows, data: QualityData, lookup: _Lookup, checks: list[Check]) -> None:
    """Each study-declared check, on the rows of its field's form at its events."""
    for k, c in enumerate(checks):
        where = f"quality.checks[{k}] ({c.id})"
        try:
            node = parse(c.logic)
            _check(node, data, lookup)
        except NotEvaluated as exc:
            raise ValueError(f"{where}: the logic {c.logic!r} cannot be evaluated: {exc}") from None
        refs = [r for r in references(node) if isinstance(r, Ref)]
        name = c.field or (refs[0].field if refs else None)
        if not name or name not in data.fields:
            raise ValueError(f"{where}: field {name!r} is not a field of the validated data")
        f = data.fields[name]
        if f["form"] not in data.tables or not len(data.tables[f["form"]]):
            continue
        unknown = sorted(set(c.events) - {e["unique_name"] for e in data.events})
        if unknown:
            raise ValueError(f"{where}: events {', '.join(unknown)} are not events of the project")
        own = lookup.table(f["form"])
        keys = own.keys()
        try:
            hit = evaluate(node, Context(None, lookup, keys, own=own))
        except NotEvaluated as exc:
            raise ValueError(f"{where}: the logic {c.logic!r} cannot be evaluated: {exc}") from None
        if c.events:
            hit &= keys["event"].isin(c.events).to_numpy()
        cols = value_columns(f)
        values = as_text(data.tables[f["form"]][cols[0]], f) if len(cols) == 1 else None
        for i in np.flatnonzero(hit):
            out.add(
                rule=c.id,
                record=keys["record"].iat[i],
                event=keys["event"].iat[i],
                instance=keys["instance"].iat[i],
                field=name,
                value="" if values is None else str(values[i]),
                message=c.message,
                severity=c.severity,
                form=f["form"],
                rule_name="Study check",
            )


def _overdue_rows(out: _Rows, data: QualityData, schedule) -> list[str]:
    """Designated forms not Complete when the event's window has closed by the export date
    (``quality.schedule``); returns notes."""
    if schedule is None or not schedule.anchor_field:
        return []
    export = data.export.get("export_date")
    where = "quality.schedule"
    anchor = data.fields.get(schedule.anchor_field)
    if anchor is None or anchor["form"] not in data.tables:
        raise ValueError(
            f"{where}.anchor_field: {schedule.anchor_field!r} is not a field of the validated data"
        )
    offsets = {e["unique_name"]: e.get("day_offset") for e in data.events}
    known = set(offsets) | {CLASSIC_EVENT}
    for event in [schedule.anchor_event, *schedule.windows]:
        if event and event not in known:
            raise ValueError(f"{where}: {event!r} is not an event of the project")
    for form in schedule.forms:
        if form not in {f["name"] for f in data.forms}:
            raise ValueError(f"{where}.forms: {form!r} is not a form of the project")
    if not export:
        return ["No export date: no form is listed as overdue."]
    t = data.tables[anchor["form"]]
    dates = pd.DataFrame(
        {
            "record": t["record_id"].astype("string"),
            "event": (
                t["redcap_event_name"].astype("string") if "redcap_event_name" in t.columns else CLASSIC_EVENT
            ),
            "date": pd.to_datetime(t[anchor["columns"][0]], errors="coerce"),
        }
    ).dropna(subset=["date"])
    if schedule.anchor_event:
        dates = dates[dates["event"] == schedule.anchor_event]
    if not len(dates):
        return []
    anchor_event = schedule.anchor_event or dates["event"].iat[0]
    base = offsets.get(anchor_event)
    if base is None and data.longitudinal:
        return [f"The anchor event {anchor_event} has no day offset: no form is listed as overdue."]
    first = dates.groupby("record", sort=False)["date"].min()
    export_day = pd.Timestamp(export)
    status = data.rows.copy()
    status = status[status["redcap_repeat_instance"].isna()]
    complete = set(
        zip(
            status.loc[status["status"] == 2, "record_id"].astype(str),
            status.loc[status["status"] == 2, "redcap_event_name"].astype(str),
            status.loc[status["status"] == 2, "form"].astype(str),
        )
    )
    found = {
        (r, e, f): st
        for r, e, f, st in zip(
            status["record_id"].astype(str),
            status["redcap_event_name"].astype(str),
            status["form"].astype(str),
            status["status"],
        )
    }
    arm_of = {e["unique_name"]: e["arm"] for e in data.events}
    record_arm = (
        data.rows.drop_duplicates("record_id").set_index("record_id")["redcap_arm"].astype(int).to_dict()
        if len(data.rows)
        else {}
    )
    notes = []
    for e in data.events:
        name, offset = e["unique_name"], e.get("day_offset")
        if offset is None or (base is not None and offset <= base):
            continue
        window = int(schedule.windows.get(name, schedule.window_days))
        forms = [
            f
            for f in data.designations.get(name, [])
            if (not schedule.forms or f in schedule.forms) and (name, f) not in data.repeating
        ]
        for record, when in first.items():
            if record_arm.get(record, arm_of.get(name)) != arm_of.get(name):
                continue
            expected = when + pd.Timedelta(days=float(offset - (base or 0)))
            closes = expected + pd.Timedelta(days=window)
            late = (export_day - closes).days
            if late <= 0:
                continue
            for form in forms:
                if (record, name, form) in complete:
                    continue
                st = found.get((record, name, form))
                value = (
                    "no data"
                    if st is None or pd.isna(st)
                    else {0: "Incomplete", 1: "Unverified"}.get(int(st), "")
                )
                out.add(
                    rule=OVERDUE,
                    record=record,
                    event=name,
                    instance="",
                    field=f"{form}_complete",
                    value=value,
                    message=f"expected by {expected:%Y-%m-%d}; window closed {closes:%Y-%m-%d}, "
                    f"{late} days before the export",
                    severity="warning",
                    form=form,
                    rule_name="Overdue form",
                )
    return notes


def query_list(
    data: QualityData, checks: list[Check] | tuple = (), *, branching: bool = True, schedule=None
) -> tuple[pd.DataFrame, list[str]]:
    """Every query (columns :data:`QUERY_COLUMNS`; status and first seen left blank for
    tracking), sorted by site, record, event, instance, form, field and rule; and notes."""
    out = _Rows(data)
    _validation_rows(out, data)
    lookup = _Lookup(data)
    notes = _field_rows(out, data, lookup) if branching else []
    _missing_code_rows(out, data)
    _check_rows(out, data, lookup, list(checks))
    notes += _overdue_rows(out, data, schedule)
    frame = out.frame()
    if not len(frame):
        return frame.astype("string"), notes
    event_order = {e["unique_name"]: i for i, e in enumerate(data.events)}
    form_order = {f["name"]: i for i, f in enumerate(data.forms)}
    field_order = {name: i for i, name in enumerate(data.fields)}
    rule_order = {r: i for i, r in enumerate([*RULE_NAMES, OVERDUE])}
    site_order = {s: i for i, s in enumerate(data.dags + [NO_GROUP, PROJECT_SITE])}
    record = frame["record_id"].astype(str)
    digits = record.str.fullmatch(r"\d{1,18}")
    key = pd.DataFrame(
        {
            "site": frame["site"].map(site_order).fillna(len(site_order)),
            "alpha": (~digits).astype(int),  # record IDs: numbers in numeric order, then text
            "number": pd.to_numeric(record.where(digits), errors="coerce").fillna(0),
            "text": record,
            "event": frame["event"]
            .map(event_order)
            .fillna(-1 if not data.longitudinal else len(event_order)),
            "instance": pd.to_numeric(frame["instance"], errors="coerce").fillna(0),
            "form": frame["form"].map(form_order).fillna(len(form_order)),
            "field": frame["field"].map(field_order).fillna(len(field_order)),
            "rule": frame["rule"].map(rule_order).fillna(len(rule_order)),
            "rule_text": frame["rule"],
            "id": frame["query_id"],
        }
    )
    order = key.sort_values(list(key.columns), kind="stable").index
    frame = frame.loc[order].reset_index(drop=True)
    return frame, notes


__all__ = [
    "query_list",
    "query_id",
    "rule_letter",
    "Check",
    "checks_from_settings",
    "QUERY_COLUMNS",
    "RULE_NAMES",
    "RULE_SEVERITY",
    "SEVERITIES",
    "FOR_WHOM",
    "OUTLIER_RULE",
    "PROJECT_SITE",
    "WITHHELD",
]
