"""Pandera schemas of the raw CRF exports in ``data/raw/`` (after type coercion).

One ``DataFrameModel`` per export. Ranges and code lists are written out here
from the instruments' definitions; ``tests/test_schemas.py`` proves they agree
with the REDCap data dictionary field by field. Unique keys are
``record_id`` × event (× repeat instance for logs). Rules that need other
exports (orphans, date order, data after withdrawal) are in
``feasibility.validation``.
"""
from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

DATE = pa.DateTime
COMPLETE = {"isin": [0, 1, 2]}
YESNO = [0, 1]
# Site codes of the shipped study (1 Birmingham, 2 Coventry). A study defines its own
# sites in its data dictionary: validation checks scr_site, enr_site and plc_site
# against the dictionary's code list instead (feasibility.validation.export_schema).
SITES = [1, 2]


def codes(lo: int, hi: int) -> list[int]:
    return list(range(lo, hi + 1))


def item(lo: int, hi: int, pattern: str, extra: tuple[int, ...] = ()) -> Series:
    """A family of items matched by a column-name pattern, each coded lo..hi (blank allowed)."""
    return pa.Field(isin=codes(lo, hi) + list(extra), nullable=True, alias=pattern, regex=True)


class RedcapRecord(pa.DataFrameModel):
    record_id: Series[str] = pa.Field(str_matches=r"^[A-Za-z0-9_-]{1,32}$")
    redcap_event_name: Series[str]

    class Config:
        strict = True
        coerce = False


class Screening(RedcapRecord):
    redcap_event_name: Series[str] = pa.Field(isin=["screening_arm_1"])
    scr_date: Series[DATE]
    scr_site: Series[float] = pa.Field(isin=SITES)
    scr_source: Series[float] = pa.Field(isin=codes(1, 4))
    scr_eligible: Series[float] = pa.Field(isin=YESNO)
    scr_inelig_reason: Series[float] = pa.Field(isin=codes(1, 8), nullable=True)
    scr_interested: Series[float] = pa.Field(isin=YESNO, nullable=True)
    scr_enrolled: Series[float] = pa.Field(isin=YESNO)
    scr_not_enrolled_reason: Series[float] = pa.Field(isin=codes(1, 2), nullable=True)
    scr_participant_id: Series[str] = pa.Field(nullable=True, str_matches=r"^[A-Za-z0-9_-]{1,32}$")
    screening_complete: Series[float] = pa.Field(**COMPLETE)

    class Config:
        unique = ["record_id", "redcap_event_name"]


class Enrolment(RedcapRecord):
    redcap_event_name: Series[str] = pa.Field(isin=["baseline_arm_1"])
    enr_consent_date: Series[DATE]
    enr_screening_id: Series[str]
    enr_site: Series[float] = pa.Field(isin=SITES)
    enr_source: Series[float] = pa.Field(isin=codes(1, 4))
    enrolment_complete: Series[float] = pa.Field(**COMPLETE)
    dem_dob: Series[DATE]
    dem_sex: Series[float] = pa.Field(isin=codes(1, 2))
    dem_marital: Series[float] = pa.Field(isin=codes(1, 4))
    dem_ethnicity: Series[float] = pa.Field(isin=codes(1, 5))
    dem_education: Series[float] = pa.Field(isin=codes(1, 5))
    dem_pain_area: Series[float] = pa.Field(isin=YESNO, alias=r"^dem_pain_area___[1-6]$", regex=True)
    dem_years_pain: Series[float] = pa.Field(ge=0, le=80, nullable=True)
    dem_years_out_of_work: Series[float] = pa.Field(ge=0, le=60, nullable=True)
    dem_years_looking: Series[float] = pa.Field(ge=0, le=60, nullable=True)
    dem_prev_worked: Series[float] = pa.Field(isin=YESNO, nullable=True)
    dem_comorbid: Series[float] = pa.Field(isin=YESNO, alias=r"^dem_comorbid___[1-6]$", regex=True)
    demographics_complete: Series[float] = pa.Field(**COMPLETE)

    class Config:
        unique = ["record_id", "redcap_event_name"]


class HealthQuestionnaire(RedcapRecord):
    hq_date: Series[DATE] = pa.Field(nullable=True)
    eq5d_dim: Series[float] = item(1, 5, r"^eq5d_(mo|sc|ua|pd|ad)$")
    eq5d_vas: Series[float] = pa.Field(ge=0, le=100, nullable=True)
    hads: Series[float] = item(0, 3, r"^hads_([1-9]|1[0-4])$")
    nrs: Series[float] = item(0, 10, r"^nrs_(confidence|ability|pain_now|pain_week)$")
    wemwbs: Series[float] = item(1, 5, r"^wemwbs_([1-9]|1[0-4])$")
    promis_fat: Series[float] = item(1, 5, r"^promis_fat_[1-8]$")
    promis_pi: Series[float] = item(1, 5, r"^promis_pi_[1-8]$")
    health_questionnaire_complete: Series[float] = pa.Field(**COMPLETE)

    class Config:
        unique = ["record_id", "redcap_event_name"]


class QuestionnairesBaseline(HealthQuestionnaire):
    redcap_event_name: Series[str] = pa.Field(isin=["baseline_arm_1"])


class WorkQuestionnaire(HealthQuestionnaire):
    wq_satisfaction: Series[float] = pa.Field(isin=codes(1, 5), nullable=True)
    wrfq: Series[float] = item(0, 4, r"^wrfq_([1-9]|1[0-9]|2[0-7])$", extra=(9,))
    paw: Series[float] = item(1, 5, r"^paw_([1-9]|1[0-5])$")
    rtwse: Series[float] = item(1, 5, r"^rtwse_[12]$")
    wq_pain: Series[float] = item(1, 5, r"^wq_pain_(interfere|worse)$")
    work_questionnaire_complete: Series[float] = pa.Field(**COMPLETE)


class QuestionnairesWeek6(WorkQuestionnaire):
    redcap_event_name: Series[str] = pa.Field(isin=["week6_arm_1"])


class Employment(WorkQuestionnaire):
    emp_count: Series[float] = pa.Field(ge=0, le=20, nullable=True,
                                        alias=r"^emp_(offers|accepted|started)$", regex=True)
    emp_job_title: Series[str] = pa.Field(nullable=True, str_length={"max_value": 200})
    emp_start_date: Series[DATE] = pa.Field(nullable=True)
    emp_pattern: Series[float] = pa.Field(isin=codes(1, 3), nullable=True)
    employment_complete: Series[float] = pa.Field(**COMPLETE)


class QuestionnairesWeek14(Employment):
    redcap_event_name: Series[str] = pa.Field(isin=["week14_arm_1"])


class QuestionnairesMonth6(Employment):
    redcap_event_name: Series[str] = pa.Field(isin=["month6_arm_1"])


class WorkPreparation(RedcapRecord):
    redcap_event_name: Series[str] = pa.Field(isin=["intervention_arm_1"])
    wp_attended: Series[float] = pa.Field(isin=YESNO)
    wp_session: Series[float] = pa.Field(isin=codes(1, 6), nullable=True)
    wp_date: Series[DATE] = pa.Field(nullable=True)
    wp_days: Series[float] = pa.Field(ge=0, le=2, nullable=True)
    work_preparation_complete: Series[float] = pa.Field(**COMPLETE)

    class Config:
        unique = ["record_id", "redcap_event_name"]


class Placements(RedcapRecord):
    redcap_event_name: Series[str] = pa.Field(isin=["intervention_arm_1"])
    plc_offered: Series[float] = pa.Field(isin=YESNO)
    plc_placed: Series[float] = pa.Field(isin=YESNO)
    plc_decision_date: Series[DATE] = pa.Field(nullable=True)
    plc_not_placed_reason: Series[float] = pa.Field(isin=codes(1, 4), nullable=True)
    plc_provider: Series[float] = pa.Field(isin=codes(1, 4), nullable=True)
    plc_site: Series[float] = pa.Field(isin=SITES, nullable=True)
    plc_role: Series[str] = pa.Field(nullable=True, str_length={"max_value": 200})
    plc_start: Series[DATE] = pa.Field(nullable=True)
    plc_end: Series[DATE] = pa.Field(nullable=True)
    plc_hours: Series[float] = pa.Field(ge=0, le=40, nullable=True, alias=r"^plc_hours_wk[1-6]$",
                                        regex=True)
    plc_weeks: Series[float] = pa.Field(ge=0, le=6, nullable=True)
    plc_completed: Series[float] = pa.Field(isin=YESNO, nullable=True)
    plc_noncompletion_reason: Series[float] = pa.Field(isin=codes(1, 4), nullable=True)
    placement_complete: Series[float] = pa.Field(**COMPLETE)

    class Config:
        unique = ["record_id", "redcap_event_name"]


class RepeatingLog(RedcapRecord):
    redcap_event_name: Series[str] = pa.Field(isin=["intervention_arm_1"])
    redcap_repeat_instrument: Series[str]
    redcap_repeat_instance: Series[float] = pa.Field(ge=1, le=10_000)

    class Config:
        unique = ["record_id", "redcap_event_name", "redcap_repeat_instrument",
                  "redcap_repeat_instance"]


class CaseManagement(RepeatingLog):
    redcap_repeat_instrument: Series[str] = pa.Field(isin=["cm_contact"])
    cm_date: Series[DATE]
    cm_manager: Series[float] = pa.Field(isin=codes(1, 3))
    cm_mode: Series[float] = pa.Field(isin=codes(1, 4))
    cm_minutes: Series[float] = pa.Field(ge=1, le=480)
    cm_referral: Series[float] = pa.Field(isin=YESNO)
    cm_contact_complete: Series[float] = pa.Field(**COMPLETE)


class StatusChanges(RepeatingLog):
    redcap_repeat_instrument: Series[str] = pa.Field(isin=["status_change"])
    sc_date: Series[DATE]
    sc_type: Series[float] = pa.Field(isin=codes(1, 7))
    sc_reason: Series[float] = pa.Field(isin=codes(1, 9))
    sc_further_data: Series[float] = pa.Field(isin=YESNO)
    sc_details: Series[str] = pa.Field(nullable=True, str_length={"max_value": 2000})
    status_change_complete: Series[float] = pa.Field(**COMPLETE)


class AdverseEvents(RepeatingLog):
    redcap_repeat_instrument: Series[str] = pa.Field(isin=["adverse_event"])
    ae_date: Series[DATE]
    ae_serious: Series[float] = pa.Field(isin=YESNO)
    ae_related: Series[float] = pa.Field(isin=codes(1, 3))
    ae_category: Series[float] = pa.Field(isin=codes(1, 4))
    ae_description: Series[str] = pa.Field(nullable=True, str_length={"max_value": 2000})
    adverse_event_complete: Series[float] = pa.Field(**COMPLETE)


class FollowupAdmin(RedcapRecord):
    redcap_event_name: Series[str] = pa.Field(isin=["week6_arm_1", "week14_arm_1", "month6_arm_1"])
    fu_sent_date: Series[DATE] = pa.Field(nullable=True)
    fu_reminder_calls: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    fu_returned: Series[float] = pa.Field(isin=YESNO)
    fu_return_date: Series[DATE] = pa.Field(nullable=True)
    followup_admin_complete: Series[float] = pa.Field(**COMPLETE)

    class Config:
        unique = ["record_id", "redcap_event_name"]


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "screening": Screening,
    "enrolment": Enrolment,
    "questionnaires_baseline": QuestionnairesBaseline,
    "questionnaires_week6": QuestionnairesWeek6,
    "questionnaires_week14": QuestionnairesWeek14,
    "questionnaires_month6": QuestionnairesMonth6,
    "work_preparation": WorkPreparation,
    "placements": Placements,
    "case_management": CaseManagement,
    "status_changes": StatusChanges,
    "adverse_events": AdverseEvents,
    "followup_admin": FollowupAdmin,
}
