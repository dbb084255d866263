"""The full trial's numbers on a small generated cohort, against values computed by hand
in this file from the raw export (read with the csv module, never through the libraries):
every CONSORT box and its sums, a baseline row per arm, the primary outcome's risk
difference and its Newcombe interval, a mean difference with Welch's interval, and a
change from baseline with its t interval (in one arm, and between the arms)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import date

import pytest
from scipy import stats

from feasibility.tables.registry import build_table
from feasibility.analysis.flow import consort_flow

ARMS = {"1": "Supported work placement", "2": "Usual care"}
COLUMN = {"1": "supported_work_placement", "2": "usual_care"}


def number(text: str):
    try:
        return float(text)
    except ValueError:  # blank or a missing-data code
        return None


def cell(table, row_label, column):
    c = table.cells
    hit = c[(c["row_label"] == row_label) & (c["column"] == column)]
    assert len(hit) == 1, (row_label, column, c[["row_label", "column"]].to_string())
    return hit.iloc[0]


@pytest.fixture(scope="module")
def raw(cohort):
    """Per record, by hand: arm, screening, baseline, intervention, follow-up, status."""
    screening = cohort.by_record("screening_arm_1")
    baseline = cohort.by_record("baseline_arm_1")
    arm = {rid: r["rand_arm"] for rid, r in baseline.items() if r["rand_arm"]}
    return dict(
        screening=screening,
        baseline=baseline,
        arm=arm,
        intervention=cohort.by_record("intervention_arm_1"),
        month6=cohort.by_record("month6_arm_1"),
        status=cohort.by_record("study_log_arm_1"),
    )


def test_every_consort_box_against_a_count_by_hand(cohort, raw):
    flow = consort_flow(cohort.analysis)
    arm, screening = raw["arm"], raw["screening"]
    assessed = len(screening)
    assert flow.n("assessed") == assessed == 160
    assert flow.n("randomised") == len(arm)
    reasons = Counter()
    for rid, r in screening.items():
        if rid not in arm:
            reasons[
                "Not meeting inclusion criteria"
                if r["scr_eligible"] == "0"
                else "Declined to participate"
                if r["scr_consented"] == "0"
                else "Other reasons"
            ] += 1
    assert flow.n("excluded") == sum(reasons.values()) == assessed - len(arm)
    for reason, k in reasons.items():
        assert flow.n("excluded", reason=reason) == k
    # the enrolment boxes add up
    assert flow.n("excluded") + flow.n("randomised") == flow.n("assessed")
    labels_wp = {
        "1": "Could not attend the dates offered",
        "2": "Health reasons",
        "3": "No longer interested",
        "4": "Found paid work",
        "5": "Other",
    }
    status_labels = {"2": "Withdrew from follow-up", "3": "Lost to follow-up", "4": "Died"}
    total = 0
    for code in ("1", "2"):
        mine = [rid for rid, a in arm.items() if a == code]
        allocated = len(mine)
        total += allocated
        assert flow.n("allocated", code) == allocated
        if code == "1":
            received = [rid for rid in mine if raw["intervention"].get(rid, {}).get("wp_attended") == "1"]
            codes = ("UNK", "NASK", "DECL")  # a coded answer is not known (issue 23.6)

            def why_not(rid):
                form = raw["intervention"].get(rid, {})
                if form.get("wp_attended") in codes:
                    return "Not known (missing-data code)"
                if form.get("wp_not_attended_reason") in codes:
                    return "Not recorded"
                return labels_wp.get(form.get("wp_not_attended_reason", ""), "No work preparation recorded")

            why = Counter(why_not(rid) for rid in mine if rid not in received)
            for reason, k in why.items():
                assert flow.n("not_received", code, reason) == k
        else:
            received = mine  # usual care needs no delivery
        assert flow.n("received", code) == len(received)
        assert flow.n("not_received", code) == allocated - len(received)
        assert flow.n("received", code) + flow.n("not_received", code) == allocated
        lost = Counter(
            status_labels[raw["status"][rid]["ss_status"]]
            for rid in mine
            if raw["status"][rid]["ss_status"] in status_labels
        )
        assert flow.n("lost", code) == sum(lost.values())
        for reason, k in lost.items():
            assert flow.n("lost", code, reason) == k
        assert flow.n("discontinued", code) == sum(
            raw["status"][rid]["ss_discontinued"] == "1" for rid in mine
        )
        analysed = [rid for rid in mine if raw["month6"].get(rid, {}).get("emp_paid_work") in ("0", "1")]
        assert flow.n("analysed", code) == len(analysed)
        assert flow.n("analysed", code) + flow.n("not_analysed", code) == allocated
        # every reason of a box adds up to it
        for box in ("not_received", "lost", "discontinued", "not_analysed"):
            rows = flow.frame[
                (flow.frame["box"] == box) & (flow.frame["arm"] == code) & (flow.frame["reason"] != "")
            ]
            assert rows["n"].sum() == flow.n(box, code)
    assert total == flow.n("randomised")
    assert flow.n("discontinued", "2") == 0  # usual care has nothing to discontinue


def test_a_baseline_row_per_arm_by_hand(cohort, raw):
    table = build_table(cohort.analysis, "baseline")
    for code, column in COLUMN.items():
        rows = [raw["baseline"][rid] for rid, a in raw["arm"].items() if a == code]
        female = sum(r["dem_sex"] == "1" for r in rows)
        c = cell(table, "Female", column)
        assert (c["n"], c["denominator"]) == (female, len(rows))
        assert c["estimate"] == pytest.approx(100 * female / len(rows))
        ages = []
        for r in rows:
            dob = date.fromisoformat(r["con_dob"])
            at = date.fromisoformat(r["con_date"])
            ages.append(at.year - dob.year - ((at.month, at.day) < (dob.month, dob.day)))
        c = cell(table, "Age (years), mean (SD)", column)
        assert c["n"] == len(ages)
        assert c["estimate"] == pytest.approx(statistics.mean(ages))
        assert c["sd"] == pytest.approx(statistics.stdev(ages))
    overall = cell(table, "Female", "overall")
    assert overall["n"] == sum(raw["baseline"][rid]["dem_sex"] == "1" for rid in raw["arm"])


def wilson(k: int, n: int, z: float) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_the_primary_outcome_risk_difference_and_its_newcombe_interval_by_hand(cohort, raw):
    table = build_table(cohort.analysis, "primary_outcome")
    counts = {}
    for code in ("1", "2"):
        answers = [
            raw["month6"][rid]["emp_paid_work"]
            for rid, a in raw["arm"].items()
            if a == code and rid in raw["month6"] and raw["month6"][rid]["emp_paid_work"] in ("0", "1")
        ]
        counts[code] = (answers.count("1"), len(answers))
        c = cell(table, "In paid work at 6 months, n (%)", COLUMN[code])
        assert (c["n"], c["denominator"]) == counts[code]
    (k1, n1), (k2, n2) = counts["1"], counts["2"]
    z = stats.norm.ppf(0.975)
    (l1, u1), (l2, u2) = wilson(k1, n1, z), wilson(k2, n2, z)
    p1, p2 = k1 / n1, k2 / n2
    d = cell(table, "In paid work at 6 months, n (%)", "difference")
    assert d["statistic"] == "risk_difference_ci" and d["n"] == n1 + n2
    assert d["estimate"] == pytest.approx(100 * (p1 - p2))
    assert d["lower"] == pytest.approx(100 * (p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)))
    assert d["upper"] == pytest.approx(100 * (p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)))
    assert d["text"] == f"{100 * (p1 - p2):.1f} ({d['lower']:.1f} to {d['upper']:.1f})".replace("-", "\u2212")


def test_a_mean_difference_and_its_welch_interval_by_hand(cohort, raw):
    table = build_table(cohort.analysis, "secondary_outcomes")
    vas = {
        code: [
            number(raw["month6"][rid]["eq5d_vas"])
            for rid, a in raw["arm"].items()
            if a == code and rid in raw["month6"] and number(raw["month6"][rid]["eq5d_vas"]) is not None
        ]
        for code in ("1", "2")
    }
    for code in ("1", "2"):
        c = cell(table, "EQ VAS", COLUMN[code])
        assert c["estimate"] == pytest.approx(statistics.mean(vas[code]))
        assert c["n"] == len(vas[code])
    ref = stats.ttest_ind(vas["1"], vas["2"], equal_var=False).confidence_interval(0.95)
    d = cell(table, "EQ VAS", "difference")
    assert d["statistic"] == "mean_difference_ci"
    assert d["estimate"] == pytest.approx(statistics.mean(vas["1"]) - statistics.mean(vas["2"]))
    assert (d["lower"], d["upper"]) == pytest.approx((ref.low, ref.high))


def test_a_change_from_baseline_interval_by_hand(cohort, raw):
    table = build_table(cohort.analysis, "change_month6")
    changes = {}
    for code in ("1", "2"):
        changes[code] = []
        for rid, a in raw["arm"].items():
            if a != code or rid not in raw["month6"]:
                continue
            before = number(raw["baseline"][rid]["nrs_pain_now"])
            after = number(raw["month6"][rid]["nrs_pain_now"])
            if before is not None and after is not None:
                changes[code].append(after - before)
        x = changes[code]
        mean, sd, n = statistics.mean(x), statistics.stdev(x), len(x)
        half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
        c = cell(table, "Pain intensity now (NRS 0-10)", COLUMN[code])
        assert c["n"] == n
        assert (c["estimate"], c["lower"], c["upper"]) == pytest.approx((mean, mean - half, mean + half))
    ref = stats.ttest_ind(changes["1"], changes["2"], equal_var=False).confidence_interval(0.95)
    d = cell(table, "Pain intensity now (NRS 0-10)", "difference")
    assert (d["lower"], d["upper"]) == pytest.approx((ref.low, ref.high))


def test_the_difference_column_says_what_it_compares_and_how(cohort):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
    from gt_text import gt_text
    from feasibility.tables.common import html_fragment

    text = str(gt_text(html_fragment(build_table(cohort.analysis, "secondary_outcomes").gt)))
    assert "Difference (95% CI)" in text
    assert "Supported work placement minus Usual care" in text
    assert "Newcombe's hybrid score interval" in text and "Welch's t interval" in text


def test_every_declared_table_builds_with_its_arm_columns(cohort):
    from feasibility.tables.registry import build_tables
    from feasibility.tables.common import html_fragment

    tables = build_tables(cohort.analysis)
    assert set(tables) == set(cohort.analysis.spec.tables)
    for tid, table in tables.items():
        html = html_fragment(table.gt)
        columns = set(table.cells["column"])
        if tid in (
            "baseline",
            "primary_outcome",
            "secondary_outcomes",
            "change_month6",
            "follow_up_response",
            "adverse_events",
        ):
            assert {"supported_work_placement", "usual_care"} <= columns, tid
            assert "Supported work placement (n = " in html and "Usual care (n = " in html
        if tid in ("primary_outcome", "secondary_outcomes", "change_month6"):
            assert "difference" in columns and "Difference (95% CI)" in html
        assert not table.cells["text"].eq("").all(), tid


def test_the_saved_analysis_dataset_gives_the_same_tables_and_flow(cohort, tmp_path):
    """Phase B's table jobs read the analysis dataset saved once (Analysis.save / load)."""
    import pandas as pd
    from feasibility.analysis import Analysis
    from feasibility.tables.registry import build_tables

    a = cohort.analysis
    a.save(tmp_path)
    loaded = Analysis.load(a.study, a.spec, tmp_path)
    for tid, table in build_tables(a).items():
        pd.testing.assert_frame_equal(build_table(loaded, tid).cells, table.cells, obj=tid)
    pd.testing.assert_frame_equal(consort_flow(loaded).frame, consort_flow(a).frame)
