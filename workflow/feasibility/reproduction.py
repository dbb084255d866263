"""Compare every published value with the same value computed from the data.

One row per leaf of ``published_values.yaml``: its key path, the published value,
the reproduced value rounded as the paper printed it, and a status:
``match``; ``mismatch``; ``published value inconsistent`` (the audit of the
published numbers shows it cannot hold together with the paper's other numbers,
so no data can reproduce all of them); ``suppressed (small-cell rule)`` (the table
withholds the count: see ``disclosure.small_cell_threshold``); or ``not a data value``
(study context the CRF data do not hold, such as the process-evaluation interviews).
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pandas as pd

from . import crf
from .derive import employment_known, main_case_manager

SUPPRESSED = "suppressed (small-cell rule)"
from .stats import mean_sd, median_iqr, round_half_up

FOLLOW_UP_END = pd.Timestamp("2019-02-28")   # "planned end date in February 2019" (Results)

NOT_DATA_PREFIXES = ("study.planned_participants", "study.follow_up_end", "study.sites",
                     "study.poster_campaign", "instruments.", "process_evaluation.",
                     "placements.offered_by_partners", "placements.offered_birmingham_area",
                     "placements.offered_coventry", "placements.council_offered",
                     "placements.nhs_trust_roles_to_choose_from", "placements.nhs_trust_offered",
                     "placements.contracting_months", "placements.max_hours_per_week_offered",
                     "placements.placement_weeks", "work_preparation.sessions_days",
                     "case_management.cost_per_hour_gbp", "case_management.hours_per_person_range",
                     "case_management.cost_per_person_max_gbp",
                     "economics.rtw_without_intervention_assumed_pct", "table3_change.note",
                     "table2_baseline.n")


def leaves(obj, prefix: str = "") -> list[tuple[str, Any]]:
    """Key paths of the comparable leaves: scalars and flat lists of numbers."""
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += leaves(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, list) and obj and all(isinstance(v, list) for v in obj):
        for i, v in enumerate(obj):
            out += leaves(v, f"{prefix}[{i}]")
    else:
        out.append((prefix, obj))
    return out


def _decimals(v) -> int:
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return 0
    s = repr(float(v)) if isinstance(v, float) else str(v)
    return len(s.split(".")[1]) if "." in s else 0


def rounded_like(published, value):
    """``value`` rounded to the printed precision of ``published`` (element-wise for lists)."""
    if isinstance(published, list):
        if not isinstance(value, (list, tuple)) or len(value) != len(published):
            return value
        return [rounded_like(p, v) for p, v in zip(published, value)]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(published, str) or isinstance(value, (str, list, tuple)):
        return value
    d = _decimals(published)
    r = round_half_up(float(value), d)
    return int(r) if d == 0 else r


def _same(p, r) -> bool:
    if isinstance(p, list):
        return isinstance(r, list) and len(p) == len(r) and all(_same(a, b) for a, b in zip(p, r))
    if r is None or isinstance(r, (list, tuple)):
        return False
    if isinstance(p, str) or isinstance(r, str):
        return str(p) == str(r)
    return Decimal(str(float(p))) == Decimal(str(float(r)))


# --------------------------------------------------------------- values from the table cells
def from_cells(cells: pd.DataFrame) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in cells[cells["published_key"].notna() & (cells["published_key"] != "")].itertuples():
        key, st = c.published_key, c.statistic
        if st == "n_pct":
            out[key] = [c.n, c.estimate]
            parent = key.rsplit(".", 1)[0]
            if parent.startswith("table4_"):
                out.setdefault(parent + ".n", c.denominator)
        elif st == "mean_sd":
            out[key] = [c.estimate, c.sd]
            out.setdefault(key.rsplit(".", 1)[0] + ".n", c.n)
        elif st == "median_iqr":
            out[key] = [c.estimate, c.lower, c.upper]
        elif st == "change_ci":
            out[key] = [c.estimate, c.lower, c.upper, c.n]
        elif st == "count":
            out[key] = [c.estimate, c.n]
        elif st in ("proportion_ci",):
            out[key] = c.estimate
        else:
            out[key] = c.estimate if key.startswith(("economics", "follow_up")) else c.n
    return out


# -------------------------------------------------------------- values from participant data
def session_sites() -> dict[int, str]:
    """Where each work-preparation session was held, as its CRF label names it
    (``Group session 1 (Birmingham)`` → Birmingham)."""
    return {code: text.rpartition("(")[2].rstrip(")")
            for code, text in crf.fields_by_name()["wp_session"].choices}


def from_data(f: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Published values outside Tables 2-5, computed from the analysis dataset."""
    p, scr = f["participants"], f["screening"]
    sc, wp, cm = f["status_changes"], f["work_preparation"], f["case_management"]
    n = len(p)
    pct = lambda k, d=n: 100 * k / d if d else float("nan")   # noqa: E731
    placed = p["placed"]
    reasons = p["excluded_after_recruitment"].fillna("") + "|" + p["not_placed_reason"].fillna("")
    starters = [r for c in ("jobs_started_week14", "jobs_started_month6") if c in p
                for r in p.loc[p[c].fillna(0) > 0, "record_id"]]
    employed = employment_known(p, sc, starters)
    v: dict[str, Any] = {}
    v["flow.screened"] = len(scr)
    v["flow.eligible_expressed_interest"] = int(((scr["scr_eligible"] == 1) & (scr["scr_interested"] == 1)).sum())
    v["flow.recruited"] = n
    v["flow.ineligible_after_recruitment"] = int(p["excluded_after_recruitment"].str.startswith(
        "Found ineligible", na=False).sum())
    v["flow.unable_to_place_language_or_learning"] = int(reasons.str.contains("Language", na=False).sum())
    v["flow.withdrew_after_baseline"] = int(p["dropout_reason"].str.startswith("Withdrew", na=False).sum())
    v["flow.attended_work_preparation"] = int(p["attended_work_preparation"].sum())
    v["flow.placed_and_attended"] = [int(placed.sum()), pct(placed.sum())]
    v["flow.completed_full_six_weeks"] = int(p["completed_placement"].fillna(False).sum())
    v["flow.did_not_complete_placement"] = int((placed & ~p["completed_placement"].fillna(True)).sum())
    v["flow.offered_placement_but_disengaged"] = int(p["dropout_reason"].str.startswith(
        "Disengaged", na=False).sum())
    v["flow.obtained_employment_known"] = [len(employed), pct(len(employed))]
    v["flow.started_jobs_during_study"] = len(employment_known(p, sc, starters, by=FOLLOW_UP_END))
    v["flow.recruited_from_nhs_sites"] = int((p["source_group"] == "NHS sites").sum())
    for key, grp in (("nhs", "NHS sites"), ("non_nhs", "Non-NHS sites"), ("direct_contact", "Direct contact")):
        v[f"flow.recruitment_source_pct.{key}"] = pct((p["source_group"] == grp).sum())
    two = int((p["n_pain_areas"] >= 2).sum())
    v["flow.pain_two_or_more_areas"] = [two, pct(two)]
    v["flow.previously_worked"] = int(p["previously_worked"].sum())
    v["flow.additional_health_concerns"] = int(p["additional_health_concerns"].sum())
    for tp, key in (("week6", "six_weeks"), ("week14", "fourteen_weeks"), ("month6", "six_months")):
        s = p[f"fu_status_{tp}"]
        v[f"follow_up_response_rate_pct.{key}"] = pct((s == "returned").sum(), (s != "not expected").sum())
    m = median_iqr(p["fu_days_month6"].dropna())
    v["final_follow_up_days_from_start.median"] = m.median
    v["final_follow_up_days_from_start.q1"] = m.q1
    v["final_follow_up_days_from_start.q3"] = m.q3
    # study calendar and sources
    v["study.recruitment_window"] = [p["consent_date"].min().strftime("%Y-%m"),
                                     p["consent_date"].max().strftime("%Y-%m")]
    first = scr.groupby("scr_source")["scr_date"].min()
    for code, key in ((1, "nhs_pain_clinics"), (2, "council_employment_services"),
                      (3, "posters_and_direct_contact"), (4, "private_employment_services")):
        v[f"study.recruitment_sources_started.{key}"] = first.get(code).strftime("%Y-%m") \
            if code in first.index else None
    # placements
    pl = p[placed]
    for key, col in (("days_recruitment_to_placement", "days_recruitment_to_placement"),
                     ("total_hours", "placement_hours"), ("weeks_attended", "placement_weeks"),
                     ("hours_per_week", "hours_per_week")):
        ms = mean_sd(pl[col])
        v[f"placements.{key}.mean_sd"] = [ms.mean, ms.sd]
    v["placements.hours_per_week.range"] = [pl["hours_per_week"].min(), pl["hours_per_week"].max()]
    # work preparation
    att = wp[wp["wp_attended"] == 1]
    sizes = att.groupby("wp_session").size()
    group = sizes[sizes.index != 6]
    v["work_preparation.attended"] = int(len(att))
    v["work_preparation.group_sessions"] = int(len(group))
    held_in = session_sites()
    for site in ("Birmingham", "Coventry"):
        v[f"work_preparation.group_sessions_by_site.{site.lower()}"] = int(
            sum(held_in[s] == site for s in group.index))
    v["work_preparation.group_size.min"] = int(group.min())
    v["work_preparation.group_size.median"] = median_iqr(group.to_numpy(dtype=float)).median
    v["work_preparation.group_size.max"] = int(group.max())
    v["work_preparation.one_to_one_sessions"] = int(sizes.get(6, 0))
    # case management (hours per participant, from the contact log)
    hours = cm.groupby("record_id")["cm_minutes"].sum() / 60
    hp = hours.reindex(p["record_id"]).fillna(0).to_numpy()
    with_cm = hours.reindex(p["record_id"]).notna().to_numpy()
    pm = placed.to_numpy()
    v["case_management.total_hours"] = float(hp.sum())
    v["case_management.placed.n"] = int(pm.sum())
    v["case_management.placed.total_hours"] = float(hp[pm].sum())
    mi = median_iqr(hp[pm & with_cm])
    v["case_management.placed.median_iqr"] = [mi.median, mi.q1, mi.q3]
    v["case_management.unplaced.total_hours"] = float(hp[~pm].sum())
    mi = median_iqr(hp[~pm & with_cm])
    v["case_management.unplaced.median_iqr"] = [mi.median, mi.q1, mi.q3]
    mgr = main_case_manager(cm)
    for code, key in ((1, "occupational_health_nurse"), (2, "employment_specialist"),
                      (3, "occupational_therapist_stand_in")):
        ids = mgr.index[mgr == code]
        v[f"case_management.by_case_manager.{key}.participants"] = int(len(ids))
        v[f"case_management.by_case_manager.{key}.mean_hours"] = float(hours[ids].mean()) if len(ids) else None
    # safety and economics
    v["safety.adverse_events"] = int(p["adverse_events"].sum())
    v["safety.deaths_unrelated"] = int(p["dropout_reason"].str.startswith("Died", na=False).sum())
    v["safety.healthcare_referrals"] = int(p["healthcare_referrals"].sum())
    v["economics.rtw_with_intervention_pct"] = pct(len(employed))
    return v


def compare(published: dict, cells: pd.DataFrame, frames: dict[str, pd.DataFrame],
            audit: pd.DataFrame) -> pd.DataFrame:
    """The comparison table (one row per published value)."""
    from .audit import inconsistencies

    reproduced = {**from_cells(cells), **from_data(frames)}
    nnt = reproduced.get("economics.rtw_with_intervention_pct")
    if nnt is not None:
        p_ctl = published["economics"]["rtw_without_intervention_assumed_pct"] / 100
        reproduced["economics.number_needed_to_treat"] = 1 / (nnt / 100 - p_ctl)
    bad = inconsistencies(audit)
    suppressed = set(cells.loc[cells["text"].astype(str).str.startswith("<"), "published_key"].dropna())
    rows = []
    for key, pub in leaves(published):
        if key.startswith(NOT_DATA_PREFIXES):
            rows.append((key, pub, None, "not a data value", "context reported by the paper; not held in the CRF data"))
            continue
        val = reproduced.get(key)
        shown = rounded_like(pub, val) if val is not None else None
        finding = next((bad[k] for k in _ancestors(key) if k in bad), "")
        if any(k in suppressed for k in _ancestors(key)):
            status, shown = SUPPRESSED, None     # the table withholds it: so does this
        elif val is not None and _same(pub, shown):
            status = "match"
        elif finding:
            status = "published value inconsistent"
        else:
            status = "mismatch"
        rows.append((key, pub, shown, status, finding))
    out = pd.DataFrame(rows, columns=["key", "published", "reproduced", "status", "audit_finding"])
    out["published"] = out["published"].map(_text)
    out["reproduced"] = out["reproduced"].map(_text)
    return out


# Values whose audit finding is recorded under another key of the same sum.
RELATED = {"case_management.by_case_manager": "case_management.total_hours",
           "placements.hours_per_week": "placements.hours_per_week.range[1]"}


def _ancestors(key: str) -> list[str]:
    out = [v for k, v in RELATED.items() if key.startswith(k)]
    out, k = [key] + out, key
    while "." in k or "[" in k:
        k = k[:max(k.rfind("."), k.rfind("["))]
        out.append(k)
    return out


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "[" + ", ".join(_text(x) for x in v) + "]"
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(v)
    return str(v)
