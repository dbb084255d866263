"""The paper's feasibility-metrics declaration (config/config.yaml, tables.feasibility_metrics)
on a hand-made project of twelve people screened and eight recruited, every expected cell
worked out by hand in the comments (formerly the test of the hand-written
tables/feasibility_metrics.py, now of the declaration and the generic metrics kind)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from feasibility.analysis import Analysis, StudyData, load_spec
from feasibility.tables.registry import build_table
from feasibility.tables.common import html_fragment
from paperdata import codebook

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
S = [f"S{i:02d}" for i in range(1, 13)]
P = S[:8]  # the eight recruited


def _rows(form: str, event: str, records: list[str], repeat: bool = False, **columns):
    frame = pd.DataFrame({"record_id": records, "redcap_event_name": event, "redcap_arm": 1, **columns})
    if repeat:
        frame["redcap_repeat_instance"] = (frame.groupby("record_id").cumcount() + 1).astype("Int64")
    for c, v in columns.items():
        if (
            isinstance(v, list)
            and all(isinstance(x, (int, float, type(None))) for x in v)
            and not c.endswith("date")
        ):
            frame[c] = pd.array(
                [None if x is None or (isinstance(x, float) and np.isnan(x)) else int(x) for x in v],
                dtype="Int64",
            )
    return frame


def project() -> StudyData:
    book = codebook()  # the paper's, as validation writes it
    date = pd.to_datetime
    forms = {
        # twelve screened: 10 eligible, 9 of them interested, 8 enrolled (S01-S08)
        # sites: 1 Birmingham, 2 Coventry; sources: 1 NHS, 2 council, 3 posters, 4 private
        "screening": _rows(
            "screening",
            "screening_arm_1",
            S,
            scr_date=date(
                [
                    "2017-09-01",
                    "2017-09-20",
                    "2017-11-15",
                    "2018-01-05",
                    "2018-02-01",
                    "2018-02-10",
                    "2018-03-01",
                    "2018-04-20",
                    "2018-06-01",
                    "2018-08-01",
                    "2018-08-10",
                    "2018-08-20",
                ]
            ),
            scr_site=[1, 2, 1, 1, 2, 2, 2, 2, 1, 2, 1, 2],
            scr_source=[1, 1, 2, 3, 3, 2, 2, 4, 3, 2, 1, 1],
            scr_eligible=[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
            scr_interested=[1, 1, 1, 1, 1, 1, 1, 1, 1, 0, None, None],
            scr_enrolled=[1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
        ),
        "enrolment": _rows(
            "enrolment",
            "baseline_arm_1",
            P,
            enr_consent_date=date(
                [
                    "2017-09-15",
                    "2017-12-02",
                    "2018-01-10",
                    "2018-02-20",
                    "2018-03-05",
                    "2018-05-01",
                    "2018-06-12",
                    "2018-08-31",
                ]
            ),
            enr_site=[1, 1, 1, 2, 2, 2, 1, 2],
            enr_source=[1, 2, 3, 3, 2, 4, 3, 2],
        ),
        # four placed (S04 did not complete: health reasons); the other four not placed
        "placement": _rows(
            "placement",
            "intervention_arm_1",
            P,
            plc_offered=[1, 1, 1, 1, 1, 0, 0, 0],
            plc_placed=[1, 1, 1, 1, 0, 0, 0, 0],
            plc_start=date(["2018-04-10"] * 4 + [None] * 4),
            plc_decision_date=date(["2018-04-01"] * 6 + [None] * 2),
            plc_completed=[1, 1, 1, 0, None, None, None, None],
            plc_noncompletion_reason=[None, None, None, 4, None, None, None, None],
        ),
    }
    # case management: one hour a contact; placed 10, 6, 8, 4 hours; not placed 2, 3, 0, 0
    hours = dict(zip(P, [10, 6, 8, 4, 2, 3, 0, 0]))
    people = [r for r in P for _ in range(hours[r])]
    forms["cm_contact"] = _rows(
        "cm_contact",
        "intervention_arm_1",
        people,
        repeat=True,
        cm_minutes=[60] * len(people),
        cm_manager=[2] * len(people),
    )
    # S07 and S08 can give no further data (dropouts); S03 reported employment (reason 7)
    forms["status_change"] = _rows(
        "status_change",
        "intervention_arm_1",
        ["S03", "S07", "S08"],
        repeat=True,
        sc_date=date(["2018-09-01", "2018-03-01", "2018-09-02"]),
        sc_type=[7, 2, 1],
        sc_reason=[7, 3, 1],
        sc_further_data=[1, 0, 0],
    )
    # follow-up returned (of the six expected): 6 weeks S01-S03; 14 weeks S01, S02, S04,
    # S05; 6 months S01, S03
    returned = {
        "week6_arm_1": ["S01", "S02", "S03"],
        "week14_arm_1": ["S01", "S02", "S04", "S05"],
        "month6_arm_1": ["S01", "S03"],
    }
    forms["followup_admin"] = pd.concat(
        [
            _rows("followup_admin", event, P, fu_returned=[int(r in who) for r in P])
            for event, who in returned.items()
        ],
        ignore_index=True,
    )
    # S01 started a job by 6 months
    forms["employment"] = _rows(
        "employment",
        "month6_arm_1",
        ["S01", "S03"],
        emp_offers=[1, 2],
        emp_accepted=[1, 1],
        emp_started=[1, 0],
    )
    return StudyData.from_frames(book, forms)


@pytest.fixture(scope="module")
def metrics(_paper_config_checked):
    spec = load_spec(_paper_config_checked, checked=True)
    return build_table(Analysis(project(), spec), "feasibility_metrics")


def by_label(cells: pd.DataFrame, label: str) -> pd.Series:
    rows = cells[cells["row_label"] == label]
    assert len(rows) == 1, (label, rows)
    return rows.iloc[0]


def test_recruitment_per_month_overall_and_from_each_first_screening(metrics):
    cells = metrics.cells
    # 8 recruited, consents Sep 2017 .. Aug 2018 = 12 calendar months -> 0.67 per month
    overall = by_label(cells, "Overall")
    assert (overall["n"], overall["denominator"], overall["text"]) == (8, 12, "0.7")
    # posters first screened 2018-01-05: Jan..Aug 2018 = 8 months, 3 recruited -> 0.375 -> 0.4
    posters = by_label(cells, "Posters and direct contact")
    assert (posters["n"], posters["denominator"], posters["text"]) == (3, 8, "0.4")
    # council first screened 2017-11-15: 10 months, 3 recruited -> 0.3
    council = by_label(cells, "Council employment services")
    assert (council["denominator"], council["text"]) == (10, "0.3")


def test_conversion_and_delivery_with_wilson_intervals(metrics):
    cells = metrics.cells
    # eligible 10/12, Wilson (0.552, 0.953) worked in test_stats -> 83 (55 to 95)
    assert by_label(cells, "Eligible, of screened")["text"] == "83 (55 to 95)"
    assert by_label(cells, "Screened")["published_key"] == "flow.screened"
    # placed 4/8; Wilson: centre 0.5, half 1.324137*sqrt(0.03125+0.015006) = 0.2848
    placed = by_label(cells, "Placed, of recruited")
    assert placed["text"] == "50 (22 to 78)"
    assert placed["published_key"] == "flow.placed_and_attended"
    assert by_label(cells, "Completed the six-week placement, of placed")["text"].startswith("75 ")


def test_follow_up_response_excludes_the_dropouts(metrics):
    cells = metrics.cells
    # follow-up excluding the two dropouts: 3/6, 4/6, 2/6
    response = cells[cells["published_key"].str.startswith("follow_up_response_rate_pct")]
    assert response["n"].tolist() == [3, 4, 2] and set(response["denominator"]) == {6}
    assert [t.split(" ")[0] for t in response["text"]] == ["50", "67", "33"]


def test_case_management_hours_and_cost(metrics):
    cells = metrics.cells
    # placed 4 6 8 10 -> 7.0 (5.0 to 9.0); not placed, over those who had case management
    # (the paper's definition; the two with no contact are left out): 2 3 -> Stata's median
    # (2 + 3)/2 = 2.5, quartiles x(1) = 2 and x(2) = 3, n = 2; all eight -> 3.5 (1.0 to 7.0),
    # x £30 -> 105 (30 to 210); total 33 hours
    assert by_label(cells, "Hours per participant, placed")["text"] == "7.0 (5.0 to 9.0)"
    unplaced = by_label(cells, "Hours per participant, not placed (had case management)")
    assert (unplaced["text"], unplaced["n"]) == ("2.5 (2.0 to 3.0)", 2)
    assert unplaced["published_key"] == "case_management.unplaced.median_iqr"
    assert by_label(cells, "Hours per participant, all recruited")["text"] == "3.5 (1.0 to 7.0)"
    assert by_label(cells, "Cost per participant (£), all recruited")["text"] == "105 (30 to 210)"
    assert by_label(cells, "Total hours")["text"] == "33.0"


def test_number_needed_to_treat_with_an_unbounded_interval(metrics):
    cells = metrics.cells
    # employment known for 2/8 (S01 started a job by 6 months; S03's status change) = 0.25;
    # NNT 1/(0.25 - 0.10) = 6.67 -> 7; Wilson (0.0715, 0.5907): 1/(0.5907 - 0.1) = 2.04;
    # lower bound 0.0715 < 0.10 -> no upper limit
    employed = by_label(cells, "Known to have obtained employment, of recruited")
    assert (employed["n"], employed["denominator"]) == (2, 8)
    nnt = by_label(cells, "Number needed to treat")
    assert nnt["text"] == "7 (2 to \u221e)" and np.isinf(nnt["upper"])
    assert nnt["published_key"] == "economics.number_needed_to_treat"
    assert "7 (2 to \u221e)" in html_fragment(metrics.gt)


def test_a_changed_parameter_changes_the_cost_and_the_nnt(paper_config_checked):
    config = copy.deepcopy(paper_config_checked)
    config["parameters"]["case_management_cost_per_hour_gbp"] = 60
    config["parameters"]["rtw_without_intervention_assumed"] = 0.05
    cells = build_table(Analysis(project(), load_spec(config, checked=True)), "feasibility_metrics").cells
    assert by_label(cells, "Cost per participant (£), all recruited")["text"] == "210 (60 to 420)"
    # 1 / (0.25 - 0.05) = 5; 1 / (0.5907 - 0.05) = 1.85 -> 2; 0.0715 > 0.05: 1/0.0215 = 46.5
    assert by_label(cells, "Number needed to treat")["text"] == "5 (2 to 47)"
