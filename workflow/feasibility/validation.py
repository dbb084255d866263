"""Validate raw REDCap exports: file structure, types, schemas and cross-export rules.

Validation is lazy: every failing cell of an export is reported, each as a
:class:`Failure` naming the file, line, record, event, field, value and the rule
broken. The raw files are only ever read.
"""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc
from pandera.errors import SchemaErrors

from . import crf
from .schemas.raw import SCHEMAS

MAX_CELL = 2000
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
REPORTED_VALUE_CHARS = 80


@dataclass(frozen=True)
class Failure:
    file: str
    line: int | None
    record_id: str
    event: str
    field: str
    value: str
    rule: str

    def message(self) -> str:
        where = f"{self.file}" + (f" line {self.line}" if self.line else "")
        who = f" record {self.record_id}" if self.record_id else ""
        ev = f" event {self.event}" if self.event else ""
        fld = f" field {self.field}" if self.field else ""
        val = f" value {self.value!r}" if self.value != "" else ""
        return f"{where}:{who}{ev}{fld}{val}: {self.rule}"


class ValidationError(Exception):
    def __init__(self, failures: list[Failure]):
        self.failures = failures
        super().__init__(summary(failures))


def summary(failures: list[Failure], first: int = 10) -> str:
    lines = [f"{len(failures)} validation failure(s):"]
    lines += ["  " + f.message() for f in failures[:first]]
    if len(failures) > first:
        lines.append(f"  ... and {len(failures) - first} more (see the validation report)")
    return "\n".join(lines)


def _shown(value) -> str:
    s = "" if value is None else str(value)
    s = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in s)
    return s if len(s) <= REPORTED_VALUE_CHARS else s[:REPORTED_VALUE_CHARS] + f"... ({len(s)} chars)"


# ------------------------------------------------------------------------------- reading
# Columns of the data dictionary that validation reads.
DICTIONARY_NEEDED = ["Variable / Field Name", "Form Name", "Field Type",
                     "Choices, Calculations, OR Slider Labels",
                     "Text Validation Type OR Show Slider Number", "Text Validation Min",
                     "Text Validation Max"]
# Columns whose text must be what the CRF defines (the site choices aside), and what
# a disagreement is called.
DICTIONARY_COMPARED = {"Form Name": "the field is on another form",
                       "Field Type": "field type disagrees",
                       "Choices, Calculations, OR Slider Labels": "code list disagrees",
                       "Text Validation Type OR Show Slider Number": "validation type disagrees",
                       "Text Validation Min": "minimum disagrees",
                       "Text Validation Max": "maximum disagrees"}


def read_dictionary(path: Path) -> pd.DataFrame:
    """The data dictionary as text cells. A dictionary that cannot be used (missing, not
    UTF-8, empty, not CSV, without a column validation needs) gives an empty frame whose
    ``attrs["failures"]`` say why; every export's validation then reports them."""
    path = Path(path)

    def unusable(*failures: Failure) -> pd.DataFrame:
        empty = pd.DataFrame(columns=DICTIONARY_NEEDED, dtype=str)
        empty.attrs["failures"] = list(failures)
        return empty

    if not path.exists():
        return unusable(Failure(path.name, None, "", "", "", "", "data dictionary file is missing"))
    failures: list[Failure] = []
    text = _decode(path, failures)
    if text is None:
        return unusable(*failures)
    if not text.strip():
        return unusable(Failure(path.name, None, "", "", "", "", "file is empty (no header, no fields)"))
    try:
        dd = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as error:
        return unusable(Failure(path.name, None, "", "", "", "", f"not a CSV data dictionary: {error}"))
    missing = [c for c in DICTIONARY_NEEDED if c not in dd.columns]
    return unusable(*(Failure(path.name, 1, "", "", c, "",
                              "required column is missing from the data dictionary's header")
                      for c in missing)) if missing else dd


def _decode(path: Path, failures: list[Failure]) -> str | None:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")       # a UTF-8 byte-order mark is accepted and dropped
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        failures.append(Failure(path.name, line, "", "", "", _shown(data[exc.start:exc.start + 8]),
                                f"file is not UTF-8 encoded (byte {exc.start}); export as UTF-8"))
        return None
    return text


def read_export(path: Path, export: crf.Export, dictionary: pd.DataFrame | None = None
                ) -> tuple[pd.DataFrame | None, list[Failure]]:
    """Read one export as text cells, checking structure: encoding, header, columns, rows."""
    failures: list[Failure] = []
    name = path.name
    if not path.exists():
        return None, [Failure(name, None, "", "", "", "", "export file is missing")]
    text = _decode(path, failures)
    if text is None:
        return None, failures
    if not text.strip():
        return None, [Failure(name, None, "", "", "", "", "file is empty (no header, no records)")]
    reader = csv.reader(io.StringIO(text, newline=""))
    header, body = next(reader), []
    start = reader.line_num + 1
    for row in reader:                    # a quoted cell may span lines: number records by
        body.append((start, row))         # the physical line they start on
        start = reader.line_num + 1
    expected = crf.export_columns(export)
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    for c in missing:
        failures.append(Failure(name, 1, "", "", c, "", "required column is missing from the header"))
    for c in extra:
        failures.append(Failure(name, 1, "", "", c, "", "unknown column (not in the data dictionary for this export)"))
    dup = sorted({c for c in header if header.count(c) > 1})
    for c in dup:
        failures.append(Failure(name, 1, "", "", c, "", "column appears more than once in the header"))
    if not body:
        failures.append(Failure(name, None, "", "", "", "", "file has a header but no records"))
    good = []
    for i, r in body:
        if len(r) == 0 or (len(r) == 1 and r[0] == ""):
            continue
        if len(r) != len(header):
            rid = r[0] if r else ""
            failures.append(Failure(name, i, rid, r[1] if len(r) > 1 else "", "", "",
                                    f"ragged row: {len(r)} cells where the header has {len(header)}"))
            continue
        good.append((i, r))
    if failures and (missing or dup or not body):
        return None, failures
    df = pd.DataFrame([r for _, r in good], columns=header, dtype=str)
    df.index = pd.Index([i for i, _ in good], name="line")
    df = df.drop(columns=extra)
    if dictionary is not None:
        failures += _check_against_dictionary(name, export, dictionary)
    return df, failures


def _check_against_dictionary(name: str, export: crf.Export, dictionary: pd.DataFrame) -> list[Failure]:
    """The data dictionary shipped with the export must describe its forms as we know them;
    its site fields list the study's own sites (``dictionary_sites``)."""
    out = []
    dd = dictionary.drop_duplicates("Variable / Field Name").set_index("Variable / Field Name")
    index = {c: i for i, c in enumerate(crf.DICTIONARY_COLUMNS)}
    for form in export.forms:
        for fld in crf.form_fields(form):
            if fld.name not in dd.index:
                out.append(Failure(crf.DICTIONARY_FILE, None, "", "", fld.name, "",
                                   f"field of form {form} is missing from the data dictionary"))
                continue
            want = crf.dictionary_row(fld)
            for column, disagreement in DICTIONARY_COMPARED.items():
                if column == "Choices, Calculations, OR Slider Labels" and fld.name in crf.SITE_FIELDS:
                    continue                  # the study's own sites: dictionary_sites
                got, expected = dd.at[fld.name, column], want[index[column]]
                if got.strip() != expected:
                    out.append(Failure(crf.DICTIONARY_FILE, None, "", "", fld.name, _shown(got),
                                       f"{disagreement}: the CRF has {expected or 'blank'!r}"))
    columns = crf.export_columns(export)
    out += [f for f in dictionary_sites(dictionary)[1] if f.field in columns]
    return out


def _parse_choices(text: str) -> tuple[tuple[int, str], ...] | None:
    """REDCap's ``1, Label | 2, Label`` as (code, label) pairs; None unless every part
    is a whole-number code and a label, and the codes are distinct."""
    pairs = []
    for part in text.split("|"):
        code, comma, label = part.strip().partition(",")
        if not comma or not code.strip().isdigit() or not label.strip():
            return None
        pairs.append((int(code), label.strip()))
    return tuple(pairs) if len({c for c, _ in pairs}) == len(pairs) else None


def dictionary_sites(dictionary: pd.DataFrame) -> tuple[tuple[tuple[int, str], ...], list[Failure]]:
    """The study's sites (code, label): the code list its data dictionary gives the site fields.

    A trial defines its own sites, so for ``scr_site``, ``enr_site`` and ``plc_site``
    the dictionary, not ``crf.SITES``, is the authority. The three lists must agree
    (one study, one site list). An unreadable list is a failure, and the shipped
    study's sites stand in when none can be read.
    """
    dd = dictionary.drop_duplicates("Variable / Field Name").set_index("Variable / Field Name")
    lists, failures = {}, []
    for name in crf.SITE_FIELDS:
        if name not in dd.index:
            continue                      # reported as a field missing from the dictionary
        text = dd.at[name, "Choices, Calculations, OR Slider Labels"]
        parsed = _parse_choices(text)
        if parsed is None:
            failures.append(Failure(crf.DICTIONARY_FILE, None, "", "", name, _shown(text),
                                    "site list is not 'code, label | code, label | ...' "
                                    "with distinct whole-number codes"))
        else:
            lists[name] = parsed
    if not lists:
        return crf.SITES, failures
    first, sites = next(iter(lists.items()))
    for name, parsed in lists.items():
        if parsed != sites:
            failures.append(Failure(crf.DICTIONARY_FILE, None, "", "", name,
                                    _shown(crf.choices_text(parsed)),
                                    f"site list disagrees with {first}'s ({crf.choices_text(sites)})"))
    return sites, failures


# --------------------------------------------------------------------------- type coercion
def _arrow_text(s: pd.Series) -> pa_arrow.Array:
    return pa_arrow.array(s.to_numpy(dtype=object), type=pa_arrow.string())


def _numbers(trimmed: pa_arrow.Array, blank: np.ndarray, s: pd.Series) -> np.ndarray:
    """Numeric values of the non-blank cells (NaN where blank or unreadable).

    Arrow's parser does a clean column in one pass; a column with an unreadable cell
    falls back to pandas, which reads the rest and leaves that cell NaN.
    """
    try:
        values = pc.if_else(pa_arrow.array(blank), pa_arrow.scalar(None, pa_arrow.string()), trimmed)
        return pc.cast(values, pa_arrow.float64()).to_numpy(zero_copy_only=False)
    except (pa_arrow.ArrowInvalid, pa_arrow.ArrowNotImplementedError):
        return pd.to_numeric(s.where(~blank), errors="coerce").to_numpy(dtype=float)


def coerce(df: pd.DataFrame, export: crf.Export, name: str) -> tuple[pd.DataFrame, list[Failure]]:
    """Typed columns: dates, numbers, text; every cell that cannot be read is a failure."""
    failures: list[Failure] = []
    by_col = {c: f for f in crf.fields() for c in f.columns()}
    out: dict[str, pd.Series] = {}
    rid, ev = df.get("record_id", pd.Series("", index=df.index)), df.get(
        "redcap_event_name", pd.Series("", index=df.index))

    def fail(mask: np.ndarray, col: str, s: pd.Series, rule: str) -> None:
        for i in df.index[mask]:
            failures.append(Failure(name, int(i), rid[i], ev[i], col, _shown(s[i]), rule))

    for col in df.columns:
        s = df[col]
        trimmed = pc.utf8_trim_whitespace(_arrow_text(s))   # Unicode whitespace, as str.strip
        blank = pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
        fld = by_col.get(col)
        if col in ("record_id", "redcap_event_name", "redcap_repeat_instrument"):
            out[col] = s.where(~blank, None)
            continue
        if col == "redcap_repeat_instance" or col.endswith("_complete") or (fld and fld.is_numeric):
            num = _numbers(trimmed, blank, s)
            fail(~blank & np.isnan(num), col, s, "not a number")
            if fld is None or fld.choices or fld.validation == "integer":
                frac = ~np.isnan(num) & (num != np.floor(np.nan_to_num(num)))
                fail(frac, col, s, "not a whole-number code" if fld is None or fld.choices
                     else "not a whole number")
            out[col] = pd.Series(num, index=df.index, dtype=float)
        elif fld is not None and fld.is_date:
            parsed = pd.to_datetime(s.where(~blank), format="%Y-%m-%d", errors="coerce")
            fail(~blank & parsed.isna().to_numpy(), col, s, "not a valid date (YYYY-MM-DD)")
            out[col] = parsed
        else:
            text = _arrow_text(s)
            fail(pc.greater(pc.utf8_length(text), MAX_CELL).to_numpy(zero_copy_only=False), col, s,
                 f"text longer than {MAX_CELL} characters")
            fail(pc.match_substring_regex(text, CONTROL_CHARACTERS).to_numpy(zero_copy_only=False),
                 col, s, "text contains control characters")
            out[col] = s.where(~blank, None)
    return pd.DataFrame(out, index=df.index), failures


# ------------------------------------------------------------------------------ schemas
def export_schema(export: crf.Export, sites=crf.SITES) -> pa.DataFrameSchema:
    """The export's schema, its site fields checked against the study's own site codes."""
    schema = SCHEMAS[export.name].to_schema()
    own = {f: {"checks": [pa.Check.isin([code for code, _ in sites])]}
           for f in crf.SITE_FIELDS if f in schema.columns}
    return schema.update_columns(own) if own else schema


def schema_failures(df: pd.DataFrame, export: crf.Export, name: str,
                    sites=crf.SITES) -> list[Failure]:
    try:
        export_schema(export, sites).validate(df, lazy=True)
        return []
    except SchemaErrors as err:
        cases = err.failure_cases
    out = []
    for row in cases.itertuples(index=False):
        idx = row.index
        col = row.column if isinstance(row.column, str) else ""
        check = str(row.check)
        if check.startswith("column_in_dataframe") or check == "column_in_schema":
            out.append(Failure(name, 1, "", "", str(row.failure_case), "", f"column rule broken: {check}"))
            continue
        if idx is None or (isinstance(idx, float) and np.isnan(idx)):
            out.append(Failure(name, None, "", "", col, _shown(row.failure_case), f"rule broken: {check}"))
            continue
        line = int(idx)
        rid = df.at[line, "record_id"] if "record_id" in df else ""
        ev = df.at[line, "redcap_event_name"] if "redcap_event_name" in df else ""
        value = row.failure_case
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if check.startswith("field_uniqueness") or check == "multiple_fields_uniqueness":
            out.append(Failure(name, line, rid or "", ev or "", "record_id", _shown(rid),
                               "duplicate key (record_id x event x repeat instance)"))
            continue
        out.append(Failure(name, line, rid or "", ev or "", col, _shown(value), _describe(check)))
    return _dedupe(out)


def _describe(check: str) -> str:
    if check.startswith("isin"):
        return "unknown code: " + check.replace("isin", "not one of ")
    if check.startswith("greater_than_or_equal_to") or check.startswith("less_than_or_equal_to") \
            or check.startswith("in_range"):
        return "out of range: " + check
    if check == "not_nullable":
        return "required value is blank"
    return f"rule broken: {check}"


def _dedupe(failures: list[Failure]) -> list[Failure]:
    seen, out = set(), []
    for f in failures:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out


def completeness_failures(df: pd.DataFrame, export: crf.Export, name: str) -> list[Failure]:
    """Forms marked complete (2) must have every required field; required checkbox groups a tick."""
    out = []
    for form in export.forms:
        flag = f"{form}_complete"
        if flag not in df:
            continue
        complete = df[flag] == 2
        for fld in crf.form_fields(form):
            if not fld.required:
                continue
            cols = [c for c in fld.columns() if c in df]
            if not cols:
                continue
            if fld.is_checkbox:
                empty = complete & (df[cols].fillna(0).sum(axis=1) == 0)
                rule = f"form {form} is marked complete but no box of {fld.name} is ticked"
            else:
                empty = complete & df[cols[0]].isna()
                rule = f"form {form} is marked complete but this required field is blank"
            for i in df.index[empty]:
                out.append(Failure(name, int(i), df.at[i, "record_id"], df.at[i, "redcap_event_name"],
                                   fld.name, "", rule))
    return out


# ------------------------------------------------------------------------ cross-export rules
def cross_failures(df: pd.DataFrame, export: crf.Export, name: str,
                   context: dict[str, pd.DataFrame]) -> list[Failure]:
    """Rules that read other exports (already validated): orphans, date order, withdrawals."""
    out: list[Failure] = []

    def fail(i, field, value, rule):
        out.append(Failure(name, int(i), df.at[i, "record_id"], df.at[i, "redcap_event_name"],
                           field, _shown(value), rule))

    enr = context.get("enrolment")
    if export.name == "enrolment":
        scr = context["screening"]
        ok = scr[(scr["scr_enrolled"] == 1)]
        linked = ok.set_index("record_id")["scr_participant_id"]
        for i in df.index:
            sid = df.at[i, "enr_screening_id"]
            if sid not in linked.index:
                fail(i, "enr_screening_id", sid, "no enrolled screening record with this ID")
            elif linked[sid] != df.at[i, "record_id"]:
                fail(i, "enr_screening_id", sid, f"screening record names participant {linked[sid]}")
        bad = df["dem_dob"] >= df["enr_consent_date"]
        for i in df.index[bad.fillna(False)]:
            fail(i, "dem_dob", df.at[i, "dem_dob"].date(), "date of birth is not before consent")
        age = (df["enr_consent_date"] - df["dem_dob"]).dt.days / 365.25
        for i in df.index[(age < 16) | (age > 100)]:
            fail(i, "dem_dob", df.at[i, "dem_dob"].date(), f"age at consent {age[i]:.0f} is implausible")
        return out
    if enr is None:
        return out
    known = set(enr["record_id"])
    consent = enr.set_index("record_id")["enr_consent_date"]
    for i in df.index[~df["record_id"].isin(known)]:
        fail(i, "record_id", df.at[i, "record_id"], "orphan record: not in the enrolment export")
    rid = df["record_id"]
    c = rid.map(consent)

    def not_before(col, ref, what):
        if col not in df:
            return
        bad = df[col].notna() & ref.notna() & (df[col] < ref)
        for i in df.index[bad]:
            fail(i, col, df.at[i, col].date(), f"date is before {what}")

    if export.name == "questionnaires_baseline":
        not_before("hq_date", c, "consent")
    elif export.name == "work_preparation":
        not_before("wp_date", c, "consent")
        need = (df["wp_attended"] == 1) & df["wp_date"].isna()
        for i in df.index[need]:
            fail(i, "wp_date", "", "attended work preparation but no date")
    elif export.name == "placements":
        wp = context["work_preparation"].set_index("record_id")["wp_date"]
        not_before("plc_decision_date", c, "consent")
        not_before("plc_start", rid.map(wp), "work preparation")
        not_before("plc_end", df["plc_start"], "the placement start")
        need = (df["plc_placed"] == 1) & (df["plc_start"].isna() | df["plc_end"].isna())
        for i in df.index[need]:
            fail(i, "plc_start", "", "placed but start or end date is blank")
    elif export.name in ("case_management", "status_changes", "adverse_events"):
        col = {"case_management": "cm_date", "status_changes": "sc_date", "adverse_events": "ae_date"}[export.name]
        not_before(col, c, "consent")
    elif export.name == "followup_admin":
        plc = context["placements"].set_index("record_id")
        start = rid.map(plc["plc_start"].fillna(plc["plc_decision_date"]))
        not_before("fu_return_date", start, "the start date (placement start or decision)")
        need = (df["fu_returned"] == 1) & df["fu_return_date"].isna()
        for i in df.index[need]:
            fail(i, "fu_return_date", "", "returned but no return date")
        _after_withdrawal(df, context, "fu_return_date", fail)
    elif export.name.startswith("questionnaires_"):
        adm = context["followup_admin"]
        ev = export.events[0]
        adm = adm[adm["redcap_event_name"] == ev].set_index("record_id")
        returned = set(adm.index[adm["fu_returned"] == 1])
        for i in df.index[~df["record_id"].isin(returned)]:
            fail(i, "record_id", df.at[i, "record_id"],
                 "questionnaire present but the follow-up log does not record it as returned")
        missing = returned - set(df["record_id"])
        for r in sorted(missing):
            out.append(Failure(name, None, r, ev, "record_id", r,
                               "follow-up log records a returned questionnaire that is not in this export"))
        not_before("hq_date", c, "consent")
        _after_withdrawal(df, context, "hq_date", fail)
    return out


def _after_withdrawal(df, context, date_col, fail) -> None:
    """No data dated after a status change that allows no further data."""
    sc = context["status_changes"]
    stop = sc[sc["sc_further_data"] == 0].groupby("record_id")["sc_date"].min()
    when = df["record_id"].map(stop)
    bad = when.notna() & df[date_col].notna() & (df[date_col] > when)
    for i in df.index[bad]:
        fail(i, date_col, df.at[i, date_col].date(),
             f"data dated after a withdrawal that allows no further data ({when[i].date()})")


# ----------------------------------------------------------------------------- one export
def validate_export(raw_dir: Path, export: crf.Export, context: dict[str, pd.DataFrame],
                    dictionary: pd.DataFrame | None) -> tuple[pd.DataFrame | None, list[Failure]]:
    """All rules for one export; the typed table when it passes.

    A typed table with site fields carries the study's sites from the data dictionary
    in ``attrs["sites"]`` (kept in its Parquet file; read with ``crf.study_sites``).
    """
    path = Path(raw_dir) / export.file
    broken = list(dictionary.attrs.get("failures", [])) if dictionary is not None else []
    if broken:                            # an unusable dictionary: say so, compare nothing
        dictionary = None
    df, failures = read_export(path, export, dictionary)
    failures = broken + failures
    if df is None:
        return None, failures
    sites = crf.SITES if dictionary is None else dictionary_sites(dictionary)[0]
    typed, f2 = coerce(df, export, path.name)
    failures += f2
    unreadable = {(f.line, f.field) for f in f2}    # reported once, as unreadable
    failures += [f for f in schema_failures(typed, export, path.name, sites)
                 + completeness_failures(typed, export, path.name)
                 if (f.line, f.field) not in unreadable]
    blocked = [d for d in export.depends_on if d not in context]
    if blocked:
        failures.append(Failure(path.name, None, "", "", "", "",
                                f"cross-export rules not checked: {', '.join(blocked)} failed validation"))
    else:
        failures += cross_failures(typed, export, path.name, context)
    failures = [_as_written(f, df) for f in _dedupe(failures)]
    if failures:
        return None, failures
    typed = typed.reset_index(drop=True)
    if any(f in typed for f in crf.SITE_FIELDS):
        typed.attrs["sites"] = [[code, label] for code, label in sites]
    return typed, failures


def _as_written(failure: Failure, df: pd.DataFrame) -> Failure:
    """The failure showing its cell as the file has it (not as read: 'nan', 'inf', 'NaT')."""
    if failure.line in df.index and failure.field in df.columns:
        return replace(failure, value=_shown(df.at[failure.line, failure.field]))
    return failure


def failures_frame(failures: list[Failure]) -> pd.DataFrame:
    cols = ["file", "line", "record_id", "event", "field", "value", "rule"]
    return pd.DataFrame([asdict(f) for f in failures], columns=cols)


def validate_folder(raw_dir: Path) -> tuple[dict[str, pd.DataFrame], list[Failure]]:
    """Every export of a folder in dependency order, as the workflow's rules run them:
    the typed tables that passed, and every failure."""
    dictionary = read_dictionary(Path(raw_dir) / crf.DICTIONARY_FILE)
    context: dict[str, pd.DataFrame] = {}
    failures: list[Failure] = []
    for name, export in crf.EXPORTS.items():
        typed, found = validate_export(Path(raw_dir), export, context, dictionary)
        failures += found
        if typed is not None:
            context[name] = typed
    return context, failures
