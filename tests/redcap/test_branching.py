"""Branching logic: the parser, the evaluator, and values present where a field is hidden."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from redcap_helpers import (
    CLASSIC_DATA,
    LONG_DATA,
    XML_DATA,
    edit,
    only,
    validate_classic,
    validate_long,
    validate_xml,
)

from feasibility.redcap.logic import Context, LogicSyntaxError, NotEvaluated, evaluate, parse
from feasibility.redcap.model import Field, Form, Project


def _ctx(rows: dict[str, list[str]], events=None, lookup=None):
    n = len(next(iter(rows.values())))
    keys = pd.DataFrame(
        {"record": [str(i) for i in range(n)], "event": events or [""] * n, "instance": [""] * n}
    )
    project = Project(fields=(Field("id", "f", "text"),), forms=(Form("f", "F", ()),), record_id_field="id")
    return Context(project, lookup or (lambda ref, k: np.full(len(k), "", dtype=object)), keys, own=rows)


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("[a] = '1'", [True, False, False, False]),
        ("[a] = 1", [True, False, False, False]),
        ('[a] = "1.0"', [True, False, False, False]),  # numbers compare as numbers
        ("[a] <> '1'", [False, True, True, True]),
        ("[a] != ''", [True, True, True, False]),
        ("[a] = ''", [False, False, False, True]),
        ("[a] > 1", [False, True, True, False]),  # 'x' is not a number: text ('x' > '1')
        ("[a] < 5", [True, True, False, False]),  # a blank side: false
        ("[a] >= 1 and [b] = 'y'", [True, False, False, False]),
        ("[a] = '2' or [b] = 'y'", [True, True, False, True]),
        ("not([a] = '1')", [False, True, True, True]),
        ("![a] = '1' && [b] <> ''", [False, True, False, True]),
        ("([a] = '1' or [a] = '2') and not [b] = 'y'", [False, True, False, False]),
        ("[c(2)] = '1'", [True, False, False, False]),
        ("[c(2)] = '0'", [False, True, True, True]),  # an absent box is 0
        ("[a] = -5", [False, False, False, False]),
        ("[a] AND [b] = 'y'", [True, False, False, False]),
    ],
)
def test_evaluator(expr, expected):
    ctx = _ctx({"a": ["1", "2", "x", ""], "b": ["y", "n", "", "y"], "c___2": ["1", "0", "", ""]})
    assert evaluate(parse(expr), ctx).tolist() == expected


def test_event_name_smart_variable():
    ctx = _ctx({"a": ["1", "1"]}, events=["baseline_arm_1", "month_6_arm_1"])
    assert evaluate(parse("[event-name] = 'month_6_arm_1'"), ctx).tolist() == [False, True]


def test_other_event_reference_uses_the_lookup():
    seen = []

    def lookup(ref, keys):
        seen.append((ref.event, ref.field))
        return np.array(["60", "20"], dtype=object)

    ctx = _ctx({"a": ["1", "1"]}, lookup=lookup)
    assert evaluate(parse("[baseline_arm_1][bl_pain] >= 50"), ctx).tolist() == [True, False]
    assert seen == [("baseline_arm_1", "bl_pain")]


@pytest.mark.parametrize(
    "expr, reason",
    [
        ("datediff([a], 'today', 'y') > 18", "datediff() with 'today' depends on the day it was computed"),
        ("[a][2] = '1'", "instance reference [a][2] is not evaluated"),
        ("[a:value] = '1'", "[a:value] (a piping option) is not evaluated"),
        ("[record-name] = '1'", "smart variable [record-name] is not evaluated"),
        ("replace_text([a], 'x', 'y')", "function replace_text() is not evaluated"),
    ],
)
def test_what_is_not_evaluated_says_why(expr, reason):
    ctx = _ctx({"a": ["1", "2"]})
    with pytest.raises(NotEvaluated, match=__import__("re").escape(reason)) as caught:
        evaluate(parse(expr), ctx)
    assert not isinstance(caught.value, LogicSyntaxError)


@pytest.mark.parametrize(
    "expr, reason",
    [
        ("[a] = '1' and", "the expression ends too early"),
        ("a = '1'", "'a' is not a field reference (write [a])"),
        ("([a] = '1'", "a parenthesis ( is not closed"),
        ("[a] = '1')", "a parenthesis ) has no opening ("),
        ("[a] = 'yes", "a quote ' is not closed"),
        ("[a = '1'", "a square bracket [ is not matched"),
        ("[a] = = 1", "cannot read the expression at '='"),
        ("[] = 1", "empty square brackets in []"),
    ],
)
def test_syntax_errors_say_where(expr, reason):
    with pytest.raises(LogicSyntaxError, match=__import__("re").escape(reason)):
        parse(expr)


def test_arithmetic_and_a_condition_as_a_value_are_evaluated():
    ctx = _ctx({"a": ["1", "2", "x", ""], "b": ["1", "3", "1", "1"]})
    assert evaluate(parse("[a] + [b] > 2"), ctx).tolist() == [False, True, False, False]
    assert evaluate(parse("([a] = '1') = ([b] = '1')"), ctx).tolist() == [True, True, False, False]


def test_valid_fixtures_have_no_hidden_values():
    for r in (validate_classic(), validate_long(), validate_xml()):
        assert not [f for f in r.failures if "branching logic" in f.rule]


def test_value_present_where_hidden_is_a_warning_by_default(classic):
    # record 1 does not smoke, yet has a number of cigarettes
    edit(classic / CLASSIC_DATA, ",25.6,0,,1,0,1,0,0,2019,", ",25.6,0,15,1,0,1,0,0,2019,")
    r = validate_classic(classic)
    f = only(r.failures, field="enr_cigs")
    assert (f.line, f.record, f.value, f.severity) == (2, "1", "15", "warning")
    assert (
        f.rule
        == "a value is present where the branching logic hides the field (shown only if [enr_smoker] = '1')"
    )
    assert r.ok  # warnings do not fail validation
    r = validate_classic(classic, branching="error")
    assert only(r.failures, field="enr_cigs").severity == "error" and not r.ok
    r = validate_classic(classic, branching="ignore")
    assert not [f for f in r.failures if f.field == "enr_cigs"]


def test_checkbox_reference_and_letter_code(classic):
    # record 4 ticked migraine (A) and answered "since when"; untick migraine
    edit(classic / CLASSIC_DATA, ",0,1,1,0,0,2010,", ",0,1,0,0,0,2010,")
    f = only(validate_classic(classic).failures, field="enr_cond_other")
    assert (f.line, f.record, f.value) == (6, "4", "2010")


def test_a_ticked_checkbox_where_hidden_names_the_codes(pilot):
    from redcap_helpers import XML_FILE

    edit(
        pilot / XML_FILE,
        'redcap:Variable="dem_lang" redcap:FieldType="checkbox">',
        'redcap:Variable="dem_lang" redcap:FieldType="checkbox" redcap:BranchingLogic="[dem_gender] = \'F\'">',
        count=3,
    )
    r = validate_xml(pilot)
    f = only(r.failures, field="dem_lang")  # record 3's boxes hold a missing-data code: not a value
    assert (f.line, f.record, f.value, f.severity) == (9, "2", "ticked: OTH", "warning")


def test_other_event_references_and_event_name(long):
    # record 101's baseline pain is 60 (>= 50): the month-6 note is shown; lower it to 40
    edit(long / LONG_DATA, "2024-01-08,60,72.5,", "2024-01-08,40,72.5,")
    r = validate_long(long)
    f = only(r.failures, field="fu_pain_note")
    assert (f.line, f.record, f.event, f.value) == (9, "101", "month_6_arm_1", "Walking")
    assert "[baseline_arm_1][bl_pain] >= 50 and [event-name] = 'month_6_arm_1'" in f.rule


def test_same_instance_on_a_repeating_instrument(long):
    # instance 1 of the AE log is not serious but has an SAE number; instance 2 is serious
    edit(long / LONG_DATA, "2024-01-20,Headache,0,,2", "2024-01-20,Headache,0,SAE-0009,2")
    r = validate_long(long)
    f = only(r.failures, field="ae_sae_report")
    assert (f.line, f.instance, f.value) == (4, "1", "SAE-0009")


def test_repeating_event_rows_use_their_own_values(pilot):
    edit(pilot / XML_DATA, "2024-03-15,0,,2", "2024-03-15,0,30,2")
    r = validate_xml(pilot)
    f = only(r.failures, field="call_minutes")
    assert (f.line, f.event, f.instance, f.value) == (7, "call_arm_1", "2", "30")


def test_expressions_not_evaluated_are_listed_once(classic):
    from redcap_helpers import CLASSIC_DD

    edit(classic / CLASSIC_DD, "\"[enr_smoker] = '1'\"", "\"datediff([enr_dob],'today','y') >= 18\"")
    r = validate_classic(classic)
    notes = [n for n in r.notes if n.startswith("branching logic of enr_cigs not evaluated")]
    assert notes == [
        "branching logic of enr_cigs not evaluated (datediff() with 'today' depends on the day it was "
        "computed): "
        "datediff([enr_dob],'today','y') >= 18"
    ]
    edit(classic / CLASSIC_DD, "\"[enr_conditions(A)] = '1'\"", "\"[enr_condition(A)] = '1'\"")
    r = validate_classic(classic)
    assert (
        "branching logic of enr_cond_other not evaluated ([enr_condition] is not a field of the project): "
        "[enr_condition(A)] = '1'" in r.notes
    )
