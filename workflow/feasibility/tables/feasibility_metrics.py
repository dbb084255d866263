"""Feasibility metrics: recruitment, conversion, delivery, follow-up and cost.

The progression quantities the paper reports in its text and Fig. 1
(recruitment per month, placement and completion, follow-up response excluding
dropouts, case-management time and cost, number needed to treat), each
proportion with a Wilson 95% interval (config ``statistics.proportion_ci``).
"""
from __future__ import annotations

import math

import pandas as pd
from great_tables import GT, loc

from feasibility import crf
from feasibility.derive import hours_total
from feasibility.stats import median_iqr, proportion, response_rate
from feasibility.tables.common import build_gt, cell, cells_frame

TABLE = "feasibility"
FOLLOW_UPS = {"week6": ("6 weeks", "six_weeks"), "week14": ("14 weeks", "fourteen_weeks"),
              "month6": ("6 months", "six_months")}
SOURCE_NOTE = "Source: the study's screening log and analysis dataset."
SOURCE_WHAT = "Screening log and analysis dataset."
RECRUITMENT, CONVERSION, DELIVERY, FOLLOW_UP, CASE_MANAGEMENT, ECONOMICS = (
    "Recruitment (participants per month)", "Screening and recruitment, % (95% CI)",
    "Intervention delivery, % (95% CI)", "Follow-up response excluding dropouts, % (95% CI)",
    "Case management, median (IQR)", "Return to work")


def months_spanned(first: pd.Timestamp, last: pd.Timestamp) -> int:
    """Calendar months from ``first`` to ``last`` inclusive (Sep 2017 to Aug 2018 = 12)."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _proportion_cell(group: str, label: str, k: int, n: int, confidence: float,
                     key: str = "") -> dict:
    p = proportion(k, n, confidence)
    return cell(TABLE, group, label, "value", "proportion_ci", decimals=0,
                estimate=100 * p.proportion, lower=100 * p.lower, upper=100 * p.upper,
                n=k, denominator=n, published_key=key)


def _recruitment_cells(participants: pd.DataFrame, screening: pd.DataFrame) -> list[dict]:
    """Recruits per calendar month; a site or source is counted from its first screening.

    Sites are the study's own (``crf.study_sites``: the data dictionary's list, stored
    with the validated screening log), one row each in code order."""
    consent = pd.to_datetime(participants["consent_date"])
    last = consent.max()
    months = months_spanned(consent.min(), last)
    rows = [cell(TABLE, RECRUITMENT, "Overall", "value", "rate", decimals=1,
                 estimate=len(participants) / months, n=len(participants), denominator=months)]
    screened_on = pd.to_datetime(screening["scr_date"])
    for column, crf_field, choices in (("site", "scr_site", crf.study_sites(screening)),
                                       ("source", "scr_source", crf.SOURCES)):
        for code, label in choices:
            recruited = int((participants[column] == label).sum())
            started = screened_on[screening[crf_field] == code].min()
            if pd.isna(started):
                started = consent[participants[column] == label].min()
            if pd.isna(started):
                continue
            span = months_spanned(started, last)
            rows.append(cell(TABLE, RECRUITMENT, label, "value", "rate", decimals=1,
                             estimate=recruited / span, n=recruited, denominator=span))
    return rows


def feasibility_metrics(participants: pd.DataFrame, screening: pd.DataFrame, config: dict,
                        employment_known: int | None = None) -> pd.DataFrame:
    """Tidy cells of the feasibility-metrics table.

    ``screening`` is the validated screening export (coded ``scr_*`` fields);
    ``config`` the study configuration (``feasibility`` and ``statistics``
    sections); ``employment_known`` the number of participants known to have
    obtained employment (from all sources, paper: 6), or None when not given.
    """
    confidence = config.get("statistics", {}).get("confidence_level", 0.95)
    cost_per_hour = config["feasibility"]["case_management_cost_per_hour_gbp"]
    p_control = config["feasibility"]["rtw_without_intervention_assumed"]
    recruited = len(participants)
    rows = _recruitment_cells(participants, screening)

    eligible = screening["scr_eligible"] == 1
    interested = eligible & (screening["scr_interested"] == 1)
    enrolled = interested & (screening["scr_enrolled"] == 1)
    rows.append(cell(TABLE, CONVERSION, "Screened", "value", "count", decimals=0,
                     estimate=float(len(screening)), n=len(screening),
                     published_key="flow.screened"))
    rows += [
        _proportion_cell(CONVERSION, "Eligible, of screened", int(eligible.sum()),
                         len(screening), confidence),
        _proportion_cell(CONVERSION, "Eligible and interested, of eligible",
                         int(interested.sum()), int(eligible.sum()), confidence,
                         "flow.eligible_expressed_interest"),
        _proportion_cell(CONVERSION, "Recruited, of eligible and interested",
                         int(enrolled.sum()), int(interested.sum()), confidence, "flow.recruited"),
    ]

    placed = participants["placed"].astype(bool)
    completed = participants.loc[placed, "completed_placement"].fillna(False).astype(bool)
    rows += [
        _proportion_cell(DELIVERY, "Placed, of recruited", int(placed.sum()), recruited,
                         confidence, "flow.placed_and_attended"),
        _proportion_cell(DELIVERY, "Completed the six-week placement, of placed",
                         int(completed.sum()), int(placed.sum()), confidence,
                         "flow.completed_full_six_weeks"),
    ]

    for timepoint, (label, yaml_name) in FOLLOW_UPS.items():
        status = participants[f"fu_status_{timepoint}"]
        r = response_rate(int((status == "returned").sum()), int((status != "not expected").sum()),
                          confidence)
        rows.append(_proportion_cell(FOLLOW_UP, label, r.count, r.denominator, confidence,
                                     f"follow_up_response_rate_pct.{yaml_name}"))
    days = median_iqr(participants.loc[participants["fu_status_month6"] == "returned",
                                       "fu_days_month6"])
    rows.append(cell(TABLE, FOLLOW_UP, "Days from start date to final follow-up, median (IQR)",
                     "value", "median_iqr", decimals=0, estimate=days.median, lower=days.q1,
                     upper=days.q3, n=days.n, published_key="final_follow_up_days_from_start"))

    hours = participants["cm_hours"].astype(float)
    rows.append(cell(TABLE, CASE_MANAGEMENT, "Total hours", "value", "count", decimals=1,
                     estimate=hours_total(hours), n=recruited,
                     published_key="case_management.total_hours"))
    # the paper's per-person medians are over those who had case management (Results: 15
    # placed and 15 not placed; one person found work before case management started)
    managed = participants["cm_contacts"].astype(int) > 0
    for label, subset, key in (("Hours per participant, all recruited", hours, ""),
                               ("Hours per participant, placed", hours[placed & managed],
                                "case_management.placed.median_iqr"),
                               ("Hours per participant, not placed (had case management)",
                                hours[~placed & managed], "case_management.unplaced.median_iqr")):
        m = median_iqr(subset)
        rows.append(cell(TABLE, CASE_MANAGEMENT, label, "value", "median_iqr", decimals=1,
                         estimate=m.median, lower=m.q1, upper=m.q3, n=m.n, published_key=key))
    cost = median_iqr(hours * cost_per_hour)
    rows.append(cell(TABLE, CASE_MANAGEMENT, "Cost per participant (£), all recruited", "value",
                     "median_iqr", decimals=0, estimate=cost.median, lower=cost.q1,
                     upper=cost.q3, n=cost.n))

    if employment_known is not None:
        employed = proportion(employment_known, recruited, confidence)
        rows.append(_proportion_cell(ECONOMICS, "Known to have obtained employment, of recruited",
                                     employment_known, recruited, confidence,
                                     "flow.obtained_employment_known"))
        rows.append(cell(TABLE, ECONOMICS, "Number needed to treat", "value", "nnt_ci",
                         decimals=0, estimate=_nnt(employed.proportion, p_control),
                         lower=_nnt(employed.upper, p_control),
                         upper=_nnt(employed.lower, p_control), n=employment_known,
                         denominator=recruited, published_key="economics.number_needed_to_treat"))
    return cells_frame(rows)


def _nnt(p_intervention: float, p_control: float) -> float:
    """1 / (p_intervention - p_control); infinite when there is no benefit."""
    difference = p_intervention - p_control
    return 1 / difference if difference > 0 else math.inf


def feasibility_metrics_gt(cells: pd.DataFrame, config: dict,
                           source_note: str = SOURCE_NOTE) -> GT:
    """The feasibility metrics as one great-tables table."""
    p_control = config["feasibility"]["rtw_without_intervention_assumed"]
    cost_per_hour = config["feasibility"]["case_management_cost_per_hour_gbp"]
    gt = build_gt(cells, table_id="feasibility_metrics", label="Table 10", title="Feasibility metrics",
                  columns={"value": ""}, value_label="Estimate", n_label="n",
                  denominator_label="N", stub_label="Metric")
    gt = (gt.tab_footnote("Participants recruited per calendar month: overall from the first to "
                          "the last consent; by site or source from its first screening to the "
                          "last consent.", locations=loc.row_groups(rows=[RECRUITMENT]))
            .tab_footnote("Percentages with Wilson 95% confidence intervals.")
            .tab_footnote("Those not expected to return a questionnaire (dropouts) are excluded.",
                          locations=loc.row_groups(rows=[FOLLOW_UP]))
            .tab_footnote(f"Case-management cost at £{cost_per_hour} per hour.",
                          locations=loc.row_groups(rows=[CASE_MANAGEMENT])))
    if (cells["statistic"] == "nnt_ci").any():
        gt = gt.tab_footnote(
            f"Number needed to treat = 1 / (p − {p_control:g}), where p is the proportion "
            f"known to have obtained employment and {p_control:g} the return-to-work proportion "
            "assumed without the intervention; its interval follows from the Wilson interval of p "
            "(∞ where that interval reaches the assumed proportion).",
            locations=loc.row_groups(rows=[ECONOMICS]))
    return gt.tab_source_note(source_note)
