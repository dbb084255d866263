"""Each table kind on a small hand-made project, with every expected number worked out by
hand in the comments (Wilson and t intervals from their textbook formulas)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from scipy import stats as scipy_stats

import minimal
from feasibility.analysis import Analysis, load_spec
from feasibility.tables.registry import build_table
from feasibility.tables.common import CELL_COLUMNS, html_fragment

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
from gt_text import gt_text  # noqa: E402

A1, A2 = "arm_1", "arm_2"


def p(rid, arm, **fields):
    return {"record_id": rid, "event": f"enrol_{arm}", **fields}


# p1, p2 in arm 1; p3, p4 in arm 2; p5 screened only
SCREENING = [
    {"record_id": f"p{i}", "event": f"screen_{A1 if i in (1, 2, 5) else A2}", "scr_date": d, "scr_ok": ok}
    for i, d, ok in (
        (1, "2020-01-02", 1),
        (2, "2020-02-03", 1),
        (3, "2020-01-20", 1),
        (4, "2020-03-30", 1),
        (5, "2020-04-01", 0),
    )
]
DEMO = [
    p("p1", A1, sex=1, age=30, years=2.0, pain___1=True, pain___3=True, group=1, consent="2020-01-15"),
    p("p2", A1, sex=2, age=40, years=4.0, pain___1=True, group=2, consent="2020-02-29"),
    p("p3", A2, sex=1, age=50, years=None, group=1, consent="2020-03-10"),
    p("p4", A2, sex=1, age=60, years=10.0, pain___2=True, group=None, consent="2020-04-01"),
]
VISIT = [
    p("p1", A1, score=10, q1=2),
    p("p2", A1, score=7, q1=0),
    p("p3", A2, score=8, q1=1),
    p("p4", A2, score=6, q1=3),
    {"record_id": "p1", "event": f"fu_{A1}", "score": 14, "q1": 3},
    {"record_id": "p2", "event": f"fu_{A1}", "score": 5, "q1": 1},
    {"record_id": "p3", "event": f"fu_{A2}", "score": 8, "q1": 1},
]
CONTACT = [
    p("p1", A1, instance=1, minutes=30),
    p("p1", A1, instance=2, minutes=60),
    p("p2", A1, instance=1, minutes=15),
    p("p4", A2, instance=1, minutes=90),
]


def build(table: dict, threshold=None, **extra):
    config = {
        "timepoints": minimal.TIMEPOINTS,
        "flow": {"populations": {"participants": "has(demo)"}, "participants": "participants"},
        "derived": {"arm": {"expr": "redcap_arm", "choices": [[1, "Intervention"], [2, "Control"]]}},
        "tables": {"t": table},
        **extra,
    }
    analysis = Analysis(
        minimal.study(screening=SCREENING, demo=DEMO, visit=VISIT, contact=CONTACT), load_spec(config)
    )
    result = build_table(analysis, "t", small_cell_threshold=threshold)
    assert list(result.cells.columns) == CELL_COLUMNS
    return result


def texts(result, column=None) -> dict[tuple[str, str], str]:
    cells = result.cells if column is None else result.cells[result.cells["column"] == column]
    return {(g, r): t for g, r, t in zip(cells["row_group"], cells["row_label"], cells["text"])}


def wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


# ----------------------------------------------------------------------------- baseline
BASELINE = {
    "kind": "baseline",
    "title": "Characteristics (n = {N})",
    "stub_label": "Characteristic",
    "value_label": "All (n = {N})",
    "rows": [
        {
            "group": "Demographics",
            "variables": [
                {
                    "variable": "sex",
                    "type": "dichotomous",
                    "value": 1,
                    "label": "Female, n (%)",
                    "published_key": "t.female",
                },
                {"variable": "age", "label": "Age, mean (SD)"},
            ],
        },
        {"variable": "group", "published_key": "t.group.{level}"},
        {"variable": "pain"},
        {"group": "History", "variables": [{"variable": "years", "statistic": "median_iqr"}]},
    ],
    "footnotes": [{"text": "Tick all that apply.", "location": {"row_group": "Areas of pain, n (%)"}}],
    "source_note": "Source: {N} participants.",
}


def test_baseline_table_every_variable_type():
    t = build(BASELINE)
    got = texts(t)
    # 3 of 4 female; ages 30, 40, 50, 60: mean 45, SD sqrt(500 / 3) = 12.9
    assert got[("Demographics", "Female, n (%)")] == "3 (75)"
    assert got[("Demographics", "Age, mean (SD)")] == "45.0 (12.9)"
    # group: Alpha 2, Beta 1, Gamma 0 (every level, zeros too), 1 missing - of all 4
    assert [(r, got[(g, r)]) for g, r in got if g == "Group, n (%)"] == [
        ("Alpha", "2 (50)"),
        ("Beta", "1 (25)"),
        ("Gamma", "0 (0)"),
        ("Missing", "1 (25)"),
    ]
    # checkbox: Back p1 p2, Neck p4, Head p1 - of all 4
    assert [(r, got[(g, r)]) for g, r in got if g == "Areas of pain, n (%)"] == [
        ("Back", "2 (50)"),
        ("Neck", "1 (25)"),
        ("Head", "1 (25)"),
    ]
    # years 2, 4, 10 (p3 blank): Stata centiles of n = 3: 25th x(1), 50th x(2), 75th x(3)
    assert got[("History", "Years in pain")] == "4.0 (2.0 to 10.0)"
    assert got[("History", "Years in pain: missing")] == "1 (25)"
    cells = t.cells.set_index(["row_group", "row_label"])
    assert cells.loc[("Group, n (%)", "Beta"), "published_key"] == "t.group.beta"
    assert cells.loc[("Group, n (%)", "Missing"), "published_key"] == ""
    assert cells.loc[("Demographics", "Age, mean (SD)"), "sd"] == pytest.approx(math.sqrt(500 / 3))
    words = gt_text(html_fragment(t.gt))
    assert ["title", "Characteristics (n = 4)"] in words
    assert ["column", "All (n = 4)"] in words
    assert ["source_note", "Source: 4 participants."] in words
    assert ["footnote", "1 Tick all that apply."] in words


def test_baseline_levels_observed_and_missing_none():
    table = {**BASELINE, "levels": "observed", "missing": "none"}
    got = texts(build(table))
    assert [r for g, r in got if g == "Group, n (%)"] == ["Alpha", "Beta"]
    assert ("History", "Years in pain: missing") not in got


def test_baseline_columns_by_arm_with_overall():
    table = {**BASELINE, "columns": {"by": "arm", "overall": True}}
    t = build(table)
    assert list(dict.fromkeys(t.cells["column"])) == ["overall", "intervention", "control"]
    arm1, arm2 = texts(t, "intervention"), texts(t, "control")
    # arm 1: p1 (F, 30), p2 (M, 40); arm 2: p3 (F, 50), p4 (F, 60); SD of two ages 10 apart 7.1
    assert arm1[("Demographics", "Female, n (%)")] == "1 (50)"
    assert arm2[("Demographics", "Female, n (%)")] == "2 (100)"
    assert arm1[("Demographics", "Age, mean (SD)")] == "35.0 (7.1)"
    assert arm2[("Demographics", "Age, mean (SD)")] == "55.0 (7.1)"
    assert arm2[("Group, n (%)", "Missing")] == "1 (50)"
    assert texts(t, "overall")[("Demographics", "Female, n (%)")] == "3 (75)"
    words = gt_text(html_fragment(t.gt))
    assert ["spanner", "Intervention (n = 2)"] in words and ["spanner", "Overall (n = 4)"] in words


def test_baseline_row_of_a_derived_variable_and_a_score_label():
    table = {"kind": "baseline", "rows": [{"variable": "older"}, {"variable": "hours"}]}
    t = build(
        table,
        derived={
            "arm": {"expr": "redcap_arm", "choices": [[1, "Intervention"], [2, "Control"]]},
            "older": {"expr": "age >= 45", "label": "Aged 45 or over"},
            "hours": {"expr": "sum(contact.minutes) / 60", "label": "Contact hours"},
        },
    )
    got = texts(t)
    assert got[("", "Aged 45 or over")] == "2 (50)"  # p3, p4
    # hours 1.5, 0.25, 0, 1.5: mean 0.8125, SD sqrt(((0.6875^2) * 2 + 0.5625^2 + 0.8125^2) / 3)
    sd = math.sqrt((2 * 0.6875**2 + 0.5625**2 + 0.8125**2) / 3)
    assert got[("", "Contact hours")] == f"0.8 ({sd:.1f})"


# ----------------------------------------------------------------------------- categorical
def test_categorical_outcomes_show_every_level_of_those_who_answered():
    table = {
        "kind": "categorical",
        "columns": [{"id": "fu", "timepoint": "followup"}],
        "value_label": "Follow-up",
        "n_label": "n",
        "rows": [
            {
                "variable": "q1",
                "group": "Item 1, n (%)",
                "levels": [3, 2, 1, 0],
                "published_key": "t.q1.{level}",
                "level_keys": {3: "three", 2: "two", 1: "one", 0: "zero"},
            },
            {"variable": "score", "statistic": "mean_sd", "label": "Score"},
        ],
    }
    t = build(table)
    got = texts(t)
    # follow-up answers: p1 3, p2 1, p3 1 (p4 none): of 3 answering, one decimal
    assert [(r, got[(g, r)]) for g, r in got if g == "Item 1, n (%)"] == [
        ("3", "1 (33.3)"),
        ("2", "0 (0)"),
        ("1", "2 (66.7)"),
        ("0", "0 (0)"),
    ]
    # scores 14, 5, 8: mean 9, SD sqrt((25 + 16 + 1) / 2) = 4.6
    assert got[("", "Score")] == "9.0 (4.6)"
    cells = t.cells.set_index(["row_group", "row_label"])
    assert cells.loc[("Item 1, n (%)", "2"), "published_key"] == "t.q1.two"
    assert cells.loc[("Item 1, n (%)", "1"), "denominator"] == 3


def test_categorical_default_columns_are_the_follow_up_time_points():
    t = build({"kind": "categorical", "rows": [{"variable": "q1"}]})
    assert set(t.cells["column"]) == {"followup"}
    assert set(t.cells["row_group"]) == {"Item 1, n (%)"}


# ----------------------------------------------------------------------------- change
def test_change_from_baseline_over_complete_pairs_with_a_t_interval():
    table = {
        "kind": "change",
        "columns": [{"id": "fu", "timepoint": "followup"}],
        "n_label": "n",
        "value_label": "Change (95% CI)",
        "measures": [
            {
                "score": "visit.score",
                "label": "Score",
                "decimals": 1,
                "published_key": "t.score[{column_index}]",
            }
        ],
    }
    table["measures"][0]["score"] = "score_tp"
    t = build(
        table,
        derived={
            "arm": {"expr": "redcap_arm", "choices": [[1, "Intervention"], [2, "Control"]]},
            "score_tp": {"expr": "visit.score", "timepoints": "all", "label": "Score"},
        },
    )
    row = t.cells.iloc[0]
    # pairs: p1 10 -> 14 (+4), p2 7 -> 5 (-2), p3 8 -> 8 (0); p4 has no follow-up
    d = [4, -2, 0]
    mean = sum(d) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 2)
    half = scipy_stats.t.ppf(0.975, 2) * sd / math.sqrt(3)
    assert row["n"] == 3 and row["estimate"] == pytest.approx(mean)
    assert row["sd"] == pytest.approx(sd)
    assert (row["lower"], row["upper"]) == (pytest.approx(mean - half), pytest.approx(mean + half))
    assert row["text"] == "0.7 (\u22126.9 to 8.3)" and row["published_key"] == "t.score[0]"


def test_change_confidence_level_follows_the_statistics_section():
    table = {"kind": "change", "measures": [{"score": "score_tp"}]}
    derived = {
        "arm": {"expr": "redcap_arm", "choices": [[1, "I"], [2, "C"]]},
        "score_tp": {"expr": "visit.score", "timepoints": "all"},
    }
    t = build(table, derived=derived, statistics={"confidence_level": 0.9})
    row = t.cells.iloc[0]
    half = scipy_stats.t.ppf(0.95, 2) * math.sqrt(28 / 3) / math.sqrt(3)
    assert row["upper"] - row["estimate"] == pytest.approx(half)


# ----------------------------------------------------------------------------- counts
def test_counts_with_their_own_definition_of_who_is_counted():
    table = {
        "kind": "counts",
        "n_label": "n",
        "value_label": "Total",
        "columns": [
            {"id": "b", "timepoint": "baseline", "label": "Baseline"},
            {"id": "f", "timepoint": "followup", "label": "Follow-up"},
        ],
        "rows": [
            {"id": "all", "label": "All scores", "sum": "visit.score", "published_key": "t.{column}.all"},
            {"id": "high", "label": "Scores of 8 or more", "sum": "visit.score", "over": "visit.score >= 8"},
        ],
    }
    t = build(table)
    cells = t.cells
    # column by column: baseline 10 + 7 + 8 + 6 = 31 over 4; >= 8: 10 + 8 over 2;
    # follow-up 14 + 5 + 8 = 27 over 3; >= 8: 14 + 8 over 2
    assert cells[["column", "row_label", "estimate", "n"]].values.tolist() == [
        ["b", "All scores", 31.0, 4],
        ["b", "Scores of 8 or more", 18.0, 2],
        ["f", "All scores", 27.0, 3],
        ["f", "Scores of 8 or more", 22.0, 2],
    ]
    assert cells["published_key"].tolist() == ["t.b.all", "", "t.f.all", ""]
    assert set(cells["statistic"]) == {"count"}


NOTE = {
    "text": "{fmt(people)} {plural(people, 'person', 'people')} scored {fmt(total)} at {column_label}",
    "text_small": "a few people scored high at {column_label}",
    "counts": ["people"],
    "values": {"people": "cell('high', 'n')", "total": "cell('high', 'estimate')"},
    "when": "people > 0",
    "for_each_column": True,
    "prefix": "i.e. ",
    "suffix": ".",
    "location": {"body": {"rows": ["high"], "part": "n"}},
    "mark": "\u00b6",
}


def test_a_note_bound_to_cells_per_column_and_its_small_cell_variant():
    table = {
        "kind": "counts",
        "n_label": "n",
        "columns": [
            {"id": "b", "timepoint": "baseline", "label": "baseline"},
            {"id": "f", "timepoint": "followup", "label": "follow-up"},
        ],
        "rows": [{"id": "high", "label": "High", "sum": "visit.score", "over": "visit.score >= 8"}],
        "footnotes": [NOTE],
    }
    words = gt_text(html_fragment(build(table).gt))
    assert [
        "footnote",
        "\u00b6 i.e. 2 people scored 18 at baseline; 2 people scored 22 at follow-up.",
    ] in words
    small = gt_text(html_fragment(build(table, threshold=3).gt))
    assert [
        "footnote",
        "\u00b6 i.e. a few people scored high at baseline; a few people scored high at follow-up.",
    ] in small


# ----------------------------------------------------------------------------- metrics
METRICS = {
    "kind": "metrics",
    "population": "has(screening)",
    "n_label": "n",
    "denominator_label": "N",
    "rows": [
        {
            "group": "Recruitment",
            "metrics": [
                {
                    "id": "rate",
                    "label": "Per month",
                    "statistic": "rate",
                    "count": "participants",
                    "months": "months_between(min(consent), max(consent)) + 1",
                },
                {
                    "id": "by_group",
                    "label": "{level_label}",
                    "statistic": "count",
                    "for_each": "group",
                    "count": "group == level",
                    "skip_if": "count == 0",
                    "published_key": "t.groups.{level}",
                },
            ],
        },
        {
            "group": "Proportions",
            "metrics": [
                {
                    "id": "female",
                    "label": "Female",
                    "statistic": "proportion",
                    "numerator": "sex == 1",
                    "denominator": "participants",
                    "published_key": "t.female",
                },
                {
                    "id": "nnt",
                    "label": "NNT",
                    "statistic": "nnt",
                    "numerator": "sex == 1",
                    "denominator": "participants",
                    "control": "control",
                },
            ],
        },
        {
            "group": "Contact",
            "metrics": [
                {
                    "id": "minutes",
                    "label": "Total minutes",
                    "statistic": "sum",
                    "value": "sum(contact.minutes)",
                    "where": "participants",
                    "decimals": 0,
                },
                {
                    "id": "median",
                    "label": "Minutes per participant",
                    "statistic": "median_iqr",
                    "value": "sum(contact.minutes)",
                    "where": "participants",
                },
                {"id": "mean", "label": "Mean age", "statistic": "mean_sd", "value": "age"},
            ],
        },
    ],
    "footnotes": [{"text": "Assumed proportion {control}.", "location": {"row_group": "Proportions"}}],
}


def test_metrics_each_statistic():
    t = build(METRICS, parameters={"control": 0.5})
    c = t.cells.set_index("row_label")
    # 4 participants, consents Jan to Apr 2020: 4 months
    assert c.loc["Per month", ["estimate", "n", "denominator", "text"]].tolist() == [1.0, 4, 4, "1.0"]
    # groups Alpha (p1, p3), Beta (p2); Gamma has none and is skipped
    assert c.loc[["Alpha", "Beta"], "text"].tolist() == ["2", "1"] and "Gamma" not in c.index
    assert c.loc["Alpha", "published_key"] == "t.groups.alpha"
    # 3 of 4 female: Wilson 95 % interval
    lo, hi = wilson(3, 4)
    assert c.loc["Female", "estimate"] == 75
    assert (c.loc["Female", "lower"], c.loc["Female", "upper"]) == (
        pytest.approx(100 * lo),
        pytest.approx(100 * hi),
    )
    assert c.loc["Female", "text"] == f"75 ({100 * lo:.0f} to {100 * hi:.0f})"
    # NNT = 1 / (0.75 - 0.5) = 4; from the Wilson bounds: 1 / (hi - 0.5), and lo < 0.5: none
    assert c.loc["NNT", "estimate"] == pytest.approx(4)
    assert c.loc["NNT", "lower"] == pytest.approx(1 / (hi - 0.5))
    assert math.isinf(c.loc["NNT", "upper"]) and c.loc["NNT", "text"].endswith("\u221e)")
    # minutes: p1 90, p2 15, p3 0, p4 90 -> total 195 over 4; median of 0, 15, 90, 90:
    # Stata: 50th (x(2) + x(3)) / 2 = 52.5, 25th (x(1) + x(2)) / 2 = 7.5, 75th 90
    assert c.loc["Total minutes", ["estimate", "n", "text"]].tolist() == [195.0, 4, "195"]
    assert c.loc["Minutes per participant", "text"] == "52.5 (7.5 to 90.0)"
    # mean age over the population (has(screening): 5 records, p5 has no age)
    assert c.loc["Mean age", ["estimate", "n"]].tolist() == [45.0, 4]
    assert ["footnote", "1 Assumed proportion 0.5."] in gt_text(html_fragment(t.gt))


def test_metrics_rows_are_skipped_only_when_declared():
    table = {
        **METRICS,
        "rows": [
            {
                "group": "G",
                "metrics": [
                    {
                        "id": "r",
                        "label": "{level_label}",
                        "statistic": "rate",
                        "for_each": "group",
                        "count": "group == level",
                        "months": "months_between(min(consent, where=group == level), max(consent)) + 1",
                    }
                ],
            }
        ],
        "footnotes": [],
    }
    with pytest.raises(ValueError, match="rate could not be computed .*add skip_if"):
        build(table)
    table["rows"][0]["metrics"][0]["skip_if"] = "is_na(months)"
    got = build(table).cells
    # Alpha from Jan (p1) to Apr: 4 months, 2 recruits; Beta from Feb (p2): 3 months, 1
    assert got[["row_label", "estimate", "denominator"]].values.tolist() == [
        ["Alpha", 0.5, 4],
        ["Beta", pytest.approx(1 / 3), 3],
    ]


# ----------------------------------------------------------------------------- errors
def test_table_errors_name_the_table_and_row():
    with pytest.raises(Exception, match="table 't', row 'agee'.*unknown name 'agee'"):
        build({"kind": "baseline", "rows": [{"variable": "agee"}]})
    with pytest.raises(ValueError, match="table 't', row 'x': published_key 't.{nope}' uses {nope}"):
        build({"kind": "baseline", "rows": [{"id": "x", "variable": "age", "published_key": "t.{nope}"}]})
    with pytest.raises(ValueError, match="footnote location: no row 'zzz'"):
        build(
            {
                "kind": "baseline",
                "rows": [{"variable": "age"}],
                "footnotes": [{"text": "x", "location": {"stub": ["zzz"]}}],
            }
        )
    with pytest.raises(ValueError, match="level 7 is not a code"):
        build({"kind": "categorical", "rows": [{"variable": "q1", "levels": [7]}]})
