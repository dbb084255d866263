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

from feasibility.analysis import build_table


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
    assert "E2 to E13" in text and "site, dem_sex" in text and "not powered" in text


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
        if r["redcap_repeat_instrument"] == "cm_contact" and r["record_id"] not in coded_minutes \
                and r["cm_minutes"] != "":          # a blank is not a code: sum() skips it
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


def test_the_report_counts_the_codes_set_aside(tmp_path):
    import json
    from feasibility.report_trial import missing_codes_text
    path = tmp_path / "variables.json"
    path.write_text(json.dumps({"variables": {"placed": {"label": "Started a placement"}},
                                "missing_codes": [{"variable": "placed", "timepoint": "",
                                                   "participants": 3, "changed": 3,
                                                   "codes": {"DECL": 1, "NASK": 1, "UNK": 1}}]}))
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
    hit = {r["record_id"] for r in cohort.rows if r["redcap_repeat_instrument"] == "adverse_event"
           and r["ae_related"] in ("2", "3", "4")}
    mine = [rid for rid, a in arm.items() if a == "1"]
    assert related.iloc[0]["n"] == sum(rid in hit for rid in mine)
    assert related.iloc[0]["denominator"] == len(mine)


def test_every_difference_column_says_difference_never_n_pct(cohort):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "regression"))
    from gt_text import gt_text
    from feasibility.analysis import build_tables
    from feasibility.tables.common import html_fragment
    for tid, table in build_tables(cohort.analysis).items():
        words = gt_text(html_fragment(table.gt))
        columns = [w for kind, w in words if kind == "column"]
        ids = list(dict.fromkeys(table.cells["column"]))
        for cid in ("difference", "adjusted", "unadjusted", "complete_case"):
            if cid in ids:
                assert any("Difference (95% CI)" in w or "difference (95% CI)" in w
                           for w in columns), tid
        # no estimate column headed as counts
        assert not any(w.startswith("n (%)") and "Difference" in w for w in columns), tid


# ------------------------------------------------------------------ 23.9 CONSORT 2025
def test_the_consort_2025_checklist_has_its_30_items(study):
    from feasibility.report_trial import CONSORT_2025, consort_2025_frame, TEAM
    numbers = [i.rstrip("abcd") for i, *_ in CONSORT_2025]
    assert sorted(set(numbers), key=int) == [str(i) for i in range(1, 31)]
    assert len(CONSORT_2025) == 42            # with its parts (1a, 1b, 5a, ...)
    frame = consort_2025_frame(study, {"27": "Safety"})
    where = dict(zip(frame["Item"], frame["Where this report addresses it"]))
    titles = {s["title"] for s in study["report"]["sections"]}
    for item, text in where.items():
        assert text == TEAM or text == "The report's title" or \
            all(t in titles for t in text.split("; ")), (item, text)
    assert where["2"] == TEAM and where["16a"] == TEAM          # registration, sample size
    assert where["22a"] == "Recruitment and participant flow"
    assert where["25"] == "Baseline characteristics"
    assert "Primary outcome" in where["21d"]                   # subgroups, tipping point
    assert where["27"] == "Safety"
