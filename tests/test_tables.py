"""Tables 2-5 and the feasibility metrics on hand-made datasets (tests/tables_fixtures.py).

Every expected cell is worked out by hand in the comments.
"""
import re

import numpy as np
import pandas as pd
import pytest

import tables_fixtures as fx
from feasibility.tables import feasibility_metrics as fm
from feasibility.tables import table2, table3, table4, table5
from feasibility.tables.common import CELL_COLUMNS, write_table

MINUS = "\u2212"
EQ5D_METHOD = "EQ-5D-5L index from the England 5L value set (test wording)."


def by_label(cells, label, column=None):
    rows = cells[cells["row_label"] == label]
    if column is not None:
        rows = rows[rows["column"] == column]
    assert len(rows) == 1, (label, column, rows)
    return rows.iloc[0]


def td_texts(html: str) -> list[str]:
    """Body cell texts of a great-tables table, footnote marks removed."""
    html = re.sub(r'<span class="gt_footnote_marks"[^>]*>[^<]*</span>\s?', "", html)
    return [t.strip() for t in re.findall(r'<td headers="[^"]*" class="gt_row[^"]*">([^<]*)</td>',
                                          html)]


@pytest.fixture(scope="module")
def data():
    return dict(participants=fx.participants(), scores=fx.scores(),
                week6=fx.week6_work_scores(), screening=fx.screening())


@pytest.fixture(scope="module")
def built(data):
    p, s = data["participants"], data["scores"]
    c2 = table2.table2_baseline(p, s)
    c3 = table3.table3_change(p, s)
    c4 = table4.table4_work_outcomes(data["week6"])
    c5 = table5.table5_jobs(s[s["timepoint"] == "week14"], s[s["timepoint"] == "month6"])
    cf = fm.feasibility_metrics(p, data["screening"], fx.CONFIG, employment_known=2)
    return {
        "table2": (c2, table2.table2_gt(c2)),
        "table3": (c3, table3.table3_gt(c3, eq5d_method=EQ5D_METHOD,
                                        final_follow_up=table3.final_follow_up_note(p))),
        "table4": (c4, table4.table4_gt(c4)),
        "table5": (c5, table5.table5_gt(c5)),
        "feasibility_metrics": (cf, fm.feasibility_metrics_gt(cf, fx.CONFIG)),
    }


# ----------------------------------------------------------------------------- Table 2
def test_table2_demographics(built):
    cells = built["table2"][0]
    # 5 of 8 female = 62.5% -> 63 (half away from zero)
    female = by_label(cells, "Gender, n (%) female")
    assert (female["n"], female["denominator"], female["text"]) == (5, 8, "5 (63)")
    assert female["published_key"] == "table2_baseline.female.n_pct"
    # ages 40 50 60 45 55 35 65 52: mean 402/8 = 50.25 -> 50.3; squared deviations sum to
    # 703.5, SD = sqrt(703.5/7) = 10.025 -> 10.0
    age = by_label(cells, "Age, mean (SD)")
    assert age["text"] == "50.3 (10.0)" and age["estimate"] == 50.25
    assert age["sd"] == pytest.approx(10.02497, abs=1e-5)
    assert age["published_key"] == "table2_baseline.age.mean_sd"


def test_table2_categories_that_occur_in_crf_order(built):
    cells = built["table2"][0]
    marital = cells[cells["row_group"] == "Marital status, n (%)"]
    # Single 4/8 = 50; Married 3/8 = 37.5 -> 38; Widowed 1/8 = 12.5 -> 13; none separated
    assert marital["row_label"].tolist() == ["Single (never married)", "Married", "Widowed"]
    assert marital["text"].tolist() == ["4 (50)", "3 (38)", "1 (13)"]
    assert marital["published_key"].tolist() == [
        "table2_baseline.marital_status.single_never_married.n_pct",
        "table2_baseline.marital_status.married.n_pct", ""]
    education = cells[cells["row_group"] == "Highest education, n (%)"]
    assert education["published_key"].iloc[0] == \
        "table2_baseline.highest_education.degree_or_higher.n_pct"


def test_table2_pain_areas_are_multiple_response_over_all_participants(built):
    cells = built["table2"][0]
    areas = cells[cells["row_group"] == "Areas of pain, n (%)"]
    # lower back 6, back or neck 3, head 1, chest 0, abdominal 0, peripheral 3 (13 ticks by 8)
    assert areas["n"].tolist() == [6, 3, 1, 0, 0, 3]
    assert set(areas["denominator"]) == {8}
    assert areas["text"].tolist() == ["6 (75)", "3 (38)", "1 (13)", "0 (0)", "0 (0)", "3 (38)"]
    assert areas["published_key"].iloc[1] == "table2_baseline.pain_areas.back_or_neck.n_pct"
    assert table2.MULTI_RESPONSE_NOTE.split(";")[0] in built["table2"][1].as_raw_html()


def test_table2_medians_and_missing_rows(built):
    cells = built["table2"][0]
    # years in pain 1..8: n p/100 = 4, 2, 6 (f = 0) -> 4.5 (2.5 to 6.5)
    assert by_label(cells, "Years in pain")["text"] == "4.5 (2.5 to 6.5)"
    # years out of work, 7 values 0.5 1 2 3 10 12 20: 3.5 -> x(4) = 3; 1.75 -> x(2) = 1;
    # 5.25 -> x(6) = 12; the eighth value is missing and gets its own row: 1/8 -> 13%
    out = by_label(cells, "Years out of work")
    assert out["text"] == "3.0 (1.0 to 12.0)" and out["n"] == 7
    assert by_label(cells, "Years out of work: missing")["text"] == "1 (13)"
    # looking for work 0.2 0.5 1 2 3 10 12 20: median 2.5, Q1 (0.5+1)/2 = 0.75 -> 0.8, Q3 11
    assert by_label(cells, "Years looking for work")["text"] == "2.5 (0.8 to 11.0)"


def test_table2_baseline_scores_of_recruited_only(built):
    cells = built["table2"][0]
    # work confidence 5 6 7 4 3 8 2 6 (X99's 0 excluded): mean 41/8 = 5.125 -> 5.1,
    # squared deviations 28.875, SD = sqrt(28.875/7) = 2.03
    assert by_label(cells, "Perceived work confidence")["text"] == "5.1 (2.0)"
    # EQ-5D index: sum 4.3, mean 0.5375 -> 0.54; SD sqrt(0.18375/7) = 0.162 -> 0.16 (2 dp)
    eq5d = by_label(cells, "EQ-5D index")
    assert eq5d["text"] == "0.54 (0.16)"
    assert eq5d["published_key"] == "table2_baseline.eq5d_5l_to_3l.mean_sd"
    # HADS anxiety 10 8 . 6 7 9 5 4: mean 49/7 = 7, SD sqrt(28/6) = 2.16; one missing
    assert by_label(cells, "HADS anxiety")["text"] == "7.0 (2.2)"
    assert by_label(cells, "HADS anxiety: missing")["n"] == 1


def test_table2_missing_category_row_is_never_dropped(data):
    p = data["participants"].copy()
    p.loc[p["record_id"] == "P08", "ethnicity"] = np.nan
    cells = table2.table2_baseline(p, data["scores"])
    ethnicity = cells[cells["row_group"] == "Ethnicity, n (%)"]
    # White 6, Asian 1, Missing 1 (P08's "Other" removed): counts add up to n = 8
    assert ethnicity["row_label"].tolist() == ["White", "Asian", "Missing"]
    assert ethnicity["text"].tolist() == ["6 (75)", "1 (13)", "1 (13)"]
    assert ethnicity["n"].sum() == 8


def test_table2_eq5d_label_is_a_parameter(data):
    cells = table2.table2_baseline(data["participants"], data["scores"],
                                   eq5d_label="EQ-5D 5L mapped to 3L value set")
    assert by_label(cells, "EQ-5D 5L mapped to 3L value set")["text"] == "0.54 (0.16)"


# ----------------------------------------------------------------------------- Table 3
def test_table3_change_cells(built):
    cells = built["table3"][0]
    # work confidence, 6 weeks: changes -1, 0, -2 -> -1.0, SD 1, t(0.975, 2) = 4.302653,
    # half-width 4.302653/sqrt(3) = 2.484 -> (-3.484 to 1.484)
    c = by_label(cells, "Perceived work confidence", "week6")
    assert c["text"] == f"{MINUS}1.0 ({MINUS}3.5 to 1.5)" and c["n"] == 3
    assert c["published_key"] == "table3_change.work_confidence[0]"
    # 14 weeks: +2, 0, 0 (P05 missing) -> 0.667, SD 1.1547, half 4.302653*0.6667 = 2.868
    c = by_label(cells, "Perceived work confidence", "week14")
    assert c["text"] == f"0.7 ({MINUS}2.2 to 3.5)" and c["n"] == 3
    assert c["published_key"] == "table3_change.work_confidence[1]"
    # 6 months: +1, 0 -> 0.5, SD 0.7071, t(0.975, 1) = 12.7062, half 6.353
    c = by_label(cells, "Perceived work confidence", "month6")
    assert c["text"] == f"0.5 ({MINUS}5.9 to 6.9)" and c["n"] == 2
    assert c["published_key"] == "table3_change.work_confidence[2]"
    # EQ-5D at 2 dp: -0.05 and -0.05 (P03's follow-up missing) -> SD 0
    c = by_label(cells, "EQ-5D index", "week6")
    assert c["text"] == f"{MINUS}0.05 ({MINUS}0.05 to {MINUS}0.05)" and c["n"] == 2
    assert c["published_key"] == "table3_change.eq5d_5l_to_3l[0]"
    # HADS anxiety, 6 weeks: P03 has no baseline score -> pairs -1, 0 only
    c = by_label(cells, "HADS anxiety", "week6")
    assert c["text"] == f"{MINUS}0.5 ({MINUS}6.9 to 5.9)" and c["n"] == 2
    # no data at all: empty cell, n = 0
    c = by_label(cells, "WEMWBS", "week14")
    assert c["text"] == "" and c["n"] == 0


def test_table3_html_spanners_and_footnotes(built, data):
    html = built["table3"][1].as_raw_html()
    for text in ("6 weeks", "14 weeks", "6 months", "Change (95% CI)", EQ5D_METHOD,
                 table3.START_DATE_DEFINITION):
        assert text in html
    # final time point: month-6 days 180 and 200 -> median (n p/100 = 1, f = 0) 190,
    # Q1 0.5 -> x(1) = 180, Q3 1.5 -> x(2) = 200
    assert "was 190 days (IQR 180 to 200)" in html
    texts = td_texts(html)
    assert f"{MINUS}1.0 ({MINUS}3.5 to 1.5)" in texts
    assert not any(re.search(r"(^|\()-\d| -\d", t) for t in texts)   # no hyphen-minus


# ----------------------------------------------------------------------------- Table 4
def test_table4_work_outcomes(built):
    cells = built["table4"][0]
    sat = cells[cells["row_group"] == "Satisfaction with placement, n (%)"]
    # 5 5 5 5 4 4 2 1: 4/8 = 50, 2/8 = 25, none neither, 1/8 = 12.5 twice; zeros shown
    assert sat["text"].tolist() == ["4 (50)", "2 (25)", "0 (0)", "1 (12.5)", "1 (12.5)"]
    assert set(sat["denominator"]) == {8}
    assert sat["published_key"].tolist() == [
        f"table4_work_outcomes.satisfaction_with_placement.{k}"
        for k in ("very_satisfied", "satisfied", "neither", "dissatisfied", "very_dissatisfied")]
    # job satisfaction 20 22 ... 32 (one missing): mean 26, SD sqrt(112/6) = 4.32
    job = by_label(cells, "Job satisfaction")
    assert (job["text"], job["n"]) == ("26.0 (4.3)", 7)
    assert job["published_key"] == "table4_work_outcomes.paw_job_satisfaction.mean_sd"
    interfered = cells[cells["row_group"].str.startswith("How much did pain interfere")]
    # 1 3 3 3 3 4 4 4: 1, 0, 4, 3, 0 of 8
    assert interfered["text"].tolist() == ["1 (12.5)", "0 (0)", "4 (50)", "3 (37.5)", "0 (0)"]
    assert interfered["published_key"].iloc[3] == \
        "table4_work_outcomes.pain_interfered_with_work.quite_a_lot"


# ----------------------------------------------------------------------------- Table 5
def test_table5_jobs(built):
    cells = built["table5"][0].set_index(["row_label", "column"])
    # 14 weeks: offers 2 + 0 + 0 (P05 blank) = 2 over 3 answering; accepted among the one
    # with an offer (P01) = 0; started among those who accepted: nobody -> 0, n = 0
    # 6 months: offers 1 + 2 = 3 (n 2); accepted 1 + 1 = 2 (n 2); started 1 + 0 = 1 (n 2)
    expected = {
        ("Number of job offers reported", "fourteen_weeks"): (2, 3, "job_offers_reported"),
        ("Number of job offers accepted", "fourteen_weeks"): (0, 1, "job_offers_accepted"),
        ("Number of new jobs started", "fourteen_weeks"): (0, 0, "new_jobs_started"),
        ("Number of job offers reported", "six_months"): (3, 2, "job_offers_reported"),
        ("Number of job offers accepted", "six_months"): (2, 2, "job_offers_accepted"),
        ("Number of new jobs started", "six_months"): (1, 2, "new_jobs_started"),
    }
    for (label, column), (total, n, key) in expected.items():
        c = cells.loc[(label, column)]
        assert (c["estimate"], c["n"], c["text"]) == (total, n, str(total))
        assert c["published_key"] == f"table5_jobs.{column}.{key}"


def test_table5_footnote_marks(built):
    html = built["table5"][1].as_raw_html()
    marks = re.findall(r'<span class="gt_footnote_marks"[^>]*>([^<]*)</span> (i\.e\.|n =)', html)
    assert marks == [("\u00b6", "i.e."), ("*", "n =")]
    assert "1 person received 2 offers at 14 weeks" in html


# ----------------------------------------------------------------------------- metrics
def test_feasibility_metrics(built):
    cells = built["feasibility_metrics"][0]
    # 8 recruited, consents Sep 2017 .. Aug 2018 = 12 calendar months -> 0.67 per month
    overall = by_label(cells, "Overall")
    assert (overall["n"], overall["denominator"], overall["text"]) == (8, 12, "0.7")
    # posters first screened 2018-01-05: Jan..Aug 2018 = 8 months, 3 recruited -> 0.375 -> 0.4
    posters = by_label(cells, "Posters and direct contact")
    assert (posters["denominator"], posters["text"]) == (8, "0.4")
    # council first screened 2017-11-15: 10 months, 3 recruited -> 0.3
    assert by_label(cells, "Council employment services")["denominator"] == 10
    # eligible 10/12, Wilson (0.552, 0.953) worked in test_stats -> 83 (55 to 95)
    assert by_label(cells, "Eligible, of screened")["text"] == "83 (55 to 95)"
    assert by_label(cells, "Screened")["published_key"] == "flow.screened"
    # placed 4/8; Wilson: centre 0.5, half 1.324137*sqrt(0.03125+0.015006) = 0.2848
    placed = by_label(cells, "Placed, of recruited")
    assert placed["text"] == "50 (22 to 78)" and placed["published_key"] == \
        "flow.placed_and_attended"
    # follow-up excluding the two dropouts: 3/6, 4/6, 2/6
    response = cells[cells["published_key"].str.startswith("follow_up_response_rate_pct")]
    assert response["n"].tolist() == [3, 4, 2] and set(response["denominator"]) == {6}
    assert [t.split(" ")[0] for t in response["text"]] == ["50", "67", "33"]
    # case management: placed 4 6 8 10 -> 7.0 (5.0 to 9.0); not placed, over those who had
    # case management (the paper's definition; the two with no contact are left out): 2 3 ->
    # Stata's median (2 + 3)/2 = 2.5, quartiles x(1) = 2 and x(2) = 3, n = 2; all eight ->
    # 3.5 (1.0 to 7.0), x £30 -> 105 (30 to 210); total 33 hours
    assert by_label(cells, "Hours per participant, placed")["text"] == "7.0 (5.0 to 9.0)"
    unplaced = by_label(cells, "Hours per participant, not placed (had case management)")
    assert (unplaced["text"], unplaced["n"]) == ("2.5 (2.0 to 3.0)", 2)
    assert unplaced["published_key"] == "case_management.unplaced.median_iqr"
    assert by_label(cells, "Cost per participant (£), all recruited")["text"] == \
        "105 (30 to 210)"
    assert by_label(cells, "Total hours")["text"] == "33.0"
    # employment 2/8 = 0.25; NNT 1/(0.25 - 0.10) = 6.67 -> 7; Wilson (0.0715, 0.5907):
    # 1/(0.5907 - 0.1) = 2.04; lower bound 0.0715 < 0.10 -> no upper limit
    nnt = by_label(cells, "Number needed to treat")
    assert nnt["text"] == "7 (2 to \u221e)" and np.isinf(nnt["upper"])
    assert nnt["published_key"] == "economics.number_needed_to_treat"
    html = built["feasibility_metrics"][1].as_raw_html()
    assert "7 (2 to \u221e)" in td_texts(html)


def test_feasibility_metrics_without_employment(data):
    cells = fm.feasibility_metrics(data["participants"], data["screening"], fx.CONFIG)
    assert not (cells["statistic"] == "nnt_ci").any()
    assert "Number needed to treat" not in fm.feasibility_metrics_gt(cells, fx.CONFIG).as_raw_html()


# ----------------------------------------------------------------------------- every table
def test_cells_share_one_scheme(built):
    for name, (cells, _) in built.items():
        assert list(cells.columns) == CELL_COLUMNS
        keys = cells.loc[cells["published_key"] != "", "published_key"]
        assert keys.is_unique, name


def test_printed_text_is_what_the_html_shows(built):
    for name, (cells, gt) in built.items():
        shown = td_texts(gt.as_raw_html())
        for text in cells.loc[cells["text"] != "", "text"]:
            assert text in shown, (name, text)


@pytest.mark.parametrize("name, table_id", [
    ("table2", "table2"), ("table3", "table3"), ("table4", "table4"), ("table5", "table5"),
    ("feasibility_metrics", "feasibility_metrics")])
def test_html_is_offline_and_has_its_parts(built, name, table_id):
    html = built[name][1].as_raw_html()
    assert f'id="{table_id}"' in html
    assert 'class="gt_sourcenote"' in html and "Source:" in html
    for forbidden in ("http", "@import", "googleapis"):
        assert forbidden not in html


def test_table2_html_groups_and_footnote(built):
    html = built["table2"][1].as_raw_html()
    assert "Baseline sample characteristics (n=8)" in html   # the paper's title
    assert 'class="gt_group_heading"' in html and "Areas of pain, n (%)" in html
    assert 'class="gt_footnote"' in html


def test_write_table_is_byte_identical_across_builds(data, tmp_path):
    outputs = []
    for run in ("a", "b"):
        cells = table3.table3_change(data["participants"], data["scores"])
        gt = table3.table3_gt(cells, eq5d_method=EQ5D_METHOD,
                              final_follow_up=table3.final_follow_up_note(data["participants"]))
        html, csv = tmp_path / run / "table3.html", tmp_path / run / "table3.csv"
        write_table(cells, gt, html, csv)
        outputs.append((html.read_bytes(), csv.read_bytes()))
    assert outputs[0] == outputs[1]
    back = pd.read_csv(tmp_path / "a" / "table3.csv", keep_default_na=False)
    assert list(back.columns) == CELL_COLUMNS
    row = back[(back["row_label"] == "Perceived work confidence") & (back["column"] == "week6")]
    assert row["text"].item() == f"{MINUS}1.0 ({MINUS}3.5 to 1.5)"   # U+2212 needs no quoting
    assert row["published_key"].item() == "table3_change.work_confidence[0]"
    assert outputs[0][0].decode("utf-8").lstrip().startswith("<div id=\"table3\"")
