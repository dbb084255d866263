"""Small hand-made analysis datasets for the table tests (valid against schemas/derived.py).

Eight participants P01-P08. The numbers are chosen so that every table cell can
be worked out by hand; the expected values are worked in tests/test_tables.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from feasibility.schemas.derived import Participants, Scores

NA = np.nan
IDS = [f"P{i:02d}" for i in range(1, 9)]

CONFIG = {
    "statistics": {"confidence_level": 0.95},
    "feasibility": {"case_management_cost_per_hour_gbp": 30,
                    "rtw_without_intervention_assumed": 0.10},
}


def _dates(values):
    return pd.to_datetime(pd.Series(values, dtype="object"))


def participants() -> pd.DataFrame:
    placed = [True, True, True, True, False, False, False, False]
    df = pd.DataFrame({
        "record_id": IDS,
        "site": ["Birmingham", "Birmingham", "Birmingham", "Coventry", "Coventry", "Coventry",
                 "Birmingham", "Coventry"],
        "source": ["NHS pain clinic", "Council employment services", "Posters and direct contact",
                   "Posters and direct contact", "Council employment services",
                   "Private employment services", "Posters and direct contact",
                   "Council employment services"],
        "source_group": ["NHS sites", "Non-NHS sites", "Direct contact", "Direct contact",
                         "Non-NHS sites", "Non-NHS sites", "Direct contact", "Non-NHS sites"],
        "consent_date": _dates(["2017-09-15", "2017-12-02", "2018-01-10", "2018-02-20",
                                "2018-03-05", "2018-05-01", "2018-06-12", "2018-08-31"]),
        "age": [40.0, 50, 60, 45, 55, 35, 65, 52],
        "sex": ["Female", "Female", "Male", "Female", "Male", "Female", "Male", "Female"],
        "marital_status": ["Single (never married)"] * 4 + ["Married"] * 3 + ["Widowed"],
        "ethnicity": ["White"] * 6 + ["Asian", "Other"],
        "education": ["Degree/higher degree", "GCSE/O-level/equivalent",
                      "GCSE/O-level/equivalent", "GCSE/O-level/equivalent",
                      "Vocational/work-related", "No qualification", "Degree/higher degree",
                      "GCSE/O-level/equivalent"],
        "pain_area_lower_back": [True, True, True, False, True, False, True, True],
        "pain_area_back_or_neck": [True, False, True, True, False, False, False, False],
        "pain_area_head": [False, False, False, False, False, True, False, False],
        "pain_area_chest": [False] * 8,
        "pain_area_abdominal": [False] * 8,
        "pain_area_peripheral": [False, True, False, False, True, True, False, False],
        "years_in_pain": [8.0, 1, 3, 2, 7, 5, 4, 6],
        "years_out_of_work": [0.5, 1, 2, 3, 10, 12, 20, NA],
        "years_looking_for_work": [0.5, 1, 2, 3, 10, 12, 20, 0.2],
        "previously_worked": [True] * 8,
        "additional_health_concerns": [True] * 6 + [False] * 2,
        "excluded_after_recruitment": [None] * 7 + ["Off sick rather than unemployed"],
        "attended_work_preparation": [True] * 6 + [False] * 2,
        "work_preparation_session": ["Group session 1 (Birmingham)"] * 3
                                    + ["Group session 2 (Coventry)"] * 3 + [None] * 2,
        "work_preparation_date": _dates(["2018-03-01"] * 3 + ["2018-04-01"] * 3 + [None] * 2),
        "offered_placement": [True] * 5 + [False] * 3,
        "not_placed_reason": [None] * 4 + ["Disengaged after offer",
                                           "Language or learning difficulties",
                                           "Withdrew or left the study",
                                           "Withdrew or left the study"],
        "placed": placed,
        "placement_provider": ["NHS Trust", "City council", "NHS Trust", "University"] + [None] * 4,
        "placement_site": ["Birmingham"] * 3 + ["Coventry"] + [None] * 4,
        "decision_date": _dates(["2018-04-01"] * 6 + [None] * 2),
        "placement_start": _dates(["2018-04-10"] * 4 + [None] * 4),
        "placement_end": _dates(["2018-05-22"] * 4 + [None] * 4),
        "placement_hours": [60.0, 48, 54, 20, NA, NA, NA, NA],
        "placement_weeks": [6.0, 6, 6, 2, NA, NA, NA, NA],
        "hours_per_week": [10.0, 8, 9, 10, NA, NA, NA, NA],
        "completed_placement": pd.array([True, True, True, False, None, None, None, None],
                                        dtype="boolean"),
        "not_completed_reason": [None] * 3 + ["Health reasons"] + [None] * 4,
        "start_date": _dates(["2018-04-10"] * 4 + ["2018-04-01"] * 2 + [None] * 2),
        "days_recruitment_to_placement": [207.0, 129, 90, 49, 27, NA, NA, NA],
        "dropout": [False] * 6 + [True] * 2,
        "dropout_reason": [None] * 6 + ["Did not want to participate",
                                        "Off sick rather than unemployed"],
        "case_manager": ["Employment specialist"] * 4 + ["Occupational health nurse"] * 2
                        + [None] * 2,
        "cm_contacts": [10, 6, 8, 4, 2, 3, 0, 0],
        # placed 10, 6, 8, 4; not placed 2, 3, 0, 0 (total 33)
        "cm_hours": [10.0, 6, 8, 4, 2, 3, 0, 0],
        "healthcare_referrals": [0] * 8,
        "adverse_events": [0] * 8,
        "serious_adverse_events": [0] * 8,
        # P07, P08 dropped out: not expected at any follow-up
        "fu_status_week6": ["returned"] * 3 + ["not returned"] * 3 + ["not expected"] * 2,
        "fu_status_week14": ["returned", "returned", "not returned", "returned", "returned",
                             "not returned", "not expected", "not expected"],
        "fu_status_month6": ["returned", "not returned", "returned", "not returned",
                             "not returned", "not returned", "not expected", "not expected"],
        "fu_days_week6": [40.0, 42, 44, NA, NA, NA, NA, NA],
        "fu_days_week14": [98.0, 100, NA, 99, 101, NA, NA, NA],
        "fu_days_month6": [180.0, NA, 200, NA, NA, NA, NA, NA],
    })
    df.insert(16, "n_pain_areas", df.filter(like="pain_area_").sum(axis=1).astype(int))
    return Participants.validate(df)


SCORE_COLUMNS = list(Scores.to_schema().columns)


def _scores(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame([{c: NA for c in SCORE_COLUMNS} | r for r in rows], columns=SCORE_COLUMNS)
    for c in ("questionnaire_date", "eq5d_state"):
        df[c] = df[c].astype("object").where(df[c].notna(), None)
    df["questionnaire_date"] = pd.to_datetime(df["questionnaire_date"])
    return Scores.validate(df)


def scores() -> pd.DataFrame:
    """Baseline for all eight; follow-ups for those who returned (see fu_status_*)."""
    baseline = dict(
        work_confidence=[5, 6, 7, 4, 3, 8, 2, 6],
        eq5d_index=[0.5, 0.6, 0.7, 0.8, 0.3, 0.4, 0.55, 0.45],
        hads_anxiety=[10, 8, NA, 6, 7, 9, 5, 4],
    )
    rows = [dict(record_id=r, timepoint="baseline", **{k: v[i] for k, v in baseline.items()})
            for i, r in enumerate(IDS)]
    rows += [
        dict(record_id="P01", timepoint="week6", work_confidence=4, eq5d_index=0.45,
             hads_anxiety=9),
        dict(record_id="P02", timepoint="week6", work_confidence=6, eq5d_index=0.55,
             hads_anxiety=8),
        dict(record_id="P03", timepoint="week6", work_confidence=5, eq5d_index=NA,
             hads_anxiety=5),
        dict(record_id="P01", timepoint="week14", work_confidence=7, job_offers=2,
             job_offers_accepted=0, jobs_started=0),
        dict(record_id="P02", timepoint="week14", work_confidence=6, job_offers=0),
        dict(record_id="P04", timepoint="week14", work_confidence=4, job_offers=0),
        dict(record_id="P05", timepoint="week14", work_confidence=NA),
        dict(record_id="P01", timepoint="month6", work_confidence=6, job_offers=1,
             job_offers_accepted=1, jobs_started=1),
        dict(record_id="P03", timepoint="month6", work_confidence=7, job_offers=2,
             job_offers_accepted=1, jobs_started=0),
        # a non-recruited record (e.g. screened only) must not enter any table
        dict(record_id="X99", timepoint="baseline", work_confidence=0),
    ]
    return _scores(rows)


def week6_work_scores() -> pd.DataFrame:
    """Eight 6-week work questionnaires (W01-W08), shaped like the paper's Table 4."""
    satisfaction = [5, 5, 5, 5, 4, 4, 2, 1]
    job_satisfaction = [20, 22, 24, 26, 28, 30, 32, NA]
    interfered = [1, 3, 3, 3, 3, 4, 4, 4]
    worse = [2, 3, 3, 3, 4, 4, 4, 4]
    return _scores([dict(record_id=f"W{i + 1:02d}", timepoint="week6",
                         placement_satisfaction=satisfaction[i],
                         paw_job_satisfaction=job_satisfaction[i],
                         pain_interfered_with_work=interfered[i], work_made_pain_worse=worse[i])
                    for i in range(8)])


def screening() -> pd.DataFrame:
    """Twelve people screened: 10 eligible, 9 of them interested, 8 enrolled (P01-P08)."""
    return pd.DataFrame({
        "record_id": [f"S{i:02d}" for i in range(1, 13)],
        "scr_date": pd.to_datetime(["2017-09-01", "2017-09-20", "2017-11-15", "2018-01-05",
                                    "2018-02-01", "2018-02-10", "2018-03-01", "2018-04-20",
                                    "2018-06-01", "2018-08-01", "2018-08-10", "2018-08-20"]),
        # sites: 1 Birmingham, 2 Coventry; sources: 1 NHS, 2 council, 3 posters, 4 private
        "scr_site": [1, 2, 1, 1, 2, 2, 2, 2, 1, 2, 1, 2],
        "scr_source": [1, 1, 2, 3, 3, 2, 2, 4, 3, 2, 1, 1],
        "scr_eligible": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
        "scr_interested": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, NA, NA],
        "scr_enrolled": [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
    })
