"""Expected, not just present (issue 24.4): in the data-quality report a conditional form
- one whose every field has branching logic, such as the trial's work questionnaire, asked
only of those in paid work (``[emp_paid_work] = '1'``) - is measured against the records
for which it is expected, not every record with data at the event. Counted here again
from the raw export with the csv module, and the table, heat map and text say so."""

from __future__ import annotations

import pytest

DESIGN = {
    "record_id",
    "redcap_event_name",
    "redcap_repeat_instrument",
    "redcap_repeat_instance",
    "redcap_data_access_group",
}


@pytest.fixture(scope="module")
def quality(cohort):
    from feasibility.quality.data import QualityData

    return QualityData.read(cohort.folder / "validated")


def test_conditional_forms_are_those_with_branching_logic_on_every_field(quality):
    from feasibility.quality.counts import conditional_forms

    forms = conditional_forms(quality)
    assert forms["work_questionnaire"] == ["[emp_paid_work] = '1'"]
    assert "eq5d5l" not in forms and "employment" not in forms


def test_the_work_questionnaire_is_measured_against_those_in_paid_work(cohort, quality):
    from feasibility.quality.counts import completion_status

    status = completion_status(quality).set_index(["event", "form"])
    wq_fields = [f["name"] for f in quality.codebook["fields"] if f["form"] == "work_questionnaire"]
    checked = 0
    for event in ("week6_arm_1", "week14_arm_1", "month6_arm_1"):
        if not quality.designated(event, "work_questionnaire"):
            continue
        rows = [r for r in cohort.at(event)]
        with_data = {
            r["record_id"]
            for r in rows
            if any(v.strip() for k, v in r.items() if k not in DESIGN and k is not None)
        }
        has_form = {
            r["record_id"]
            for r in rows
            if any(r.get(f, "").strip() for f in wq_fields)
            or r.get("work_questionnaire_complete", "").strip() in ("1", "2")
        }
        paid = {r["record_id"] for r in rows if r.get("emp_paid_work") == "1"}
        expected = (paid & with_data) | has_form
        complete = {r["record_id"] for r in rows if r.get("work_questionnaire_complete") == "2"}
        got = status.loc[(event, "work_questionnaire")]
        assert int(got["with_data"]) == len(with_data), event
        assert int(got["records"]) == len(expected), event
        assert int(got["not_expected"]) == len(with_data - expected), event
        assert int(got["complete"]) == len(complete & expected), event
        assert float(got["proportion_complete"]) == pytest.approx(len(complete & expected) / len(expected))
        assert len(expected) < len(with_data)  # the questionnaire is conditional
        checked += 1
    assert checked >= 1
    # a form without branching logic keeps every record with data at the event
    hq = status.loc[("month6_arm_1", "eq5d5l")]
    assert int(hq["not_expected"]) == 0 and int(hq["records"]) == int(hq["with_data"])


def test_the_tables_figures_and_text_say_what_expected_means(quality, tmp_path):
    from feasibility.quality.counts import completion_status
    from feasibility.quality.figures import completeness_alt_text, completeness_sites_alt_text
    from feasibility.quality.counts import completion_by_site
    from feasibility.quality.report import Caption
    from feasibility.quality.tables import completion_site_table, completion_table

    status = completion_status(quality)
    html = completion_table(quality, Caption("Table 2", "Form completion"), status).gt.as_raw_html()
    assert "Not expected" in html
    assert "A conditional form (every field with branching logic) is expected only where" in html
    left = int(status.loc[status["form"] == "work_questionnaire", "not_expected"].fillna(0).sum())
    assert f"Work questionnaire ({left:,} not expected)" in html.replace("&#x27;", "'")
    site = completion_site_table(quality, Caption("Table 3", "By site")).gt.as_raw_html()
    assert "records expected to complete it at the event" in site
    assert "A conditional form" in site
    assert "share of the records expected to complete the form" in completeness_alt_text(quality, status)
    assert "records expected to complete the form" in completeness_sites_alt_text(
        quality, completion_by_site(quality)
    )
