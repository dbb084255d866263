"""The analysis dataset: one row per participant (flow, delivery, follow-up).

Pure functions from the validated exports to ``schemas/derived.py`` tables.
Definitions follow the paper's Methods and Results: the Table 3 start date is the
placement start for those placed, otherwise the date it was decided they could
not be placed; dropouts (excluded, withdrawn, disengaged, died, or not placed for
language or learning difficulties: any status change that allows no further
data) are excluded from follow-up denominators.
"""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import crf
from .schemas.derived import Participants

SOURCE_GROUP = {1: "NHS sites", 2: "Non-NHS sites", 3: "Direct contact", 4: "Non-NHS sites"}
PAIN_AREAS = ["lower_back", "back_or_neck", "head", "chest", "abdominal", "peripheral"]
FOLLOW_UP = {"week6": "week6_arm_1", "week14": "week14_arm_1", "month6": "month6_arm_1"}


def label(field: str, codes: pd.Series, choices=None) -> pd.Series:
    """Code → label from ``choices`` or else the CRF's choice list (missing stays missing)."""
    labels = dict(choices if choices is not None else crf.fields_by_name()[field].choices)
    named = codes.astype(float).map({float(code): text for code, text in labels.items()})
    return named.astype(object).where(named.notna(), None)


def main_case_manager(case_management: pd.DataFrame) -> pd.Series:
    """Each participant's case manager: the one logged most often (ties: the lowest code)."""
    counts = case_management.groupby(["record_id", "cm_manager"]).size().rename("n").reset_index()
    first = counts.sort_values(["record_id", "n", "cm_manager"], ascending=[True, False, True])
    return first.drop_duplicates("record_id").set_index("record_id")["cm_manager"]


def participants(enrolment: pd.DataFrame, work_preparation: pd.DataFrame,
                 placements: pd.DataFrame, status_changes: pd.DataFrame,
                 case_management: pd.DataFrame, adverse_events: pd.DataFrame,
                 followup_admin: pd.DataFrame) -> pd.DataFrame:
    """One row per recruited participant (schema ``Participants``).

    Sites are labelled from the study's own site list, which validation stored with
    the enrolment table (the data dictionary's); the result carries it on in
    ``attrs["sites"]`` for the figures and tables that show sites.
    """
    sites = crf.study_sites(enrolment)
    e = enrolment.set_index("record_id")
    out = pd.DataFrame(index=e.index)
    out["site"] = label("enr_site", e["enr_site"], sites)
    out["source"] = label("enr_source", e["enr_source"])
    out["source_group"] = e["enr_source"].map(SOURCE_GROUP)
    out["consent_date"] = e["enr_consent_date"]
    if "dem_dob" in e:
        age = (e["enr_consent_date"].dt.year - e["dem_dob"].dt.year
               - ((e["enr_consent_date"].dt.month < e["dem_dob"].dt.month)
                  | ((e["enr_consent_date"].dt.month == e["dem_dob"].dt.month)
                     & (e["enr_consent_date"].dt.day < e["dem_dob"].dt.day))).astype(int))
    else:    # derived by validation (validation.derive) before date of birth, an identifier, was dropped
        age = e["age"]
    out["age"] = age.astype(float)
    out["sex"] = label("dem_sex", e["dem_sex"])
    out["marital_status"] = label("dem_marital", e["dem_marital"])
    out["ethnicity"] = label("dem_ethnicity", e["dem_ethnicity"])
    out["education"] = label("dem_education", e["dem_education"])
    for k, area in enumerate(PAIN_AREAS, start=1):
        out[f"pain_area_{area}"] = e[f"dem_pain_area___{k}"].eq(1)
    out["n_pain_areas"] = out[[f"pain_area_{a}" for a in PAIN_AREAS]].sum(axis=1).astype(int)
    out["years_in_pain"] = e["dem_years_pain"]
    out["years_out_of_work"] = e["dem_years_out_of_work"]
    out["years_looking_for_work"] = e["dem_years_looking"]
    out["previously_worked"] = e["dem_prev_worked"].eq(1)
    out["additional_health_concerns"] = e[[f"dem_comorbid___{k}" for k in range(1, 7)]].sum(axis=1) > 0

    # --- flow -----------------------------------------------------------------
    sc = status_changes.sort_values(["record_id", "sc_date", "redcap_repeat_instance"], kind="stable")
    sc = sc.assign(type_label=label("sc_type", sc["sc_type"]), reason_label=label("sc_reason", sc["sc_reason"]))
    stop = sc[sc["sc_further_data"] == 0].drop_duplicates("record_id").set_index("record_id")
    wp = work_preparation.set_index("record_id").reindex(out.index)
    attended = wp["wp_attended"].eq(1)
    leaving = stop.reindex(out.index)
    leaving_text = leaving["type_label"] + ": " + leaving["reason_label"].str.lower()
    out["excluded_after_recruitment"] = leaving_text.where(~attended, None)
    out["attended_work_preparation"] = attended
    out["work_preparation_session"] = label("wp_session", wp["wp_session"]).where(attended, None)
    out["work_preparation_date"] = wp["wp_date"]
    pl = placements.set_index("record_id").reindex(out.index)
    out["offered_placement"] = pl["plc_offered"].eq(1)
    placed = pl["plc_placed"].eq(1)
    reason = leaving["reason_label"].where(leaving["type_label"].notna())
    not_placed = np.where(leaving["sc_type"].isin([2, 4, 5]), reason,
                          label("plc_not_placed_reason", pl["plc_not_placed_reason"]))
    out["not_placed_reason"] = pd.Series(not_placed, index=out.index).where(attended & ~placed, None)
    out["placed"] = placed
    out["placement_provider"] = label("plc_provider", pl["plc_provider"]).where(placed, None)
    out["placement_site"] = label("plc_site", pl["plc_site"], sites).where(placed, None)
    out["decision_date"] = pl["plc_decision_date"]
    out["placement_start"] = pl["plc_start"].where(placed)
    out["placement_end"] = pl["plc_end"].where(placed)
    # weekly hours are recorded to 2 decimals: summed as whole hundredths, exactly
    weekly = pl[[f"plc_hours_wk{k}" for k in range(1, 7)]]
    hundredths = np.rint(weekly.to_numpy(dtype=float) * 100)
    hours = pd.Series(np.nansum(hundredths, axis=1) / 100, index=weekly.index).where(
        weekly.notna().any(axis=1))
    out["placement_hours"] = hours.where(placed)
    out["placement_weeks"] = pl["plc_weeks"].where(placed)
    out["hours_per_week"] = (out["placement_hours"] / out["placement_weeks"]).where(placed)
    out["completed_placement"] = pd.array(np.where(placed, pl["plc_completed"].eq(1), pd.NA),
                                          dtype="boolean")
    out["not_completed_reason"] = label("plc_noncompletion_reason", pl["plc_noncompletion_reason"]).where(
        placed & pl["plc_completed"].eq(0), None)
    out["start_date"] = out["placement_start"].fillna(pl["plc_decision_date"].where(~placed))
    out["days_recruitment_to_placement"] = (out["placement_start"] - out["consent_date"]).dt.days.astype(float)
    out["dropout"] = out.index.isin(stop.index)
    out["dropout_reason"] = leaving_text.where(out["dropout"], None)
    out["start_date"] = out["start_date"].where(~out["dropout"])

    # --- case management, safety ------------------------------------------------
    cm = case_management.groupby("record_id")
    out["case_manager"] = label("cm_manager", main_case_manager(case_management).reindex(out.index))
    out["cm_contacts"] = cm.size().reindex(out.index, fill_value=0).astype(int)
    out["cm_hours"] = (cm["cm_minutes"].sum() / 60).reindex(out.index, fill_value=0.0)
    out["healthcare_referrals"] = cm["cm_referral"].sum().reindex(out.index, fill_value=0).astype(int)
    ae = adverse_events.groupby("record_id")["ae_serious"]
    out["adverse_events"] = (ae.size() - ae.sum()).reindex(out.index, fill_value=0).astype(int)
    out["serious_adverse_events"] = ae.sum().reindex(out.index, fill_value=0).astype(int)

    # --- follow-up --------------------------------------------------------------
    adm = followup_admin.set_index(["record_id", "redcap_event_name"])
    for tp, ev in FOLLOW_UP.items():
        returned = adm["fu_returned"].xs(ev, level=1).reindex(out.index).eq(1) if len(adm) else \
            pd.Series(False, index=out.index)
        status = np.where(out["dropout"], "not expected", np.where(returned, "returned", "not returned"))
        out[f"fu_status_{tp}"] = status
        ret_date = adm["fu_return_date"].xs(ev, level=1).reindex(out.index) if len(adm) else pd.NaT
        out[f"fu_days_{tp}"] = ((ret_date - out["start_date"]).dt.days.astype(float)).where(returned)
    out = out.reset_index().rename(columns={"index": "record_id"})
    out.attrs["sites"] = [[code, name] for code, name in sites]
    # the contract's site check, with the study's own sites
    schema = Participants.to_schema().update_column(
        "site", checks=[pa.Check.isin([name for _, name in sites])])
    return schema.validate(out, lazy=True)


# ----------------------------------------------------------------------------- exact sums
def exact(value: float) -> Fraction:
    """A recorded decimal as the exact fraction it stands for (0.1 is 1/10, not 0.1000...01)."""
    return Fraction(Decimal(repr(float(value))))


def exact_mean(values) -> float:
    """The mean of recorded decimals in exact arithmetic, as the nearest float (so that a
    mean of exactly 52.45 rounds half up to 52.5 when printed)."""
    v = [exact(x) for x in pd.Series(values, dtype="float64").dropna()]
    return float(sum(v, Fraction(0)) / len(v)) if v else math.nan


def exact_mean_sd(values) -> tuple[float, float, int]:
    """Mean and sample SD of recorded decimals, the sums of squares in exact arithmetic."""
    v = [exact(x) for x in pd.Series(values, dtype="float64").dropna()]
    n = len(v)
    if not n:
        return math.nan, math.nan, 0
    mean = sum(v, Fraction(0)) / n
    sd = math.sqrt(sum(((x - mean) ** 2 for x in v), Fraction(0)) / (n - 1)) if n > 1 else math.nan
    return float(mean), sd, n


def hours_from_minutes(minutes) -> float:
    """Whole minutes summed exactly and turned into hours (10,233 min = 170.55 h, printed
    170.6 when rounded half up, not 170.5 from a floating-point sum of hours)."""
    total = int(np.rint(pd.Series(minutes, dtype="float64").fillna(0).to_numpy()).sum())
    return float(Fraction(total, 60))


def hours_total(hours) -> float:
    """Total of per-person hours that are whole minutes / 60 (``cm_hours``), summed exactly."""
    return hours_from_minutes(np.rint(pd.Series(hours, dtype="float64").fillna(0) * 60))


def employment_known(participants: pd.DataFrame, status_changes: pd.DataFrame,
                     job_starters=(), by: pd.Timestamp | None = None) -> set[str]:
    """Participants known to have obtained employment (Results): reported in a status
    change, left a placement for paid work, or reported starting a job at follow-up
    (``job_starters``). ``by`` keeps only status reports dated on or before it."""
    reported = status_changes[status_changes["sc_reason"] == 7]
    if by is not None:
        reported = reported[reported["sc_date"] <= by]
    known = set(reported["record_id"]) | set(job_starters)
    left_for_work = participants["not_completed_reason"] == "Moved into paid employment"
    return known | set(participants.loc[left_for_work, "record_id"])


def forms_returned(questionnaires: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """record_id × time point × form: whether any answer of that form was returned."""
    rows = []
    for tp, df in questionnaires.items():
        if tp == "baseline":
            continue
        export = crf.EXPORTS[f"questionnaires_{tp}"]
        for form in export.forms:
            cols = [c for f in crf.form_fields(form) for c in f.columns()
                    if c in df and not crf.fields_by_name()[f.name].is_date]
            answered = df[cols].notna().any(axis=1)
            rows.append(pd.DataFrame({"record_id": df["record_id"], "timepoint": tp, "form": form,
                                      "returned": answered.to_numpy()}))
    return pd.concat(rows, ignore_index=True)
