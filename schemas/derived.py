"""Pandera schemas of the derived analysis datasets under ``results/derived/``.

These are the contract between the derivation step and everything downstream
(tables, figures, reproduction check): table and figure code reads only these
columns.
"""
from __future__ import annotations

import pandera.pandas as pa
from pandera.typing import Series

TIMEPOINTS = ["baseline", "week6", "week14", "month6"]
FOLLOW_UP_STATUS = ["returned", "not returned", "not expected"]


class Scores(pa.DataFrameModel):
    """One row per participant and time point with every instrument score.

    Scores are NaN when the instrument was not returned or could not be scored
    under the missing-data rules (see the scoring log).
    """

    record_id: Series[str]
    timepoint: Series[str] = pa.Field(isin=TIMEPOINTS)
    questionnaire_date: Series[pa.DateTime] = pa.Field(nullable=True)
    eq5d_mo: Series[pa.Float64] = pa.Field(ge=1, le=5, nullable=True)
    eq5d_sc: Series[pa.Float64] = pa.Field(ge=1, le=5, nullable=True)
    eq5d_ua: Series[pa.Float64] = pa.Field(ge=1, le=5, nullable=True)
    eq5d_pd: Series[pa.Float64] = pa.Field(ge=1, le=5, nullable=True)
    eq5d_ad: Series[pa.Float64] = pa.Field(ge=1, le=5, nullable=True)
    eq5d_state: Series[str] = pa.Field(nullable=True, str_matches=r"^[1-5]{5}$")
    eq5d_vas: Series[float] = pa.Field(ge=0, le=100, nullable=True)
    eq5d_index: Series[float] = pa.Field(ge=-0.7, le=1, nullable=True)
    hads_anxiety: Series[float] = pa.Field(ge=0, le=21, nullable=True)
    hads_depression: Series[float] = pa.Field(ge=0, le=21, nullable=True)
    work_confidence: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    work_ability: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    pain_now_nrs: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    pain_week_nrs: Series[float] = pa.Field(ge=0, le=10, nullable=True)
    wemwbs: Series[float] = pa.Field(ge=14, le=70, nullable=True)
    promis_fatigue: Series[float] = pa.Field(ge=8, le=40, nullable=True)
    promis_pain_interference: Series[float] = pa.Field(ge=8, le=40, nullable=True)
    placement_satisfaction: Series[float] = pa.Field(ge=1, le=5, nullable=True)
    wrfq: Series[float] = pa.Field(ge=0, le=100, nullable=True)
    paw_job_satisfaction: Series[float] = pa.Field(ge=7, le=35, nullable=True)
    paw_social_support: Series[float] = pa.Field(ge=4, le=20, nullable=True)
    paw_mental_stress: Series[float] = pa.Field(ge=4, le=20, nullable=True)
    rtw_self_efficacy: Series[float] = pa.Field(ge=2, le=10, nullable=True)
    pain_interfered_with_work: Series[float] = pa.Field(ge=1, le=5, nullable=True)
    work_made_pain_worse: Series[float] = pa.Field(ge=1, le=5, nullable=True)
    job_offers: Series[float] = pa.Field(ge=0, nullable=True)
    job_offers_accepted: Series[float] = pa.Field(ge=0, nullable=True)
    jobs_started: Series[float] = pa.Field(ge=0, nullable=True)

    class Config:
        strict = True
        coerce = True
        unique = ["record_id", "timepoint"]


class ScoringLog(pa.DataFrameModel):
    """One row per imputed or dropped score (missing-data rules of the paper)."""

    timepoint: Series[str] = pa.Field(isin=TIMEPOINTS)
    record_id: Series[str]
    instrument: Series[str]
    action: Series[str] = pa.Field(isin=["imputed", "score missing"])
    items_missing: Series[int] = pa.Field(ge=0)
    detail: Series[str]

    class Config:
        strict = True
        coerce = True


class Participants(pa.DataFrameModel):
    """One row per recruited participant: baseline characteristics, flow and delivery.

    Flow columns follow R ``consort``'s model: a reason text where the participant
    left at that stage, missing where they continued.
    """

    record_id: Series[str] = pa.Field(unique=True)
    site: Series[str] = pa.Field()  # one of the study's sites (data dictionary); derive checks the list
    source: Series[str]
    source_group: Series[str] = pa.Field(isin=["NHS sites", "Non-NHS sites", "Direct contact"])
    consent_date: Series[pa.DateTime]
    age: Series[float] = pa.Field(ge=16, le=100)
    sex: Series[str] = pa.Field(isin=["Female", "Male"])
    marital_status: Series[str]
    ethnicity: Series[str]
    education: Series[str]
    pain_area_lower_back: Series[bool]
    pain_area_back_or_neck: Series[bool]
    pain_area_head: Series[bool]
    pain_area_chest: Series[bool]
    pain_area_abdominal: Series[bool]
    pain_area_peripheral: Series[bool]
    n_pain_areas: Series[int] = pa.Field(ge=0, le=6)
    years_in_pain: Series[float] = pa.Field(ge=0, nullable=True)
    years_out_of_work: Series[float] = pa.Field(ge=0, nullable=True)
    years_looking_for_work: Series[float] = pa.Field(ge=0, nullable=True)
    previously_worked: Series[bool]
    additional_health_concerns: Series[bool]
    # flow (R consort style: NA = continued)
    excluded_after_recruitment: Series[str] = pa.Field(nullable=True)
    attended_work_preparation: Series[bool]
    work_preparation_session: Series[str] = pa.Field(nullable=True)
    work_preparation_date: Series[pa.DateTime] = pa.Field(nullable=True)
    offered_placement: Series[bool]
    not_placed_reason: Series[str] = pa.Field(nullable=True)
    placed: Series[bool]
    placement_provider: Series[str] = pa.Field(nullable=True)
    placement_site: Series[str] = pa.Field(nullable=True)
    decision_date: Series[pa.DateTime] = pa.Field(nullable=True)
    placement_start: Series[pa.DateTime] = pa.Field(nullable=True)
    placement_end: Series[pa.DateTime] = pa.Field(nullable=True)
    placement_hours: Series[float] = pa.Field(ge=0, nullable=True)
    placement_weeks: Series[float] = pa.Field(ge=0, le=6, nullable=True)
    hours_per_week: Series[float] = pa.Field(ge=0, nullable=True)
    completed_placement: Series[pa.BOOL] = pa.Field(nullable=True)
    not_completed_reason: Series[str] = pa.Field(nullable=True)
    start_date: Series[pa.DateTime] = pa.Field(nullable=True)
    days_recruitment_to_placement: Series[float] = pa.Field(nullable=True)
    dropout: Series[bool]
    dropout_reason: Series[str] = pa.Field(nullable=True)
    case_manager: Series[str] = pa.Field(nullable=True)
    cm_contacts: Series[int] = pa.Field(ge=0)
    cm_hours: Series[float] = pa.Field(ge=0)
    healthcare_referrals: Series[int] = pa.Field(ge=0)
    adverse_events: Series[int] = pa.Field(ge=0)
    serious_adverse_events: Series[int] = pa.Field(ge=0)
    fu_status_week6: Series[str] = pa.Field(isin=FOLLOW_UP_STATUS)
    fu_status_week14: Series[str] = pa.Field(isin=FOLLOW_UP_STATUS)
    fu_status_month6: Series[str] = pa.Field(isin=FOLLOW_UP_STATUS)
    fu_days_week6: Series[float] = pa.Field(nullable=True)
    fu_days_week14: Series[float] = pa.Field(nullable=True)
    fu_days_month6: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = True
