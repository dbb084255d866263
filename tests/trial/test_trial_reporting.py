"""Issue 23.4, 23.6, 23.7, 23.9 on the full trial: subgroup interaction estimates checked
against a second statsmodels route (the formula API), the forest plot's numbers, the
multiplicity statement, missing-data codes that stay missing (counted by hand from the raw
export), adverse-event relatedness only where it applies, difference columns that say what
they hold, and the CONSORT 2025 checklist's 30 items."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from feasibility.tables.registry import build_table


# ------------------------------------------------------------------ 23.4 subgroups
def test_interaction_estimates_match_the_statsmodels_formula_route():
    """fit_interaction (design matrix, GLM / OLS, contrast of coefficients) against
    smf.logit / smf.ols with arm * C(level): the within-level effects and the Wald test."""
    import statsmodels.formula.api as smf
    from feasibility.tables.subgroups import fit_interaction

    rng = np.random.default_rng(5)
    n = 400
    arm = rng.integers(0, 2, n).astype(float)
    level = rng.choice(["a", "b", "c"], n)
    site = rng.choice(["s1", "s2"], n)
    lin = -0.5 + 0.4 * arm + 0.3 * (level == "b") - 0.6 * arm * (level == "c") + 0.2 * (site == "s2")
    y = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
    data = pd.DataFrame({"y": y, "arm": arm, "level": level, "site": site})
    mine = fit_interaction(y, arm, data[["site"]], level.astype(object), "binary")
    ref = smf.logit("y ~ arm * C(level) + C(site)", data).fit(disp=0)
    for lv, name in (("a", None), ("b", "arm:C(level)[T.b]"), ("c", "arm:C(level)[T.c]")):
        b = ref.params["arm"] + (ref.params[name] if name else 0.0)
        assert mine["levels"][lv][0] == pytest.approx(math.exp(b), rel=1e-6)
        c = pd.Series(0.0, index=ref.params.index)
        c["arm"] = 1.0
        if name:
            c[name] = 1.0
        se = math.sqrt(c @ ref.cov_params() @ c)
        assert mine["levels"][lv][1] == pytest.approx(math.exp(b - 1.959963985 * se), rel=1e-5)
        assert mine["levels"][lv][3] == int((level == lv).sum())
    wald = ref.wald_test("arm:C(level)[T.b] = 0, arm:C(level)[T.c] = 0", scalar=True)
    assert mine["p"] == pytest.approx(float(wald.pvalue), rel=1e-5) and mine["df"] == 2
    # continuous: OLS with the same interaction
    yc = 2 + 0.5 * arm + (level == "c") * arm + rng.normal(0, 1, n)
    data["yc"] = yc
    mine = fit_interaction(yc, arm, data[["site"]], level.astype(object), "continuous")
    ref = smf.ols("yc ~ arm * C(level) + C(site)", data).fit()
    assert mine["levels"]["c"][0] == pytest.approx(ref.params["arm"] + ref.params["arm:C(level)[T.c]"])
    assert mine["levels"]["a"][1:3] == pytest.approx(tuple(ref.conf_int().loc["arm"]))
    f = ref.f_test("arm:C(level)[T.b] = 0, arm:C(level)[T.c] = 0")
    assert mine["p"] == pytest.approx(float(f.pvalue), rel=1e-6)


def test_the_subgroup_table_and_its_forest_plot(cohort):
    from feasibility.figures.forest import make
    from feasibility.figures.spec import load_figures

    a = cohort.analysis
    table = build_table(a, "primary_subgroups")
    c = table.cells
    effect = c[c["column"] == "effect"]
    assert set(effect["statistic"]) == {"ratio_ci"}
    assert (effect["lower"] <= effect["estimate"]).all() and (effect["estimate"] <= effect["upper"]).all()
    assert set(c["row_group"]) >= {"", "Site"}
    # every arm cell: n (%) of that level's participants with the outcome, by hand
    site = a.variable("site").values
    y = a.variable("in_paid_work").by_timepoint["month6"]
    arm = a.variable("arm").values
    row = c[(c["row_group"] == "Site") & (c["column"] == "supported_work_placement")].iloc[0]
    code = {t: k for k, t in a.variable("site").meta["choices"]}[row["row_label"]]
    mine = y[(site == code) & (arm == 1) & y.notna()]
    assert (row["n"], row["denominator"]) == (int(mine.sum()), len(mine))
    from feasibility.tables.common import html_fragment
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
    from gt_text import gt_text

    words = str(gt_text(html_fragment(table.gt)))
    assert "Odds ratio (95% CI)" in words and "interaction" in words
    assert "not powered" in words and "n (%) or" not in words
    fig, alt, numbers = make(a, load_figures(a.spec.raw)["subgroups"])
    import matplotlib.pyplot as plt

    plt.close(fig)
    cells = effect.reset_index(drop=True)
    assert list(numbers["estimate"]) == pytest.approx(list(cells["estimate"]))
    assert "Interaction test" in alt and "not powered" in alt


def test_the_multiplicity_statement_names_the_secondary_outcomes(study):
    from feasibility.report_trial import multiplicity_text

    text = multiplicity_text(study)
    assert "not adjusted for multiplicity" in text
    assert "E2 to E13" in text and "not powered" in text
    assert "Primary outcome by prespecified subgroup" in text


# ------------------------------------------------------------------ 23.6 missing-data codes
def test_a_missing_data_code_never_becomes_no_zero_or_a_skipped_instance(cohort):
    """placed and cm_hours against the raw export: a record with a code in plc_placed has
    no value (not false); one with a coded contact duration has no total (not a smaller
    sum); every other record as before; the codes set aside are logged."""
    a = cohort.analysis
    rows = cohort.rows
    codes = {"UNK", "NASK", "DECL"}
    coded_placed = {r["record_id"] for r in rows if r["plc_placed"] in codes}
    coded_minutes = {r["record_id"] for r in rows if r["cm_minutes"] in codes}
    placed = a.variable("placed").values
    hours = a.variable("cm_hours").values
    for rid in coded_placed:
        assert pd.isna(placed[rid])
    for rid in coded_minutes:
        assert pd.isna(hours[rid])
    minutes: dict[str, float] = {}
    for r in rows:
        if (
            r["redcap_repeat_instrument"] == "cm_contact"
            and r["record_id"] not in coded_minutes
            and r["cm_minutes"] != ""
        ):  # a blank is not a code: sum() skips it
            minutes[r["record_id"]] = minutes.get(r["record_id"], 0.0) + float(r["cm_minutes"])
    for rid, total in minutes.items():
        assert hours[rid] == pytest.approx(total / 60)
    plc = {r["record_id"]: r["plc_placed"] for r in rows if r["plc_placed"] in ("0", "1")}
    for rid in placed.index:
        if rid not in coded_placed:
            assert placed[rid] == (plc.get(rid) == "1")
    log = {r["variable"]: r for r in a.code_log}
    if coded_placed:
        assert log["placed"]["participants"] == len(coded_placed)
    if coded_minutes:
        assert log["cm_hours"]["participants"] == len(coded_minutes)


def test_a_coded_answer_is_left_out_of_the_delivery_table_not_counted_as_no(cohort):
    c = build_table(cohort.analysis, "intervention_delivery").cells
    row = c[c["row_label"] == "Started a placement"].iloc[0]
    arm = {r["record_id"] for r in cohort.at("baseline_arm_1") if r["rand_arm"] == "1"}
    placement = {r["record_id"]: r["plc_placed"] for r in cohort.at("intervention_arm_1")}
    coded = {rid for rid in arm if placement.get(rid) in ("UNK", "NASK", "DECL")}
    assert row["denominator"] == len(arm) - len(coded)
    assert row["n"] == sum(placement.get(rid) == "1" for rid in arm)


def test_the_report_counts_the_codes_set_aside(tmp_path):
    import json
    from feasibility.report_trial import missing_codes_text

    path = tmp_path / "variables.json"
    path.write_text(
        json.dumps(
            {
                "variables": {"placed": {"label": "Started a placement"}},
                "missing_codes": [
                    {
                        "variable": "placed",
                        "timepoint": "",
                        "participants": 3,
                        "changed": 3,
                        "codes": {"DECL": 1, "NASK": 1, "UNK": 1},
                    }
                ],
            }
        )
    )
    text = missing_codes_text({}, path)
    assert "Started a placement: 3 participants (DECL 1, NASK 1, UNK 1)" in text
    assert "never" in text and "No derived variable" not in text
    empty = tmp_path / "none.json"
    empty.write_text(json.dumps({"variables": {}, "missing_codes": []}))
    assert "No derived variable read a missing-data code" in missing_codes_text({}, empty)


def test_ignore_keeps_the_code_as_a_blank(study, cohort):
    """derived.<name>.missing_codes: ignore reads a code as the expression says
    (coalesce(..., false) gives false)."""
    import copy
    from feasibility.analysis import Analysis, load_spec

    changed = copy.deepcopy(study)
    changed["derived"]["placed"]["missing_codes"] = "ignore"
    a = Analysis(cohort.analysis.study, load_spec(changed))
    coded = {r["record_id"] for r in cohort.rows if r["plc_placed"] in ("UNK", "NASK", "DECL")}
    for rid in coded:
        assert a.variable("placed").values[rid] is False or a.variable("placed").values[rid] == False  # noqa: E712


# ------------------------------------------------------------------ 23.7 labels
def test_relatedness_is_counted_only_in_the_arm_it_applies_to(cohort):
    table = build_table(cohort.analysis, "adverse_events")
    c = table.cells
    related = c[c["row_label"] == "At least one adverse event possibly related to the intervention"]
    assert list(related["column"]) == ["supported_work_placement"]
    # by hand: participants of the intervention arm with an event rated 2, 3 or 4
    arm = {r["record_id"]: r["rand_arm"] for r in cohort.at("baseline_arm_1") if r["rand_arm"]}
    hit = {
        r["record_id"]
        for r in cohort.rows
        if r["redcap_repeat_instrument"] == "adverse_event" and r["ae_related"] in ("2", "3", "4")
    }
    mine = [rid for rid, a in arm.items() if a == "1"]
    assert related.iloc[0]["n"] == sum(rid in hit for rid in mine)
    assert related.iloc[0]["denominator"] == len(mine)


def test_every_difference_column_says_difference_never_n_pct(cohort):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
    from gt_text import gt_text
    from feasibility.tables.registry import build_tables
    from feasibility.tables.common import html_fragment

    for tid, table in build_tables(cohort.analysis).items():
        words = gt_text(html_fragment(table.gt))
        columns = [w for kind, w in words if kind == "column"]
        ids = list(dict.fromkeys(table.cells["column"]))
        for cid in ("difference", "adjusted", "unadjusted", "complete_case"):
            if cid in ids:
                assert any("Difference (95% CI)" in w or "difference (95% CI)" in w for w in columns), tid
        # no estimate column headed as counts
        assert not any(w.startswith("n (%)") and "Difference" in w for w in columns), tid


# ------------------------------------------------------------------ 23.9 CONSORT 2025
def test_the_consort_2025_checklist_has_its_30_items(study):
    from feasibility.report_trial import CONSORT_2025, consort_2025_frame, TEAM

    numbers = [i.rstrip("abcd") for i, *_ in CONSORT_2025]
    assert sorted(set(numbers), key=int) == [str(i) for i in range(1, 31)]
    assert len(CONSORT_2025) == 42  # with its parts (1a, 1b, 5a, ...)
    frame = consort_2025_frame(study, {"27": "Safety"})
    where = dict(zip(frame["Item"], frame["Where this report addresses it"]))
    titles = {s["title"] for s in study["report"]["sections"]}
    for item, text in where.items():
        assert text == TEAM or text == "The report's title" or all(t in titles for t in text.split("; ")), (
            item,
            text,
        )
    assert where["2"] == TEAM and where["16a"] == TEAM  # registration, sample size
    assert where["22a"] == "Recruitment and participant flow"
    assert where["25"] == "Baseline characteristics"
    assert "Primary outcome" in where["21d"]  # subgroups, tipping point
    assert where["27"] == "Safety"


# ------------------------------------------------------------------ 23.5 denominators
def _methods_text(study) -> str:
    section = next(s for s in study["report"]["sections"] if s["title"] == "Statistical methods")
    return " ".join(" ".join(item["text"].split()) for item in section["content"] if "text" in item)


def test_the_methods_text_states_the_percentages_as_the_tables_compute_them(study, cohort):
    """Each denominator the methods name, checked against the tables' cells."""
    text = _methods_text(study)
    a = cohort.analysis
    arm = a.variable("arm").values
    randomised = arm.notna()
    size = {
        "supported_work_placement": int((arm == 1).sum()),
        "usual_care": int((arm == 2).sum()),
        "overall": int(randomised.sum()),
    }
    # baseline characteristics and adverse events: of everyone randomised to the arm
    assert "baseline characteristics and adverse events are n (%) of everyone randomised" in text
    for tid in ("baseline", "adverse_events"):
        c = build_table(a, tid).cells
        pct = c[c["statistic"] == "n_pct"]
        assert len(pct) and (pct["denominator"] == pct["column"].map(size)).all(), tid
    # outcomes: of the participants with data at that time point
    assert "outcomes are n (%) of the participants with data at that time point" in text
    c = build_table(a, "primary_outcome").cells
    y = a.variable("in_paid_work").by_timepoint["month6"]
    for column, code in (("supported_work_placement", 1), ("usual_care", 2)):
        row = c[(c["column"] == column) & (c["statistic"] == "n_pct")].iloc[0]
        assert row["denominator"] == int(y[arm == code].notna().sum())
    # follow-up returns: of those expected (not left before the time point fell due)
    assert "follow-up returns are n (%) of the participants expected at that time point" in text
    c = build_table(a, "follow_up_response").cells
    status = a.variable("follow_up_status").by_timepoint
    for tp, label in (("week6", "6 weeks"), ("week14", "14 weeks"), ("month6", "6 months")):
        row = c[(c["row_label"] == label) & (c["column"] == "overall")].iloc[0]
        assert row["denominator"] == int((status[tp].notna() & (status[tp] != "not expected")).sum())
        assert row["n"] == int((status[tp] == "returned").sum())


def test_one_definition_of_expected_and_returned_by_hand(cohort):
    """From the raw export: returned = every follow-up form marked returned of a randomised
    participant (also one returned before the participant left); expected = randomised,
    less those who left before the time point's day (6 weeks: 42 days, 14 weeks: 98, 6
    months: 182 after randomisation). The follow-up table, the completeness figure, the
    outcome tables and the CONSORT analysed box agree with it."""
    from datetime import date
    from feasibility.analysis.flow import consort_flow
    from feasibility.figures.completeness import completeness_data
    from feasibility.figures.spec import load_figures

    a = cohort.analysis
    base = cohort.by_record("baseline_arm_1")
    status = cohort.by_record("study_log_arm_1")
    randomised = {rid: r for rid, r in base.items() if r["rand_arm"]}
    due = {"week6_arm_1": 42, "week14_arm_1": 98, "month6_arm_1": 182}
    table = build_table(a, "follow_up_response").cells
    figure = completeness_data(a, load_figures(a.spec.raw)["completeness"])
    labels = {
        "week6_arm_1": ("6 weeks", "week6"),
        "week14_arm_1": ("14 weeks", "week14"),
        "month6_arm_1": ("6 months", "month6"),
    }
    for event, days in due.items():
        forms = cohort.by_record(event)
        returned = {rid for rid in randomised if forms.get(rid, {}).get("fu_returned") == "1"}
        expected = set()
        for rid, r in randomised.items():
            s = status.get(rid, {})
            if s.get("ss_status") in ("2", "3", "4"):
                left = (
                    (date.fromisoformat(s["ss_date"]) - date.fromisoformat(r["rand_date"])).days
                    if s.get("ss_date")
                    else None
                )
                if rid not in returned and (left is None or left < days):
                    continue
            expected.add(rid)
        assert returned <= expected
        label, tp = labels[event]
        row = table[(table["row_label"] == label) & (table["column"] == "overall")].iloc[0]
        assert (row["n"], row["denominator"]) == (len(returned), len(expected))
        # the completeness figure: the same expected per arm at every form of the time point
        for panel, code in (("Supported work placement", "1"), ("Usual care", "2")):
            cells = figure[
                (figure["timepoint"] == tp) & (figure["panel"] == panel) & (figure["form"] == "eq5d5l")
            ]
            mine = {rid for rid in expected if randomised[rid]["rand_arm"] == code}
            assert int(cells["expected"].iloc[0]) == len(mine)
        # every participant with an outcome at the time point returned the questionnaire
        with_data = {rid for rid in randomised if forms.get(rid, {}).get("eq5d_vas", "") != ""}
        assert with_data <= returned
    flow = consort_flow(a)
    month6 = cohort.by_record("month6_arm_1")
    analysed = {rid for rid in randomised if month6.get(rid, {}).get("emp_paid_work") in ("0", "1")}
    assert flow.n("analysed", "1") + flow.n("analysed", "2") == len(analysed)
    c = build_table(a, "primary_outcome").cells
    assert int(c[c["statistic"] == "n_pct"]["denominator"].sum()) == len(analysed)
