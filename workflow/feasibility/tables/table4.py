"""Table 4: work-related outcomes relating to the placement, 6-week scores (paper, Table 4)."""
from __future__ import annotations

import pandas as pd
from great_tables import GT

from feasibility.stats import mean_sd, n_pct
from feasibility.tables.common import build_gt, cell, cells_frame

TABLE = "table4"
KEY = "table4_work_outcomes"
SOURCE_NOTE = "Source: the study's analysis dataset (6-week work questionnaire)."
SOURCE_WHAT = "6-week work questionnaire."   # after the synthetic-data statement (feasibility.provenance)

# Five-point answers as the paper lists them: code -> (label, key in published_values.yaml)
SATISFACTION = {5: ("Very satisfied", "very_satisfied"), 4: ("Satisfied", "satisfied"),
                3: ("Neither satisfied nor dissatisfied", "neither"),
                2: ("Dissatisfied", "dissatisfied"), 1: ("Very dissatisfied", "very_dissatisfied")}
NOT_AT_ALL_TO_EXTREMELY = {1: ("Not at all", "not_at_all"), 2: ("A little bit", "a_little_bit"),
                           3: ("Moderately", "moderately"), 4: ("Quite a lot", "quite_a_lot"),
                           5: ("Extremely", "extremely")}
CATEGORICAL = {
    "placement_satisfaction": ("Satisfaction with placement, n (%)",
                               "satisfaction_with_placement", SATISFACTION),
    "pain_interfered_with_work": ("How much did pain interfere with your work? n (%)",
                                  "pain_interfered_with_work", NOT_AT_ALL_TO_EXTREMELY),
    "work_made_pain_worse": ("How much did work make your pain worse? n (%)",
                             "work_made_pain_worse", NOT_AT_ALL_TO_EXTREMELY),
}
CONTINUOUS = {  # column -> (row group, label)
    "paw_job_satisfaction": ("Psychosocial aspects of work, mean (SD)", "Job satisfaction"),
    "paw_social_support": ("Psychosocial aspects of work, mean (SD)", "Social support"),
    "paw_mental_stress": ("Psychosocial aspects of work, mean (SD)", "Mental stress"),
    "rtw_self_efficacy": ("Return to work, mean (SD)", "RTW self-efficacy scale"),
    "wrfq": ("Return to work, mean (SD)", "Work Role Functioning Questionnaire"),
}


def _categorical(values: pd.Series, column: str) -> list[dict]:
    """All five answers, zeros too, as n (%) of those who answered."""
    group, yaml_name, answers = CATEGORICAL[column]
    answered = int(values.notna().sum())
    return [cell(TABLE, group, label, "week6", "n_pct", decimals=1,
                 estimate=n_pct(int((values == code).sum()), answered).percent,
                 n=int((values == code).sum()), denominator=answered,
                 published_key=f"{KEY}.{yaml_name}.{key}")
            for code, (label, key) in answers.items()]


def table4_work_outcomes(week6_scores: pd.DataFrame) -> pd.DataFrame:
    """Tidy cells of Table 4 from the 6-week Scores rows (other time points are ignored)."""
    if "timepoint" in week6_scores:
        week6_scores = week6_scores[week6_scores["timepoint"] == "week6"]
    rows = _categorical(week6_scores["placement_satisfaction"], "placement_satisfaction")
    for column, (group, label) in CONTINUOUS.items():
        m = mean_sd(week6_scores[column])
        rows.append(cell(TABLE, group, label, "week6", "mean_sd", decimals=1, estimate=m.mean,
                         sd=m.sd, n=m.n, published_key=f"{KEY}.{column}.mean_sd"))
    for column in ("pain_interfered_with_work", "work_made_pain_worse"):
        rows += _categorical(week6_scores[column], column)
    return cells_frame(rows)


def table4_gt(cells: pd.DataFrame, source_note: str = SOURCE_NOTE) -> GT:
    """Table 4 as one great-tables table; n = participants who answered the item."""
    gt = build_gt(cells, table_id=TABLE, label="Table 4", title="Work-related outcomes relating to the placement",
                  columns={"week6": ""}, value_label="6-week scores", n_label="n",
                  stub_label="Outcome")
    return gt.tab_source_note(source_note)
