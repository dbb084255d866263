"""The published paper's own language: where each published number sits, and how it is printed.

Every key of ``config/published_values.yaml`` is named here as a reader finds it in the
paper ("Table 2 · Areas of pain · Chest, n (%)", "Results · Placements · Hours per week,
range"), and every value is written as the paper prints it ("18 (58)", "3.1 (−4.1 to
10.4), n = 8", "42%"), never as a configuration key or a Python list. The printed numbers
of a value have names (:func:`part_names`: ``mean``/``sd``, ``count``/``pct``,
``estimate``/``lower``/``upper``/``n`` ...), which the audit uses to say which number of
a value it doubts and the reproduction to compare the others.
"""

from __future__ import annotations

import re
from typing import Any

from feasibility import publication
from feasibility.publication import SEP, decimals  # noqa: F401 (decimals: part of the language)

TABLE3_TIMES = ("six-weeks", "14-weeks", "six-months")  # the paper's Table 3 columns
TABLE5_TIMES = {"fourteen_weeks": "14-week scores", "six_months": "6-month scores"}

# Table 2 rows as the paper prints them: key -> (row, statistic)
TABLE2_ROWS = {
    "female": ("Gender, n (%) female", ""),
    "age": ("Age", "mean (SD)"),
    "years_in_pain": ("Years in pain", "median (IQR)"),
    "years_out_of_work": ("Years out of work", "median (IQR)"),
    "years_looking_for_work": ("Years looking for work", "median (IQR)"),
    "work_confidence": ("Perceived work confidence", "mean (SD)"),
    "work_ability": ("Perceived work ability", "mean (SD)"),
    "eq5d_vas": ("EQ-5D health today", "mean (SD)"),
    "eq5d_5l_to_3l": ("EQ-5D 5L mapped to 3L value set", "mean (SD)"),
    "hads_anxiety": ("HADS anxiety", "mean (SD)"),
    "hads_depression": ("HADS depression", "mean (SD)"),
    "pain_now_nrs": ("NRS current pain", "mean (SD)"),
    "pain_week_nrs": ("NRS pain over past week", "mean (SD)"),
    "wemwbs": ("WEMWBS", "mean (SD)"),
    "promis_fatigue": ("PROMIS SF, fatigue", "mean (SD)"),
    "promis_pain_interference": ("PROMIS SF, pain interference", "mean (SD)"),
    "n": ("Baseline sample characteristics (n=31)", "n"),
}
TABLE2_GROUPS = {
    "marital_status": "Marital status",
    "pain_areas": "Areas of pain",
    "ethnicity": "Ethnicity",
    "highest_education": "Highest education",
}
TABLE2_CATEGORIES = {
    "single_never_married": "Single (never married)",
    "married": "Married",
    "separated_or_divorced": "Separated or divorced",
    "lower_back": "Lower back",
    "back_or_neck": "Back or neck",
    "head": "Head",
    "chest": "Chest",
    "abdominal": "Abdominal",
    "peripheral": "Peripheral",
    "white": "White",
    "black": "Black",
    "asian": "Asian",
    "mixed": "Mixed",
    "degree_or_higher": "Degree/higher degree",
    "higher_education_a_level": "Higher education, A-level/equivalent",
    "gcse_o_level": "GCSE/O-level/equivalent",
    "vocational": "Vocational/work-related",
    "no_qualification": "No qualification",
}
TABLE3_ROWS = {
    "work_confidence": "Perceived work confidence",
    "work_ability": "Perceived work ability",
    "eq5d_vas": "EQ-5D health today",
    "eq5d_5l_to_3l": "EQ-5D 5L ➔ 3L",
    "hads_anxiety": "HADS anxiety",
    "hads_depression": "HADS depression",
    "pain_now_nrs": "NRS current pain",
    "pain_week_nrs": "NRS pain over past week",
    "wemwbs": "WEMWBS",
    "promis_fatigue": "PROMIS SF fatigue",
    "promis_pain_interference": "PROMIS SF pain interference",
}
TABLE4_ROWS = {
    "satisfaction_with_placement": ("Satisfaction with placement", "n (%)"),
    "paw_job_satisfaction": ("Psychosocial aspects of work · Job satisfaction", "mean (SD)"),
    "paw_social_support": ("Psychosocial aspects of work · Social support", "mean (SD)"),
    "paw_mental_stress": ("Psychosocial aspects of work · Mental stress", "mean (SD)"),
    "rtw_self_efficacy": ("RTW self-efficacy scale", "mean (SD)"),
    "wrfq": ("Work functioning role questionnaire", "mean (SD)"),
    "pain_interfered_with_work": ("How much did pain interfere with your work?", "n (%)"),
    "work_made_pain_worse": ("How much did work make your pain worse?", "n (%)"),
}
TABLE4_ANSWERS = {
    "very_satisfied": "Very satisfied",
    "satisfied": "Satisfied",
    "neither": "Neither satisfied nor dissatisfied",
    "dissatisfied": "Dissatisfied",
    "very_dissatisfied": "Very dissatisfied",
    "not_at_all": "Not at all",
    "a_little_bit": "A little bit",
    "moderately": "Moderately",
    "quite_a_lot": "Quite a lot",
    "extremely": "Extremely",
}
TABLE5_ROWS = {
    "job_offers_reported": "Number of job offers reported",
    "job_offers_accepted": "Number of job offers accepted",
    "new_jobs_started": "Number of new jobs started",
}
INSTRUMENTS = {
    "eq5d_vas": "EQ-5D health today (VAS)",
    "eq5d_5l_to_3l": "EQ-5D-5L index",
    "hads_anxiety": "HADS anxiety",
    "hads_depression": "HADS depression",
    "work_confidence_nrs": "Confidence in working",
    "work_ability_nrs": "Work ability",
    "pain_now_nrs": "Current pain intensity",
    "pain_week_nrs": "Pain intensity over past week",
    "wemwbs": "WEMWBS",
    "promis_fatigue_8a": "PROMIS fatigue (8a)",
    "promis_pain_interference": "PROMIS pain interference (8a)",
    "wrfq": "WRFQ",
    "paw_job_satisfaction": "PAW job satisfaction",
    "paw_social_support": "PAW social support",
    "paw_mental_stress": "PAW mental stress",
    "rtw_self_efficacy": "RTW Self-Efficacy Scale",
    "timepoints": "Measurement time-points",
}

# Everything outside Tables 1-5: key (or group key) -> where and what.
TEXT = {
    "study": "Methods · Study",
    "study.planned_participants": "Methods · Participant recruitment · Participants we aimed to place",
    "study.recruitment_window": "Results · Recruitment · Months of recruitment",
    "study.follow_up_end": "Results · Planned end of follow-up",
    "study.sites": "Methods · Areas (Birmingham, Coventry)",
    "study.recruitment_sources_started": "Results · Recruitment · First month of each source",
    "study.recruitment_sources_started.nhs_pain_clinics": "Results · Recruitment · NHS pain clinics from",
    "study.recruitment_sources_started.council_employment_services": "Results · Recruitment · Council-run employment services from",
    "study.recruitment_sources_started.posters_and_direct_contact": "Results · Recruitment · Posters and direct contact from",
    "study.recruitment_sources_started.private_employment_services": "Results · Recruitment · Private employment services from",
    "study.poster_campaign": "Results · Recruitment · Poster campaign",
    "flow": "Results · Participant flow (Fig. 1)",
    "flow.screened": "Results (Fig. 1) · People screened for eligibility",
    "flow.eligible_expressed_interest": "Results (Fig. 1) · Eligible people who expressed interest",
    "flow.recruited": "Results (Fig. 1) · Participants recruited",
    "flow.ineligible_after_recruitment": "Results (Fig. 1) · Found ineligible after recruitment (off sick)",
    "flow.unable_to_place_language_or_learning": "Results (Fig. 1) · Unable to be placed: language or learning difficulties",
    "flow.withdrew_after_baseline": "Results (Fig. 1) · Withdrew after baseline",
    "flow.attended_work_preparation": "Results (Fig. 1) · Attended work preparation",
    "flow.placed_and_attended": "Results (Fig. 1) · Matched and attended a placement, n (%)",
    "flow.completed_full_six_weeks": "Results · Placements · Completed the full six weeks",
    "flow.did_not_complete_placement": "Results · Placements · Did not complete the placement",
    "flow.offered_placement_but_disengaged": "Results · Offered a placement but disengaged",
    "flow.obtained_employment_known": "Results · Known to have obtained employment, n (%)",
    "flow.started_jobs_during_study": "Abstract · Started jobs during the study",
    "flow.recruited_from_nhs_sites": "Results · Recruitment · Recruited from NHS sites",
    "flow.recruitment_source_pct": "Results · Recruitment · Split by source",
    "flow.recruitment_source_pct.nhs": "Results · Recruitment · From NHS sites, %",
    "flow.recruitment_source_pct.non_nhs": "Results · Recruitment · From non-NHS sites, %",
    "flow.recruitment_source_pct.direct_contact": "Results · Recruitment · By direct contact, %",
    "flow.pain_two_or_more_areas": "Results · Pain in two or more body areas, n (%)",
    "flow.previously_worked": "Results · Had previously worked",
    "flow.additional_health_concerns": "Results · Additional health concerns (all but six)",
    "follow_up_response_rate_pct": "Discussion · Response rates excluding dropouts",
    "follow_up_response_rate_pct.six_weeks": "Discussion · Response rate excluding dropouts · 6 weeks, %",
    "follow_up_response_rate_pct.fourteen_weeks": "Discussion · Response rate excluding dropouts · 14 weeks, %",
    "follow_up_response_rate_pct.six_months": "Discussion · Response rate excluding dropouts · 6 months, %",
    "final_follow_up_days_from_start": "Table 3 note · Days from start date to final follow-up",
    "final_follow_up_days_from_start.median": "Table 3 note · Days from start date to final follow-up, median",
    "final_follow_up_days_from_start.q1": "Table 3 note · Days from start date to final follow-up, lower quartile",
    "final_follow_up_days_from_start.q3": "Table 3 note · Days from start date to final follow-up, upper quartile",
    "placements": "Results · Placements",
    "placements.offered_by_partners": "Results · Placements offered by partners",
    "placements.offered_birmingham_area": "Results · Placements offered in the Birmingham area",
    "placements.offered_coventry": "Results · Placements offered in Coventry",
    "placements.council_offered": "Results · Placements offered by the council partner",
    "placements.nhs_trust_roles_to_choose_from": "Results · NHS Trust roles to choose from",
    "placements.nhs_trust_offered": "Results · Placements offered by the NHS Trust partner",
    "placements.contracting_months": "Results · Months to a signed contract with all partners",
    "placements.days_recruitment_to_placement.mean_sd": "Results · Days from recruitment to placement, mean (SD)",
    "placements.total_hours.mean_sd": "Results · Total placement hours, mean (SD)",
    "placements.weeks_attended.mean_sd": "Results · Weeks on placement, mean (SD)",
    "placements.hours_per_week.mean_sd": "Results · Hours worked per week, mean (SD)",
    "placements.hours_per_week.range": "Results · Hours worked per week, range",
    "placements.max_hours_per_week_offered": "Methods · Placements of up to 16 hours per week",
    "placements.placement_weeks": "Methods · Placement length, weeks",
    "work_preparation": "Results · Work preparation",
    "work_preparation.attended": "Results · Work preparation · People who attended",
    "work_preparation.group_sessions": "Results · Work preparation · Group sessions",
    "work_preparation.group_sessions_by_site": "Results · Work preparation · Group sessions by area",
    "work_preparation.group_sessions_by_site.birmingham": "Results · Work preparation · Group sessions in Birmingham",
    "work_preparation.group_sessions_by_site.coventry": "Results · Work preparation · Group sessions in Coventry",
    "work_preparation.group_size": "Results · Work preparation · Group size",
    "work_preparation.group_size.min": "Results · Work preparation · Group size, smallest",
    "work_preparation.group_size.median": "Results · Work preparation · Group size, median",
    "work_preparation.group_size.max": "Results · Work preparation · Group size, largest",
    "work_preparation.one_to_one_sessions": "Results · Work preparation · One-to-one sessions",
    "work_preparation.sessions_days": "Methods · Work preparation · Days per session",
    "case_management": "Results · Case management",
    "case_management.total_hours": "Results · Case management · Total hours",
    "case_management.placed.n": "Results · Case management · Placed participants",
    "case_management.placed.total_hours": "Results · Case management · Hours for those placed",
    "case_management.placed.median_iqr": "Results · Case management · Hours per placed participant, median (IQR)",
    "case_management.unplaced.total_hours": "Results · Case management · Hours for those not placed",
    "case_management.unplaced.median_iqr": "Results · Case management · Hours per unplaced participant, median (IQR)",
    "case_management.by_case_manager": "Results · Case management · By case manager",
    "case_management.cost_per_hour_gbp": "Discussion · Case management cost per hour, £",
    "case_management.hours_per_person_range": "Discussion · Case-manager hours per person",
    "case_management.cost_per_person_max_gbp": "Discussion · Case management cost per person, £",
    "safety.adverse_events": "Results · Adverse events",
    "safety.deaths_unrelated": "Results · Deaths (unrelated to the intervention)",
    "safety.healthcare_referrals": "Results · Referrals to existing healthcare",
    "economics.rtw_with_intervention_pct": "Discussion · Gaining or returning to work, %",
    "economics.rtw_without_intervention_assumed_pct": "Discussion · Returning to work without the intervention (assumed), %",
    "economics.number_needed_to_treat": "Discussion · Number needed to treat",
    "process_evaluation": "Results · Process evaluation",
}
# Keys the paper reports as context that the CRF data do not hold (never compared).
NOT_DATA_PREFIXES = (
    "study.planned_participants",
    "study.follow_up_end",
    "study.sites",
    "study.poster_campaign",
    "instruments.",
    "process_evaluation.",
    "placements.offered_by_partners",
    "placements.offered_birmingham_area",
    "placements.offered_coventry",
    "placements.council_offered",
    "placements.nhs_trust_roles_to_choose_from",
    "placements.nhs_trust_offered",
    "placements.contracting_months",
    "placements.max_hours_per_week_offered",
    "placements.placement_weeks",
    "work_preparation.sessions_days",
    "case_management.cost_per_hour_gbp",
    "case_management.hours_per_person_range",
    "case_management.cost_per_person_max_gbp",
    "economics.rtw_without_intervention_assumed_pct",
    "table3_change.note",
    "table2_baseline.n",
)

CASE_MANAGERS = {
    "occupational_health_nurse": "occupational health nurse",
    "employment_specialist": "employment specialist",
    "occupational_therapist_stand_in": "stand-in occupational therapist",
}
CASE_MANAGER_PARTS = {"participants": "participants", "mean_hours": "mean hours per participant"}


_humane = publication.humane


def location(key: str) -> str:
    """Where a published number sits in the paper, in the paper's words."""
    if key in TEXT:
        return TEXT[key]
    parts = key.split(".")
    head = parts[0]
    if head == "table2_baseline":
        return _table2(parts[1:])
    if head == "table3_change":
        m = re.fullmatch(r"(\w+)\[(\d)\]", parts[1]) if len(parts) > 1 else None
        if m:
            return SEP.join(
                ("Table 3", TABLE3_ROWS.get(m[1], _humane(m[1])), TABLE3_TIMES[int(m[2])] + " (95% CI), n")
            )
        return "Table 3" + (SEP + TABLE3_ROWS.get(parts[1], _humane(parts[1])) if len(parts) > 1 else "")
    if head == "table4_work_outcomes":
        return _table4(parts[1:])
    if head == "table5_jobs":
        time = TABLE5_TIMES.get(parts[1], _humane(parts[1])) if len(parts) > 1 else ""
        row = TABLE5_ROWS.get(parts[2], _humane(parts[2])) if len(parts) > 2 else ""
        return SEP.join(p for p in ("Table 5", row, f"{time}, n" if row else time) if p)
    if head == "instruments":
        name = INSTRUMENTS.get(parts[1], _humane(parts[1])) if len(parts) > 1 else ""
        return SEP.join(p for p in ("Table 1", name, "range" if parts[1:] != ["timepoints"] else "") if p)
    if head == "case_management" and len(parts) >= 3 and parts[1] == "by_case_manager":
        who = CASE_MANAGERS.get(parts[2], _humane(parts[2]))
        what = CASE_MANAGER_PARTS.get(parts[3], _humane(parts[3])) if len(parts) > 3 else ""
        return SEP.join(p for p in ("Results · Case management", f"{who[0].upper()}{who[1:]}", what) if p)
    if head == "study" and len(parts) > 2 and parts[1] == "poster_campaign":
        return f"Results · Recruitment · Posters: {_humane(parts[2])}"
    if head == "process_evaluation" and len(parts) > 1:
        return f"Results · Process evaluation · {_humane(parts[1]).capitalize()}"
    parent = key.rsplit(".", 1)[0] if "." in key else ""
    if parent in TEXT:
        return TEXT[parent] + SEP + _humane(parts[-1])
    return publication.location(key)


def _table2(parts: list[str]) -> str:
    if not parts:
        return "Table 2"
    name = parts[0]
    if name in TABLE2_GROUPS:
        group = TABLE2_GROUPS[name]
        if len(parts) == 1:
            return f"Table 2 · {group}, n (%)"
        return f"Table 2 · {group} · {TABLE2_CATEGORIES.get(parts[1], _humane(parts[1]))}, n (%)"
    row, stat = TABLE2_ROWS.get(name, (_humane(name), ""))
    return f"Table 2 · {row}" + (f", {stat}" if stat and stat != "n" else "")


def _table4(parts: list[str]) -> str:
    if not parts:
        return "Table 4"
    row, stat = TABLE4_ROWS.get(parts[0], (_humane(parts[0]), ""))
    rest = parts[1:]
    if not rest:
        return f"Table 4 · {row}"
    if rest == ["n"]:
        return f"Table 4 · {row}, n"
    if rest == ["mean_sd"]:
        return f"Table 4 · {row}, {stat}"
    return f"Table 4 · {row} · {TABLE4_ANSWERS.get(rest[0], _humane(rest[0]))}, n (%)"


# ----------------------------------------------------------------------------- printed numbers
def part_names(key: str, value: Any = None) -> list[str]:
    """Names of the printed numbers of a published value, in the order the yaml holds them."""
    leaf = key.rsplit(".", 1)[-1]
    if key.startswith("table3_change.") and "[" in key:
        return ["estimate", "lower", "upper", "n"]
    if key.startswith("table5_jobs."):
        return ["value", "n"]
    if leaf == "hours_per_person_range" or key.startswith("instruments.") and leaf != "timepoints":
        return ["min", "max"]
    if leaf == "recruitment_window":
        return ["first", "last"]
    return publication.part_names(key, value)


def printed(key: str, value: Any, like: Any = None) -> str:
    """``value`` written as the paper prints the value of ``key`` (the flow's n (%) with a
    per cent sign, "15 (48%)"); ``like``: the published value whose decimals to print with."""
    names = part_names(key, value if like is None else like)
    return publication.printed(key, value, like, names=names, percent_sign=key.startswith("flow."))
