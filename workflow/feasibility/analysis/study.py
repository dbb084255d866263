"""The validated data of a REDCap project, as the input layer hands it over.

``results/<id>/validated/`` (docs/design.md, "Validated data") holds one tidy table per
instrument (``<form>.parquet``), the project's metadata (``codebook.json``) and the
missing-data codes found (``missing_codes.parquet``). :class:`StudyData` reads them;
:class:`Codebook` answers what the analysis asks of the metadata: a field's form, label
and choices, the events a form is designated for, whether it repeats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

# columns every tidy table may carry besides the form's fields
DESIGN_COLUMNS = (
    "record_id",
    "redcap_event_name",
    "redcap_arm",
    "redcap_repeat_instance",
    "redcap_data_access_group",
)
CLASSIC_EVENT = ""  # the one pseudo-event of a project without events


@dataclass(frozen=True)
class FieldInfo:
    """One field of the data dictionary (the codebook's ``fields`` entry)."""

    name: str
    form: str
    type: str
    label: str
    choices: tuple[tuple[Any, str], ...] = ()
    validation: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    identifier: bool = False
    columns: tuple[str, ...] = ()

    @property
    def is_checkbox(self) -> bool:
        return self.type == "checkbox"

    @property
    def is_coded(self) -> bool:
        return bool(self.choices) and not self.is_checkbox


def checkbox_columns(field: Mapping) -> list[str]:
    """A field's export columns: REDCap's ``name___code`` per choice of a checkbox (a minus
    sign in a code becomes ``_``: code -99 gives ``name____99``), else the name."""
    if field.get("type") == "checkbox":
        return [
            f"{field['name']}___{str(code).strip().replace('-', '_').lower()}"
            for code, _ in field.get("choices") or []
        ]
    return [field["name"]]


def _code(code: Any) -> Any:
    """A choice code as the tidy tables hold it: an int when it is a whole number."""
    if isinstance(code, bool):
        return int(code)
    if isinstance(code, (int,)):
        return code
    if isinstance(code, float) and code.is_integer():
        return int(code)
    text = str(code).strip()
    try:
        return int(text)
    except ValueError:
        return text


def _keyed(frame: pd.DataFrame, record_id_field: str) -> pd.DataFrame:
    """A validated table keyed as the analysis keys it: the record ID, which the validated
    files hold under its project's own name (``record_id_field``), as ``record_id``."""
    if record_id_field != "record_id" and record_id_field in frame.columns:
        return frame.rename(columns={record_id_field: "record_id"})
    return frame


class Codebook:
    """The project's metadata (``codebook.json``)."""

    def __init__(self, book: Mapping):
        self.raw = dict(book)
        self.record_id_field = book.get("record_id_field", "record_id")
        self.longitudinal = bool(book.get("longitudinal", bool(book.get("events"))))
        self.arms = {int(k): v for k, v in (book.get("arms") or {}).items()}
        events = book.get("events") or []
        self.events: dict[str, dict] = {e["unique_name"]: dict(e) for e in events}
        forms = book.get("forms") or []
        self.forms: dict[str, dict] = {f["name"]: dict(f) for f in forms}
        self.fields: dict[str, FieldInfo] = {}
        self.columns: dict[str, str] = {}  # export column -> field name
        for f in book.get("fields") or []:
            columns = tuple(f.get("export_columns") or checkbox_columns(f))
            info = FieldInfo(
                name=f["name"],
                form=f["form"],
                type=f.get("type", "text"),
                label=f.get("label") or f["name"],
                choices=tuple((_code(c), str(text)) for c, text in (f.get("choices") or [])),
                validation=f.get("validation") or None,
                minimum=f.get("min"),
                maximum=f.get("max"),
                identifier=bool(f.get("identifier")),
                columns=columns,
            )
            self.fields[info.name] = info
            for column in columns:
                self.columns[column] = info.name
            self.forms.setdefault(info.form, {"name": info.form, "fields": []})
        # columns validation derived before the identifiers were dropped (e.g. age at consent
        # from date of birth: validation.derive); whole numbers, in the form that holds them
        for form in forms:
            for name in form.get("derived") or []:
                if name not in self.fields:
                    self.fields[name] = FieldInfo(
                        name=name,
                        form=form["name"],
                        type="text",
                        label=name.replace("_", " ").capitalize(),
                        validation="integer",
                        columns=(name,),
                    )
                    self.columns[name] = name
        designations = book.get("designations") or {}
        if isinstance(designations, list):  # REDCap's rows: arm_num, unique_event_name, form
            rows = designations
            designations = {}
            for row in rows:
                designations.setdefault(row["unique_event_name"], []).append(row["form"])
        if self.longitudinal:
            self.designations = {e: list(fs) for e, fs in designations.items()}
        else:
            self.designations = {CLASSIC_EVENT: list(self.forms)}
            self.events = {CLASSIC_EVENT: {"unique_name": CLASSIC_EVENT, "label": "", "arm": 1}}
        repeating = book.get("repeating") or {}
        self.repeating_instruments: set[tuple[str, str]] = set()
        for item in repeating.get("instruments") or []:
            if isinstance(item, Mapping):
                self.repeating_instruments.add((item.get("event") or CLASSIC_EVENT, item["form"]))
            elif isinstance(item, (list, tuple)):
                event, form = item
                self.repeating_instruments.add((event or CLASSIC_EVENT, form))
            else:  # a form name: repeats wherever it is
                for event in self.events_of(str(item)):
                    self.repeating_instruments.add((event, str(item)))
        self.repeating_events = set(repeating.get("events") or [])

    # -- forms and events ----------------------------------------------------------
    def events_of(self, form: str) -> list[str]:
        """The events ``form`` is designated for, in the project's event order."""
        return [e for e in self.events if form in self.designations.get(e, [])]

    def arm_of(self, event: str) -> int:
        return int(self.events.get(event, {}).get("arm") or 1)

    def repeats(self, form: str, events: list[str] | None = None) -> bool:
        """Whether ``form`` repeats (as a repeating instrument or in a repeating event) at
        any of ``events`` (default: wherever it is designated)."""
        events = self.events_of(form) if events is None else events
        return any((e, form) in self.repeating_instruments or e in self.repeating_events for e in events)

    def field_of_column(self, column: str) -> FieldInfo | None:
        name = self.columns.get(column)
        return self.fields.get(name) if name else None

    def choices(self, name: str) -> tuple[tuple[Any, str], ...]:
        info = self.fields.get(name)
        return info.choices if info else ()


def empty_dtype(info: FieldInfo):
    """The dtype of a field's column in a tidy table (docs/design.md, "Validated data")."""
    if info.is_checkbox:
        return bool
    if info.validation and info.validation.startswith(("date", "datetime")):
        return "datetime64[ns]"
    if info.is_coded:
        numeric = all(isinstance(c, int) for c, _ in info.choices)
        return "Int64" if numeric else "string"
    if info.validation == "integer" or info.type in ("calc", "slider"):
        return "Int64"
    if info.validation and info.validation.startswith("number"):
        return "float64"
    return "string"


@dataclass
class StudyData:
    """A validated project: its codebook and one tidy table per instrument."""

    codebook: Codebook
    forms: dict[str, pd.DataFrame]
    missing_codes: pd.DataFrame | None = None

    @classmethod
    def read(cls, folder: str | Path) -> "StudyData":
        """Read ``folder/codebook.json``, every ``<form>.parquet`` and ``missing_codes.parquet``."""
        folder = Path(folder)
        book_path = folder / "codebook.json"
        if not book_path.exists():
            raise FileNotFoundError(
                f"{book_path}: no codebook; the validated data of a project "
                "are <form>.parquet files with codebook.json beside them"
            )
        book = Codebook(json.loads(book_path.read_text()))
        forms = {}
        for form in book.forms:
            path = folder / f"{form}.parquet"
            if path.exists():  # the record ID under its project's name, keyed as record_id here
                forms[form] = _keyed(pd.read_parquet(path), book.record_id_field)
        missing = folder / "missing_codes.parquet"
        return cls(
            book, forms, _keyed(pd.read_parquet(missing), book.record_id_field) if missing.exists() else None
        )

    @classmethod
    def from_frames(cls, codebook: Mapping, forms: Mapping[str, pd.DataFrame]) -> "StudyData":
        """A project from an in-memory codebook and tables (tests, generators)."""
        return cls(Codebook(codebook), dict(forms))

    def table(self, form: str) -> pd.DataFrame:
        """The form's tidy table (an empty one with the form's columns when it has no rows)."""
        if form in self.forms:
            df = self.forms[form]
            if "redcap_event_name" not in df:
                df = df.assign(redcap_event_name=CLASSIC_EVENT)
            return df
        if form not in self.codebook.forms:
            raise KeyError(form)
        columns = {"record_id": object, "redcap_event_name": object}
        for f in self.codebook.fields.values():
            if f.form == form and f.name != self.codebook.record_id_field:
                for c in f.columns:
                    columns[c] = empty_dtype(f)
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in columns.items()})

    def record_ids(self) -> pd.Index:
        """Every record, in the order the tables first give them (the export's order)."""
        seen: dict[str, None] = {}
        for form in self.codebook.forms:
            if form in self.forms:
                for r in pd.unique(self.forms[form]["record_id"].astype(str)):
                    seen.setdefault(r, None)
        return pd.Index(list(seen), name="record_id", dtype=object)
