"""Pandera schemas built from the Project when the library runs: one ``DataFrameSchema`` per form.

Each schema states, for the form's tidy table: the column types (from field type and
validation), choices, ranges (validation min/max; ``today``/``now`` resolved to the export
date), required fields when the form is marked complete, uniqueness of record x event x
instance, the events the designations give the form, and where a repeat instance may
(and must) appear. :func:`schemas_yaml` writes them as Pandera YAML for a reviewer to diff.

Type checks on the text itself (a date that is not a date) happen while typing
(``tidy.py``); the schema checks the typed values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml
from pandera import extensions
from pandera.errors import SchemaErrors

from .messages import MAX_PER_RULE, Failure, fail, more_of
from .model import Field, Project, checkbox_column
from .records import DAG, EVENT, REPEAT_INSTANCE
from .tidy import ARM, RECORD_ID, FormTable


STRING = pd.StringDtype("pyarrow")  # text columns are Arrow-backed (no Python object per cell)


@extensions.register_check_method(statistics=["field", "columns", "status"], check_type="vectorized")
def required_when_complete(df, *, field, columns, status):
    """REDCap's "Required Field?": when the form is marked Complete (2), the field has a value
    (a checkbox: a ticked box)."""
    if status not in df:
        return pd.Series(True, index=df.index)
    cols = [c for c in columns if c in df]
    if not cols:
        return pd.Series(True, index=df.index)
    block = df[cols]
    filled = (
        block.fillna(False).any(axis=1)
        if all(str(t) == "boolean" for t in block.dtypes)
        else block.notna().any(axis=1)
    )
    return ~((df[status] == 2).fillna(False) & ~filled)


@extensions.register_check_method(statistics=["events"], check_type="vectorized")
def repeat_instance_where_repeating(df, *, events):
    """A repeat instance exactly on rows of events where the form repeats (``""`` in
    ``events``: every row, a classic project's repeating instrument)."""
    if REPEAT_INSTANCE not in df:
        return pd.Series(True, index=df.index)
    has = df[REPEAT_INSTANCE].notna()
    if EVENT in df:
        should = df[EVENT].isin(events).fillna(False)
    else:
        should = pd.Series("" in events, index=df.index)
    return (has == should).astype(bool)


@dataclass(frozen=True)
class CheckMeta:
    field: str
    rule: str


def _limit(value, kind: str, today: date | None):
    if value is None:
        return None
    if isinstance(value, str):  # today / now
        if today is None:  # the export date is unknown: not checked (never the run date)
            return None
        value = (
            datetime.combine(today, datetime.max.time()) if kind == "datetime" or value == "now" else today
        )
    if kind in ("date", "datetime"):
        return pd.Timestamp(value)
    if kind == "time":
        return None
    return value


def _field_columns(f: Field, project: Project, today: date, out: dict, range_checks: bool = True) -> None:
    kind = f.kind
    checks = []
    if kind == "checkbox":
        for code, _ in f.choices:
            out[checkbox_column(f.name, code)] = pa.Column("boolean", nullable=True, required=False)
        return
    if kind == "code":
        codes = [c for c, _ in f.codes]
        if f.type == "sql":
            out[f.name] = pa.Column(STRING, nullable=True, required=False)
            return
        if f.integer_codes:
            out[f.name] = pa.Column(
                "Int64", pa.Check.isin([int(c) for c in codes]), nullable=True, required=False
            )
        else:
            out[f.name] = pa.Column(STRING, pa.Check.isin(codes), nullable=True, required=False)
        return
    dtype = {
        "date": "datetime64[ns]",
        "datetime": "datetime64[ns]",
        "time": STRING,
        "integer": "Int64",
        "number": "float64",
        "text": STRING,
    }[kind]
    if range_checks:
        lo, hi = f.minimum, f.maximum
        if f.type == "slider":
            lo = 0.0 if lo is None else lo
            hi = 100.0 if hi is None else hi
        lo, hi = _limit(lo, kind, today), _limit(hi, kind, today)
        if lo is not None:
            checks.append(pa.Check.ge(int(lo) if dtype == "Int64" and float(lo).is_integer() else lo))
        if hi is not None:
            checks.append(pa.Check.le(int(hi) if dtype == "Int64" and float(hi).is_integer() else hi))
    out[f.name] = pa.Column(dtype, checks, nullable=True, required=False)


def form_schema(
    project: Project, form: str, *, today: date | None = None
) -> tuple[pa.DataFrameSchema, dict[str, CheckMeta]]:
    """The schema of one form's tidy table, and what each of its dataframe checks means."""
    cols: dict[str, pa.Column] = {RECORD_ID: pa.Column(STRING, nullable=False)}
    key = [RECORD_ID]
    meta: dict[str, CheckMeta] = {}
    checks = []
    events = project.events_of(form)
    if project.longitudinal:
        cols[EVENT] = pa.Column(STRING, pa.Check.isin(list(events)), nullable=False)
        cols[ARM] = pa.Column("Int64", nullable=False)
        key.append(EVENT)
    repeating_at = [e for e in events if project.repeats(form, e)]
    if repeating_at or project.repeating is None:
        cols[REPEAT_INSTANCE] = pa.Column("Int64", pa.Check.ge(1), nullable=True, required=bool(repeating_at))
        key.append(REPEAT_INSTANCE)
        if project.repeating is not None:
            c = pa.Check.repeat_instance_where_repeating(events=repeating_at)
            checks.append(c)
            meta[c.error] = CheckMeta(
                REPEAT_INSTANCE, "a repeat instance where the form does not repeat, or none where it does"
            )
    cols[DAG] = pa.Column(STRING, nullable=True, required=False)
    cols[f"{form}_timestamp"] = pa.Column("datetime64[ns]", nullable=True, required=False)
    status = f"{form}_complete"
    for f in project.form_fields(form):
        if f.type == "descriptive":
            continue
        _field_columns(f, project, today, cols)
        if f.required:
            c = pa.Check.required_when_complete(field=f.name, columns=list(f.export_columns), status=status)
            checks.append(c)
            meta[c.error] = CheckMeta(
                f.name,
                f"required field is blank but form {form} is marked Complete"
                + (" (no box ticked)" if f.type == "checkbox" else ""),
            )
    cols[status] = pa.Column("Int64", pa.Check.isin([0, 1, 2]), nullable=True, required=False)
    schema = pa.DataFrameSchema(
        cols,
        checks=checks,
        unique=key,
        report_duplicates="exclude_first",
        name=form,
        strict=False,
        ordered=False,
        description=f"REDCap form {form} ({project.form[form].label}) as one tidy table",
    )
    return schema, meta


def project_schemas(project: Project, *, today: date | None = None) -> dict[str, pa.DataFrameSchema]:
    return {f.name: form_schema(project, f.name, today=today)[0] for f in project.forms}


def schema_document(project: Project, form: str, *, today: date | None = None) -> dict:
    """A form's schema as Pandera's YAML reads it, the record ID under its project's own name
    (as the validated tables hold it, issue 25.8)."""
    doc = yaml.safe_load(form_schema(project, form, today=today)[0].to_yaml())
    own = project.record_id_field
    if own != RECORD_ID:
        doc["columns"] = {(own if k == RECORD_ID else k): v for k, v in (doc.get("columns") or {}).items()}
        for key in ("unique",):
            if isinstance(doc.get(key), list):
                doc[key] = [own if c == RECORD_ID else c for c in doc[key]]
        for col in doc["columns"].values():
            if isinstance(col, dict) and col.get("title") == RECORD_ID:
                col["title"] = own
    return doc


def schemas_yaml(project: Project, *, today: date | None = None) -> str:
    """Every form's schema as Pandera YAML, one mapping keyed by form, for review and diff."""
    docs = {form.name: schema_document(project, form.name, today=today) for form in project.forms}
    head = (
        f"# Pandera schemas of the tidy tables, built from {', '.join(project.sources) or 'the project'}\n"
        f"# record ID field: {project.record_id_field}; forms: {len(project.forms)}; "
        f"{'longitudinal, ' + str(len(project.events)) + ' events' if project.longitudinal else 'classic'}\n"
    )
    return head + yaml.safe_dump(docs, sort_keys=False, allow_unicode=True, width=100)


# ------------------------------------------------------------------------------ failures
_RULES = {
    "isin": "not one of the codes of {field}",
    "greater_than_or_equal_to": "below the minimum {min} (validation min of {field})",
    "less_than_or_equal_to": "above the maximum {max} (validation max of {field})",
    "not_nullable": "blank where a value is required",
    "dtype": "wrong type",
}


def _rule_for(project: Project, form: str, column: str, check: str) -> tuple[str, str]:
    """(field, rule) for a column check of a form's schema."""
    if column == EVENT and check.startswith("isin"):
        return EVENT, (
            f"form {form} has data at an event the instrument designations do not give it "
            f"(its events: {', '.join(project.events_of(form))})"
        )
    if column == f"{form}_complete" and check.startswith("isin"):
        return column, "form status is not 0, 1 or 2"
    owner = project.column_owner.get(column)
    f = owner[0] if owner else None
    name = check.split("(")[0]
    if f is not None and name == "isin":
        codes = ", ".join(c for c, _ in f.codes[:12]) + (", …" if len(f.codes) > 12 else "")
        return column, f"not a code of {f.name} (its codes are {codes})"
    if f is not None and name in ("greater_than_or_equal_to", "less_than_or_equal_to"):
        if f.type == "slider":
            lo = f.min_text or "0"
            hi = f.max_text or "100"
            return column, f"slider value outside {lo} to {hi}"
        which = "minimum" if name.startswith("greater") else "maximum"
        limit = f.min_text if which == "minimum" else f.max_text
        return column, f"{'below' if which == 'minimum' else 'above'} the validation {which} {limit}"
    if column == REPEAT_INSTANCE and name.startswith("greater"):
        return column, "the repeat instance is below 1"
    template = _RULES.get(name)
    return column, (
        template.format(field=f.name if f else column, min="", max="")
        if template
        else f"breaks the rule {check}"
    )


def schema_failures(
    project: Project,
    table: FormTable,
    file: str,
    *,
    today: date | None = None,
    exempt: dict[str, np.ndarray] | None = None,
    range_severity: str = "error",
    unevaluated: dict[str, str] | None = None,
) -> list[Failure]:
    """Validate one typed table with its schema; every failing cell as a Failure (line, record,
    event, instance, field, value as written, rule). ``exempt``: field -> lines where a blank
    is explained (a missing-data code, an unreadable cell, the field's branching logic hides
    it); ``unevaluated``: required fields whose branching logic could not be evaluated (field
    -> why): a blank there may be hidden, so it is a warning that says so."""
    unevaluated = unevaluated or {}
    schema, meta = form_schema(project, table.form, today=today)
    df = table.data
    # Column checks and uniqueness through Pandera; the dataframe checks (required when complete,
    # where a repeat instance belongs) are called directly: Pandera would list each failing row
    # once per column of the table, millions of cases when a whole column is unreadable.
    columns_only = pa.DataFrameSchema(
        schema.columns, unique=schema.unique, report_duplicates="exclude_first", name=schema.name
    )
    frames = []
    try:
        columns_only.validate(df, lazy=True, inplace=True)
    except SchemaErrors as err:
        frames.append(err.failure_cases)
    exempt = exempt or {}  # field -> lines where a blank is explained (missing-data code, unreadable cell)
    for check in schema.checks:
        passed = check(df).check_output
        bad = df.index[~passed.to_numpy(dtype=bool)]
        if len(bad) and check.error in meta and meta[check.error].field in exempt:
            bad = bad[~np.isin(bad.to_numpy(), exempt[meta[check.error].field])]
        if len(bad):
            frames.append(
                pd.DataFrame(
                    {
                        "schema_context": "DataFrameSchema",
                        "column": None,
                        "check": check.error,
                        "check_number": None,
                        "failure_case": None,
                        "index": bad,
                    }
                )
            )
    if not frames:
        return []
    cases = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    extra: list[Failure] = []
    if len(cases) > MAX_PER_RULE:
        # the same check failing on many rows: list the first MAX_PER_RULE rows, count the rest
        frame_level = (cases["schema_context"] == "DataFrameSchema").to_numpy()
        parts = []
        for level, keys in ((True, ["check"]), (False, ["column", "check"])):
            sub = cases[frame_level == level]
            if not len(sub):
                continue
            for key, group in sub.groupby([sub[k].astype(str) for k in keys], sort=False):
                rows = pd.unique(group["index"])
                if len(rows) > MAX_PER_RULE:
                    check = key[-1] if isinstance(key, tuple) else key
                    column = key[0] if not level else ""
                    if check in meta:
                        field, rule = meta[check].field, meta[check].rule
                    elif check.startswith(("multiple_fields_uniqueness", "field_uniqueness")):
                        field, rule = (
                            project.record_id_field,
                            f"a second row of form {table.form} for a record, event and instance",
                        )
                    else:
                        field, rule = _rule_for(project, table.form, column, check)
                    extra.append(
                        more_of(
                            file,
                            field,
                            rule,
                            int(len(rows) - MAX_PER_RULE),
                            "warning"
                            if field in unevaluated and rule.startswith("required field")
                            else "error",
                        )
                    )
                    group = group[group["index"].isin(rows[:MAX_PER_RULE])]
                parts.append(group)
        cases = pd.concat(parts)
    out: list[Failure] = []
    text = table.text
    pos = {line: i for i, line in enumerate(df.index)}
    rid = df[RECORD_ID].to_numpy(dtype=object)
    ev = df[EVENT].to_numpy(dtype=object) if EVENT in df else None
    inst = df[REPEAT_INSTANCE].to_numpy(dtype=object) if REPEAT_INSTANCE in df else None

    def where(line):
        i = pos[line]
        return dict(
            line=line,
            record=rid[i],
            event=ev[i] if ev is not None else "",
            instance=inst[i] if inst is not None else "",
        )

    def as_written(column, line, fallback):
        if column in text:
            return text[column][pos[line]].as_py()
        return fallback

    dup_first: dict = {}
    seen_rows: set = set()
    for row in cases.itertuples(index=False):
        check = str(row.check)
        column = row.column if isinstance(row.column, str) else ""
        idx = row.index
        if idx is None or (isinstance(idx, float) and np.isnan(idx)):
            out.append(fail(file, f"form {table.form}: {check}", field=column, value=row.failure_case))
            continue
        line = int(idx)
        if check in meta:
            m = meta[check]
            if (line, m.field) in seen_rows:
                continue
            seen_rows.add((line, m.field))
            value = as_written(m.field, line, "") if m.field == REPEAT_INSTANCE else ""
            if m.field in unevaluated and m.rule.startswith("required field"):
                out.append(
                    fail(
                        file,
                        m.rule + f" (its branching logic could not be evaluated "
                        f"({unevaluated[m.field]}), so the field may be hidden here: "
                        f"{project.field[m.field].branching})",
                        field=m.field,
                        value=value,
                        severity="warning",
                        **where(line),
                    )
                )
                continue
            out.append(fail(file, m.rule, field=m.field, value=value, **where(line)))
            continue
        if check.startswith("field_uniqueness") or check == "multiple_fields_uniqueness":
            if (line, "key") in seen_rows:
                continue
            seen_rows.add((line, "key"))
            if not dup_first:
                keys = [c for c in (RECORD_ID, EVENT, REPEAT_INSTANCE) if c in df]
                first = (
                    pd.Series(df.index, index=df.index)
                    .groupby([df[c].astype("string").fillna("") for c in keys], sort=False)
                    .transform("min")
                )
                dup_first.update(first.to_dict())
            w = where(line)
            out.append(
                fail(
                    file,
                    f"record {w['record']} has a second row of form {table.form}"
                    + (f" at event {w['event']}" if w["event"] else "")
                    + (
                        f", instance {w['instance']}"
                        if w["instance"] != ""
                        and w["instance"] is not None
                        and w["instance"] == w["instance"]
                        else ""
                    )
                    + f" (first on line {dup_first.get(line)}); REDCap keeps one per record, event "
                    "and instance",
                    field=project.record_id_field,
                    value=w["record"],
                    **w,
                )
            )
            continue
        field, rule = _rule_for(project, table.form, column, check)
        severity = (
            range_severity
            if ("greater_than" in check or "less_than" in check) and column != REPEAT_INSTANCE
            else "error"
        )
        out.append(
            fail(
                file,
                rule,
                field=field,
                value=as_written(column, line, row.failure_case),
                severity=severity,
                **where(line),
            )
        )
    return out + extra


__all__ = ["form_schema", "project_schemas", "schemas_yaml", "schema_failures"]
