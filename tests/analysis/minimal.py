"""A small hand-made REDCap project for the analysis tests.

Two arms, events ``enrol_arm_1/2`` (baseline) and ``fu_arm_1/2`` (follow-up), one
screening-style event ``screen_arm_1/2``; forms:

* ``screening`` @ screen: ``scr_date`` (date), ``scr_ok`` (yesno)
* ``demo`` @ enrol: ``sex`` (radio 1 Female, 2 Male), ``age`` (integer), ``years`` (number),
  ``pain`` (checkbox 1 Back, 2 Neck, 3 Head), ``consent`` (date), ``group`` (dropdown
  1 Alpha, 2 Beta, 3 Gamma), ``colour`` (dropdown with letter codes R Red, G Green)
* ``visit`` @ enrol and fu: ``vdate`` (date), ``score`` (integer), ``q1`` .. ``q3`` (radio 0-3)
* ``contact`` (repeating) @ enrol: ``cdate`` (date), ``minutes`` (integer), ``kind`` (radio)

:func:`study` takes the rows of each form as plain dicts (record, event and the fields);
everything else (typing, codebook) follows docs/design.md's interface.
"""

from __future__ import annotations

import pandas as pd

from feasibility.analysis.study import StudyData

EVENTS = [
    ("screen_arm_1", 1),
    ("enrol_arm_1", 1),
    ("fu_arm_1", 1),
    ("screen_arm_2", 2),
    ("enrol_arm_2", 2),
    ("fu_arm_2", 2),
]
FORMS = {"screening": ["screen"], "demo": ["enrol"], "visit": ["enrol", "fu"], "contact": ["enrol"]}
FIELDS = [
    ("record_id", "screening", "text", "Record ID", [], None),
    ("scr_date", "screening", "text", "Date screened", [], "date_ymd"),
    ("scr_ok", "screening", "yesno", "Eligible", [["1", "Yes"], ["0", "No"]], None),
    ("sex", "demo", "radio", "Sex", [["1", "Female"], ["2", "Male"]], None),
    ("age", "demo", "text", "Age", [], "integer"),
    ("years", "demo", "text", "Years in pain", [], "number"),
    ("pain", "demo", "checkbox", "Areas of pain", [["1", "Back"], ["2", "Neck"], ["3", "Head"]], None),
    ("consent", "demo", "text", "Consent date", [], "date_ymd"),
    ("group", "demo", "dropdown", "Group", [["1", "Alpha"], ["2", "Beta"], ["3", "Gamma"]], None),
    ("colour", "demo", "dropdown", "Colour", [["R", "Red"], ["G", "Green"]], None),
    ("vdate", "visit", "text", "Visit date", [], "date_ymd"),
    ("score", "visit", "text", "Score", [], "integer"),
    ("q1", "visit", "radio", "Item 1", [[str(i), str(i)] for i in range(4)], None),
    ("q2", "visit", "radio", "Item 2", [[str(i), str(i)] for i in range(4)], None),
    ("q3", "visit", "radio", "Item 3", [[str(i), str(i)] for i in range(4)], None),
    ("cdate", "contact", "text", "Contact date", [], "date_ymd"),
    ("minutes", "contact", "text", "Minutes", [], "integer"),
    ("kind", "contact", "radio", "Kind", [["1", "Phone"], ["2", "Visit"]], None),
]


def codebook() -> dict:
    fields = []
    for name, form, ftype, label, choices, validation in FIELDS:
        columns = [f"{name}___{c}" for c, _ in choices] if ftype == "checkbox" else [name]
        fields.append(
            {
                "name": name,
                "form": form,
                "type": ftype,
                "label": label,
                "choices": choices,
                "validation": validation,
                "identifier": False,
                "export_columns": columns,
            }
        )
    return {
        "record_id_field": "record_id",
        "longitudinal": True,
        "arms": {"1": "Intervention", "2": "Control"},
        "events": [{"unique_name": e, "label": e, "arm": a} for e, a in EVENTS],
        "designations": {
            e: [f for f, where in FORMS.items() if e.split("_arm")[0] in where] for e, _ in EVENTS
        },
        "repeating": {
            "instruments": [
                {"event": "enrol_arm_1", "form": "contact"},
                {"event": "enrol_arm_2", "form": "contact"},
            ],
            "events": [],
        },
        "forms": [{"name": f, "label": f, "fields": [n for n, ff, *_ in FIELDS if ff == f]} for f in FORMS],
        "fields": fields,
        "missing_data_codes": [],
    }


def _typed(form: str, rows: list[dict]) -> pd.DataFrame:
    book = codebook()
    fields = [f for f in book["fields"] if f["form"] == form and f["name"] != "record_id"]
    out = pd.DataFrame(
        {
            "record_id": [r["record_id"] for r in rows],
            "redcap_event_name": [r["event"] for r in rows],
            "redcap_arm": [int(r["event"][-1]) for r in rows],
        },
        dtype=object,
    ).astype({"redcap_arm": "int64"})
    if form == "contact":
        out["redcap_repeat_instance"] = pd.array([r.get("instance") for r in rows], dtype="Int64")
    for f in fields:
        for column in f["export_columns"]:
            values = [r.get(column) for r in rows]
            if f["type"] == "checkbox":
                out[column] = pd.Series([bool(v) for v in values], dtype=bool)
            elif f["validation"] == "date_ymd":
                out[column] = pd.to_datetime(pd.Series(values, dtype=object))
            elif f["name"] == "colour":
                out[column] = pd.Series(values, dtype="string")
            elif f["choices"] or f["validation"] == "integer":
                out[column] = pd.array(values, dtype="Int64")
            elif f["validation"] == "number":
                out[column] = pd.Series(values, dtype="float64")
            else:
                out[column] = pd.Series(values, dtype="string")
    out[f"{form}_complete"] = pd.array([2] * len(rows), dtype="Int64")
    return out


def study(**forms: list[dict]) -> StudyData:
    """A project from rows per form, e.g. ``study(demo=[{"record_id": "1", "event":
    "enrol_arm_1", "sex": 1}])``; forms not given have no rows."""
    frames = {form: _typed(form, rows) for form, rows in forms.items()}
    return StudyData.from_frames(codebook(), frames)


TIMEPOINTS = {
    "schedule": {
        "baseline": {"event": ["enrol_arm_1", "enrol_arm_2"], "label": "Baseline"},
        "followup": {"event": ["fu_arm_1", "fu_arm_2"], "label": "Follow-up"},
    },
    "baseline": "baseline",
}
