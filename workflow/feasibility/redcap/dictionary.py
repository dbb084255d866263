"""The data dictionary and the instrument designations, as REDCap downloads them.

The dictionary comes either as the download (18 columns headed ``Variable / Field Name``,
``Form Name``, …) or as the API's metadata (the same content headed ``field_name``,
``form_name``, …); headers quoted or not, with or without a byte-order mark, CRLF or LF.
The instrument designations (longitudinal projects) are REDCap's form-event mapping:
``arm_num, unique_event_name, form``. Optional: the API's events export (``event_name,
arm_num, unique_event_name, …``) gives events their labels, and project settings give
missing-data codes and the repeating set-up.

Every problem is a failure naming the file, line, field and value.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path

from .files import Limits, TextTable, describe, read_csv_text
from .messages import Failure, fail
from .model import (
    shared_labels,
    FIELD_TYPE_ALIASES,
    FIELD_TYPES,
    VALIDATION_ALIASES,
    VALIDATIONS,
    Arm,
    ChoicesError,
    Event,
    Field,
    Form,
    Project,
    Repeating,
    checkbox_code_formatted,
    parse_choices,
)

# Download header -> API metadata name (the API's names are the canonical keys here).
DOWNLOAD_COLUMNS = {
    "Variable / Field Name": "field_name",
    "Form Name": "form_name",
    "Section Header": "section_header",
    "Field Type": "field_type",
    "Field Label": "field_label",
    "Choices, Calculations, OR Slider Labels": "select_choices_or_calculations",
    "Field Note": "field_note",
    "Text Validation Type OR Show Slider Number": "text_validation_type_or_show_slider_number",
    "Text Validation Min": "text_validation_min",
    "Text Validation Max": "text_validation_max",
    "Identifier?": "identifier",
    "Branching Logic (Show field only if...)": "branching_logic",
    "Required Field?": "required_field",
    "Custom Alignment": "custom_alignment",
    "Question Number (surveys only)": "question_number",
    "Matrix Group Name": "matrix_group_name",
    "Matrix Ranking?": "matrix_ranking",
    "Field Annotation": "field_annotation",
}
API_COLUMNS = list(DOWNLOAD_COLUMNS.values())
NEEDED = (
    "field_name",
    "form_name",
    "field_type",
    "select_choices_or_calculations",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
)
RESERVED = {
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
    "redcap_survey_identifier",
    "redcap_arm",
}
NAME = re.compile(r"[a-z][a-z0-9_]*")
EVENT_NAME = re.compile(r"[a-z0-9_]+_arm_\d+")
DESIGNATION_COLUMNS = ("arm_num", "unique_event_name", "form")
# "Identifier?" as REDCap reads it: any case, spaces around ignored.
IDENTIFIER_YES = ("y", "yes")
IDENTIFIER_NO = ("", "n", "no")
NO_IDENTIFIERS_KEY = "redcap.no_identifiers"
# The metadata files have a handful of columns (the dictionary 18, the events 8): a header
# of many more is not one of them, and is refused before its rows are read.
MAX_DICTIONARY_COLUMNS = 200


MAX_CODE_DIGITS = 18  # a whole-number code is stored as a 64-bit integer (about 9.2 x 10^18)
YEARS = (1678, 2261)  # the years a date can have once typed (pandas' nanosecond timestamps)


def oversized_code(choices) -> str | None:
    """The first whole-number choice code of more than MAX_CODE_DIGITS digits, if any
    (a radio or dropdown field's whole-number codes are stored as 64-bit integers)."""
    for code, _ in choices:
        digits = re.sub(r"^-?0*", "", code)
        if re.fullmatch(r"-?\d+", code) and len(digits) > MAX_CODE_DIGITS:
            return code
    return None


def oversized_code_rule(code: str) -> str:
    return (
        f"a choice code is a whole number of more than {MAX_CODE_DIGITS} digits: too large for a 64-bit "
        "integer, as whole-number codes are stored"
    )


def identifier_flag(text: str) -> bool | None:
    """REDCap's ``Identifier?``: True for ``y``/``yes`` (any case), False for blank (or
    ``n``/``no``), None for anything else (refused: an identifier must never be kept by luck)."""
    value = (text or "").strip().lower()
    if value in IDENTIFIER_YES:
        return True
    if value in IDENTIFIER_NO:
        return False
    return None


def _cells(t: TextTable) -> dict[str, list[str]]:
    return {h: t.table.column(h).to_pylist() for h in t.header}


def _canonical_header(t: TextTable, what: str) -> tuple[dict[str, str] | None, str, list[Failure]]:
    """Map the file's header to the API's names; say which form the file is."""
    header = t.header
    if header and header[0] in DOWNLOAD_COLUMNS:
        mapping = {h: DOWNLOAD_COLUMNS[h] for h in header if h in DOWNLOAD_COLUMNS}
        unknown = [h for h in header if h not in DOWNLOAD_COLUMNS]
        form = "REDCap's data dictionary download"
    elif header and header[0] in API_COLUMNS:
        mapping = {h: h for h in header if h in API_COLUMNS}
        unknown = [h for h in header if h not in API_COLUMNS]
        form = "REDCap's API metadata"
    else:
        shown_header = ", ".join(header[:4]) + (", …" if len(header) > 4 else "")
        return (
            None,
            "",
            [
                fail(
                    t.name,
                    f"not a REDCap data dictionary: the header starts '{shown_header}', not "
                    "'Variable / Field Name' (the download) or 'field_name' (the API's metadata)",
                    line=1,
                )
            ],
        )
    failures = [
        fail(
            t.name,
            f"unknown column {header.index(h) + 1} '{h}' in the {what}'s header; ignored",
            line=1,
            field=h,
            severity="warning",
        )
        for h in unknown
    ]
    missing = [n for n in NEEDED if n not in mapping.values()]
    back = {v: k for k, v in DOWNLOAD_COLUMNS.items()}
    for n in missing:
        label = back[n] if form.endswith("download") else n
        failures.append(fail(t.name, f"the {what}'s header has no column '{label}'", line=1, field=label))
    return (None if missing else mapping), form, failures


def _humanise(form: str) -> str:
    return form.replace("_", " ").strip().capitalize()


def _in_years(value, text: str):
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(text)
    return value


def parse_limit(text: str, f_kind: str, spec_name: str):
    """A validation minimum or maximum as REDCap writes it: a number (``80.0`` is 80), a
    date ``YYYY-MM-DD`` (or in the field's display order), a datetime, a time, or
    ``today``/``now``. Returns the parsed value, or raises ValueError."""
    text = text.strip()
    if f_kind in ("integer", "number"):
        value = float(text.replace(",", ".") if spec_name.endswith("comma_decimal") else text)
        if not math.isfinite(value) or (f_kind == "integer" and abs(value) >= 10**MAX_CODE_DIGITS):
            raise ValueError(text)
        return value
    if text.lower() in ("today", "now"):
        return text.lower()
    if f_kind == "date":
        for fmt in ("%Y-%m-%d", {"date_dmy": "%d-%m-%Y", "date_mdy": "%m-%d-%Y"}.get(spec_name, "%Y-%m-%d")):
            try:
                return _in_years(datetime.strptime(text, fmt).date(), text)
            except ValueError:
                continue
        raise ValueError(text)
    if f_kind == "datetime":
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
            try:
                return _in_years(datetime.strptime(text, fmt), text)
            except ValueError:
                continue
        raise ValueError(text)
    if f_kind == "time":
        if not re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", text):
            raise ValueError(text)
        return text
    raise ValueError(text)


def read_dictionary(
    path: str | Path, limits: Limits | None = None, *, no_identifiers: bool = False
) -> tuple[list[Field] | None, list[str], list[Failure]]:
    """The fields of a data dictionary (download or API form), in dictionary order; the
    notes (what was read, what cannot be checked); the failures.

    The ``Identifier?`` column is required: without it nothing tells which fields to drop,
    so the dictionary is refused unless the study file says the project has no identifiers
    (``no_identifiers``, the study file's ``redcap.no_identifiers: true``)."""
    t, failures = read_csv_text(
        Path(path), "data dictionary", limits, max_columns=MAX_DICTIONARY_COLUMNS, spreadsheet=True
    )
    if t is None:
        return None, [], failures
    mapping, form_name, more = _canonical_header(t, "data dictionary")
    failures += more
    if mapping is None:
        return None, [], failures
    notes = [f"{t.name}: {form_name}" + f" ({describe(t)})"]
    if "identifier" not in mapping.values():
        label = "Identifier?" if form_name.endswith("download") else "identifier"
        if not no_identifiers:
            return (
                None,
                notes,
                failures
                + [
                    fail(
                        t.name,
                        f"the data dictionary's header has no column '{label}': nothing says which fields are "
                        "identifiers (names, e-mails, dates of birth), so none could be dropped. Download the "
                        f"dictionary again with every column, or say in the study file that the project has none "
                        f"({NO_IDENTIFIERS_KEY}: true)",
                        line=1,
                        field=label,
                    )
                ],
            )
        notes.append(
            f"{t.name}: no '{label}' column; the study file says the project has no identifiers "
            f"({NO_IDENTIFIERS_KEY})"
        )
    raw = _cells(t)
    col = {api: raw[h] for h, api in mapping.items()}
    n = len(t)
    get = {k: col.get(k, [""] * n) for k in API_COLUMNS}
    # Rows blank in every cell (a spreadsheet's re-save keeps thousands of them) are no fields.
    blank_rows = {i for i in range(n) if not any((get[k][i] or "").strip() for k in API_COLUMNS)}
    if n == len(blank_rows):
        return None, notes, failures + [fail(t.name, "the data dictionary has a header but no fields")]
    fields: list[Field] = []
    seen: dict[str, int] = {}
    form_order: list[str] = []
    unknown_validation: dict[str, list[str]] = {}
    name = t.name
    for i in range(n):
        if i in blank_rows:
            continue
        line = int(t.lines[i])
        cell = {k: (get[k][i] or "") for k in API_COLUMNS}
        fname = cell["field_name"].strip()
        form = cell["form_name"].strip()

        def bad(rule, field=fname, value="", severity="error"):
            failures.append(fail(name, rule, line=line, field=field, value=value, severity=severity))

        if not fname:
            bad("the field name is blank", field="")
            continue
        if not NAME.fullmatch(fname):
            bad(
                "field name is not a REDCap variable name (lower-case letters, digits and _, starting "
                "with a letter)",
                value=fname,
            )
            continue
        if fname in seen:
            bad(f"field name appears twice in the data dictionary (first on line {seen[fname]})", value=fname)
            continue
        seen[fname] = line
        if fname in RESERVED or fname.endswith("_complete") and fname[:-9] in (form, *form_order):
            bad("field name is reserved by REDCap for its own export columns", value=fname)
            continue
        if not form:
            bad("the form name is blank")
            continue
        if not NAME.fullmatch(form):
            bad("form name is not a REDCap instrument name (lower-case letters, digits and _)", value=form)
            continue
        if form_order and form != form_order[-1] and form in form_order:
            bad(
                f"field of form {form} comes after fields of form {form_order[-1]}: a form's fields must be "
                "together in the data dictionary",
                value=form,
            )
            continue
        if not form_order or form != form_order[-1]:
            form_order.append(form)
        ftype_raw = cell["field_type"].strip().lower()
        ftype = FIELD_TYPE_ALIASES.get(ftype_raw, ftype_raw)
        if ftype not in FIELD_TYPES:
            bad(f"unknown field type (REDCap's are {', '.join(FIELD_TYPES)})", value=cell["field_type"])
            continue
        choices_text = cell["select_choices_or_calculations"]
        choices: tuple = ()
        calculation = ""
        slider_labels: tuple = ()
        if ftype in ("radio", "dropdown", "checkbox"):
            try:
                choices = parse_choices(choices_text)
            except ChoicesError as exc:
                bad(
                    f"choice list cannot be read: {exc}; REDCap writes 'code, label | code, label'",
                    value=choices_text,
                )
                continue
            if not choices:
                bad(f"{ftype} field has no choices")
                continue
            shared = shared_labels(choices)
            if shared:  # REDCap allows it: a warning, the codes stay apart
                bad(shared, value=choices_text, severity="warning")
            big = oversized_code(choices) if ftype != "checkbox" else None
            if big is not None:
                bad(oversized_code_rule(big), value=big)
                continue
            if ftype == "checkbox":
                formatted = [checkbox_code_formatted(c) for c, _ in choices]
                clash = sorted({c for c in formatted if formatted.count(c) > 1 or c == ""})
                if clash:
                    bad(
                        f"checkbox codes give the same export column {fname}___{clash[0]} (REDCap lower-cases "
                        "codes and writes - and . as _)",
                        value=choices_text,
                    )
                    continue
        elif ftype in ("calc", "sql"):
            calculation = choices_text.strip()
        elif ftype == "slider":
            slider_labels = tuple(p.strip() for p in choices_text.split("|")) if choices_text.strip() else ()
            if len(slider_labels) > 3:
                bad("a slider has at most three labels (left | middle | right)", value=choices_text)
        vname = cell["text_validation_type_or_show_slider_number"].strip()
        validation_name = ""
        if ftype == "text" and vname:
            validation_name = VALIDATION_ALIASES.get(vname, vname)
            if validation_name not in VALIDATIONS:
                unknown_validation.setdefault(validation_name, []).append(fname)
        kind = Field(fname, form, ftype, validation=validation_name).kind
        lims = {}
        for key, lim in (("min", cell["text_validation_min"]), ("max", cell["text_validation_max"])):
            lim = lim.strip()
            lims[key] = None
            if not lim:
                continue
            if ftype == "slider":
                try:
                    lims[key] = float(lim)
                except ValueError:
                    bad(f"slider {key}imum is not a number", value=lim)
                continue
            if re.search(r"\[[^\]]+\]", lim):
                lims[key] = None  # piped from another field: checked by REDCap only
                notes.append(f"{fname}: {key}imum {lim} is piped from another field; not checked")
                continue
            if kind not in ("integer", "number", "date", "datetime", "time"):
                bad(
                    f"a {key}imum is set but the field has no number, date or time validation; it is ignored",
                    value=lim,
                    severity="warning",
                )
                continue
            try:
                lims[key] = parse_limit(lim, kind, validation_name)
            except ValueError:
                bad(f"validation {key}imum cannot be read as a {kind} ({validation_name})", value=lim)
                lims[key] = None
        lo, hi = lims["min"], lims["max"]
        if (
            lo is not None
            and hi is not None
            and not isinstance(lo, str)
            and not isinstance(hi, str)
            and type(lo) is type(hi)
            and lo > hi
        ):
            bad(
                f"validation minimum {cell['text_validation_min'].strip()} is above the maximum",
                value=cell["text_validation_max"].strip(),
            )
        identifier = identifier_flag(cell["identifier"])
        if identifier is None:
            bad(
                "'Identifier?' is not 'y' (an identifier) or blank (not one); REDCap reads 'y' or 'yes' in any "
                "case",
                field=fname,
                value=cell["identifier"],
            )
            continue
        if identifier and no_identifiers:
            bad(
                f"the field is marked as an identifier, but the study file says the project has none "
                f"({NO_IDENTIFIERS_KEY}: true)",
                value=cell["identifier"],
            )
            continue
        fields.append(
            Field(
                name=fname,
                form=form,
                type=ftype,
                label=cell["field_label"],
                section_header=cell["section_header"],
                choices=choices,
                calculation=calculation,
                slider_labels=slider_labels,
                note=cell["field_note"],
                validation=validation_name,
                min_text=cell["text_validation_min"].strip(),
                max_text=cell["text_validation_max"].strip(),
                minimum=lo,
                maximum=hi,
                identifier=identifier,
                branching=cell["branching_logic"].strip(),
                required=cell["required_field"].strip().lower() == "y",
                alignment=cell["custom_alignment"].strip(),
                question_number=cell["question_number"].strip(),
                matrix_group=cell["matrix_group_name"].strip(),
                matrix_ranking=cell["matrix_ranking"].strip().lower() == "y",
                annotation=cell["field_annotation"],
                line=line,
            )
        )
    for vname, names in unknown_validation.items():
        notes.append(
            f"validation type '{vname}' is not one this library knows; values of "
            f"{', '.join(names)} are checked as text only"
        )
    if fields and fields[0].type != "text":
        failures.append(
            fail(
                name,
                f"the first field ({fields[0].name}) is the record ID and must be a text "
                f"field, not {fields[0].type}",
                line=fields[0].line,
                field=fields[0].name,
            )
        )
    return fields, notes, failures


def forms_of(
    fields: list[Field], labels: dict[str, str] | None = None, record_id: str | None = None
) -> tuple[Form, ...]:
    labels = labels or {}
    record_id = record_id or (fields[0].name if fields else "")
    order: dict[str, list[str]] = {}
    for f in fields:
        order.setdefault(f.form, [])
        if f.name != record_id:
            order[f.form].append(f.name)
    return tuple(
        Form(name, labels.get(name) or _humanise(name), tuple(names)) for name, names in order.items()
    )


def read_designations(
    path: str | Path, forms: set[str], limits: Limits | None = None, events: set[str] | None = None
) -> tuple[list[tuple[int, str, str]] | None, list[str], list[Failure]]:
    """(arm, event, form) rows of REDCap's instrument designations; ``events``, when the
    project's events are known (the API's events export), are the only events allowed."""
    t, failures = read_csv_text(
        Path(path), "instrument designations", limits, max_columns=MAX_DICTIONARY_COLUMNS, spreadsheet=True
    )
    if t is None:
        return None, [], failures
    name = t.name
    missing = [c for c in DESIGNATION_COLUMNS if c not in t.header]
    if missing:
        return (
            None,
            [],
            failures
            + [
                fail(
                    name,
                    "not REDCap's instrument designations: the header has no "
                    f"column {', '.join(repr(m) for m in missing)} (expected "
                    "arm_num, unique_event_name, form)",
                    line=1,
                )
            ],
        )
    notes = [f"{name}: instrument designations" + f" ({describe(t)})"]
    cells = _cells(t)
    rows: list[tuple[int, str, str]] = []
    seen: set[tuple[str, str]] = set()
    for i in range(len(t)):
        line = int(t.lines[i])
        arm_text, event, form = (cells[c][i].strip() for c in DESIGNATION_COLUMNS)
        if not (arm_text or event or form):
            continue  # a blank row (a spreadsheet's re-save)
        if not re.fullmatch(r"\d+", arm_text):
            failures.append(
                fail(name, "arm_num is not a whole number", line=line, event=event, value=arm_text)
            )
            continue
        arm = int(arm_text)
        if not EVENT_NAME.fullmatch(event):
            failures.append(
                fail(
                    name,
                    "unique_event_name is not a REDCap unique event name (lower-case, ending _arm_N)",
                    line=line,
                    value=event,
                )
            )
            continue
        if not event.endswith(f"_arm_{arm}"):
            failures.append(
                fail(
                    name,
                    f"event {event} is designated to arm {arm} but its name ends in a different arm",
                    line=line,
                    event=event,
                    value=arm_text,
                )
            )
        if form not in forms:
            failures.append(
                fail(
                    name,
                    "designation names a form that is not in the data dictionary",
                    line=line,
                    event=event,
                    field="form",
                    value=form,
                )
            )
            continue
        if events is not None and event not in events:
            failures.append(
                fail(
                    name,
                    "designation names an event that is not in the events file",
                    line=line,
                    event=event,
                    field="unique_event_name",
                    value=event,
                )
            )
            continue
        if (event, form) in seen:
            failures.append(
                fail(
                    name,
                    "the same form is designated to the same event twice",
                    line=line,
                    event=event,
                    value=form,
                    severity="warning",
                )
            )
            continue
        seen.add((event, form))
        rows.append((arm, event, form))
    if not rows and not failures:
        failures.append(fail(name, "the instrument designations have a header but no rows"))
    return rows, notes, failures


def read_events(
    path: str | Path, limits: Limits | None = None
) -> tuple[dict[str, tuple[str, int, float | None]] | None, list[Failure]]:
    """Event labels from the API's events export (``event_name, arm_num, unique_event_name,
    custom_event_label, event_id, days_offset, offset_min, offset_max``)."""
    t, failures = read_csv_text(
        Path(path), "events file", limits, max_columns=MAX_DICTIONARY_COLUMNS, spreadsheet=True
    )
    if t is None:
        return None, failures
    if not {"event_name", "arm_num", "unique_event_name"} <= set(t.header):
        return None, failures + [
            fail(
                t.name,
                "not REDCap's events export: expected columns event_name, arm_num, unique_event_name",
                line=1,
            )
        ]
    cells = _cells(t)
    out = {}
    for i in range(len(t)):
        if not any(cells[h][i].strip() for h in t.header):
            continue  # a blank row (a spreadsheet's re-save)
        offset = cells.get("days_offset", [""] * len(t))[i].strip()
        try:
            out[cells["unique_event_name"][i].strip()] = (
                cells["event_name"][i].strip(),
                int(cells["arm_num"][i]),
                float(offset) if offset else None,
            )
        except ValueError:
            failures.append(
                fail(t.name, "arm_num is not a whole number", line=int(t.lines[i]), value=cells["arm_num"][i])
            )
    return out, failures


def _scalar(value) -> str:
    """A code or label of a setting: text or a number, never a list or mapping (which would
    be formatted whole)."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return str(value)
    raise ChoicesError(f"a code or label is {type(value).__name__}, not text")


def parse_missing_codes(spec, source: str) -> tuple[tuple[tuple[str, str], ...], list[Failure]]:
    """Missing-data codes as REDCap's project setting writes them (``UNK, Unknown | NASK,
    Not asked``, one per line or ``|``-separated), or a list of [code, label] pairs or a mapping."""
    if spec in (None, "", [], {}):
        return (), []
    try:
        if isinstance(spec, str):
            pairs = parse_choices(spec)
        elif isinstance(spec, dict):
            pairs = tuple((_scalar(k), _scalar(v)) for k, v in spec.items())
        else:
            pairs = tuple(
                (_scalar(p[0]), _scalar(p[1]) if len(p) > 1 else "")
                if isinstance(p, (list, tuple))
                else (_scalar(p), "")
                for p in spec
            )
    except (ChoicesError, IndexError, TypeError) as exc:
        return (), [fail(source, f"missing-data codes cannot be read: {exc}", value=spec)]
    bad = [c for c, _ in pairs if not re.fullmatch(r"[A-Za-z0-9._-]+", c)]
    if bad:
        return (), [
            fail(source, "a missing-data code may hold only letters, digits, '.', '-' and '_'", value=bad[0])
        ]
    return pairs, []


def parse_repeating(spec, source: str) -> tuple[Repeating | None, list[Failure]]:
    """The repeating set-up from settings: ``{instruments: [{form, event}], events: [event]}``
    (``event`` omitted for classic projects)."""
    if spec is None:
        return None, []
    instruments, events = set(), set()
    try:
        for item in spec.get("instruments", []) or []:
            if isinstance(item, str):
                instruments.add(("", item))
            else:
                instruments.add((item.get("event", "") or "", item["form"]))
        for item in spec.get("events", []) or []:
            events.add(item if isinstance(item, str) else item["event"])
    except (AttributeError, KeyError, TypeError) as exc:
        return None, [
            fail(
                source,
                f"repeating set-up cannot be read ({exc}); expected "
                "{instruments: [{form: F, event: E}], events: [E]}",
                value=spec,
            )
        ]
    return Repeating(frozenset(instruments), frozenset(events)), []


def build_project(
    fields: list[Field],
    *,
    designations=None,
    event_info=None,
    repeating: Repeating | None = None,
    missing_data_codes=(),
    sources=(),
    notes=(),
    form_labels=None,
    arm_names=None,
    source_name: str = "",
) -> tuple[Project | None, list[Failure]]:
    """Assemble and cross-check a Project."""
    failures: list[Failure] = []
    record_id = fields[0].name
    forms = forms_of(fields, form_labels, record_id)
    events: list[Event] = []
    arms: dict[int, Arm] = {}
    pairs: list[tuple[str, str]] = []
    event_info = event_info or {}
    arm_names = arm_names or {}
    for arm, event, form in designations or []:
        if event not in {e.unique_name for e in events}:
            label, _, offset = event_info.get(event, (event, arm, None))
            events.append(Event(event, label, arm, offset))
        arms.setdefault(arm, Arm(arm, arm_names.get(arm) or f"Arm {arm}"))
        pairs.append((event, form))
    if designations:
        designated = {f for _, f in pairs}
        for form in forms:
            if form.name not in designated:
                failures.append(
                    fail(
                        source_name,
                        f"form {form.name} is designated to no event: its data cannot "
                        "be entered in a longitudinal project",
                        field=form.name,
                        severity="warning",
                    )
                )
    if repeating is not None:
        valid_events = {e.unique_name for e in events} if events else {""}
        for event, form in sorted(repeating.instruments):
            if form not in {f.name for f in forms}:
                failures.append(
                    fail(source_name, "repeating instrument is not a form of the project", value=form)
                )
            if events and event not in valid_events:
                failures.append(
                    fail(
                        source_name,
                        "repeating instrument's event is not an event of the project",
                        event=event,
                        value=form,
                    )
                )
            if not events and event not in ("", "event_1_arm_1"):
                failures.append(fail(source_name, "a classic project has no events", event=event, value=form))
        for event in sorted(repeating.events):
            if not events or event not in valid_events:
                failures.append(
                    fail(source_name, "repeating event is not an event of the project", event=event)
                )
        if not events:  # classic: the XML says event_1_arm_1
            repeating = Repeating(frozenset(("", f) for _, f in repeating.instruments), frozenset())
    project = Project(
        fields=tuple(fields),
        forms=forms,
        record_id_field=record_id,
        events=tuple(events),
        arms=tuple(arms[a] for a in sorted(arms)),
        designations=tuple(pairs),
        repeating=repeating,
        missing_data_codes=tuple(missing_data_codes),
        sources=tuple(sources),
        notes=tuple(notes),
    )
    return project, failures


def read_metadata(
    dictionary: str | Path,
    instrument_designations: str | Path | None = None,
    *,
    events: str | Path | None = None,
    missing_data_codes=None,
    repeating=None,
    limits: Limits | None = None,
    no_identifiers: bool = False,
) -> tuple[Project | None, list[Failure]]:
    """A Project from the data dictionary (+ designations for a longitudinal project)."""
    fields, notes, failures = read_dictionary(dictionary, limits, no_identifiers=no_identifiers)
    if fields is None or not fields or any(f.severity == "error" for f in failures):
        return None, failures
    sources = [Path(dictionary).name]
    event_info = None
    if events is not None:
        event_info, more = read_events(events, limits)
        failures += more
    designations = None
    if instrument_designations is not None:
        designations, more_notes, more = read_designations(
            instrument_designations,
            {f.form for f in fields},
            limits,
            set(event_info) if event_info is not None else None,
        )
        failures += more
        notes += more_notes
        sources.append(Path(instrument_designations).name)
        if designations is None:
            return None, failures
    if events is not None:
        sources.append(Path(events).name)
    codes, more = parse_missing_codes(missing_data_codes, "settings: missing_data_codes")
    failures += more
    rep, more = parse_repeating(repeating, "settings: repeating")
    failures += more
    project, more = build_project(
        fields,
        designations=designations,
        event_info=event_info,
        repeating=rep,
        missing_data_codes=codes,
        sources=sources,
        notes=notes,
        source_name=Path(instrument_designations or dictionary).name,
    )
    failures += more
    if any(f.severity == "error" for f in failures):
        return None, failures
    return project, failures


__all__ = [
    "read_dictionary",
    "read_designations",
    "read_events",
    "read_metadata",
    "build_project",
    "parse_missing_codes",
    "parse_repeating",
    "DOWNLOAD_COLUMNS",
    "API_COLUMNS",
]
