"""Table 3: crude within-person change from baseline at each follow-up (paper, Table 3)."""
from __future__ import annotations

import pandas as pd
from great_tables import GT, loc

from feasibility.stats import format_number, median_iqr, paired_change
from feasibility.tables.common import build_gt, cell, cells_frame
from feasibility.tables.table2 import MEASURES

TABLE = "table3"
KEY = "table3_change"
FOLLOW_UPS = {"week6": "6 weeks", "week14": "14 weeks", "month6": "6 months"}
SOURCE_NOTE = "Source: the study's analysis dataset (questionnaires at baseline and follow-up)."
SOURCE_WHAT = "Questionnaires at baseline and follow-up."   # after the synthetic-data statement (feasibility.provenance)
DIRECTION_NOTE = ("Change = follow-up minus baseline over participants with both scores; negative "
                  "magnitudes represent decreases in score and positive magnitudes increases.")
START_DATE_DEFINITION = ("Start date is the start of placement, for those placed, or the time at "
                         "which it was decided that a person could not be placed, for those not "
                         "placed.")


def table3_change(participants: pd.DataFrame, scores: pd.DataFrame,
                  confidence: float = 0.95, eq5d_label: str = MEASURES["eq5d_index"][0]
                  ) -> pd.DataFrame:
    """Tidy cells of Table 3: mean change (t-based CI) and n of complete pairs.

    Restricted to recruited participants (``participants.record_id``).
    """
    recruited = scores[scores["record_id"].isin(participants["record_id"])]
    baseline = recruited[recruited["timepoint"] == "baseline"].set_index("record_id")
    rows = []
    for column, (label, decimals, yaml_name) in MEASURES.items():
        label = eq5d_label if column == "eq5d_index" else label
        for i, timepoint in enumerate(FOLLOW_UPS):
            follow_up = recruited[recruited["timepoint"] == timepoint].set_index("record_id")
            pairs = baseline[[column]].join(follow_up[[column]], how="inner", rsuffix="_fu")
            ch = paired_change(pairs[column], pairs[f"{column}_fu"], confidence)
            rows.append(cell(TABLE, "", label, timepoint, "change_ci", decimals=decimals,
                             estimate=ch.estimate, sd=ch.sd, lower=ch.lower, upper=ch.upper,
                             n=ch.n, published_key=f"{KEY}.{yaml_name}[{i}]"))
    return cells_frame(rows)


def final_follow_up_note(participants: pd.DataFrame) -> str:
    """The paper's note on the final time point, with the median days from start date."""
    days = median_iqr(participants.loc[participants["fu_status_month6"] == "returned",
                                       "fu_days_month6"])
    return ("The final time point was shorter than six months for some participants, to maximise "
            "data collection, and longer for others who returned late. The median time from start "
            f"date to final follow-up was {format_number(days.median, 0)} days "
            f"(IQR {format_number(days.q1, 0)} to {format_number(days.q3, 0)}).")


def table3_gt(cells: pd.DataFrame, *, eq5d_method: str, final_follow_up: str,
              start_date_definition: str = START_DATE_DEFINITION,
              source_note: str = SOURCE_NOTE) -> GT:
    """Table 3 as one great-tables table.

    ``eq5d_method`` describes how the EQ-5D index was valued (config
    ``scoring.eq5d_index``); ``final_follow_up`` is :func:`final_follow_up_note`.
    """
    gt = build_gt(cells, table_id=TABLE,
                  label="Table 3",
                  title="Follow-up time-points. Crude score changes from baseline (follow-up, start date)",
                  columns=FOLLOW_UPS, value_label="Change (95% CI)", n_label="n",
                  stub_label="Measure")
    eq5d_row = cells.loc[cells["published_key"].str.contains("eq5d_5l_to_3l"), "row_label"]
    return (gt.tab_footnote(f"{DIRECTION_NOTE} {start_date_definition}")
              .tab_footnote(final_follow_up, locations=loc.spanner_labels(ids=["month6"]))
              .tab_footnote(eq5d_method, locations=loc.stub(rows=list(eq5d_row.unique())))
              .opt_footnote_marks(marks=["*", "\u2020"])   # the paper's * and †
              .tab_source_note(source_note))
