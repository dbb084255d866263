"""Table 2: baseline sample characteristics (paper, Table 2; n = all recruited)."""
from __future__ import annotations

import pandas as pd
from great_tables import GT, loc

from feasibility import crf
from feasibility.stats import mean_sd, median_iqr, n_pct
from feasibility.tables.common import build_gt, cell, cells_frame

TABLE = "table2"
KEY = "table2_baseline"
MISSING = "Missing"
SOURCE_NOTE = "Source: the study's analysis dataset (baseline CRF and questionnaires)."
SOURCE_WHAT = "Baseline CRF and questionnaires."   # after the synthetic-data statement (feasibility.provenance)
MULTI_RESPONSE_NOTE = ("Participants could report more than one area; percentages are of all "
                       "participants.")

# Questionnaire scores: column -> (label, decimals, name in published_values.yaml).
# The EQ-5D index label depends on the valuation method and is passed in.
MEASURES: dict[str, tuple[str, int, str]] = {
    "work_confidence": ("Perceived work confidence", 1, "work_confidence"),
    "work_ability": ("Perceived work ability", 1, "work_ability"),
    "eq5d_vas": ("EQ-5D health today", 1, "eq5d_vas"),
    "eq5d_index": ("EQ-5D index", 2, "eq5d_5l_to_3l"),
    "hads_anxiety": ("HADS anxiety", 1, "hads_anxiety"),
    "hads_depression": ("HADS depression", 1, "hads_depression"),
    "pain_now_nrs": ("NRS current pain", 1, "pain_now_nrs"),
    "pain_week_nrs": ("NRS pain over past week", 1, "pain_week_nrs"),
    "wemwbs": ("WEMWBS", 1, "wemwbs"),
    "promis_fatigue": ("PROMIS SF fatigue", 1, "promis_fatigue"),
    "promis_pain_interference": ("PROMIS SF pain interference", 1, "promis_pain_interference"),
}

# Categorical characteristics: column -> (row group, CRF field giving the category order,
# name in published_values.yaml, category label -> key in published_values.yaml)
CATEGORICAL: dict[str, tuple[str, str, str, dict[str, str]]] = {
    "marital_status": ("Marital status, n (%)", "dem_marital", "marital_status", {
        "Single (never married)": "single_never_married", "Married": "married",
        "Separated or divorced": "separated_or_divorced"}),
    "ethnicity": ("Ethnicity, n (%)", "dem_ethnicity", "ethnicity", {
        "White": "white", "Black": "black", "Asian": "asian", "Mixed": "mixed"}),
    "education": ("Highest education, n (%)", "dem_education", "highest_education", {
        "Degree/higher degree": "degree_or_higher",
        "Higher education, A-level/equivalent": "higher_education_a_level",
        "GCSE/O-level/equivalent": "gcse_o_level", "Vocational/work-related": "vocational",
        "No qualification": "no_qualification"}),
}
PAIN_AREAS_GROUP = "Areas of pain, n (%)"
HISTORY = {
    "years_in_pain": "Years in pain",
    "years_out_of_work": "Years out of work",
    "years_looking_for_work": "Years looking for work",
}


def crf_labels(field_name: str) -> list[str]:
    """Choice labels of a CRF field in code order."""
    return [label for _, label in crf.fields_by_name()[field_name].choices]


def category_order(values: pd.Series, known: list[str]) -> list[str]:
    """Categories that occur: CRF order first, then any others alphabetically, then Missing."""
    present = set(values.dropna().astype(str))
    order = [c for c in known if c in present] + sorted(present - set(known))
    return order + ([MISSING] if values.isna().any() else [])


def _categorical_cells(values: pd.Series, column: str, denominator: int) -> list[dict]:
    group, crf_field, yaml_name, keys = CATEGORICAL[column]
    out = []
    for category in category_order(values, crf_labels(crf_field)):
        count = int(values.isna().sum()) if category == MISSING else int((values == category).sum())
        key = f"{KEY}.{yaml_name}.{keys[category]}.n_pct" if category in keys else ""
        out.append(cell(TABLE, group, category, "overall", "n_pct", decimals=0,
                        estimate=n_pct(count, denominator).percent, n=count,
                        denominator=denominator, published_key=key))
    return out


def _missing_row(values: pd.Series, group: str, label: str, denominator: int) -> list[dict]:
    """An n (%) missing row under a continuous characteristic, so nothing is dropped silently."""
    k = int(values.isna().sum())
    if not k:
        return []
    return [cell(TABLE, group, f"{label}: missing", "overall", "n_pct", decimals=0,
                 estimate=n_pct(k, denominator).percent, n=k, denominator=denominator)]


def table2_baseline(participants: pd.DataFrame, baseline_scores: pd.DataFrame,
                    eq5d_label: str = MEASURES["eq5d_index"][0]) -> pd.DataFrame:
    """Tidy cells of Table 2 over all recruited participants (the denominator).

    ``baseline_scores`` is the Scores dataset (baseline rows are selected) and
    ``eq5d_label`` names the EQ-5D index as valued (paper: "EQ-5D 5L mapped to
    3L value set").
    """
    if "timepoint" in baseline_scores:
        baseline_scores = baseline_scores[baseline_scores["timepoint"] == "baseline"]
    denominator = len(participants)
    scores = participants[["record_id"]].merge(baseline_scores, on="record_id", how="left")
    rows: list[dict] = []

    demographics = "Demographics"
    female = int((participants["sex"] == "Female").sum())
    rows.append(cell(TABLE, demographics, "Gender, n (%) female", "overall", "n_pct", decimals=0,
                     estimate=n_pct(female, denominator).percent, n=female,
                     denominator=denominator, published_key=f"{KEY}.female.n_pct"))
    rows += _missing_row(participants["sex"], demographics, "Gender", denominator)
    age = mean_sd(participants["age"])
    rows.append(cell(TABLE, demographics, "Age, mean (SD)", "overall", "mean_sd", decimals=1,
                     estimate=age.mean, sd=age.sd, n=age.n, published_key=f"{KEY}.age.mean_sd"))
    rows += _missing_row(participants["age"], demographics, "Age", denominator)

    rows += _categorical_cells(participants["marital_status"], "marital_status", denominator)

    # multiple response: each participant counted once per area, over all participants
    for label in crf_labels("dem_pain_area"):
        name = label.lower().replace(" ", "_")
        ticked = participants[f"pain_area_{name}"]
        count = int(ticked.fillna(False).astype(bool).sum())
        rows.append(cell(TABLE, PAIN_AREAS_GROUP, label, "overall", "n_pct", decimals=0,
                         estimate=n_pct(count, denominator).percent, n=count,
                         denominator=denominator,
                         published_key=f"{KEY}.pain_areas.{name}.n_pct"))

    for column in ("ethnicity", "education"):
        rows += _categorical_cells(participants[column], column, denominator)

    history = "Pain and work history, median (IQR)"
    for column, label in HISTORY.items():
        m = median_iqr(participants[column])
        rows.append(cell(TABLE, history, label, "overall", "median_iqr", decimals=1,
                         estimate=m.median, lower=m.q1, upper=m.q3, n=m.n,
                         published_key=f"{KEY}.{column}.median_iqr"))
        rows += _missing_row(participants[column], history, label, denominator)

    questionnaires = "Baseline questionnaires, mean (SD)"
    for column, (label, decimals, yaml_name) in MEASURES.items():
        label = eq5d_label if column == "eq5d_index" else label
        m = mean_sd(scores[column])
        rows.append(cell(TABLE, questionnaires, label, "overall", "mean_sd", decimals=decimals,
                         estimate=m.mean, sd=m.sd, n=m.n,
                         published_key=f"{KEY}.{yaml_name}.mean_sd"))
        rows += _missing_row(scores[column], questionnaires, label, denominator)
    return cells_frame(rows)


def table2_gt(cells: pd.DataFrame, source_note: str = SOURCE_NOTE) -> GT:
    """Table 2 as one great-tables table."""
    n = int(cells["denominator"].dropna().max())
    gt = build_gt(cells, table_id=TABLE, label="Table 2", title=f"Baseline sample characteristics (n={n})",
                  columns={"overall": ""}, value_label=f"All participants (n = {n})",
                  stub_label="Characteristic")
    return (gt.tab_footnote(MULTI_RESPONSE_NOTE, locations=loc.row_groups(rows=[PAIN_AREAS_GROUP]))
              .tab_source_note(source_note))
