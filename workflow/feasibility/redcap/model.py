"""The REDCap project model: fields, forms, events, arms, repeating set-up, missing-data codes.

One :class:`Project` describes everything the library needs, whether it was read from
the data dictionary (+ instrument designations) or from the project XML. The REDCap
conventions it encodes, and where they come from:

* Field types (data dictionary "Field Type"): text, notes, radio, dropdown, checkbox,
  yesno, truefalse, calc, slider, descriptive, file, sql; the project XML and REDCap's
  database use ``select`` for dropdown and ``textarea`` for notes.
* Validation types ("Text Validation Type OR Show Slider Number"): REDCap's names; the
  project XML keeps the database's ``int`` and ``float`` for integer and number.
* Choices: ``code, label | code, label`` split on the first comma of each part.
* Checkbox export columns ``field___code``: REDCap core's
  ``Project::getExtendedCheckboxCodeFormatted`` replaces ``-`` and ``.`` by ``_``,
  lower-cases the code and drops any other character outside ``[a-z0-9_]``
  (so ``-99`` gives ``field____99`` and ``A`` gives ``field___a``).
* The record ID is the first field of the dictionary, whatever its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

FIELD_TYPES = (
    "text",
    "notes",
    "radio",
    "dropdown",
    "checkbox",
    "yesno",
    "truefalse",
    "calc",
    "slider",
    "descriptive",
    "file",
    "sql",
)
# The database's (and the project XML's) names for two of them.
FIELD_TYPE_ALIASES = {"select": "dropdown", "textarea": "notes"}
CODED_TYPES = ("radio", "dropdown", "yesno", "truefalse", "sql")
YESNO = (("1", "Yes"), ("0", "No"))
TRUEFALSE = (("1", "True"), ("0", "False"))
FORM_STATUS = (("0", "Incomplete"), ("1", "Unverified"), ("2", "Complete"))


@dataclass(frozen=True)
class Validation:
    """What REDCap checks for one validation type, and how the raw export writes it."""

    name: str
    kind: str  # date, datetime, time, integer, number, pattern
    pattern: str = ""  # full-match regular expression of the raw export's text
    strptime: str = ""  # format of the raw export's text (dates and times)
    decimals: int | None = None
    comma: bool = False  # comma as the decimal mark (kept by the raw export)
    description: str = ""


def _number(decimals: int | None, comma: bool) -> str:
    mark = "," if comma else r"\."
    if decimals is None:
        return rf"[-+]?(\d+({mark}\d*)?|{mark}\d+)([eE][-+]?\d+)?"
    return rf"[-+]?\d+{mark}\d{{{decimals}}}"


def _validations() -> dict[str, Validation]:
    v: dict[str, Validation] = {}
    date_re = r"\d{4}-\d{2}-\d{2}"
    for order in ("ymd", "mdy", "dmy"):
        # The raw export writes every date and datetime as Y-M-D whatever the display order.
        v[f"date_{order}"] = Validation(
            f"date_{order}", "date", date_re, "%Y-%m-%d", description="date (YYYY-MM-DD)"
        )
        v[f"datetime_{order}"] = Validation(
            f"datetime_{order}",
            "datetime",
            date_re + r" \d{2}:\d{2}",
            "%Y-%m-%d %H:%M",
            description="date and time (YYYY-MM-DD HH:MM)",
        )
        v[f"datetime_seconds_{order}"] = Validation(
            f"datetime_seconds_{order}",
            "datetime",
            date_re + r" \d{2}:\d{2}:\d{2}",
            "%Y-%m-%d %H:%M:%S",
            description="date and time with seconds (YYYY-MM-DD HH:MM:SS)",
        )
    v["time"] = Validation("time", "time", r"([01]\d|2[0-3]):[0-5]\d", description="time (HH:MM)")
    v["time_hh_mm_ss"] = Validation(
        "time_hh_mm_ss", "time", r"([01]\d|2[0-3]):[0-5]\d:[0-5]\d", description="time (HH:MM:SS)"
    )
    v["time_mm_ss"] = Validation("time_mm_ss", "time", r"[0-5]\d:[0-5]\d", description="time (MM:SS)")
    v["integer"] = Validation("integer", "integer", r"[-+]?\d+", description="whole number")
    v["number"] = Validation("number", "number", _number(None, False), description="number")
    v["number_comma_decimal"] = Validation(
        "number_comma_decimal",
        "number",
        _number(None, True),
        comma=True,
        description="number (comma as decimal mark)",
    )
    for d in (1, 2, 3, 4):
        v[f"number_{d}dp"] = Validation(
            f"number_{d}dp",
            "number",
            _number(d, False),
            decimals=d,
            description=f"number with {d} decimal place{'s' * (d > 1)}",
        )
        v[f"number_{d}dp_comma_decimal"] = Validation(
            f"number_{d}dp_comma_decimal",
            "number",
            _number(d, True),
            decimals=d,
            comma=True,
            description=f"number with {d} decimal place{'s' * (d > 1)} (comma as decimal mark)",
        )
    patterns = {
        "email": (r"[^@\s]+@[^@\s]+\.[^@\s]+", "e-mail address"),
        "phone": (
            r"\(?[2-9]\d{2}\)?[-. ]?[2-9]\d{2}[-. ]?\d{4}(\s*(x|ext\.?)\s*\d+)?",
            "North American phone number",
        ),
        "phone_australia": (r"(\(0\d\)|0\d)?[ ]?\d{4}[ ]?\d{4}", "Australian phone number"),
        "phone_uk": (r"(\+44\s?|0)[\d\s()-]{9,13}", "UK phone number"),
        "zipcode": (r"\d{5}(-\d{4})?", "U.S. ZIP code"),
        "postalcode_australia": (r"\d{4}", "Australian postcode"),
        "postalcode_canada": (r"[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d", "Canadian postal code"),
        "postalcode_french": (r"\d{5}", "French postal code"),
        "postalcode_germany": (r"\d{5}", "German postal code"),
        "postalcode_uk": (r"[A-Za-z]{1,2}\d[A-Za-z\d]? ?\d[A-Za-z]{2}", "UK postcode"),
        "alpha_only": (r"[A-Za-z]+", "letters only"),
        "ssn": (r"\d{3}-\d{2}-\d{4}", "U.S. social security number"),
        "mrn_10d": (r"\d{10}", "10-digit medical record number"),
        "vmrn": (r"\d{10}", "10-digit medical record number"),
        "mrn_generic": (r"[A-Za-z0-9_-]+", "medical record number"),
    }
    for name, (pattern, description) in patterns.items():
        v[name] = Validation(name, "pattern", pattern, description=description)
    return v


VALIDATIONS = _validations()
# The database's names, as the project XML (and old dictionaries) write them.
VALIDATION_ALIASES = {
    "int": "integer",
    "float": "number",
    "date": "date_ymd",
    "datetime": "datetime_ymd",
    "datetime_seconds": "datetime_seconds_ymd",
}


def validation(name: str) -> Validation | None:
    return VALIDATIONS.get(VALIDATION_ALIASES.get(name, name))


def checkbox_code_formatted(code: str) -> str:
    """The code as REDCap writes it in a checkbox column name.

    >>> [checkbox_code_formatted(c) for c in ("1", "-99", "A", "1.5", "a b")]
    ['1', '_99', 'a', '1_5', 'ab']
    """
    code = code.replace("-", "_").replace(".", "_").lower()
    return re.sub(r"[^a-z_0-9]", "", code)


def checkbox_column(field_name: str, code: str) -> str:
    return f"{field_name}___{checkbox_code_formatted(code)}"


class ChoicesError(ValueError):
    """A choice list that is not ``code, label | code, label``."""


def parse_choices(text: str) -> tuple[tuple[str, str], ...]:
    """REDCap's ``code, label | code, label`` (with or without spaces around ``|``; a
    label may hold commas: split on the first). Codes are kept as text.

    >>> parse_choices("1, one|2, two, or three | -99, Unknown")
    (('1', 'one'), ('2', 'two, or three'), ('-99', 'Unknown'))
    """
    text = (text or "").strip()
    if not text:
        return ()
    pairs = []
    for part in re.split(r"\s*\|\s*|\s*\n\s*", text):
        if not part.strip():
            continue
        code, comma, label = part.partition(",")
        code = code.strip()
        if not comma or not code:
            raise ChoicesError(f"choice {part.strip()!r} is not 'code, label'")
        pairs.append((code, label.strip()))
    codes = [c for c, _ in pairs]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise ChoicesError(f"code {dup[0]!r} appears more than once")
    return tuple(pairs)


def shared_labels(choices) -> str | None:
    """A sentence naming two choices that share a label (compared without case and outer
    spaces), or None. Tables that count by label would count such choices as one (issue 12)."""
    seen: dict[str, str] = {}
    for code, label in choices:
        key = " ".join(label.split()).casefold()
        if key and key in seen:
            return (
                f"two choices share the label '{label.strip()}' (codes {seen[key]} and {code}): REDCap "
                "allows it, but a table by label would show them as one"
            )
        seen.setdefault(key, code)
    return None


def is_integer_code(code: str) -> bool:
    return re.fullmatch(r"-?\d+", code) is not None


@dataclass(frozen=True)
class Field:
    """One row of the data dictionary."""

    name: str
    form: str
    type: str
    label: str = ""
    section_header: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    calculation: str = ""
    slider_labels: tuple[str, ...] = ()
    note: str = ""
    validation: str = ""  # REDCap's name (aliases resolved)
    min_text: str = ""
    max_text: str = ""
    minimum: float | date | datetime | None = None
    maximum: float | date | datetime | None = None
    identifier: bool = False
    branching: str = ""
    required: bool = False
    alignment: str = ""
    question_number: str = ""
    matrix_group: str = ""
    matrix_ranking: bool = False
    annotation: str = ""
    line: int | None = None  # where it is defined (dictionary line)

    @property
    def spec(self) -> Validation | None:
        return validation(self.validation) if self.type == "text" and self.validation else None

    @property
    def kind(self) -> str:
        """How the value is typed: date, datetime, time, integer, number, code, checkbox,
        text, none (descriptive)."""
        if self.type == "descriptive":
            return "none"
        if self.type == "checkbox":
            return "checkbox"
        if self.type in CODED_TYPES:
            return "code"
        if self.type == "slider":
            return "integer"
        if self.type == "calc":
            return "number"
        spec = self.spec
        if spec is not None and spec.kind in ("date", "datetime", "time", "integer", "number"):
            return spec.kind
        return "text"

    @property
    def codes(self) -> tuple[tuple[str, str], ...]:
        if self.type == "yesno":
            return YESNO
        if self.type == "truefalse":
            return TRUEFALSE
        return self.choices

    @property
    def integer_codes(self) -> bool:
        return bool(self.codes) and all(is_integer_code(c) for c, _ in self.codes)

    @property
    def export_columns(self) -> tuple[str, ...]:
        if self.type == "descriptive":
            return ()
        if self.type == "checkbox":
            return tuple(checkbox_column(self.name, c) for c, _ in self.choices)
        return (self.name,)

    @property
    def action_tags(self) -> frozenset[str]:
        return frozenset(t.upper() for t in re.findall(r"@[A-Za-z][A-Za-z0-9_-]*", self.annotation))


@dataclass(frozen=True)
class Form:
    name: str
    label: str
    fields: tuple[str, ...]  # field names in dictionary order (record ID excluded)


@dataclass(frozen=True)
class Arm:
    num: int
    name: str


@dataclass(frozen=True)
class Event:
    unique_name: str
    label: str
    arm: int
    day_offset: float | None = None


@dataclass(frozen=True)
class Repeating:
    """Repeating set-up: ``instruments`` holds (event, form) pairs and ``events`` whole
    events; classic projects use event ``""``."""

    instruments: frozenset[tuple[str, str]] = frozenset()
    events: frozenset[str] = frozenset()

    @property
    def any(self) -> bool:
        return bool(self.instruments or self.events)


@dataclass(frozen=True)
class Project:
    """A REDCap project's metadata, as its own downloads describe it."""

    fields: tuple[Field, ...]
    forms: tuple[Form, ...]
    record_id_field: str
    events: tuple[Event, ...] = ()
    arms: tuple[Arm, ...] = ()
    designations: tuple[tuple[str, str], ...] = ()  # (event, form) in designation order
    repeating: Repeating | None = None  # None: not declared (inferred from the records)
    missing_data_codes: tuple[tuple[str, str], ...] = ()
    title: str = ""
    sources: tuple[str, ...] = ()  # file names the metadata came from
    notes: tuple[str, ...] = ()  # what could not be used, listed once
    created: str = ""  # the project XML's ODM CreationDateTime, as written

    @property
    def longitudinal(self) -> bool:
        return bool(self.events)

    @cached_property
    def field(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def form(self) -> dict[str, Form]:
        return {f.name: f for f in self.forms}

    @cached_property
    def event(self) -> dict[str, Event]:
        return {e.unique_name: e for e in self.events}

    @cached_property
    def record_id(self) -> Field:
        return self.field[self.record_id_field]

    def form_fields(self, form: str) -> list[Field]:
        return [self.field[n] for n in self.form[form].fields]

    def events_of(self, form: str) -> tuple[str, ...]:
        """Events the designations give a form (classic projects: ``("",)``)."""
        if not self.longitudinal:
            return ("",)
        return tuple(e for e, f in self.designations if f == form)

    def forms_of(self, event: str) -> tuple[str, ...]:
        if not self.longitudinal:
            return tuple(f.name for f in self.forms)
        return tuple(f for e, f in self.designations if e == event)

    @cached_property
    def column_owner(self) -> dict[str, tuple[Field, str | None]]:
        """Each export column of a field: (field, checkbox code or None)."""
        out: dict[str, tuple[Field, str | None]] = {}
        for f in self.fields:
            if f.type == "checkbox":
                for code, _ in f.choices:
                    out[checkbox_column(f.name, code)] = (f, code)
            elif f.type != "descriptive":
                out[f.name] = (f, None)
        return out

    def repeats(self, form: str, event: str = "") -> str | None:
        """``"instrument"``, ``"event"`` or None: how ``form`` repeats at ``event``."""
        rep = self.repeating or Repeating()
        if (event, form) in rep.instruments:
            return "instrument"
        if event in rep.events:
            return "event"
        return None

    def repeating_form(self, form: str) -> bool:
        return any(self.repeats(form, e) for e in self.events_of(form))

    @property
    def missing_codes(self) -> frozenset[str]:
        return frozenset(c for c, _ in self.missing_data_codes)

    def arm_of(self, event: str) -> int | None:
        e = self.event.get(event)
        return e.arm if e else None
