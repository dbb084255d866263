"""Table 5: job offers, jobs accepted and new jobs started (paper, Table 5)."""
from __future__ import annotations

import pandas as pd
from great_tables import GT, loc

from feasibility.tables.common import build_gt, cell, cells_frame

TABLE = "table5"
KEY = "table5_jobs"
COLUMNS = {"fourteen_weeks": "14 weeks", "six_months": "6 months"}
OFFERS, ACCEPTED, STARTED = ("Number of job offers reported", "Number of job offers accepted",
                             "Number of new jobs started")
CONDITIONAL_N_NOTE = ("n = those who had offers to accept and those who had accepted offers, "
                      "respectively; otherwise n = those who answered.")
SOURCE_NOTE = "Source: the study's analysis dataset (employment questionnaire)."
SOURCE_WHAT = "Employment questionnaire."   # after the synthetic-data statement (feasibility.provenance)


def _column_cells(scores: pd.DataFrame, column: str) -> list[dict]:
    offers = scores["job_offers"].dropna()
    with_offer = scores[scores["job_offers"] >= 1]
    accepting = scores[scores["job_offers_accepted"] >= 1]
    return [
        cell(TABLE, "", OFFERS, column, "count", decimals=0, estimate=float(offers.sum()),
             n=len(offers), published_key=f"{KEY}.{column}.job_offers_reported"),
        cell(TABLE, "", ACCEPTED, column, "count", decimals=0,
             estimate=float(with_offer["job_offers_accepted"].sum()), n=len(with_offer),
             published_key=f"{KEY}.{column}.job_offers_accepted"),
        cell(TABLE, "", STARTED, column, "count", decimals=0,
             estimate=float(accepting["jobs_started"].sum()), n=len(accepting),
             published_key=f"{KEY}.{column}.new_jobs_started"),
    ]


def table5_jobs(week14_scores: pd.DataFrame, month6_scores: pd.DataFrame) -> pd.DataFrame:
    """Tidy cells of Table 5: totals (``estimate``) and the people counted over (``n``).

    Offers: sum over those who answered; accepted: over those with at least one
    offer; started: over those who accepted at least one offer.
    """
    return cells_frame(_column_cells(week14_scores, "fourteen_weeks")
                       + _column_cells(month6_scores, "six_months"))


def _several_offers_note(cells: pd.DataFrame, small_cell_threshold: int | None = None
                         ) -> tuple[str, list[str]]:
    """The paper's ¶ note: where fewer people had offers than offers were reported
    (without the numbers when the small-cell rule withholds them)."""
    notes, columns = [], []
    for column, label in COLUMNS.items():
        here = cells[cells["column"] == column].set_index("row_label")
        offers, people = here.loc[OFFERS, "estimate"], here.loc[ACCEPTED, "n"]
        if people and offers > people:
            if small_cell_threshold and min(people, offers) < small_cell_threshold:
                notes.append(f"some people received more than one offer at {label}")
            else:
                notes.append(f"{int(people)} {'person' if people == 1 else 'people'} received "
                             f"{int(offers)} offers at {label}")
            columns.append(column)
    return "; ".join(notes), columns


def table5_gt(cells: pd.DataFrame, source_note: str = SOURCE_NOTE,
              small_cell_threshold: int | None = None) -> GT:
    """Table 5 as one great-tables table, with the paper's ¶ and * notes."""
    gt = build_gt(cells, table_id=TABLE,
                  label="Table 5",
                  title="Job offers, jobs accepted, and jobs (i.e. paid employment) started",
                  columns=COLUMNS, value_label="Number", n_label="n")
    marks = []
    note, columns = _several_offers_note(cells, small_cell_threshold)
    rows = {label: i for i, label in enumerate(cells["row_label"].unique())}
    if note:
        marks.append("\u00b6")
        gt = gt.tab_footnote(f"i.e. {note}.", locations=[
            loc.body(columns=f"{c}__n", rows=[rows[ACCEPTED]]) for c in columns])
    marks.append("*")
    gt = gt.tab_footnote(CONDITIONAL_N_NOTE, locations=[
        loc.body(columns="six_months__n", rows=[rows[ACCEPTED], rows[STARTED]])])
    return gt.opt_footnote_marks(marks=marks).tab_source_note(source_note)
