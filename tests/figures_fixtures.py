"""A small hand-made study for the figure tests: 20 people screened, 10 recruited.

Screening (20 rows)                      Participants (10; P01-P06 Birmingham, P07-P10 Coventry)
  S01-S10 enrolled (-> P01-P10)            P09 found ineligible: off sick       } excluded or
  S11-S13 not eligible: in paid employment P10 withdrew: did not want to take part} withdrew -> 8 attend
  S14-S15 not eligible: retired            P07 language or learning difficulties } not placed
  S16-S17 eligible, not interested         P08 disengaged after offer            } -> 6 placed
  S18-S19 interested: could not be         P06 moved into paid employment -> 5 completed (P01-P05)
          contacted
  S20     interested: declined at consent

Follow-up status (R = returned, N = not returned, - = not expected: dropped out)
          P01 P02 P03 P04 P05 P06 P07 P08 P09 P10   returned/expected
  week6    R   R   R   R   N   N   N   N   -   -         4/8
  week14   R   R   R   N   N   N   N   N   -   -         3/8
  month6   R   R   N   N   N   N   N   -   -   -         2/7
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from feasibility.schemas.derived import Participants

SITES = {f"P{i:02d}": "Birmingham" if i <= 6 else "Coventry" for i in range(1, 11)}
CONSENT = {"P01": "2017-09-05", "P02": "2017-09-20", "P03": "2017-10-02", "P04": "2017-11-15",
           "P05": "2017-11-30", "P06": "2017-12-01", "P07": "2017-10-10", "P08": "2017-12-12",
           "P09": "2018-01-03", "P10": "2018-01-20"}
WORK_PREPARATION = {"P01": "2017-11-06", "P02": "2017-11-06", "P03": "2017-11-06",
                    "P07": "2017-11-06", "P04": "2018-01-08", "P05": "2018-01-08",
                    "P06": "2018-01-08", "P08": "2018-01-08"}
PLACEMENT = {  # start, end
    "P01": ("2017-12-08", "2018-01-19"), "P02": ("2017-12-15", "2018-01-26"),
    "P03": ("2017-12-22", "2018-02-02"), "P04": ("2018-01-26", "2018-03-09"),
    "P05": ("2018-02-02", "2018-03-16"), "P06": ("2018-02-01", "2018-02-20")}
# as derive writes them: "<status change>: <reason>"
EXCLUDED = {"P09": "Found ineligible after recruitment: off sick rather than unemployed",
            "P10": "Withdrew: did not want to participate"}
NOT_PLACED = {"P07": "Language or learning difficulties", "P08": "Disengaged after offer"}
NOT_COMPLETED = {"P06": "Moved into paid employment"}
FOLLOW_UP = {"week6": "RRRRNNNN--", "week14": "RRRNNNNN--", "month6": "RRNNNNN---"}
STATUS = {"R": "returned", "N": "not returned", "-": "not expected"}


def _participant(i: int) -> dict:
    rid = f"P{i:02d}"
    placed = rid in PLACEMENT
    start, end = (pd.Timestamp(d) for d in PLACEMENT[rid]) if placed else (pd.NaT, pd.NaT)
    row = {
        "record_id": rid, "site": SITES[rid], "source": "Council employment services",
        "source_group": "Non-NHS sites", "consent_date": pd.Timestamp(CONSENT[rid]),
        "age": 40.0 + i, "sex": "Female" if i % 2 else "Male", "marital_status": "Married",
        "ethnicity": "White", "education": "GCSE/O-level/equivalent",
        "pain_area_lower_back": True, "pain_area_back_or_neck": False, "pain_area_head": False,
        "pain_area_chest": False, "pain_area_abdominal": False, "pain_area_peripheral": False,
        "n_pain_areas": 1, "years_in_pain": 5.0, "years_out_of_work": 2.0,
        "years_looking_for_work": 1.0, "previously_worked": True,
        "additional_health_concerns": False,
        "excluded_after_recruitment": EXCLUDED.get(rid),
        "attended_work_preparation": rid in WORK_PREPARATION,
        "work_preparation_session": "Group session 1 (Birmingham)" if rid in WORK_PREPARATION else None,
        "work_preparation_date": pd.Timestamp(WORK_PREPARATION[rid]) if rid in WORK_PREPARATION else pd.NaT,
        "offered_placement": placed or rid == "P08",
        "not_placed_reason": NOT_PLACED.get(rid),
        "placed": placed,
        "placement_provider": "NHS Trust" if placed else None,
        "placement_site": SITES[rid] if placed else None,
        "decision_date": start, "placement_start": start, "placement_end": end,
        "placement_hours": 48.0 if placed else np.nan,
        "placement_weeks": 6.0 if placed else np.nan,
        "hours_per_week": 8.0 if placed else np.nan,
        "completed_placement": (rid not in NOT_COMPLETED) if placed else pd.NA,
        "not_completed_reason": NOT_COMPLETED.get(rid),
        "start_date": start, "days_recruitment_to_placement": np.nan,
        "dropout": rid in EXCLUDED, "dropout_reason": EXCLUDED.get(rid),
        "case_manager": "Employment specialist", "cm_contacts": 3, "cm_hours": 2.5,
        "healthcare_referrals": 0, "adverse_events": 0, "serious_adverse_events": 0,
    }
    for tp, codes in FOLLOW_UP.items():
        row[f"fu_status_{tp}"] = STATUS[codes[i - 1]]
        row[f"fu_days_{tp}"] = np.nan
    return row


def participants() -> pd.DataFrame:
    """The ten participants as a validated ``Participants`` frame."""
    frame = pd.DataFrame([_participant(i) for i in range(1, 11)])
    frame["completed_placement"] = frame["completed_placement"].astype("boolean")
    return Participants.validate(frame)


# (record, date, source code, eligible, ineligible reason, interested, enrolled, not-enrolled reason)
_SCREENING = [
    *[(f"S{i:02d}", f"2017-09-{i:02d}", 1, 1, None, 1, 1, None) for i in range(1, 4)],
    *[(f"S{i:02d}", f"2017-12-{i:02d}", 2, 1, None, 1, 1, None) for i in range(4, 8)],
    *[(f"S{i:02d}", f"2018-01-{i:02d}", 3, 1, None, 1, 1, None) for i in range(8, 11)],
    ("S11", "2017-09-02", 1, 0, 1, None, 0, None), ("S12", "2017-10-05", 1, 0, 1, None, 0, None),
    ("S13", "2017-12-01", 2, 0, 1, None, 0, None), ("S14", "2017-12-07", 2, 0, 2, None, 0, None),
    ("S15", "2018-01-15", 3, 0, 2, None, 0, None),
    ("S16", "2017-11-01", 1, 1, None, 0, 0, None), ("S17", "2018-01-20", 3, 1, None, 0, 0, None),
    ("S18", "2017-09-15", 1, 1, None, 1, 0, 1), ("S19", "2017-12-20", 2, 1, None, 1, 0, 1),
    ("S20", "2018-01-25", 3, 1, None, 1, 0, 2),
]
# First screened per source: NHS pain clinic 2017-09-01 (S01), Council employment
# services 2017-12-01 (S13), Posters and direct contact 2018-01-08 (S08); no private
# employment services.


def screening() -> pd.DataFrame:
    """The screening log as the validated export gives it (codes as floats)."""
    frame = pd.DataFrame(_SCREENING, columns=[
        "record_id", "scr_date", "scr_source", "scr_eligible", "scr_inelig_reason",
        "scr_interested", "scr_enrolled", "scr_not_enrolled_reason"])
    frame["scr_date"] = pd.to_datetime(frame["scr_date"])
    frame.insert(2, "scr_site", 1.0)
    frame["scr_participant_id"] = [f"P{i:02d}" if i <= 10 else None for i in range(1, 21)]
    for col in ("scr_source", "scr_eligible", "scr_inelig_reason", "scr_interested",
                "scr_enrolled", "scr_not_enrolled_reason"):
        frame[col] = frame[col].astype(float)
    return frame


def forms_returned() -> pd.DataFrame:
    """Which follow-up forms have any answer (one row per record, time point and form).

    Placed (P01-P06) answer the work questionnaire; employment exists at week14/month6.
      week6   health P01-P04      work P01-P03
      week14  health P01-P03      work P01-P02      employment P01-P03
      month6  health P01-P02      work P01         employment P01-P02
    P09 (dropped out, not expected) also sent a week-6 health questionnaire: not counted.
    """
    returned = {
        ("week6", "health_questionnaire"): {"P01", "P02", "P03", "P04", "P09"},
        ("week6", "work_questionnaire"): {"P01", "P02", "P03"},
        ("week14", "health_questionnaire"): {"P01", "P02", "P03"},
        ("week14", "work_questionnaire"): {"P01", "P02"},
        ("week14", "employment"): {"P01", "P02", "P03"},
        ("month6", "health_questionnaire"): {"P01", "P02"},
        ("month6", "work_questionnaire"): {"P01"},
        ("month6", "employment"): {"P01", "P02"},
    }
    rows = [{"record_id": f"P{i:02d}", "timepoint": tp, "form": form,
             "returned": f"P{i:02d}" in ids}
            for (tp, form), ids in returned.items() for i in range(1, 11)]
    return pd.DataFrame(rows)


def questionnaires() -> dict[str, pd.DataFrame]:
    """The employment answers the completeness figure reads: accepted job offers.

    No one had accepted an offer at 14 weeks (the work questionnaire is then not
    applicable); at 6 months P01 (placed) and P07 (not placed) had.
    """
    def accepted(ids):
        return pd.DataFrame({"record_id": [f"P{i:02d}" for i in range(1, 11)],
                             "emp_accepted": [1.0 if f"P{i:02d}" in ids else 0.0
                                              for i in range(1, 11)]})
    return {"week14": accepted(set()), "month6": accepted({"P01", "P07"})}
