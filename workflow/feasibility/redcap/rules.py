"""Cross-form rules a study declares (``validation.rules`` in the study file).

Kinds (``schemas/config.schema.yaml``, ``$defs/rule``, has the full shape)::

    - kind: record_exists            # a row of form X (at event E) for every record (when a condition holds)
      form: consent
      event: baseline_arm_1          # longitudinal projects
      when: "[screening_arm_1][eligible] = '1'"
    - kind: rows_only_when           # rows of form X (at event E) only where a condition holds
      forms: [cm_contact, adverse_event]     # or form: X
      when: "[screening_arm_1][enrolled] = '1'"
    - kind: date_order               # date A on or before date B
      earlier: {field: scr_date, event: screening_arm_1}
      later: {field: consent_date, event: baseline_arm_1}
      allow_equal: true              # false: strictly before
      min_years: 16                  # optional: B at least / at most so many whole years after A
      max_years: 100
      report_on: earlier             # optional: the side whose cell a failure names
    - kind: not_after_export         # no date after the export date
      fields: [scr_date, consent_date]   # default: every date and datetime field
    - kind: one_row_per_record_event # at most one row per record and event (repeat instances included)
      form: demographics
    - kind: required_if              # a value present when another field says so
      field: fu_return_date
      when: "[fu_returned] = '1'"

Every rule may carry ``id`` (named in each failure), ``severity`` (error | warning) and
``message`` (replaces the generated text; ``{detail}`` in it stands for the generated text).
A side of ``date_order`` names an ``event`` to take that field's value at that event of the
same record (the first instance); ``when`` keeps only the side's rows where a condition
holds, and ``pick: earliest | latest | first`` takes one value per record (over every row
kept, or those of ``event``): "no data dated after a withdrawal that allows no further
data" is ``later: {field: sc_date, when: "[sc_further_data] = '0'", pick: earliest}``.
Sides that are not per record compare on the same row (one form), or on the same record
and event (two forms). Conditions use the branching-logic syntax; in a longitudinal
project a record-level condition names its events: ``[screening_arm_1][eligible] = '1'``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from .logic import Context, NotEvaluated, Ref, check_references, evaluate, parse, references
from .logic.data import LazyText, Lookup, table_keys
from .messages import Failure, fail
from .model import Project
from .records import EVENT, REPEAT_INSTANCE
from .tidy import RECORD_ID, FormTable

KINDS = (
    "record_exists",
    "rows_only_when",
    "date_order",
    "not_after_export",
    "one_row_per_record_event",
    "required_if",
)
PICKS = ("first", "earliest", "latest")


@dataclass
class RuleResult:
    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class RuleError(ValueError):
    """A rule that does not fit the project (unknown field, form, event, bad condition)."""


def _rule_id(rule: dict, i: int) -> str:
    return str(rule.get("id") or f"rule {i + 1} ({rule.get('kind', '?')})")


def check_rules(project: Project, rules: list[dict], source: str = "validation.rules") -> list[Failure]:
    """Each rule checked against the project before any data are: unknown kinds, fields,
    forms and events, and conditions that cannot be evaluated, are failures of the settings."""
    out: list[Failure] = []
    for i, rule in enumerate(rules or []):
        rid = _rule_id(rule, i)
        try:
            _check_rule(project, rule)
        except RuleError as exc:
            out.append(fail(source, f"{rid}: {exc}"))
    return out


def _need_field(project: Project, name, kinds=None) -> None:
    if not name or name not in project.field:
        raise RuleError(f"{name!r} is not a field of the project")
    if kinds and project.field[name].kind not in kinds:
        raise RuleError(f"{name} is a {project.field[name].kind} field, not a {' or '.join(kinds)} field")


def _need_event(project: Project, event) -> None:
    if event is None:
        return
    if not project.longitudinal:
        raise RuleError(f"event {event!r} given but the project is classic (no events)")
    if event not in project.event:
        raise RuleError(f"{event!r} is not an event of the project")


def _condition(project: Project, text):
    if text is None:
        return None
    try:
        node = parse(str(text))
        check_references(node, project)
    except NotEvaluated as exc:
        raise RuleError(f"condition {text!r} cannot be evaluated: {exc}") from None
    return node


def _check_rule(project: Project, rule: dict) -> None:
    kind = rule.get("kind")
    if kind not in KINDS:
        raise RuleError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if rule.get("severity", "error") not in ("error", "warning"):
        raise RuleError("severity must be error or warning")
    if kind == "record_exists":
        if rule.get("form") not in project.form:
            raise RuleError(f"{rule.get('form')!r} is not a form of the project")
        _need_event(project, rule.get("event"))
        if rule.get("event") and rule["form"] not in project.forms_of(rule["event"]):
            raise RuleError(f"form {rule['form']} is not designated for event {rule['event']}")
        _condition(project, rule.get("when"))
    elif kind == "rows_only_when":
        forms = _forms_of(rule)
        if not forms:
            raise RuleError("rows_only_when needs 'form' or 'forms'")
        for form in forms:
            if form not in project.form:
                raise RuleError(f"{form!r} is not a form of the project")
            if rule.get("event") and form not in project.forms_of(rule["event"]):
                raise RuleError(f"form {form} is not designated for event {rule['event']}")
        _need_event(project, rule.get("event"))
        if rule.get("when") is None:
            raise RuleError("rows_only_when needs 'when'")
        _condition(project, rule.get("when"))
    elif kind == "date_order":
        for side in ("earlier", "later"):
            s = rule.get(side)
            if not isinstance(s, dict):
                raise RuleError(f"'{side}' must be {{field: F, event: E}}")
            _need_field(project, s.get("field"), ("date", "datetime"))
            _need_event(project, s.get("event"))
            if s.get("pick") is not None and s["pick"] not in PICKS:
                raise RuleError(f"{side}.pick must be one of {', '.join(PICKS)}")
            if s.get("when") is not None:
                _condition(project, s["when"])
        for key in ("min_years", "max_years"):
            if rule.get(key) is not None and (not isinstance(rule[key], (int, float)) or rule[key] < 0):
                raise RuleError(f"{key} must be a number of years, 0 or more")
        if rule.get("report_on") not in (None, "earlier", "later"):
            raise RuleError("report_on must be earlier or later")
    elif kind == "not_after_export":
        for name in rule.get("fields") or []:
            _need_field(project, name, ("date", "datetime"))
    elif kind == "one_row_per_record_event":
        if rule.get("form") not in project.form:
            raise RuleError(f"{rule.get('form')!r} is not a form of the project")
    elif kind == "required_if":
        _need_field(project, rule.get("field"))
        if rule.get("when") is None:
            raise RuleError("required_if needs 'when'")
        _condition(project, rule.get("when"))


# ------------------------------------------------------------------------------- applying
@dataclass
class _Data:
    project: Project
    tables: dict[str, FormTable]
    file: str
    lookup: Lookup
    first_lines: pd.Series  # record -> first line in the export

    def frame(self, form: str) -> pd.DataFrame:
        return self.tables[form].data


def _where(df: pd.DataFrame, i: int) -> dict:
    return dict(
        line=int(df.index[i]),
        record=df[RECORD_ID].iat[i],
        event=df[EVENT].iat[i] if EVENT in df else "",
        instance=df[REPEAT_INSTANCE].iat[i] if REPEAT_INSTANCE in df else "",
    )


def _fmt(value) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    ts = pd.Timestamp(value)
    return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M:%S")


def apply_rules(
    project: Project,
    tables: dict[str, FormTable],
    rules: list[dict],
    file: str,
    *,
    export_date: date,
    first_lines: pd.Series,
    lookup: Lookup | None = None,
) -> RuleResult:
    """Every declared rule applied to the tidy tables (rules already checked with :func:`check_rules`)."""
    data = _Data(project, tables, file, lookup or Lookup(project, tables), first_lines)
    result = RuleResult()
    for i, rule in enumerate(rules or []):
        rid = _rule_id(rule, i)
        severity = rule.get("severity", "error")
        kind = rule["kind"]
        found = {
            "record_exists": _record_exists,
            "rows_only_when": _rows_only_when,
            "date_order": _date_order,
            "not_after_export": _not_after_export,
            "one_row_per_record_event": _one_row,
            "required_if": _required_if,
        }[kind](data, rule, rid, severity, export_date)
        result.failures += found
    return result


def _holds(data: _Data, node, table: FormTable) -> np.ndarray:
    """The condition for each row of ``table``. A condition that names the event of every
    field it reads is a property of the record: evaluated once per record, then spread."""
    p = data.project
    keys = table_keys(p, table)
    refs = list(references(node))
    if p.longitudinal and refs and all(isinstance(r, Ref) and r.event is not None for r in refs):
        records = pd.unique(keys["record"])
        per_record = pd.DataFrame(
            {
                "record": records,
                "event": np.full(len(records), "", dtype=object),
                "instance": np.full(len(records), "", dtype=object),
            }
        )
        values = evaluate(node, Context(p, data.lookup, per_record))
        return pd.Series(values, index=records).reindex(keys["record"]).to_numpy(dtype=bool)
    return evaluate(node, Context(p, data.lookup, keys, own=LazyText(table)))


def _label(rule: dict, rid: str, text: str) -> str:
    """The failure's rule text: the rule's own message (``{detail}`` in it replaced by the
    generated text), else the generated text."""
    if rule.get("message"):
        return f"{rid}: {str(rule['message']).replace('{detail}', text)}"
    return f"{rid}: {text}"


def _forms_of(rule: dict) -> list[str]:
    forms = rule.get("forms") or ([rule["form"]] if rule.get("form") else [])
    return [forms] if isinstance(forms, str) else list(forms)


def _rows_only_when(data: _Data, rule, rid, severity, export_date) -> list[Failure]:
    p = data.project
    node = _condition(p, rule["when"])
    event = rule.get("event")
    out = []
    for form in _forms_of(rule):
        table = data.tables[form]
        df = table.data
        if not len(df):
            continue
        keys = table_keys(p, table)
        allowed = _holds(data, node, table)
        at = (keys["event"].to_numpy() == event) if event is not None else np.ones(len(df), dtype=bool)
        for i in np.flatnonzero(at & ~allowed):
            w = _where(df, i)
            text = f"a row of form {form} where none is expected: {rule['when']} does not hold"
            out.append(
                fail(
                    data.file,
                    _label(rule, rid, text),
                    field=p.record_id_field,
                    value=w["record"],
                    severity=severity,
                    **w,
                )
            )
    return out


def _record_exists(data: _Data, rule, rid, severity, export_date) -> list[Failure]:
    p = data.project
    form, event = rule["form"], rule.get("event")
    records = data.first_lines
    keys = pd.DataFrame(
        {
            "record": records.index.to_numpy(dtype=object),
            "event": np.full(len(records), event or "", dtype=object),
            "instance": np.full(len(records), "", dtype=object),
        }
    )
    wanted = np.ones(len(keys), dtype=bool)
    if rule.get("when") is not None:
        node = _condition(p, rule["when"])
        wanted = evaluate(node, Context(p, data.lookup, keys))
    df = data.frame(form)
    have = df[RECORD_ID]
    if event is not None and EVENT in df:
        have = have[df[EVENT] == event]
    present = keys["record"].isin(set(have.astype(object))).to_numpy()
    out = []
    for i in np.flatnonzero(wanted & ~present):
        rec = keys["record"].iat[i]
        cond = f" (as {rule['when']})" if rule.get("when") else ""
        out.append(
            fail(
                data.file,
                _label(
                    rule,
                    rid,
                    f"record has no row of form {form}" + (f" at event {event}" if event else "") + cond,
                ),
                line=int(records.iat[i]),
                record=rec,
                event=event or "",
                field=form,
                severity=severity,
            )
        )
    return out


def _side_values(data: _Data, side: dict) -> tuple[pd.DataFrame, bool]:
    """(frame of record, event, instance, line, value) for one side; whether it is per record.

    ``when`` keeps the rows where a condition holds; ``event`` or ``pick`` make the side
    one value per record (``first``: the lowest instance, the default; ``earliest`` /
    ``latest``: the earliest / latest date among the rows kept)."""
    p = data.project
    f = p.field[side["field"]]
    table = data.tables[f.form]
    df = table.data
    out = pd.DataFrame(
        {
            "record": df[RECORD_ID].astype(object).to_numpy(),
            "event": (df[EVENT].astype(object).to_numpy() if EVENT in df else ""),
            "instance": (df[REPEAT_INSTANCE].to_numpy(dtype=object) if REPEAT_INSTANCE in df else None),
            "line": df.index.to_numpy(),
            "value": pd.to_datetime(df[f.name]).to_numpy() if f.name in df else pd.NaT,
        }
    )
    if side.get("when") is not None and len(df):
        keep = _holds(data, _condition(p, side["when"]), table)
        out = out[keep]
    if side.get("event") is not None:
        out = out[out["event"] == side["event"]]
    pick = side.get("pick") or ("first" if side.get("event") is not None else None)
    if pick is None:
        return out, False
    if pick == "first":
        order = pd.to_numeric(out["instance"], errors="coerce").fillna(0).to_numpy()
        out = out.assign(_o=order).sort_values("_o", kind="stable")
    else:
        out = (
            out[out["value"].notna()]
            .assign(_o=out["value"])
            .sort_values("_o", kind="stable", ascending=pick == "earliest")
        )
    return out.drop_duplicates("record").drop(columns="_o"), True


def _side_words(side: dict, field: str, value) -> str:
    """``sc_date 2018-09-20 at intervention_arm_1``, ``the earliest sc_date 2018-09-20 where ...``."""
    words = f"{field} {_fmt(value)}" + (f" at {side['event']}" if side.get("event") else "")
    if side.get("pick") in ("earliest", "latest"):
        words = f"the {side['pick']} {words}"
    return words + (f" (where {side['when']})" if side.get("when") else "")


def _years(earlier: pd.Series, later: pd.Series) -> pd.Series:
    """Completed years from ``earlier`` to ``later`` (negative when ``later`` comes first)."""
    from .identifiers import whole_years

    forward = whole_years(earlier, later)
    backward = -whole_years(later, earlier)
    return forward.where(later >= earlier, backward)


def _date_order(data: _Data, rule, rid, severity, export_date) -> list[Failure]:
    p = data.project
    e_side, l_side = rule["earlier"], rule["later"]
    strict = rule.get("allow_equal", True) is False
    early, e_rec = _side_values(data, e_side)
    late, l_rec = _side_values(data, l_side)
    ef, lf = p.field[e_side["field"]], p.field[l_side["field"]]
    if not e_rec and not l_rec and ef.form == lf.form:
        pairs = early.join(late[["value"]], rsuffix="_late")
        pairs = pairs.rename(columns={"value": "value_early", "line": "line_late"})
        pairs["line_early"] = pairs["line_late"]
        report_late = True
    else:
        on = ["record"]
        if not e_rec and not l_rec and p.longitudinal:
            on.append("event")
        pairs = late.merge(early, on=on, how="inner", suffixes=("_late", "_early"))
        report_late = not l_rec or e_rec
    if rule.get("report_on"):
        report_late = rule["report_on"] == "later"
    for key in ("event", "instance"):
        if key not in pairs:
            pairs[key] = pairs[f"{key}_late" if report_late else f"{key}_early"]
    a, b = pairs["value_early"], pairs["value_late"]
    both = (a.notna() & b.notna()).to_numpy()
    order_bad = both & ((b <= a) if strict else (b < a)).to_numpy()
    low, high = rule.get("min_years"), rule.get("max_years")
    years = _years(a, b) if low is not None or high is not None else None
    span_bad = np.zeros(len(pairs), dtype=bool)
    if years is not None:
        if low is not None:
            span_bad |= (both & (years < low).fillna(False)).to_numpy()
        if high is not None:
            span_bad |= (both & (years > high).fillna(False)).to_numpy()
        span_bad &= ~order_bad
    out = []
    word = "before" if not strict else "on or before"
    span = (
        ""
        if years is None
        else f"{low:g} to {high:g}"
        if low is not None and high is not None
        else f"at least {low:g}"
        if low is not None
        else f"at most {high:g}"
    )
    for i in np.flatnonzero(order_bad | span_bad):
        row = pairs.iloc[i]
        if report_late:
            line, fld, value = row["line_late"], lf.name, _fmt(row["value_late"])
            other = _side_words(e_side, ef.name, row["value_early"]) + (
                f" (line {int(row['line_early'])})" if row["line_early"] != row["line_late"] else ""
            )
            if order_bad[i]:
                text = f"{lf.name} is {word} {other}; it must be {'after' if strict else 'on or after'} it"
            else:
                text = (
                    f"{lf.name} is {int(years.iat[i])} years after {other}; it must be {span} years after it"
                )
        else:
            line, fld, value = row["line_early"], ef.name, _fmt(row["value_early"])
            other = _side_words(l_side, lf.name, row["value_late"]) + (
                f" (line {int(row['line_late'])})" if row["line_early"] != row["line_late"] else ""
            )
            if order_bad[i]:
                text = f"{ef.name} is after {other}; it must be {'before' if strict else 'on or before'} it"
            else:
                text = (
                    f"{ef.name} is {int(years.iat[i])} years before {other}; it must be {span} years "
                    "before it"
                )
        instance = row.get("instance", "")
        out.append(
            fail(
                data.file,
                _label(rule, rid, text),
                line=line,
                record=row["record"],
                event=row.get("event", "") if p.longitudinal else "",
                instance=instance if instance is not None else "",
                field=fld,
                value=value,
                severity=severity,
            )
        )
    return out


def _not_after_export(data: _Data, rule, rid, severity, export_date) -> list[Failure]:
    if export_date is None:  # unknown: not checked (validation notes it), never against the run date
        return []
    p = data.project
    names = rule.get("fields") or [f.name for f in p.fields if f.kind in ("date", "datetime")]
    limit = pd.Timestamp(datetime.combine(export_date, time.max))
    out = []
    for name in names:
        f = p.field[name]
        df = data.frame(f.form)
        if name not in df:
            continue
        values = df[name]
        bad = np.flatnonzero((values > limit).fillna(False).to_numpy())
        for i in bad:
            out.append(
                fail(
                    data.file,
                    _label(rule, rid, f"date is after the export date {export_date.isoformat()}"),
                    field=name,
                    value=_fmt(values.iat[i]),
                    severity=severity,
                    **_where(df, i),
                )
            )
    return out


def _one_row(data: _Data, rule, rid, severity, export_date) -> list[Failure]:
    df = data.frame(rule["form"])
    keys = [c for c in (RECORD_ID, EVENT) if c in df]
    dup = df.duplicated(keys, keep="first").to_numpy()
    first = (
        pd.Series(df.index, index=df.index)
        .groupby([df[c].astype(object) for c in keys], sort=False)
        .transform("min")
        .to_numpy()
    )
    out = []
    for i in np.flatnonzero(dup):
        w = _where(df, i)
        out.append(
            fail(
                data.file,
                _label(
                    rule,
                    rid,
                    f"a second row of form {rule['form']} for this record"
                    + (" and event" if EVENT in df else "")
                    + f" (first on line {int(first[i])}); one is expected",
                ),
                field=data.project.record_id_field,
                value=w["record"],
                severity=severity,
                **w,
            )
        )
    return out


def _required_if(data: _Data, rule, rid, severity, export_date) -> list[Failure]:
    p = data.project
    f = p.field[rule["field"]]
    table = data.tables[f.form]
    df = table.data
    if not len(df):
        return []
    wanted = _holds(data, _condition(p, rule["when"]), table)
    cols = [c for c in f.export_columns if c in df]
    if not cols:
        return []
    if f.type == "checkbox":
        blank = ~df[cols].fillna(False).any(axis=1).to_numpy()
    else:
        blank = df[cols[0]].isna().to_numpy()
    missing = table.missing
    coded = set(missing.loc[missing["field"] == f.name, "line"]) if len(missing) else set()
    out = []
    for i in np.flatnonzero(wanted & blank):
        if int(df.index[i]) in coded:
            continue
        out.append(
            fail(
                data.file,
                _label(rule, rid, f"{f.name} is blank but {rule['when']}"),
                field=f.name,
                severity=severity,
                **_where(df, i),
            )
        )
    return out


__all__ = ["KINDS", "PICKS", "check_rules", "apply_rules", "RuleResult"]
