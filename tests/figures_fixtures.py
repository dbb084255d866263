"""A small hand-made REDCap project for the figure tests: 12 people screened at two sites,
8 enrolled, as the validated-data interface (docs/design.md) with the study file's declarations.

Events screening_arm_1, baseline_arm_1, week6_arm_1, month6_arm_1; forms: screening
(screening), enrolment and delivery (baseline), status (baseline; who left and why), quest
(week6, month6: return date, score, hours in paid work), work (month6 only).

    rec  screened    site   source  eligible  reason      consent  enrolled    arm  attended         completed         left
    R01  2020-01-06  North  Clinic  yes                   yes      2020-01-13  1    yes              yes
    R02  2020-01-20  South  Clinic  yes                   yes      2020-01-27  2    yes              yes
    R03  2020-02-03  North  Poster  yes                   yes      2020-02-10  1    yes              yes
    R04  2020-02-10  South  Poster  yes                   yes      2020-02-17  2    yes              yes
    R05  2020-02-24  North  Clinic  yes                   yes      2020-03-02  1    yes              no: Illness
    R06  2020-03-02  South  Radio   yes                   yes      2020-03-09  2    yes              no: Found work
    R07  2020-03-09  North  Clinic  yes                   yes      2020-03-16  1    no: Too far                        Moved away
    R08  2020-03-23  North  Radio   yes                   yes      2020-03-30  2    yes                                Withdrew consent
    R09  2020-01-08  North  Clinic  no        Too young
    R10  2020-01-22  South  Poster  no        Working
    R11  2020-02-05  North  Radio   yes                   no (declined)
    R12  2020-03-25  South  Clinic  no        Working

Questionnaires returned (R = returned, with its date; N = not returned; - = left, not
expected); hours in paid work at 6 months; the work form at 6 months (from those in work):

          R01         R02         R03         R04  R05         R06         R07  R08
    6 wk  R 03-02     R 03-16     R 03-30     N    R 04-20     N           -    -      4/6
    6 mo  R 07-01     R 07-20     N           N    N           R 09-10     -    -      3/6
    work  20 h        0 h                                      35 h
    work form  R01 returned (30 h); R06, in work, did not                                1/2

By arm (1: R01 R03 R05 R07; 2: R02 R04 R06 R08), expected (not left) 3 and 3:
6 weeks 3/3 and 1/3; 6 months 1/3 and 2/3; work form 1/1 and 0/1.
"""

from __future__ import annotations

import copy

import pandas as pd

from feasibility.analysis import Analysis, StudyData, load_spec
from feasibility.figures.spec import load_figures

EVENTS = ["screening_arm_1", "baseline_arm_1", "week6_arm_1", "month6_arm_1"]
EVENT_LABELS = {
    "screening_arm_1": "Screening",
    "baseline_arm_1": "Baseline",
    "week6_arm_1": "6 weeks",
    "month6_arm_1": "6 months",
}
FORMS = {
    "screening": ["screening_arm_1"],
    "enrolment": ["baseline_arm_1"],
    "delivery": ["baseline_arm_1"],
    "status": ["baseline_arm_1"],
    "quest": ["week6_arm_1", "month6_arm_1"],
    "work": ["month6_arm_1"],
}
YESNO = [["1", "Yes"], ["0", "No"]]
FIELDS = [  # name, form, type, label, choices, validation
    ("record_id", "screening", "text", "Record ID", [], None),
    ("scr_date", "screening", "text", "Date screened", [], "date_ymd"),
    ("scr_site", "screening", "dropdown", "Site", [["1", "North"], ["2", "South"]], None),
    (
        "scr_source",
        "screening",
        "dropdown",
        "Source",
        [["1", "Clinic"], ["2", "Poster"], ["3", "Radio"]],
        None,
    ),
    ("scr_eligible", "screening", "yesno", "Eligible", YESNO, None),
    (
        "scr_reason",
        "screening",
        "dropdown",
        "Reason not eligible",
        [["1", "Too young"], ["2", "Working"], ["3", "Other"]],
        None,
    ),
    ("scr_consented", "screening", "yesno", "Consented", YESNO, None),
    ("enr_date", "enrolment", "text", "Date enrolled", [], "date_ymd"),
    ("rand_arm", "enrolment", "radio", "Allocated arm", [["1", "Treatment"], ["2", "Control"]], None),
    ("del_attended", "delivery", "yesno", "Attended", YESNO, None),
    (
        "del_not_attended",
        "delivery",
        "dropdown",
        "Why not attended",
        [["1", "Too far"], ["2", "Other"]],
        None,
    ),
    ("del_completed", "delivery", "yesno", "Completed", YESNO, None),
    (
        "del_reason",
        "delivery",
        "dropdown",
        "Why not completed",
        [["1", "Illness"], ["2", "Found work"]],
        None,
    ),
    ("st_left", "status", "yesno", "Left the study", YESNO, None),
    (
        "st_reason",
        "status",
        "dropdown",
        "Why left",
        [["1", "Moved away"], ["2", "Withdrew consent"], ["3", "Died"]],
        None,
    ),
    ("q_date", "quest", "text", "Date returned", [], "date_ymd"),
    ("q_score", "quest", "text", "Score", [], "integer"),
    ("q_work", "quest", "text", "Hours in paid work", [], "integer"),
    ("w_hours", "work", "text", "Hours worked", [], "integer"),
]
IDS = [f"R{i:02d}" for i in range(1, 13)]
SCREENING = {  # date, site, source, eligible, reason, consented
    "R01": ("2020-01-06", 1, 1, 1, None, 1),
    "R02": ("2020-01-20", 2, 1, 1, None, 1),
    "R03": ("2020-02-03", 1, 2, 1, None, 1),
    "R04": ("2020-02-10", 2, 2, 1, None, 1),
    "R05": ("2020-02-24", 1, 1, 1, None, 1),
    "R06": ("2020-03-02", 2, 3, 1, None, 1),
    "R07": ("2020-03-09", 1, 1, 1, None, 1),
    "R08": ("2020-03-23", 1, 3, 1, None, 1),
    "R09": ("2020-01-08", 1, 1, 0, 1, None),
    "R10": ("2020-01-22", 2, 2, 0, 2, None),
    "R11": ("2020-02-05", 1, 3, 1, None, 0),
    "R12": ("2020-03-25", 2, 1, 0, 2, None),
}
ENROLMENT = {
    "R01": ("2020-01-13", 1),
    "R02": ("2020-01-27", 2),
    "R03": ("2020-02-10", 1),
    "R04": ("2020-02-17", 2),
    "R05": ("2020-03-02", 1),
    "R06": ("2020-03-09", 2),
    "R07": ("2020-03-16", 1),
    "R08": ("2020-03-30", 2),
}
DELIVERY = {  # attended, why not, completed, why not completed
    "R01": (1, None, 1, None),
    "R02": (1, None, 1, None),
    "R03": (1, None, 1, None),
    "R04": (1, None, 1, None),
    "R05": (1, None, 0, 1),
    "R06": (1, None, 0, 2),
    "R07": (0, 1, None, None),
    "R08": (1, None, None, None),
}
STATUS = {f"R0{i}": (0, None) for i in range(1, 7)} | {"R07": (1, 1), "R08": (1, 2)}
QUEST = {  # (record, event): return date, score, hours in paid work
    ("R01", "week6_arm_1"): ("2020-03-02", 5, None),
    ("R02", "week6_arm_1"): ("2020-03-16", 4, None),
    ("R03", "week6_arm_1"): ("2020-03-30", 6, None),
    ("R05", "week6_arm_1"): ("2020-04-20", 3, None),
    ("R01", "month6_arm_1"): ("2020-07-01", 7, 20),
    ("R02", "month6_arm_1"): ("2020-07-20", 5, 0),
    ("R06", "month6_arm_1"): ("2020-09-10", 6, 35),
}
WORK = {"R01": 30}


def codebook() -> dict:
    fields, forms = [], {}
    for name, form, ftype, label, choices, validation in FIELDS:
        fields.append(
            {
                "name": name,
                "form": form,
                "type": ftype,
                "label": label,
                "choices": choices,
                "validation": validation,
                "identifier": False,
                "export_columns": [name],
            }
        )
        forms.setdefault(form, []).append(name)
    return {
        "record_id_field": "record_id",
        "longitudinal": True,
        "arms": {"1": "Arm 1"},
        "events": [{"unique_name": e, "label": EVENT_LABELS[e], "arm": 1} for e in EVENTS],
        "designations": {e: [f for f, evs in FORMS.items() if e in evs] for e in EVENTS},
        "repeating": {"instruments": [], "events": []},
        "forms": [{"name": f, "label": f.capitalize(), "fields": fs} for f, fs in forms.items()],
        "fields": fields,
        "missing_data_codes": [],
    }


def _table(form: str, rows: list[tuple[str, str, dict]]) -> pd.DataFrame:
    info = [f for f in FIELDS if f[1] == form and f[0] != "record_id"]
    out = pd.DataFrame(
        {
            "record_id": pd.Series([r for r, _, _ in rows], dtype=object),
            "redcap_event_name": pd.Series([e for _, e, _ in rows], dtype=object),
            "redcap_arm": pd.Series([1] * len(rows), dtype="int64"),
        }
    )
    for name, _, ftype, _, choices, validation in info:
        values = [v.get(name) for _, _, v in rows]
        if validation == "date_ymd":
            out[name] = pd.to_datetime(pd.Series(values, dtype=object))
        else:
            out[name] = pd.array(values, dtype="Int64")
    out[f"{form}_complete"] = pd.array([2] * len(rows), dtype="Int64")
    return out


def forms() -> dict[str, pd.DataFrame]:
    names = ("scr_date", "scr_site", "scr_source", "scr_eligible", "scr_reason", "scr_consented")
    out = {
        "screening": _table(
            "screening", [(r, "screening_arm_1", dict(zip(names, SCREENING[r]))) for r in IDS]
        )
    }
    out["enrolment"] = _table(
        "enrolment",
        [(r, "baseline_arm_1", dict(zip(("enr_date", "rand_arm"), v))) for r, v in ENROLMENT.items()],
    )
    out["delivery"] = _table(
        "delivery",
        [
            (
                r,
                "baseline_arm_1",
                dict(zip(("del_attended", "del_not_attended", "del_completed", "del_reason"), v)),
            )
            for r, v in DELIVERY.items()
        ],
    )
    out["status"] = _table(
        "status", [(r, "baseline_arm_1", dict(zip(("st_left", "st_reason"), v))) for r, v in STATUS.items()]
    )
    out["quest"] = _table(
        "quest", [(r, e, dict(zip(("q_date", "q_score", "q_work"), v))) for (r, e), v in QUEST.items()]
    )
    out["work"] = _table("work", [(r, "month6_arm_1", {"w_hours": v}) for r, v in WORK.items()])
    return out


def study(changed: dict[str, pd.DataFrame] | None = None) -> StudyData:
    return StudyData.from_frames(codebook(), {**forms(), **(changed or {})})


# ----------------------------------------------------------------------------- declarations
ANALYSIS = {
    "timepoints": {
        "schedule": {
            "baseline": {"event": "baseline_arm_1", "label": "Baseline"},
            "week6": {"event": "week6_arm_1", "label": "6 weeks"},
            "month6": {"event": "month6_arm_1", "label": "6 months"},
        },
        "baseline": "baseline",
        "start_date": "enrolment.enr_date",
    },
    "derived": {
        "left": "coalesce(status.st_left == 1, false)",
        "attended": "coalesce(delivery.del_attended == 1, false)",
        "enrolled_date": "enrolment.enr_date",
    },
    "flow": {
        "populations": {"screened": "has(screening)", "enrolled": "has(enrolment)"},
        "participants": "enrolled",
        "dropout": "left",
        "follow_up": {
            "timepoints": ["week6", "month6"],
            "returned": "not_na(quest.q_date)",
            "date": "quest.q_date",
        },
    },
}
SINGLE_ARM_BOXES = [
    {"id": "assessed", "stage": "enrolment", "label": "Assessed for eligibility", "count": "screened"},
    {
        "id": "excluded",
        "stage": "enrolment",
        "label": "Excluded",
        "part_of": "assessed",
        "count": "screened and not enrolled",
    },
    {
        "id": "not_eligible",
        "stage": "enrolment",
        "label": "Not eligible",
        "part_of": "excluded",
        "count": "screening.scr_eligible == 0",
        "reasons": "screening.scr_reason",
    },
    {
        "id": "declined",
        "stage": "enrolment",
        "label": "Declined",
        "part_of": "excluded",
        "count": "screening.scr_eligible == 1 and not enrolled",
    },
    {"id": "enrolled", "stage": "enrolment", "label": "Enrolled", "part_of": "assessed", "count": "enrolled"},
    {"id": "attended", "stage": "enrolment", "label": "Attended a session", "count": "enrolled and attended"},
    {
        "id": "left",
        "stage": "enrolment",
        "label": "Left the study",
        "part_of": "enrolled",
        "count": "enrolled and left",
        "reasons": "status.st_reason",
    },
    {
        "id": "continued",
        "stage": "enrolment",
        "label": "Continued",
        "part_of": "enrolled",
        "count": "enrolled and not left",
    },
    {
        "id": "not_completed",
        "stage": "enrolment",
        "label": "Did not complete",
        "part_of": "continued",
        "count": "enrolled and not left and delivery.del_completed == 0",
        "reasons": "delivery.del_reason",
    },
    {
        "id": "completed",
        "stage": "enrolment",
        "label": "Completed",
        "part_of": "continued",
        "count": "enrolled and not left and delivery.del_completed == 1",
    },
]
TWO_ARM_BOXES = [
    {"id": "assessed", "stage": "enrolment", "label": "Assessed for eligibility", "count": "screened"},
    {
        "id": "excluded",
        "stage": "enrolment",
        "label": "Excluded",
        "part_of": "assessed",
        "count": "screened and not enrolled",
        "reasons": "if_else(screening.scr_eligible == 0, 'Not eligible', 'Declined')",
        "reason_levels": ["Not eligible", "Declined"],
    },
    {
        "id": "randomised",
        "stage": "enrolment",
        "label": "Randomised",
        "part_of": "assessed",
        "count": "enrolled",
    },
    {
        "id": "allocated",
        "stage": "allocation",
        "label": "Allocated to {arm_label}",
        "part_of": "randomised",
        "count": "enrolled",
    },
    {
        "id": "received",
        "stage": "allocation",
        "label": "Received allocated intervention",
        "part_of": "allocated",
        "count": "enrolled and (arm == 2 or attended)",
    },
    {
        "id": "not_received",
        "stage": "allocation",
        "label": "Did not receive allocated intervention",
        "part_of": "allocated",
        "count": "enrolled and not (arm == 2 or attended)",
        "reasons": "delivery.del_not_attended",
    },
    {
        "id": "lost",
        "stage": "follow_up",
        "label": "Lost to follow-up",
        "count": "enrolled and left",
        "reasons": "status.st_reason",
    },
    {
        "id": "analysed",
        "stage": "analysis",
        "label": "Analysed",
        "part_of": "allocated",
        "count": "enrolled and not_na(quest[month6].q_date)",
    },
    {
        "id": "not_analysed",
        "stage": "analysis",
        "label": "Excluded from analysis",
        "part_of": "allocated",
        "count": "enrolled and is_na(quest[month6].q_date)",
        "reasons": "if_else(left, label(status.st_reason), 'No 6-month questionnaire')",
    },
]
FIGURES = {
    "flow": {
        "kind": "flow",
        "caption": "Participant flow. The diagram shows the flow",
        "notes": {"enrolled": ["attended"]},
        "follow_up": {"heading": "Follow-up of everyone enrolled", "label": "Returned"},
    },
    "recruitment": {
        "kind": "recruitment",
        "series": [
            {"label": "Recruited", "date": "enrolled_date"},
            {"label": "Returned at 6 weeks", "date": "quest[week6].q_date"},
        ],
        "by": "screening.scr_site",
        "sources": {"date": "screening.scr_date", "by": "screening.scr_source"},
    },
    "completeness": {
        "kind": "completeness",
        "rows": [
            {"form": "quest", "label": "Questionnaire"},
            {
                "form": "work",
                "label": "Work form",
                "expected": "coalesce(quest.q_work > 0, false)",
                "none_expected": {
                    "reason": "asked only of those in paid work; none",
                    "short": "none in\npaid work",
                },
            },
        ],
    },
}


def config(arms: bool = False, **figures) -> dict:
    """The fixture's study sections: one arm (the single column) or two (arms)."""
    cfg = copy.deepcopy(ANALYSIS)
    declared = copy.deepcopy(FIGURES)
    if arms:
        cfg["arms"] = {"allocation": "enrolment.rand_arm"}
        cfg["flow"]["consort"] = copy.deepcopy(TWO_ARM_BOXES)
        declared["flow"] = {"kind": "flow", "caption": "CONSORT 2010 flow diagram"}
    else:
        cfg["flow"]["consort"] = copy.deepcopy(SINGLE_ARM_BOXES)
    cfg["figures"] = {**declared, **copy.deepcopy(figures)}
    return cfg


def analysis(cfg: dict | None = None, changed: dict | None = None) -> Analysis:
    return Analysis(study(changed), load_spec(cfg or config()))


def figure(cfg: dict, fid: str):
    return load_figures(cfg)[fid]
