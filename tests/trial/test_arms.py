"""Arms in the analysis library on a hand-made two-arm project (tests/analysis/minimal.py),
every number worked out by hand: allocation by REDCap arm or by a field, the difference
column of each kind, CONSORT boxes that add up (and an error when they do not)."""

from __future__ import annotations

import math

import pytest
from scipy import stats

import minimal
from feasibility.analysis import Analysis, StudyData, load_spec
from feasibility.tables.registry import build_table
from feasibility.analysis.flow import consort_flow

A1, A2 = "arm_1", "arm_2"


def p(rid, arm, event="enrol", **fields):
    return {"record_id": rid, "event": f"{event}_{arm}", **fields}


# arm 1 (Intervention): p1..p4; arm 2 (Control): p5..p8; s1, s2 screened only
ARM_OF = {f"p{i}": (A1 if i <= 4 else A2) for i in range(1, 9)}
SCREENING = [p(r, a, "screen", scr_date="2021-01-04", scr_ok=1) for r, a in ARM_OF.items()] + [
    p("s1", A1, "screen", scr_date="2021-01-05", scr_ok=0),
    p("s2", A2, "screen", scr_date="2021-01-06", scr_ok=1),
]
SEX = {"p1": 1, "p2": 1, "p3": 2, "p4": 1, "p5": 2, "p6": 2, "p7": 1, "p8": 2}
AGE = {"p1": 30, "p2": 34, "p3": 41, "p4": 45, "p5": 50, "p6": 38, "p7": 29, "p8": None}
GROUP = {"p1": 1, "p2": 2, "p3": 1, "p4": 3, "p5": 2, "p6": 2, "p7": 1, "p8": 3}
DEMO = [p(r, a, sex=SEX[r], age=AGE[r], group=GROUP[r], consent="2021-01-11") for r, a in ARM_OF.items()]
BASE = {"p1": 10, "p2": 12, "p3": 9, "p4": 14, "p5": 11, "p6": 8, "p7": 13, "p8": 10}
FOLLOW = {"p1": 7, "p2": 9, "p3": 9, "p4": 10, "p5": 11, "p6": 9, "p7": 12}  # p8 not seen
VISIT = [p(r, a, score=BASE[r], q1=1) for r, a in ARM_OF.items()] + [
    p(r, ARM_OF[r], "fu", score=s, q1=2 if s < 10 else 0) for r, s in FOLLOW.items()
]

CONFIG = {
    "timepoints": minimal.TIMEPOINTS,
    "flow": {
        "populations": {"screened": "has(screening)", "participants": "has(demo)"},
        "participants": "participants",
    },
    "arms": {"allocation": "redcap_arm"},
    "derived": {"points": {"expr": "visit.score", "timepoints": "all", "label": "Score"}},
}


def analysis(**extra) -> Analysis:
    config = {**CONFIG, **extra}
    return Analysis(minimal.study(screening=SCREENING, demo=DEMO, visit=VISIT), load_spec(config))


def cells(result, column):
    c = result.cells[result.cells["column"] == column]
    return {r: row for r, (_, row) in zip(c["row_label"], c.iterrows())}


def test_allocation_by_redcap_arm_takes_the_arms_names():
    a = analysis()
    assert a.arm_levels() == ((1, "Intervention"), (2, "Control"))
    assert a.compared_arms() == (1, 2)
    arm = a.variable("arm").values
    assert arm.loc["p1"] == 1 and arm.loc["p8"] == 2


def test_allocation_by_a_field_with_its_own_levels_and_the_order_of_comparison():
    a = analysis(
        arms={
            "allocation": "demo.sex",
            "levels": [[2, "Men"], [1, "Women"]],
            "intervention": 1,
            "control": 2,
            "name": "allocated",
        }
    )
    assert a.arm_levels() == ((2, "Men"), (1, "Women"))
    assert a.compared_arms() == (1, 2)
    with pytest.raises(ValueError, match="arms.intervention 3 is not one of the levels"):
        load_spec(
            {**CONFIG, "arms": {"allocation": "demo.sex", "levels": [[1, "a"], [2, "b"]], "intervention": 3}}
        )
    with pytest.raises(ValueError, match="not a coded field"):
        analysis(arms={"allocation": "demo.age"}).arm_levels()


def test_dichotomous_and_continuous_rows_get_the_difference_between_arms():
    table = {
        "kind": "categorical",
        "timepoint": "baseline",
        "columns": {"by": "arm"},
        "difference": True,
        "rows": [
            {"variable": "sex", "type": "dichotomous", "value": 1, "label": "Female"},
            {"variable": "age", "statistic": "mean_sd", "label": "Age"},
        ],
    }
    t = build_table(analysis(tables={"t": table}), "t")
    d = cells(t, "difference")
    # women: 3/4 vs 1/4 -> 50 percentage points; Newcombe from the two Wilson intervals
    z = stats.norm.ppf(0.975)

    def wilson(k, n):
        q = k / n
        c, h = (
            (q + z * z / (2 * n)) / (1 + z * z / n),
            z / (1 + z * z / n) * math.sqrt(q * (1 - q) / n + z * z / (4 * n * n)),
        )
        return c - h, c + h

    (l1, u1), (l2, u2) = wilson(3, 4), wilson(1, 4)
    assert d["Female"]["statistic"] == "risk_difference_ci"
    assert d["Female"]["estimate"] == pytest.approx(50.0)
    assert d["Female"]["lower"] == pytest.approx(100 * (0.5 - math.sqrt((0.75 - l1) ** 2 + (u2 - 0.25) ** 2)))
    assert d["Female"]["upper"] == pytest.approx(100 * (0.5 + math.sqrt((u1 - 0.75) ** 2 + (0.25 - l2) ** 2)))
    # ages 30 34 41 45 vs 50 38 29 (p8 missing): Welch
    ref = stats.ttest_ind([30, 34, 41, 45], [50, 38, 29], equal_var=False).confidence_interval()
    assert d["Age"]["estimate"] == pytest.approx(37.5 - 39.0)
    assert (d["Age"]["lower"], d["Age"]["upper"]) == pytest.approx((ref.low, ref.high))
    assert d["Age"]["n"] == 7
    assert list(dict.fromkeys(t.cells["column"])) == ["intervention", "control", "difference"]


def test_pooled_variance_between_given_levels_and_a_categorical_row_without_a_difference():
    table = {
        "kind": "baseline",
        "columns": {"by": "arm"},
        "difference": {
            "between": [2, 1],
            "continuous": "pooled",
            "label": "Control - intervention",
            "footnote": "Pooled t interval.",
        },
        "rows": [{"variable": "age", "statistic": "mean_sd", "label": "Age"}, {"variable": "group"}],
    }
    t = build_table(analysis(tables={"t": table}), "t")
    d = cells(t, "difference")
    ref = stats.ttest_ind([50, 38, 29], [30, 34, 41, 45]).confidence_interval()
    assert (d["Age"]["lower"], d["Age"]["upper"]) == pytest.approx((ref.low, ref.high))
    assert set(d) == {"Age"}  # a 3-level row has no single difference
    from feasibility.tables.common import html_fragment

    html = html_fragment(t.gt)
    assert "Control - intervention" in html and "Pooled t interval." in html


def test_change_by_arm_and_the_difference_in_mean_change():
    table = {
        "kind": "change",
        "timepoint": "followup",
        "columns": {"by": "arm"},
        "difference": True,
        "measures": [{"score": "points"}],
    }
    t = build_table(analysis(tables={"t": table}), "t")
    change1 = [7 - 10, 9 - 12, 9 - 9, 10 - 14]  # -3 -3 0 -4
    change2 = [11 - 11, 9 - 8, 12 - 13]  # 0 1 -1 (p8 not seen)
    arm1 = cells(t, "intervention")["Score"]
    half = stats.t.ppf(0.975, 3) * stats.tstd(change1) / 2
    assert (arm1["estimate"], arm1["lower"], arm1["upper"], arm1["n"]) == pytest.approx(
        (-2.5, -2.5 - half, -2.5 + half, 4)
    )
    d = cells(t, "difference")["Score"]
    ref = stats.ttest_ind(change1, change2, equal_var=False).confidence_interval()
    assert d["estimate"] == pytest.approx(-2.5 - 0.0)
    assert (d["lower"], d["upper"]) == pytest.approx((ref.low, ref.high))


def test_a_difference_needs_columns_by_arm():
    table = {
        "kind": "categorical",
        "timepoint": "baseline",
        "difference": True,
        "rows": [{"variable": "age", "statistic": "mean_sd"}],
    }
    with pytest.raises(ValueError, match="a difference compares columns by arm"):
        build_table(analysis(tables={"t": table}), "t")
    table = {**table, "columns": {"by": "arm"}, "difference": {"between": [1, 5]}}
    with pytest.raises(ValueError, match="no column for level 5"):
        build_table(analysis(tables={"t": table}), "t")


CONSORT = [
    {"id": "assessed", "stage": "enrolment", "count": "screened"},
    {
        "id": "excluded",
        "stage": "enrolment",
        "part_of": "assessed",
        "count": "screened and not participants",
        "reasons": "if_else(screening.scr_ok == 0, 'Not eligible', 'Declined')",
    },
    {"id": "randomised", "stage": "enrolment", "part_of": "assessed", "count": "participants"},
    {
        "id": "allocated",
        "stage": "allocation",
        "label": "Allocated to {arm_label}",
        "part_of": "randomised",
        "count": "participants",
    },
    {
        "id": "analysed",
        "stage": "analysis",
        "part_of": "allocated",
        "count": "participants and not_na(points[followup])",
    },
    {
        "id": "not_analysed",
        "stage": "analysis",
        "part_of": "allocated",
        "count": "participants and is_na(points[followup])",
        "reasons": "'No follow-up'",
    },
]


def test_consort_counts_per_arm_add_up():
    flow = consort_flow(analysis(flow={**CONFIG["flow"], "consort": CONSORT}))
    assert flow.n("assessed") == 10 and flow.n("randomised") == 8 and flow.n("excluded") == 2
    assert flow.n("excluded", reason="Not eligible") == 1 and flow.n("excluded", reason="Declined") == 1
    assert (flow.n("allocated", 1), flow.n("allocated", 2)) == (4, 4)
    assert (flow.n("analysed", 1), flow.n("analysed", 2)) == (4, 3)
    assert flow.n("not_analysed", 2, "No follow-up") == 1
    labels = dict(zip(flow.frame["box"] + flow.frame["arm"], flow.frame["label"]))
    assert labels["allocated1"] == "Allocated to Intervention"


def test_consort_boxes_that_do_not_add_up_are_an_error_naming_them():
    broken = [dict(b) for b in CONSORT]
    broken[4]["count"] = "participants"  # everyone 'analysed' and some not
    with pytest.raises(
        ValueError,
        match=r"'analysed' \(4\) \+ 'not_analysed' \(0\) do not add up"
        r" to 'allocated' \(4\)|record\(s\) are in more than one",
    ):
        consort_flow(analysis(flow={**CONFIG["flow"], "consort": broken}))
    with pytest.raises(ValueError, match="part_of 'nowhere' is not a box declared before it"):
        load_spec(
            {
                **CONFIG,
                "flow": {
                    **CONFIG["flow"],
                    "consort": [{"id": "a", "stage": "enrolment", "count": "true", "part_of": "nowhere"}],
                },
            }
        )
    no_arms = {k: v for k, v in CONFIG.items() if k != "arms"}
    with pytest.raises(ValueError, match="need the arms section"):
        load_spec({**no_arms, "flow": {**CONFIG["flow"], "consort": CONSORT}})


def test_the_arm_survives_save_and_load(tmp_path):
    a = analysis()
    a.save(tmp_path)
    loaded = Analysis.load(a.study, a.spec, tmp_path)
    assert loaded.arm_levels() == ((1, "Intervention"), (2, "Control"))


def test_columns_validation_derived_appear_as_fields():
    book = minimal.codebook()
    book["forms"][1]["derived"] = ["age_at_consent"]
    study = StudyData.from_frames(book, {})
    info = study.codebook.fields["age_at_consent"]
    assert (info.form, info.validation, info.label) == ("demo", "integer", "Age at consent")


def test_a_change_table_by_arm_names_its_time_point():
    table = {"kind": "change", "columns": {"by": "arm"}, "measures": [{"score": "points"}]}
    with pytest.raises(ValueError, match="names its follow-up time point"):
        build_table(analysis(tables={"t": table}), "t")
