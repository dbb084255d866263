"""One tidy table per instrument, as REDCapTidieR builds them, typed from the dictionary.

The export has one row per record x event x repeat instance; a row holds values only for
the forms of its event (and, on a repeating instrument's row, only that instrument). A
form's table has a row for each export row where the form has data: a non-blank field, a
ticked checkbox, a survey timestamp, or a complete status of 1 or 2 (REDCap writes 0 for
unticked boxes and for forms never started, so those do not count).

Each table is indexed by the physical line of its export row. Typing is vectorised with
Arrow compute kernels; each cell that cannot be read is a failure naming its line. A
missing-data code is never a value: it becomes NA and one row of the missingness table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .messages import MAX_PER_RULE, Failure, fail, more_of
from .model import Field, Project, checkbox_column
from .records import DAG, EVENT, REPEAT_INSTANCE, REPEAT_INSTRUMENT, SURVEY_ID, Records

RECORD_ID = "record_id"
ARM = "redcap_arm"
NOT_COMPLETED = "[not completed]"
CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
STRING = pd.StringDtype("pyarrow")
MISSING_COLUMNS = ["record_id", "redcap_event_name", "redcap_repeat_instance", "form", "field", "code"]
# What the typed tables can hold: whole numbers of at most 18 digits (64-bit integers hold
# 9.2 x 10^18), dates and times within pandas' nanosecond timestamps (1677-09-22 to
# 2262-04-11; whole years 1678 to 2261 are said). Beyond, a value is a failure at its cell.
MAX_DIGITS = 18
FIRST_DAY, LAST_DAY = "1678-01-01", "2261-12-31"
DIGITS = f"more than {MAX_DIGITS} digits (a 64-bit integer holds up to about 9.2 x 10^18)"
TOO_LONG = f"whole number too large: {DIGITS}"
OUT_OF_YEARS = "date outside the years 1678 to 2261 (the range a date can have here)"


@dataclass
class FormTable:
    """A form's rows: typed columns indexed by export line; and the text as written."""

    form: str
    data: pd.DataFrame
    text: dict[str, pa.Array]  # column -> text cells as written (trimmed), for messages and logic
    rows: np.ndarray  # positions in the export
    missing: pd.DataFrame  # missing-data codes found (MISSING_COLUMNS + line)
    failures: list[Failure] = field(default_factory=list)
    unreadable: dict[str, np.ndarray] = field(default_factory=dict)  # field -> lines of unreadable cells


def _np_text(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)


def _blank(arr: pa.Array) -> np.ndarray:
    return pc.equal(pc.utf8_trim_whitespace(arr), "").to_numpy(zero_copy_only=False)


@dataclass
class RowKeys:
    """Per export row: record, event, repeat instrument and instance, and which rows are usable."""

    record: np.ndarray
    event: np.ndarray
    instrument: np.ndarray
    instance: np.ndarray  # text
    usable: np.ndarray  # bool
    failures: list[Failure]


def row_keys(records: Records) -> RowKeys:
    """The keys of every export row, checked: a record ID, a known event, a known repeat
    instrument, a positive whole-number instance where REDCap writes one."""
    p = records.project
    n = len(records)
    name = records.file
    lines = records.lines
    record = _np_text(pc.utf8_trim_whitespace(records.column(p.record_id_field)))
    empty = np.full(n, "", dtype=object)
    event = _np_text(pc.utf8_trim_whitespace(records.column(EVENT))) if records.has(EVENT) else empty
    instrument = (
        _np_text(pc.utf8_trim_whitespace(records.column(REPEAT_INSTRUMENT)))
        if records.has(REPEAT_INSTRUMENT)
        else empty
    )
    instance = (
        _np_text(pc.utf8_trim_whitespace(records.column(REPEAT_INSTANCE)))
        if records.has(REPEAT_INSTANCE)
        else empty
    )
    usable = np.ones(n, dtype=bool)
    failures: list[Failure] = []

    def flag(mask, column, values, rule):
        idx = np.flatnonzero(mask & usable)
        if idx.size > MAX_PER_RULE:
            failures.append(more_of(name, column, rule, int(idx.size - MAX_PER_RULE)))
        for i in idx[:MAX_PER_RULE]:
            failures.append(
                fail(
                    name,
                    rule,
                    line=lines[i],
                    record=record[i],
                    event=event[i],
                    instance=instance[i],
                    field=column,
                    value=values[i],
                )
            )
        usable[mask] = False

    raw_record = records.column(p.record_id_field)
    flag(record == "", p.record_id_field, record, "the record ID is blank")
    spaced = pc.not_equal(raw_record, pc.utf8_trim_whitespace(raw_record)).to_numpy(zero_copy_only=False)
    if spaced.any():
        flag(
            spaced,
            p.record_id_field,
            _np_text(raw_record),
            "the record ID has spaces or line breaks around it (REDCap's record names have none)",
        )
    controls = pc.match_substring_regex(raw_record, CONTROL).to_numpy(zero_copy_only=False)
    if controls.any():
        flag(controls, p.record_id_field, _np_text(raw_record), "the record ID contains control characters")
    if p.longitudinal and records.has(EVENT):
        known = np.isin(event, list(p.event))
        flag(event == "", EVENT, event, "the event name is blank")
        flag(
            ~known & (event != ""),
            EVENT,
            event,
            "not an event of this project (see the instrument designations)",
        )
    if records.has(REPEAT_INSTRUMENT):
        known = np.isin(instrument, list(p.form)) | (instrument == "")
        flag(~known, REPEAT_INSTRUMENT, instrument, "the repeat instrument is not a form of this project")
        bad_num = (instance != "") & ~pc.match_substring_regex(
            pa.array(instance, type=pa.string()), r"^[1-9]\d*$"
        ).to_numpy(zero_copy_only=False)
        flag(bad_num, REPEAT_INSTANCE, instance, "the repeat instance is not a whole number from 1")
        flag(
            _too_long(pa.array(instance, type=pa.string())),
            REPEAT_INSTANCE,
            instance,
            f"the repeat instance is too large: {DIGITS}",
        )
        flag(
            (instrument != "") & (instance == ""),
            REPEAT_INSTANCE,
            instance,
            "a repeating instrument's row has no repeat instance",
        )
        rep = p.repeating
        if rep is not None:
            ev = event if p.longitudinal else np.full(n, "", dtype=object)
            pairs = (
                _pair_in(ev, instrument, rep.instruments)
                if (instrument != "").any()
                else np.zeros(n, dtype=bool)
            )
            flag(
                (instrument != "") & ~pairs,
                REPEAT_INSTRUMENT,
                instrument,
                "repeat columns on a form that does not repeat at this event (the project's repeating "
                "set-up does not include it)",
            )
            rep_event = np.isin(ev, list(rep.events)) if rep.events else np.zeros(n, dtype=bool)
            flag(
                (instrument == "") & (instance != "") & ~rep_event,
                REPEAT_INSTANCE,
                instance,
                "a repeat instance on a row whose event does not repeat",
            )
            flag(
                (instrument == "") & (instance == "") & rep_event,
                REPEAT_INSTANCE,
                instance,
                "a row of a repeating event has no repeat instance",
            )
    return RowKeys(record, event, instrument, instance, usable, failures)


def _present(records: Records, project: Project, form: str) -> np.ndarray:
    """Rows where the form has data."""
    n = len(records)
    present = np.zeros(n, dtype=bool)
    for fld in project.form_fields(form):
        if fld.type == "descriptive":
            continue
        if fld.type == "checkbox":
            for code in [c for c, _ in fld.choices] + [c for c, _ in project.missing_data_codes]:
                col = checkbox_column(fld.name, code)
                if records.has(col) and records.columns[col].field == fld.name:
                    present |= pc.equal(pc.utf8_trim_whitespace(records.column(col)), "1").to_numpy(
                        zero_copy_only=False
                    )
        elif records.has(fld.name):
            present |= ~_blank(records.column(fld.name))
    status = f"{form}_complete"
    if records.has(status):
        present |= pc.is_in(
            pc.utf8_trim_whitespace(records.column(status)), value_set=pa.array(["1", "2"])
        ).to_numpy(zero_copy_only=False)
    stamp = f"{form}_timestamp"
    if records.has(stamp):
        s = pc.utf8_trim_whitespace(records.column(stamp))
        present |= (pc.and_(pc.not_equal(s, ""), pc.not_equal(s, NOT_COMPLETED))).to_numpy(
            zero_copy_only=False
        )
    return present


def form_rows(records: Records, keys: RowKeys, form: str) -> tuple[np.ndarray, list[Failure]]:
    """Export rows that belong to ``form``; failures for its values on rows where REDCap
    would never put them (another instrument's repeat row, a non-repeat row of a
    repeating instrument)."""
    p = records.project
    present = _present(records, p, form) & keys.usable
    failures: list[Failure] = []
    ev = keys.event if p.longitudinal else np.full(len(records), "", dtype=object)
    events = [e for e, f in (p.repeating.instruments if p.repeating is not None else ()) if f == form]
    repeats_as_instrument = np.isin(ev, events) if events else np.zeros(len(records), dtype=bool)
    other_repeat_row = (keys.instrument != "") & (keys.instrument != form)
    own_repeat_row = keys.instrument == form
    wrong = present & (other_repeat_row | (~own_repeat_row & repeats_as_instrument))
    first_col = _first_value_column(records, p, form)
    for i in np.flatnonzero(wrong)[: MAX_PER_RULE * 2]:  # capped per rule with the rest in validate
        col, value = first_col(i)
        if other_repeat_row[i]:
            rule = (
                f"form {form} has a value on a repeat row of instrument {keys.instrument[i]} (REDCap writes only "
                "that instrument's values there)"
            )
        else:
            rule = (
                f"form {form} repeats at this event, but this row is not one of its repeat rows "
                f"({REPEAT_INSTRUMENT} is blank)"
            )
        failures.append(
            fail(
                records.file,
                rule,
                line=records.lines[i],
                record=keys.record[i],
                event=keys.event[i],
                instance=keys.instance[i],
                field=col,
                value=value,
            )
        )
    return np.flatnonzero(present & ~wrong), failures


def _first_value_column(records: Records, project: Project, form: str):
    cols = [c for f in project.form_fields(form) for c in f.export_columns if records.has(c)]

    def first(i: int) -> tuple[str, str]:
        for c in cols:
            v = records.column(c)[i].as_py()
            if (
                v
                and v.strip()
                and not (c in records.columns and records.columns[c].kind == "checkbox" and v == "0")
            ):
                return c, v
        return f"{form}_complete", ""

    return first


# ------------------------------------------------------------------------------------------ typing
@dataclass
class _Typer:
    records: Records
    keys: RowKeys
    form: str
    rows: np.ndarray
    failures: list[Failure] = field(default_factory=list)
    missing: list[tuple] = field(default_factory=list)
    unreadable: dict[str, list] = field(default_factory=dict)

    def cells(self, column: str) -> pa.Array:
        return pc.utf8_trim_whitespace(self.records.column(column).take(pa.array(self.rows)))

    def raw(self, column: str) -> pa.Array:
        return self.records.column(column).take(pa.array(self.rows))

    def fail_mask(
        self, mask: np.ndarray, column: str, raw: pa.Array, rule: str, severity: str = "error"
    ) -> None:
        idx = np.flatnonzero(mask)
        if not idx.size:
            return
        owner = self.records.project.column_owner.get(column)
        self.unreadable.setdefault(owner[0].name if owner else column, []).append(
            self.records.lines[self.rows[idx]]
        )
        if idx.size > MAX_PER_RULE:
            self.failures.append(
                more_of(self.records.file, column, rule, int(idx.size - MAX_PER_RULE), severity)
            )
            idx = idx[:MAX_PER_RULE]
        values = raw.take(pa.array(idx)).to_pylist()
        for j, v in zip(idx, values):
            r = self.rows[j]
            self.failures.append(
                fail(
                    self.records.file,
                    rule,
                    line=self.records.lines[r],
                    record=self.keys.record[r],
                    event=self.keys.event[r],
                    instance=self.keys.instance[r],
                    field=column,
                    value=v,
                    severity=severity,
                )
            )


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    return pc.match_substring_regex(arr, f"^(?:{pattern})$").to_numpy(zero_copy_only=False)


def _too_long(s: pa.Array) -> np.ndarray:
    """Whole numbers of more than MAX_DIGITS digits (sign and leading zeros aside)."""
    digits = pc.replace_substring_regex(s, r"^[-+]?0*", "")
    return pc.and_(
        pc.match_substring_regex(s, r"^[-+]?\d+$"), pc.greater(pc.utf8_length(digits), MAX_DIGITS)
    ).to_numpy(zero_copy_only=False)


def _to_datetime(arr: pa.Array, formats: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """datetime64[ns] values, a mask of cells no format could read (invalid calendar dates
    too) and a mask of dates outside the years 1678 to 2261 (left NaT)."""
    out = None
    for fmt in formats:
        parsed = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
        # Arrow rolls an impossible day over (2023-02-29 -> 03-01): keep only exact round trips
        same = pc.equal(pc.strftime(parsed, format=fmt), arr)
        parsed = pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, parsed.type))
        out = parsed if out is None else pc.coalesce(out, parsed)
    first = pa.scalar(np.datetime64(FIRST_DAY, "s"), out.type)
    after = pa.scalar(np.datetime64(LAST_DAY, "s") + np.timedelta64(1, "D"), out.type)
    inside = pc.and_(pc.greater_equal(out, first), pc.less(out, after))
    beyond = pc.invert(pc.fill_null(inside, True)).to_numpy(zero_copy_only=False)
    out = pc.if_else(pc.fill_null(inside, False), out, pa.scalar(None, out.type))
    values = out.cast(pa.timestamp("ns")).to_numpy(zero_copy_only=False)
    return values.astype("datetime64[ns]"), pc.is_null(out).to_numpy(zero_copy_only=False) & ~beyond, beyond


def _codes_text(fld: Field) -> str:
    codes = [c for c, _ in fld.codes]
    return ", ".join(codes[:12]) + (", …" if len(codes) > 12 else "")


def type_form(
    records: Records, keys: RowKeys, form: str, rows: np.ndarray, *, export_date: date | None = None
) -> FormTable:
    """The typed table of one form (see docs/design.md, "Validated data")."""
    p = records.project
    t = _Typer(records, keys, form, rows)
    n = len(rows)
    line_index = pd.Index(records.lines[rows], name="line")
    cols: dict[str, object] = {}
    text: dict[str, np.ndarray] = {}
    rec = keys.record[rows]
    cols[RECORD_ID] = pd.array(rec, dtype=STRING)
    text[RECORD_ID] = pa.array(rec, type=pa.string())
    if p.longitudinal:
        ev = keys.event[rows]
        cols[EVENT] = pd.array(ev, dtype=STRING)
        text[EVENT] = pa.array(ev, type=pa.string())
        arm_of = {e.unique_name: e.arm for e in p.events}
        cols[ARM] = pd.Series(ev).map(arm_of).astype("Int64").array
    if p.repeating_form(form) or (keys.instance[rows] != "").any():
        inst = pa.array(keys.instance[rows], type=pa.string())
        cols[REPEAT_INSTANCE] = _ints(inst, pc.not_equal(inst, "").to_numpy(zero_copy_only=False))
        text[REPEAT_INSTANCE] = inst
    if records.has(DAG):
        dag = t.cells(DAG)
        cols[DAG] = _strings(dag, pc.equal(dag, "").to_numpy(zero_copy_only=False))
    if records.has(SURVEY_ID):
        text[SURVEY_ID] = t.cells(SURVEY_ID)
    stamp = f"{form}_timestamp"
    if records.has(stamp):
        s = t.cells(stamp)
        blank = pc.or_(pc.equal(s, ""), pc.equal(s, NOT_COMPLETED)).to_numpy(zero_copy_only=False)
        values, unread, beyond = _to_datetime(s, ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"])
        t.fail_mask(
            unread & ~blank,
            stamp,
            t.raw(stamp),
            "survey timestamp is not 'YYYY-MM-DD HH:MM:SS' or '[not completed]'",
        )
        t.fail_mask(beyond & ~blank, stamp, t.raw(stamp), f"survey timestamp: {OUT_OF_YEARS}")
        values[blank | unread | beyond] = np.datetime64("NaT")
        cols[stamp] = values
        text[stamp] = s
    codes = p.missing_codes
    for fld in p.form_fields(form):
        if fld.type == "descriptive":
            continue
        if fld.type == "checkbox":
            _checkbox(t, fld, cols, text, codes)
            continue
        if not records.has(fld.name):
            continue
        s = t.cells(fld.name)
        raw = t.raw(fld.name)
        text[fld.name] = s
        s = _drop_missing_codes(t, fld, s, raw, codes)
        cols[fld.name] = _typed(t, fld, s, raw, n)
    status = f"{form}_complete"
    if records.has(status):
        s = t.cells(status)
        raw = t.raw(status)
        text[status] = s
        blank = pc.equal(s, "").to_numpy(zero_copy_only=False)
        ok = _match(s, r"[0-2]")
        t.fail_mask(
            ~blank & ~ok, status, raw, "form status is not 0 (Incomplete), 1 (Unverified) or 2 (Complete)"
        )
        cols[status] = _ints(s, ~blank & ok)
    data = pd.DataFrame(cols, index=line_index)
    missing = pd.DataFrame(t.missing, columns=["line", *MISSING_COLUMNS])
    unreadable = {k: np.concatenate(v) for k, v in t.unreadable.items()}
    return FormTable(form, data, text, rows, missing, t.failures, unreadable)


def _pair_in(events: np.ndarray, forms: np.ndarray, pairs) -> np.ndarray:
    keys = pd.Series(events, dtype=object) + "\x1f" + pd.Series(forms, dtype=object)
    return keys.isin({f"{e}\x1f{f}" for e, f in pairs}).to_numpy()


def _ints(s: pa.Array, ok: np.ndarray) -> pd.arrays.IntegerArray:
    masked = pc.if_else(pa.array(ok, type=pa.bool_()), s, pa.scalar(None, pa.string()))
    return masked.cast(pa.int64()).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get).array


def _strings(s: pa.Array, blank: np.ndarray) -> pd.arrays.ArrowStringArray:
    """Text cells as pandas' Arrow-backed string array (no Python object per cell); blank is NA."""
    masked = pc.if_else(pa.array(blank, type=pa.bool_()), pa.scalar(None, pa.string()), s)
    return pd.arrays.ArrowStringArray(pa.chunked_array([masked], type=pa.string()))


def _floats(s: pa.Array, ok: np.ndarray, comma: bool = False) -> np.ndarray:
    if comma:
        s = pc.replace_substring(s, ",", ".")
    masked = pc.if_else(pa.array(ok), s, pa.scalar(None, pa.string()))
    return masked.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(float)


def _drop_missing_codes(t: _Typer, fld: Field, s: pa.Array, raw: pa.Array, codes: frozenset[str]) -> pa.Array:
    """Cells holding a missing-data code become blank and a row of the missingness table."""
    if not codes:
        return s
    is_code = pc.is_in(s, value_set=pa.array(sorted(codes))).to_numpy(zero_copy_only=False)
    if not is_code.any():
        return s
    if "@NOMISSING" in fld.action_tags:
        t.fail_mask(is_code, fld.name, raw, "a missing-data code in a field marked @NOMISSING")
    _record_missing(t, fld, np.flatnonzero(is_code), s.take(pa.array(np.flatnonzero(is_code))).to_pylist())
    return pc.if_else(pa.array(is_code), pa.scalar("", pa.string()), s)


def _record_missing(t: _Typer, fld: Field, idx: np.ndarray, codes: list[str]) -> None:
    p = t.records.project
    for j, code in zip(idx, codes):
        r = t.rows[j]
        t.missing.append(
            (
                int(t.records.lines[r]),
                t.keys.record[r],
                t.keys.event[r] if p.longitudinal else None,
                int(t.keys.instance[r]) if t.keys.instance[r] else None,
                t.form,
                fld.name,
                code,
            )
        )


def _typed(t: _Typer, fld: Field, s: pa.Array, raw: pa.Array, n: int):
    blank = pc.equal(s, "").to_numpy(zero_copy_only=False)
    kind = fld.kind
    spec = fld.spec
    name = fld.name
    if kind == "code":
        if fld.type == "sql":
            return _strings(s, blank)
        if fld.integer_codes:
            ok = _match(s, r"-?\d+") & ~_too_long(s)  # the codes fit: a longer number is none of them
            t.fail_mask(~blank & ~ok, name, raw, f"not a code of {name} (its codes are {_codes_text(fld)})")
            return _ints(s, ~blank & ok)
        return _strings(s, blank)
    if kind == "integer":
        ok = _match(s, r"[-+]?\d+")
        t.fail_mask(
            ~blank & ~ok,
            name,
            raw,
            "not a whole number" if fld.type != "slider" else "slider value is not a whole number",
        )
        too_long = _too_long(s)
        t.fail_mask(too_long, name, raw, TOO_LONG)
        ok &= ~too_long
        return _ints(pc.replace_substring_regex(s, r"^\+", ""), ~blank & ok)
    if kind == "number":
        if fld.type == "calc":
            pattern, comma, what = (
                r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?",
                False,
                "a number (calculated field)",
            )
        else:
            pattern, comma, what = spec.pattern, spec.comma, f"a {spec.description}"
        ok = _match(s, pattern)
        t.fail_mask(~blank & ~ok, name, raw, f"not {what}")
        values = _floats(s, ~blank & ok, comma)
        infinite = np.isinf(values)
        t.fail_mask(
            infinite,
            name,
            raw,
            "number too large: beyond the range of a 64-bit floating-point number (about 1.8 x 10^308)",
        )
        values[infinite] = np.nan
        return values
    if kind in ("date", "datetime"):
        fmts = [spec.strptime]
        shape = _match(s, spec.pattern)
        values, unread, beyond = _to_datetime(s, fmts)
        t.fail_mask(
            ~blank & (~shape | unread),
            name,
            raw,
            f"not a valid {spec.description}"
            + (
                ""
                if spec.name == "date_ymd" or kind == "datetime"
                else f" (the raw export writes {spec.name} as Y-M-D)"
            ),
        )
        t.fail_mask(~blank & shape & beyond, name, raw, OUT_OF_YEARS)
        values[blank | ~shape | unread | beyond] = np.datetime64("NaT")
        return values
    if kind == "time":
        ok = _match(s, spec.pattern)
        t.fail_mask(~blank & ~ok, name, raw, f"not a valid {spec.description}")
        return _strings(s, blank | ~ok)
    # text, notes, file, signature: text; a pattern validation is checked here
    if spec is not None and spec.kind == "pattern":
        ok = _match(s, spec.pattern)
        t.fail_mask(~blank & ~ok, name, raw, f"not a valid {spec.description} ({spec.name})")
    bad = pc.match_substring_regex(raw, CONTROL).to_numpy(zero_copy_only=False)
    t.fail_mask(bad, name, raw, "text contains control characters (not tab or line breaks)")
    return _strings(s, blank)  # trimmed; line breaks inside a notes value are kept


def _checkbox(t: _Typer, fld: Field, cols: dict, text: dict, codes: frozenset[str]) -> None:
    """One boolean column per choice; a ticked missing-data code column makes them all NA."""
    records = t.records
    n = len(t.rows)
    ticked_missing = np.zeros(n, dtype=bool)
    which_code = np.full(n, "", dtype=object)
    for code in sorted(codes):
        col = checkbox_column(fld.name, code)
        if (
            records.has(col)
            and records.columns[col].kind == "checkbox_missing"
            and records.columns[col].field == fld.name
        ):
            s = t.cells(col)
            bad = ~pc.is_in(s, value_set=pa.array(["", "0", "1"])).to_numpy(zero_copy_only=False)
            t.fail_mask(bad, col, t.raw(col), "checkbox value is not 0 or 1")
            on = pc.equal(s, "1").to_numpy(zero_copy_only=False)
            which_code[on & ~ticked_missing] = code
            ticked_missing |= on
    if ticked_missing.any():
        if "@NOMISSING" in fld.action_tags:
            t.fail_mask(
                ticked_missing,
                fld.name,
                pa.array(which_code.astype(str)),
                "a missing-data code in a field marked @NOMISSING",
            )
        _record_missing(t, fld, np.flatnonzero(ticked_missing), list(which_code[ticked_missing]))
    any_ticked = np.zeros(n, dtype=bool)
    for code, _ in fld.choices:
        col = checkbox_column(fld.name, code)
        if not records.has(col):
            continue
        s = t.cells(col)
        raw = t.raw(col)
        text[col] = s
        blank = pc.equal(s, "").to_numpy(zero_copy_only=False)
        ok = pc.is_in(s, value_set=pa.array(["0", "1"])).to_numpy(zero_copy_only=False)
        t.fail_mask(~blank & ~ok, col, raw, "checkbox value is not 0 or 1")
        on = pc.equal(s, "1").to_numpy(zero_copy_only=False)
        any_ticked |= on
        values = pd.array(on, dtype="boolean")
        values[blank | ~ok | ticked_missing] = pd.NA
        cols[col] = values
    both = ticked_missing & any_ticked
    if both.any():
        t.fail_mask(
            both,
            fld.name,
            pa.array(which_code.astype(str)),
            "a choice is ticked and the field also holds a missing-data code",
        )


def tidy_tables(
    records: Records, *, export_date: date | None = None
) -> tuple[dict[str, FormTable], list[Failure]]:
    """Split the export into one typed table per form."""
    keys = row_keys(records)
    failures = list(keys.failures)
    tables: dict[str, FormTable] = {}
    for form in records.project.forms:
        rows, more = form_rows(records, keys, form.name)
        failures += more
        table = type_form(records, keys, form.name, rows, export_date=export_date)
        failures += table.failures
        tables[form.name] = table
    return tables, failures


def missingness(tables: dict[str, FormTable]) -> pd.DataFrame:
    """Every missing-data code found: record, event, instance, form, field, code (and line)."""
    frames = [t.missing for t in tables.values() if len(t.missing)]  # tables in form order
    if not frames:
        return pd.DataFrame(
            {
                c: pd.Series(dtype="string" if c != "redcap_repeat_instance" else "Int64")
                for c in MISSING_COLUMNS
            }
        )
    out = pd.concat(frames, ignore_index=True).sort_values("line", kind="stable")  # forms, fields in order
    return out


__all__ = ["FormTable", "tidy_tables", "missingness", "row_keys", "RECORD_ID", "ARM", "SURVEY_ID"]
