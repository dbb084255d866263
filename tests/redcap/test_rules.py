"""Declared cross-form rules (validation.rules) and their JSON Schema."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml
from redcap_helpers import (
    CLASSIC_DATA,
    LONG_DATA,
    XML,
    edit,
    only,
    validate_classic,
    validate_long,
    validate_xml,
)

_STUDY_SCHEMA = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml").read_text()
)
# the validation section of a study file, with the definitions it refers to
SCHEMA = {**_STUDY_SCHEMA["properties"]["validation"], "$defs": _STUDY_SCHEMA["$defs"]}

STUDY = yaml.safe_load("""
validation:
  branching: warning
  max_file_mb: 200
  rules:
    - id: screened_before_consent
      kind: date_order
      earlier: {field: scr_date, event: screening_arm_1}
      later: {field: con_date}
    - id: consent_if_eligible
      kind: record_exists
      form: consent
      event: baseline_arm_1
      when: "[screening_arm_1][scr_eligible] = '1'"
    - id: sent_before_returned
      kind: date_order
      earlier: {field: fu_date}
      later: {field: fu_return_date}
    - id: ae_after_consent
      kind: date_order
      earlier: {field: con_date, event: baseline_arm_1}
      later: {field: ae_date}
    - id: no_future_dates
      kind: not_after_export
    - id: one_baseline
      kind: one_row_per_record_event
      form: baseline
    - id: return_date_given
      kind: required_if
      field: fu_return_date
      when: "[fu_returned] = '1'"
      severity: error
  derive:
    - {name: age_at_consent, kind: age_years, birth_date: con_dob, at: con_date}
""")["validation"]


def test_the_example_rules_fit_the_json_schema_and_pass_on_valid_data():
    jsonschema.Draft202012Validator(SCHEMA).validate(STUDY)
    r = validate_long(**STUDY)
    assert r.ok and r.errors == [], r.failures


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"rules": [{"kind": "date_before"}]}, "'date_before' is not one of ['record_exists'"),
        ({"rules": [{"kind": "date_order", "earlier": {"field": "a"}}]}, "'later' is a required property"),
        ({"branching": "off"}, "'off' is not one of ['warning', 'error', 'ignore']"),
        ({"max_file_mb": 0}, "0 is less than or equal to the minimum of 0"),
        ({"rules": [], "colour": "red"}, "Additional properties are not allowed ('colour' was unexpected)"),
        ({"export_date": "05/01/2024"}, "does not match"),
    ],
)
def test_the_json_schema_refuses_what_the_library_cannot_use(bad, message):
    with pytest.raises(jsonschema.ValidationError, match=__import__("re").escape(message)):
        jsonschema.Draft202012Validator(SCHEMA).validate(bad)


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"kind": "record_exists", "form": "consents"}, "'consents' is not a form of the project"),
        (
            {"kind": "record_exists", "form": "consent", "event": "month_6_arm_1"},
            "form consent is not designated for event month_6_arm_1",
        ),
        (
            {"kind": "date_order", "earlier": {"field": "scr_eligible"}, "later": {"field": "con_date"}},
            "scr_eligible is a code field, not a date or datetime field",
        ),
        (
            {
                "kind": "date_order",
                "earlier": {"field": "scr_date", "event": "screening"},
                "later": {"field": "con_date"},
            },
            "'screening' is not an event of the project",
        ),
        (
            {"kind": "required_if", "field": "fu_return_date", "when": "datediff([fu_date],'today','d') > 1"},
            "condition \"datediff([fu_date],'today','d') > 1\" cannot be evaluated: datediff() with 'today' depends on the day it was computed",
        ),
        (
            {"kind": "required_if", "field": "fu_return_date", "when": "[fu_returnd] = '1'"},
            "[fu_returnd] is not a field of the project",
        ),
        ({"kind": "not_after_export", "fields": ["bl_weight"]}, "bl_weight is a number field"),
    ],
)
def test_rules_that_do_not_fit_the_project_are_settings_failures(rule, message):
    r = validate_long(rules=[dict(rule, id="my_rule")])
    f = only(r.failures, file="validation.rules")
    assert f.rule.startswith("my_rule: ") and message in f.rule
    assert not r.ok


def test_date_order_across_events_reported_where_the_later_date_is(long):
    edit(long / LONG_DATA, "102,screening_arm_1,,,2024-01-10,", "102,screening_arm_1,,,2024-01-19,")
    r = validate_long(long, **STUDY)
    f = only(r.failures, rule="screened_before_consent")
    assert (f.line, f.record, f.event, f.field, f.value) == (
        11,
        "102",
        "baseline_arm_1",
        "con_date",
        "2024-01-15",
    )
    assert f.rule == (
        "screened_before_consent: con_date is before scr_date 2024-01-19 at screening_arm_1 (line 10); "
        "it must be on or after it"
    )


def test_date_order_on_one_row(long):
    edit(long / LONG_DATA, ",2024-07-20,40,a,", ",2024-07-01,40,a,")
    f = only(validate_long(long, **STUDY).failures, rule="sent_before_returned")
    assert (f.line, f.record, f.event, f.field, f.value) == (
        9,
        "101",
        "month_6_arm_1",
        "fu_return_date",
        "2024-07-01",
    )
    assert f.rule == (
        "sent_before_returned: fu_return_date is before fu_date 2024-07-08 10:30:00; "
        "it must be on or after it"
    )


def test_date_order_with_a_repeating_form_checks_every_instance(long):
    edit(long / LONG_DATA, '2024-02-02,"Fall', '2024-01-02,"Fall')
    f = only(validate_long(long, **STUDY).failures, rule="ae_after_consent")
    assert (f.line, f.record, f.instance, f.field, f.value) == (5, "101", "2", "ae_date", "2024-01-02")


def test_strictly_before(long):
    rules = [
        {
            "id": "strict",
            "kind": "date_order",
            "allow_equal": False,
            "earlier": {"field": "bl_date"},
            "later": {"field": "con_date"},
        }
    ]
    r = validate_long(long, rules=rules)  # baseline is on the day of consent for all three
    assert [f.record for f in r.failures if f.rule.startswith("strict")] == ["101", "102", "103"]
    assert r.failures[0].rule == "strict: con_date is on or before bl_date 2024-01-08; it must be after it"


def test_record_exists_when_a_condition_holds(long):
    # record 102 was eligible; remove its consent form
    edit(
        long / LONG_DATA,
        "102,baseline_arm_1,,,,,,,2024-01-15,1979-11-30,CD,2,",
        "102,baseline_arm_1,,,,,,,,,,,",
    )
    r = validate_long(long, **STUDY)
    f = only(r.failures, rule="consent_if_eligible")
    assert (f.line, f.record, f.event, f.field) == (10, "102", "baseline_arm_1", "consent")
    assert f.rule == (
        "consent_if_eligible: record has no row of form consent at event baseline_arm_1 "
        "(as [screening_arm_1][scr_eligible] = '1')"
    )
    assert not [x for x in r.failures if x.record == "104" and "consent_if_eligible" in x.rule]  # ineligible


def test_no_date_after_the_export_date(long):
    edit(long / LONG_DATA, ",2024-08-10,25,b,", ",2024-09-02,25,b,")
    f = only(validate_long(long, **STUDY).failures, rule="no_future_dates")
    assert (f.line, f.record, f.field, f.value) == (15, "103", "fu_return_date", "2024-09-02")
    assert f.rule == "no_future_dates: date is after the export date 2024-09-01"
    r = validate_long(long, **dict(STUDY, export_date="2024-12-31"))
    assert not [x for x in r.failures if "no_future_dates" in x.rule]


def test_export_date_comes_from_the_project_xmls_creation_time(tmp_path):
    import shutil

    shutil.copy(XML / "PilotStudy_DATA_2024-06-30_1205.csv", tmp_path / "records.csv")
    from feasibility.redcap import validate

    r = validate(
        tmp_path / "records.csv",
        project_xml=XML / "PilotStudy_2024-06-30_1200.REDCap.xml",
        settings={"rules": [{"kind": "not_after_export"}]},
    )
    assert r.ok and r.export_date.isoformat() == "2024-06-30"  # CreationDateTime="2024-06-30T12:00:10"
    assert "export date: 2024-06-30 (from the project XML's creation time)" in r.notes


def test_one_row_per_record_and_event_for_a_form_that_repeats(long):
    rules = [
        {
            "id": "one_ae_per_event",
            "kind": "one_row_per_record_event",
            "form": "adverse_event",
            "severity": "warning",
        }
    ]
    r = validate_long(long, rules=rules)
    f = only(r.failures, rule="one_ae_per_event")
    assert (f.line, f.record, f.event, f.instance, f.severity) == (5, "101", "baseline_arm_1", "2", "warning")
    assert "(first on line 4)" in f.rule and r.ok


def test_required_if(long):
    edit(long / LONG_DATA, ",2024-08-10,25,b,", ",,25,b,")
    f = only(validate_long(long, **STUDY).failures, rule="return_date_given")
    assert (f.line, f.record, f.field, f.value) == (15, "103", "fu_return_date", "")
    assert f.rule == "return_date_given: fu_return_date is blank but [fu_returned] = '1'"


def test_custom_message(long):
    edit(long / LONG_DATA, ",2024-08-10,25,b,", ",,25,b,")
    rules = [
        {
            "id": "R7",
            "kind": "required_if",
            "field": "fu_return_date",
            "when": "[fu_returned] = '1'",
            "message": "a returned questionnaire needs its date",
        }
    ]
    f = only(validate_long(long, rules=rules).failures, field="fu_return_date")
    assert f.rule == "R7: a returned questionnaire needs its date"


def test_classic_project_rules(classic):
    rules = [
        {
            "id": "dob_before_consent",
            "kind": "date_order",
            "earlier": {"field": "enr_dob"},
            "later": {"field": "enr_consent_date"},
        },
        {
            "id": "baseline_after_consent",
            "kind": "date_order",
            "earlier": {"field": "enr_consent_date"},
            "later": {"field": "bq_date"},
        },
    ]
    assert validate_classic(classic, rules=rules).ok
    edit(classic / CLASSIC_DATA, "2024-02-02 18:20:00,2024-02-02,", "2024-02-02 18:20:00,2024-01-02,")
    f = only(validate_classic(classic, rules=rules).failures, rule="baseline_after_consent")
    assert (f.line, f.record, f.field, f.value) == (5, "3", "bq_date", "2024-01-02")
    assert "enr_consent_date 2024-02-01" in f.rule


def test_xml_project_with_a_repeating_event_rule(pilot):
    from redcap_helpers import XML_DATA

    rules = [
        {
            "id": "call_after_baseline",
            "kind": "date_order",
            "earlier": {"field": "call_date"},
            "later": {"field": "out_date", "event": "week_12_arm_1"},
        }
    ]
    assert validate_xml(pilot, rules=rules).ok
    edit(pilot / XML_DATA, "2024-03-15,0,,2", "2024-06-15,0,,2")
    f = only(validate_xml(pilot, rules=rules).failures, rule="call_after_baseline")
    # the per-record side (week 12) is compared with every call; reported on the call's row
    assert (f.line, f.record, f.event, f.instance, f.field, f.value) == (
        7,
        "1",
        "call_arm_1",
        "2",
        "call_date",
        "2024-06-15",
    )


# ------------------------------------------------------------- rows_only_when, pick, years
ELIGIBLE = "[screening_arm_1][scr_eligible] = '1' or [screening_arm_2][scr_eligible] = '1'"


def test_rows_only_when_names_the_row_that_should_not_be_there(long):
    rules = [
        {
            "id": "consented_if_eligible",
            "kind": "rows_only_when",
            "forms": ["consent", "baseline"],
            "when": ELIGIBLE,
        }
    ]
    assert validate_long(long, rules=rules).ok
    # record 104 was not eligible; give it a consent form (a copy of 102's baseline row)
    data = (long / LONG_DATA).read_text(encoding="utf-8")
    row = next(line for line in data.splitlines() if line.startswith("102,baseline_arm_1,"))
    (long / LONG_DATA).write_text(data + row.replace("102,", "104,", 1) + "\n", encoding="utf-8")
    r = validate_long(long, rules=rules)
    found = [f for f in r.failures if f.rule.startswith("consented_if_eligible")]
    assert [(f.line, f.record, f.event, f.field, f.value) for f in found] == [
        (17, "104", "baseline_arm_1", "participant_id", "104")
    ] * 2
    assert {f.rule for f in found} == {
        f"consented_if_eligible: a row of form {form} where none is expected: {ELIGIBLE} does not hold"
        for form in ("consent", "baseline")
    }
    one = [dict(rules[0], forms=None, form="consent", event="baseline_arm_2")]
    assert not [f for f in validate_long(long, rules=one).failures if "consented_if_eligible" in f.rule]


def test_a_side_filtered_by_a_condition_and_picked_per_record(long):
    rules = [
        {
            "id": "no_ae_after_a_missed_visit",
            "kind": "date_order",
            "earlier": {"field": "ae_date"},
            "later": {"field": "vis_date", "when": "[vis_attended] = '0'", "pick": "earliest"},
            "message": "no adverse event may be dated after a missed visit: {detail}",
        }
    ]
    assert validate_long(long, rules=rules).ok  # 101 missed the visit of 2024-03-01
    edit(long / LONG_DATA, '2024-02-02,"Fall', '2024-03-05,"Fall')
    f = only(validate_long(long, rules=rules).failures, rule="no_ae_after_a_missed_visit")
    assert (f.line, f.record, f.event, f.instance, f.field, f.value) == (
        5,
        "101",
        "baseline_arm_1",
        "2",
        "ae_date",
        "2024-03-05",
    )
    assert f.rule == (
        "no_ae_after_a_missed_visit: no adverse event may be dated after a missed visit: "
        "ae_date is after the earliest vis_date 2024-03-01 (where [vis_attended] = '0') "
        "(line 8); it must be on or before it"
    )


def test_whole_years_between_two_dates_reported_on_the_side_asked_for(long):
    rules = [
        {
            "id": "age",
            "kind": "date_order",
            "earlier": {"field": "con_dob"},
            "later": {"field": "con_date"},
            "min_years": 18,
            "max_years": 40,
            "report_on": "earlier",
        }
    ]
    f = only(validate_long(long, rules=rules).failures, rule="age")  # 102 is 44 at consent
    assert (f.line, f.record, f.field, f.value) == (11, "102", "con_dob", "1979-11-30")
    assert (
        f.rule == "age: con_dob is 44 years before con_date 2024-01-15; it must be 18 to 40 years before it"
    )
    rules[0].update(max_years=None, min_years=39)  # 101 is 38, 103 is 34
    assert sorted(
        f.record for f in validate_long(long, rules=rules).failures if f.rule.startswith("age:")
    ) == ["101", "103"]
    edit(long / LONG_DATA, "2024-01-15,1979-11-30", "2024-01-15,2024-11-30")  # born after consent
    f = only(
        validate_long(
            long,
            rules=[
                {
                    "id": "age",
                    "kind": "date_order",
                    "earlier": {"field": "con_dob"},
                    "later": {"field": "con_date"},
                    "min_years": 18,
                }
            ],
        ).failures,
        rule="age",
    )
    assert f.rule == "age: con_date is before con_dob 2024-11-30; it must be on or after it"  # order first


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"kind": "rows_only_when", "form": "consent"}, "rows_only_when needs 'when'"),
        (
            {"kind": "rows_only_when", "when": "[scr_eligible] = '1'"},
            "rows_only_when needs 'form' or 'forms'",
        ),
        (
            {"kind": "rows_only_when", "forms": ["consent", "visits"], "when": "[scr_eligible] = '1'"},
            "'visits' is not a form of the project",
        ),
        (
            {
                "kind": "date_order",
                "earlier": {"field": "con_dob", "pick": "oldest"},
                "later": {"field": "con_date"},
            },
            "earlier.pick must be one of first, earliest, latest",
        ),
        (
            {
                "kind": "date_order",
                "earlier": {"field": "con_dob"},
                "later": {"field": "con_date"},
                "min_years": -1,
            },
            "min_years must be a number of years, 0 or more",
        ),
        (
            {
                "kind": "date_order",
                "earlier": {"field": "con_dob", "when": "[nothing] = 1"},
                "later": {"field": "con_date"},
            },
            "[nothing] is not a field of the project",
        ),
    ],
)
def test_the_new_rule_settings_are_checked_against_the_project(rule, message):
    f = only(validate_long(rules=[dict(rule, id="my_rule")]).failures, file="validation.rules")
    assert message in f.rule
