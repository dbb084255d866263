"""TEMPORARY (phase B): the per-form interface built from today's twelve validated exports.

The analysis reads one tidy table per instrument, ``<form>.parquet``, with
``codebook.json`` and ``missing_codes.parquet`` beside them (DESIGN.md, "Validated data").
Until the REDCap input layer writes that interface itself (``results/validated/``), the
temporary rule ``forms_interface`` builds it into ``results/forms/`` from what today's
validation writes: it splits and renames the twelve ``results/validated/<export>.parquet``
into one table per instrument, as REDCap's all-records export would give them:

* every person screened is a record; ``record_id`` is the screening number (S001…);
  the participant ID (PP01…) is the identifier field ``scr_participant_id`` and is
  dropped, as are the other identifiers (``enr_screening_id``, ``dem_dob``);
* age at consent is derived before the identifiers are dropped (``demographics.age``,
  whole years, the declared derivation the input layer will run);
* columns ``record_id``, ``redcap_event_name``, ``redcap_arm``,
  ``redcap_repeat_instance`` (repeating instruments only), then the form's fields in
  dictionary order, typed (coded and integer fields ``Int64``, numbers ``float64``,
  dates ``datetime64[ns]``, checkbox choices ``bool``, text ``string``), then
  ``<form>_complete``;
* a row exists for each record x event x instance where the form has any non-blank
  field or a complete status of 1 or 2.

:func:`participants_for_figures` gives today's figure modules (``figures/consort.py``,
``timeline.py``, ``completeness.py``) the one-row-per-participant table they read, from the
analysis dataset. Both go when the input layer's ``results/validated/`` and the generic
figures land: delete this module, the rules ``forms_interface`` and ``participants_table``,
and point ``FORMS`` in ``workflow/rules/common.smk`` at ``results/validated``.
Nothing else in the analysis reads today's exports or CRF.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from feasibility import crf        # today's CRF: only this temporary module reads it
from feasibility.io import write_parquet, write_text

# The paper's study as a REDCap project: form -> (events, repeating)
ARM = 1
EVENTS = crf.EVENTS                     # today's events, in order
FOLLOW_UPS = crf.FOLLOW_UP_EVENTS
FORMS: dict[str, tuple[tuple[str, ...], bool]] = {
    "screening": (("screening_arm_1",), False),
    "enrolment": (("baseline_arm_1",), False),
    "demographics": (("baseline_arm_1",), False),
    "health_questionnaire": (("baseline_arm_1", *FOLLOW_UPS), False),
    "work_preparation": (("intervention_arm_1",), False),
    "placement": (("intervention_arm_1",), False),
    "cm_contact": (("intervention_arm_1",), True),
    "status_change": (("intervention_arm_1",), True),
    "adverse_event": (("intervention_arm_1",), True),
    "followup_admin": (FOLLOW_UPS, False),
    "work_questionnaire": (FOLLOW_UPS, False),
    "employment": (("week14_arm_1", "month6_arm_1"), False),
}
# Today's export that holds each form (at each event)
EXPORT_OF = {
    "screening": "screening", "enrolment": "enrolment", "demographics": "enrolment",
    "work_preparation": "work_preparation", "placement": "placements",
    "cm_contact": "case_management", "status_change": "status_changes",
    "adverse_event": "adverse_events", "followup_admin": "followup_admin",
}
QUESTIONNAIRE_EXPORT = {"baseline_arm_1": "questionnaires_baseline",
                        "week6_arm_1": "questionnaires_week6",
                        "week14_arm_1": "questionnaires_week14",
                        "month6_arm_1": "questionnaires_month6"}
NUMBER_VALIDATIONS = {"number", "number_1dp", "number_2dp"}


# ----------------------------------------------------------------------------- dictionary
def _number(text: str):
    if text is None or text == "":
        return None
    value = float(text)
    return int(value) if value.is_integer() else value


def _choices(text: str) -> list[list[str]]:
    out = []
    for part in (text or "").split("|"):
        if part.strip():
            code, _, label = part.partition(",")
            out.append([code.strip(), label.strip()])
    return out


def read_dictionary(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def codebook(dictionary: pd.DataFrame) -> dict:
    """The Project metadata of DESIGN.md's ``codebook.json`` from the data dictionary."""
    fields = []
    forms: dict[str, list[str]] = {}
    for row in dictionary.to_dict("records"):
        name, form, ftype = row["Variable / Field Name"], row["Form Name"], row["Field Type"]
        if ftype == "yesno":
            choices = [["1", "Yes"], ["0", "No"]]
        elif ftype in ("radio", "dropdown", "checkbox"):
            choices = _choices(row["Choices, Calculations, OR Slider Labels"])
        else:
            choices = []
        if ftype == "checkbox":
            columns = [f"{name}___{code.replace('-', '_')}" for code, _ in choices]
        else:
            columns = [name]
        fields.append({
            "name": name, "form": form, "type": ftype, "label": row["Field Label"],
            "note": row["Field Note"],
            "validation": row["Text Validation Type OR Show Slider Number"] or None,
            "min": _number(row["Text Validation Min"]), "max": _number(row["Text Validation Max"]),
            "choices": choices, "identifier": row["Identifier?"] == "y",
            "required": row["Required Field?"] == "y",
            "branching": row["Branching Logic (Show field only if...)"],
            "annotation": row["Field Annotation"], "export_columns": columns,
        })
        forms.setdefault(form, []).append(name)
    # the derived age at consent, computed before date of birth is dropped
    dob = next(i for i, f in enumerate(fields) if f["name"] == "dem_dob")
    fields.insert(dob + 1, {
        "name": "age", "form": "demographics", "type": "text",
        "label": "Age at consent (years)", "note": "Derived from date of birth at consent",
        "validation": "integer", "min": None, "max": None, "choices": [], "identifier": False,
        "required": False, "branching": "", "annotation": "", "export_columns": ["age"]})
    forms["demographics"].insert(forms["demographics"].index("dem_dob") + 1, "age")
    identifiers = {f["name"] for f in fields if f["identifier"] and f["name"] != "record_id"}
    for form in forms:
        forms[form] = [f for f in forms[form] if f not in identifiers]
    return {
        "record_id_field": "record_id",
        "longitudinal": True,
        "arms": {str(ARM): "Arm 1"},
        "events": [{"unique_name": e, "label": label, "arm": ARM} for e, label in EVENTS.items()],
        "designations": {e: [f for f, (events, _) in FORMS.items() if e in events] for e in EVENTS},
        "repeating": {"instruments": [{"event": ev, "form": f} for f, (events, rep) in FORMS.items()
                                      if rep for ev in events],
                      "events": []},
        "forms": [{"name": f, "label": f.replace("_", " ").capitalize(), "fields": forms[f]}
                  for f in FORMS],
        "fields": fields,
        "missing_data_codes": [],
    }


# ------------------------------------------------------------------------------- tables
def _typed(values: pd.Series, field: dict) -> pd.Series:
    ftype, validation = field["type"], field["validation"]
    if ftype == "checkbox":
        return values.fillna(0).astype(float).eq(1)
    if validation in ("date_ymd",):
        return pd.to_datetime(values).astype("datetime64[ns]")
    if ftype in ("radio", "dropdown", "yesno", "truefalse") or validation == "integer":
        return pd.to_numeric(values).round().astype("Int64")
    if validation in NUMBER_VALIDATIONS:
        return pd.to_numeric(values).astype("float64")
    return values.astype("string")


def _age(consent: pd.Series, dob: pd.Series) -> pd.Series:
    """Whole years from date of birth to the consent date."""
    before = (consent.dt.month < dob.dt.month) | ((consent.dt.month == dob.dt.month)
                                                 & (consent.dt.day < dob.dt.day))
    return (consent.dt.year - dob.dt.year - before.astype(int)).astype("Int64")


def form_tables(validated: Path, book: dict) -> dict[str, pd.DataFrame]:
    """One tidy table per instrument from today's twelve validated exports."""
    exports = {p.stem: pd.read_parquet(p) for p in sorted(validated.glob("*.parquet"))}
    screening = exports["screening"]
    to_s = dict(zip(screening["scr_participant_id"].dropna(),
                    screening.loc[screening["scr_participant_id"].notna(), "record_id"]))
    enrolment = exports["enrolment"]
    enrolment = enrolment.assign(age=_age(enrolment["enr_consent_date"], enrolment["dem_dob"]))
    exports["enrolment"] = enrolment
    fields = {f["name"]: f for f in book["fields"]}
    forms = {f["name"]: f["fields"] for f in book["forms"]}
    out = {}
    for form, (events, repeating) in FORMS.items():
        parts = []
        for event in events:
            name = QUESTIONNAIRE_EXPORT[event] if form in (
                "health_questionnaire", "work_questionnaire", "employment") else EXPORT_OF[form]
            df = exports[name]
            df = df[df["redcap_event_name"] == event]
            parts.append(df)
        src = pd.concat(parts, ignore_index=True)
        ids = src["record_id"].astype(str)
        table = pd.DataFrame({
            "record_id": ids.map(to_s).fillna(ids).astype("string").astype(object),
            "redcap_event_name": src["redcap_event_name"].astype(str),
            "redcap_arm": np.full(len(src), ARM, dtype="int64"),
        })
        if repeating:
            instance = src["redcap_repeat_instance"].round().astype("Int64")
            table["redcap_repeat_instance"] = instance.array
        columns = [c for name in forms[form] if name != "record_id"
                   for c in fields[name]["export_columns"]]
        for name in forms[form]:
            if name == "record_id":
                continue
            for column in fields[name]["export_columns"]:
                table[column] = _typed(src[column], fields[name]).array
        complete = f"{form}_complete"
        table[complete] = pd.to_numeric(src[complete]).round().astype("Int64").array
        boxes = [c for name in forms[form] if fields[name]["type"] == "checkbox"
                 for c in fields[name]["export_columns"]]
        # a ticked checkbox is a value; an unticked one (False) is what REDCap writes for blank
        filled = table[columns].drop(columns=boxes).notna()
        filled = pd.concat([filled, table[boxes]], axis=1)
        keep = filled.any(axis=1) | table[complete].isin([1, 2]).fillna(False)
        table = table[keep.to_numpy()]
        sort = ["record_id", "redcap_event_name"] + (
            ["redcap_repeat_instance"] if repeating else [])
        order = {e: i for i, e in enumerate(EVENTS)}
        table = (table.assign(_event=table["redcap_event_name"].map(order))
                 .sort_values(["record_id", "_event"] + sort[2:], kind="stable")
                 .drop(columns="_event").reset_index(drop=True))
        out[form] = table
    return out


def write_interface(validated: Path, dictionary: Path, out: Path) -> Path:
    """Write ``<form>.parquet``, ``codebook.json`` and ``missing_codes.parquet`` to ``out``
    (each atomically)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    book = codebook(read_dictionary(Path(dictionary)))
    for form, table in form_tables(Path(validated), book).items():
        write_parquet(out / f"{form}.parquet", table)
    write_text(out / "codebook.json", json.dumps(book, indent=1, ensure_ascii=False) + "\n")
    write_parquet(out / "missing_codes.parquet", pd.DataFrame({
        "record_id": pd.Series(dtype=str), "redcap_event_name": pd.Series(dtype=str),
        "redcap_repeat_instance": pd.Series(dtype="Int64"), "form": pd.Series(dtype=str),
        "field": pd.Series(dtype=str), "code": pd.Series(dtype=str)}))
    return out


# ----------------------------------------------------------------- today's figure modules
# The columns of the participants table the figure modules read, each a declared variable
# of the study file (same name) or a follow-up variable at a time point.
FOLLOW_UP_COLUMNS = {f"fu_{k}_{tp}": f"follow_up_{k}[{tp}]"
                     for tp in ("week6", "week14", "month6") for k in ("status", "days")}


def participants_for_figures(analysis, screening: pd.DataFrame) -> pd.DataFrame:
    """One row per participant (``flow.participants``), the columns today's figure modules
    read (``dropout``, ``placed``, ``site``, ``fu_status_<time point>``, …) from the
    analysis dataset, keyed by the participant ID of today's exports (``screening``:
    ``record_id`` is the screening number, ``scr_participant_id`` the participant's), which
    the completeness figure matches with today's questionnaire exports."""
    from feasibility.analysis.expressions import parse

    people = analysis.population(analysis.spec.participants_expr())
    out = pd.DataFrame(index=people)
    names = [n for n in analysis.spec.derived if not n.startswith("_")
             and not analysis.variable(n).per_timepoint]
    for name in names:
        out[name] = analysis.evaluate_rows(parse(name, "participants table"), index=people)
    for column, expr in FOLLOW_UP_COLUMNS.items():
        if "follow_up_status" in analysis.spec.derived:
            out[column] = analysis.evaluate_rows(parse(expr, "participants table"), index=people)
    to_id = dict(zip(screening["record_id"].astype(str), screening["scr_participant_id"]))
    out.insert(0, "record_id", [to_id.get(r, r) for r in people])
    for column in out.columns:
        if out[column].dtype.name == "boolean" and not out[column].isna().any():
            out[column] = out[column].astype(bool)
    return out.reset_index(drop=True)


