"""The expression language: syntax whitelist, each function, missing values, repeating
instruments, records without an event, and error messages.

Every expected value is worked out by hand from the small project in ``minimal.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import minimal
from feasibility.analysis import Analysis, ExpressionError, load_spec, parse
from feasibility.analysis.expressions import FUNCTIONS

E1, E2, F1 = "enrol_arm_1", "enrol_arm_2", "fu_arm_1"


def analysis(derived=None, parameters=None, flow=None, **forms) -> Analysis:
    config = {"timepoints": minimal.TIMEPOINTS, "derived": derived or {}, "parameters": parameters or {}}
    if flow:
        config["flow"] = flow
    return Analysis(minimal.study(**forms), load_spec(config))


# Three records: 1 (arm 1, full data), 2 (arm 2, some blanks), 3 (screened only)
SCREENING = [
    {"record_id": "1", "event": "screen_arm_1", "scr_date": "2020-01-06", "scr_ok": 1},
    {"record_id": "2", "event": "screen_arm_2", "scr_date": "2020-02-10", "scr_ok": 1},
    {"record_id": "3", "event": "screen_arm_1", "scr_date": "2020-03-01", "scr_ok": 0},
]
DEMO = [
    {
        "record_id": "1",
        "event": E1,
        "sex": 1,
        "age": 30,
        "years": 2.5,
        "pain___1": True,
        "pain___3": True,
        "consent": "2020-01-15",
        "group": 2,
        "colour": "R",
    },
    {
        "record_id": "2",
        "event": E2,
        "sex": 2,
        "age": None,
        "years": None,
        "consent": "2020-02-29",
        "group": 1,
        "colour": None,
    },
]
VISIT = [
    {"record_id": "1", "event": E1, "vdate": "2020-01-15", "score": 10, "q1": 1, "q2": 2},
    {"record_id": "1", "event": F1, "vdate": "2020-07-14", "score": 14, "q1": 3},
    {"record_id": "2", "event": E2, "vdate": "2020-03-01", "score": 7, "q1": 0, "q2": 0, "q3": 0},
]
CONTACT = [
    {"record_id": "1", "event": E1, "instance": 1, "cdate": "2020-01-20", "minutes": 30, "kind": 1},
    {"record_id": "1", "event": E1, "instance": 2, "cdate": "2020-01-10", "minutes": 45, "kind": 2},
    {"record_id": "1", "event": E1, "instance": 3, "cdate": "2020-02-01", "minutes": None, "kind": 1},
    {"record_id": "2", "event": E2, "instance": 1, "cdate": "2020-03-05", "minutes": 20, "kind": 2},
]


@pytest.fixture(scope="module")
def a() -> Analysis:
    return analysis(screening=SCREENING, demo=DEMO, visit=VISIT, contact=CONTACT)


def rows(a: Analysis, text: str, timepoint: str | None = None) -> list:
    """The expression's value per record 1, 2, 3 (missing as None)."""
    s = a.evaluate_rows(parse(text, "test"), timepoint)
    return [None if pd.isna(v) else (v.item() if hasattr(v, "item") else v) for v in s]


def total(a: Analysis, text: str, records=("1", "2", "3")):
    return a.summarise(parse(text, "test"), pd.Index(list(records)))


# ----------------------------------------------------------------------------- syntax
@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "open('x')",
        "eval('1')",
        "getattr(x, 'y')",
    ],
)
def test_only_listed_functions_can_be_called(text):
    with pytest.raises(ExpressionError, match="unknown function|only the listed functions"):
        parse(text)


@pytest.mark.parametrize(
    "text, message",
    [
        ("(1).real", "only form.field"),
        ("demo.sex.real", "only form.field"),
        ("lambda: 1", "Lambda is not allowed"),
        ("[1, 2]", "List is not allowed"),
        ("{1: 2}", "Dict is not allowed"),
        ("f'{age}'", "JoinedStr is not allowed"),
        ("age[1:2]", r"\[\.\.\.\] takes a time point"),
        ("age @ 2", "operator MatMult is not allowed"),
        ("~placed", "~ is not allowed"),
        ("age is None", "comparison Is is not allowed"),
        ("age in other", "`in` needs a tuple of literals"),
        ("age in (1, other)", "must be literals"),
        ("sum(age, foo=1)", "sum\\(\\) takes no argument 'foo'"),
        ("if_else(age)", r"if_else\(\) takes 3 to 4 argument"),
        ("sum(*ages)", r"\*arguments are not allowed"),
        ("age.upper()", "only the listed functions can be called"),
        ("(x := 1)", "NamedExpr is not allowed"),
        ("[a for a in b]", "ListComp is not allowed"),
    ],
)
def test_anything_outside_the_whitelist_is_refused(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse(text, "derived variable 'v'")


def test_a_syntax_error_names_the_declaration_and_points_at_the_column():
    with pytest.raises(ExpressionError) as info:
        parse("age + * 2", "derived variable 'older'")
    text = str(info.value)
    assert text.startswith("derived variable 'older': is not a valid expression")
    assert "age + * 2" in text and "^" in text


def test_names_lists_what_an_expression_depends_on():
    expr = parse("if_else(placed, start[baseline], demo.consent) + sum(x, where=y > 1)")
    assert expr.names() == {"placed", "start", "x", "y"}


def test_every_function_is_documented_with_its_arity():
    for name, spec in FUNCTIONS.items():
        assert spec.min_args >= 1, name
        assert spec.max_args is None or spec.max_args >= spec.min_args, name


# ----------------------------------------------------------------------------- values
def test_fields_by_name_and_by_form_with_missing_for_records_without_the_event(a):
    # record 3 has no enrolment row: every demo field is missing
    assert rows(a, "age") == [30.0, None, None]
    assert rows(a, "demo.age") == [30.0, None, None]
    assert rows(a, "years") == [2.5, None, None]
    assert rows(a, "consent") == [pd.Timestamp("2020-01-15"), pd.Timestamp("2020-02-29"), None]


def test_a_form_at_one_event_per_arm_needs_no_event_but_one_at_several_does(a):
    # demo is at enrol_arm_1 for arm 1 and enrol_arm_2 for arm 2: one per arm
    assert rows(a, "sex") == [1.0, 2.0, None]
    with pytest.raises(
        ExpressionError,
        match=r"'visit' is collected at several events "
        r"\(time points baseline, followup\)",
    ):
        rows(a, "score")
    assert rows(a, "visit[baseline].score") == [10.0, 7.0, None]
    assert rows(a, "visit[followup].score") == [14.0, None, None]
    assert rows(a, "visit[fu_arm_1].score") == [14.0, None, None]  # an event name
    assert rows(a, "score", "followup") == [14.0, None, None]  # the scope's time point


def test_arithmetic_propagates_missing_values_and_division_by_zero_is_missing(a):
    assert rows(a, "age + 1") == [31.0, None, None]
    assert rows(a, "age / (visit[baseline].score - 10)") == [None, None, None]
    assert rows(a, "visit[baseline].score // 3 + visit[baseline].score % 3") == [4.0, 3.0, None]
    assert rows(a, "-age ** 2") == [-900.0, None, None]


def test_comparisons_are_missing_where_a_side_is_missing(a):
    assert rows(a, "age > 18") == [True, None, None]
    assert rows(a, "18 < age <= 30") == [True, None, None]
    assert rows(a, "group in (1, 3)") == [False, True, None]
    assert rows(a, "group not in (1, 3)") == [True, False, None]
    assert rows(a, "colour == 'R'") == [True, None, None]
    assert rows(a, "consent < '2020-02-01'") == [True, False, None]
    assert rows(a, "consent < date('2020-02-01')") == [True, False, None]


def test_and_or_not_are_three_valued(a):
    # record 2's age is missing: NA and False is False, NA or True is True, else NA
    assert rows(a, "age > 18 and sex == 2") == [False, None, None]
    assert rows(a, "age > 18 and sex == 1") == [True, False, None]
    assert rows(a, "age > 18 or sex == 2") == [True, True, None]
    assert rows(a, "not (age > 18)") == [False, None, None]
    assert rows(a, "true and false or NA") == [None, None, None]


def test_if_else_uses_missing_for_a_missing_condition(a):
    assert rows(a, "if_else(age > 18, 'adult', 'child')") == ["adult", None, None]
    assert rows(a, "if_else(age > 18, 'adult', 'child', 'unknown')") == ["adult", "unknown", "unknown"]
    assert rows(a, "'adult' if age > 18 else 'child'") == ["adult", None, None]
    assert rows(a, "if_else(sex == 1, consent, NA)") == [pd.Timestamp("2020-01-15"), None, None]
    with pytest.raises(ExpressionError, match="if_else\\(\\) needs values of one kind"):
        rows(a, "if_else(sex == 1, 'f', 2)")


def test_coalesce_and_missing_tests(a):
    assert rows(a, "coalesce(age, years, 0)") == [30.0, 0.0, 0.0]
    assert rows(a, "coalesce(age > 18, false)") == [True, False, False]
    assert rows(a, "is_na(age)") == [False, True, True]
    assert rows(a, "not_na(colour)") == [True, False, False]


def test_round_is_half_away_from_zero(a):
    assert total(a, "round(2.5)") == 3 and total(a, "round(-2.5)") == -3
    assert total(a, "round(0.125, 2)") == 0.13 and total(a, "round(2.675, 2)") == 2.68
    assert rows(a, "round(years * 3)") == [8.0, None, None]  # 7.5 -> 8
    assert rows(a, "abs(visit[baseline].score - 12)") == [2.0, 5.0, None]


def test_dates(a):
    # 2020 is a leap year: 15 Jan to 29 Feb is 45 days
    assert rows(a, "days_between(scr_date, consent)") == [9.0, 19.0, None]
    assert rows(a, "days_between(consent, visit[followup].vdate)") == [181.0, None, None]
    assert rows(a, "months_between(scr_date, consent)") == [0.0, 0.0, None]
    assert rows(a, "month_of(consent)") == [pd.Timestamp("2020-01-01"), pd.Timestamp("2020-02-01"), None]
    assert rows(a, "year_of(scr_date)") == [2020.0, 2020.0, 2020.0]
    assert total(a, "days_between(date('2020-02-28'), date('2020-03-01'))") == 2
    assert total(a, "months_between(date('2017-09-30'), date('2018-08-01'))") == 11


def test_years_between_counts_whole_years_up_to_the_day_before_a_birthday(a):
    assert total(a, "years_between(date('1970-03-15'), date('2020-03-14'))") == 49
    assert total(a, "years_between(date('1970-03-15'), date('2020-03-15'))") == 50
    assert total(a, "years_between(date('2000-02-29'), date('2021-02-28'))") == 20
    # vectorised: born 1990-01-16 at the screening dates 2020-01-06, 2020-02-10, 2020-03-01
    assert rows(a, "years_between(date('1990-01-16'), scr_date)") == [29.0, 30.0, 30.0]
    with pytest.raises(ExpressionError, match="needs dates, not number values"):
        rows(a, "years_between(age, consent)")


def test_labels_from_the_dictionary(a):
    assert rows(a, "label(sex)") == ["Female", "Male", None]
    assert rows(a, "label(group)") == ["Beta", "Alpha", None]
    assert rows(a, "label(colour)") == ["Red", None, None]  # letter codes
    assert rows(a, "label(screening.scr_ok)") == ["Yes", "Yes", "No"]
    with pytest.raises(ExpressionError, match="label\\(\\) needs a coded field"):
        rows(a, "label(age)")


def test_checkbox_functions(a):
    assert rows(a, "n_checked(pain)") == [2.0, 0.0, None]
    assert rows(a, "any_checked(pain)") == [True, False, None]
    assert rows(a, "checked(pain, 3)") == [True, False, None]
    assert rows(a, "pain___1") == [True, False, None]
    with pytest.raises(ExpressionError, match="'pain' is a checkbox field: use n_checked"):
        rows(a, "pain + 1")
    with pytest.raises(ExpressionError, match="has no choice 4"):
        rows(a, "checked(pain, 4)")
    with pytest.raises(ExpressionError, match="'sex' is not a checkbox field"):
        rows(a, "n_checked(sex)")


def test_has_a_form(a):
    assert rows(a, "has(demo)") == [True, True, False]
    assert rows(a, "has(visit[followup])") == [True, False, False]
    assert rows(a, "has(contact)") == [True, True, False]
    with pytest.raises(ExpressionError, match="'demo' is a form: use has\\(demo\\)"):
        rows(a, "demo + 1")


# ----------------------------------------------------------------------------- repeating
def test_aggregates_over_a_repeating_instrument_per_record(a):
    # record 1: minutes 30, 45, blank; record 2: 20; record 3: no contacts
    assert rows(a, "count(contact)") == [3.0, 1.0, 0.0]
    assert rows(a, "count(contact.minutes)") == [2.0, 1.0, 0.0]
    assert rows(a, "count(contact.kind == 1)") == [2.0, 0.0, 0.0]
    assert rows(a, "sum(contact.minutes)") == [75.0, 20.0, 0.0]
    assert rows(a, "sum(contact.minutes, min_count=1)") == [75.0, 20.0, None]
    assert rows(a, "mean(contact.minutes)") == [37.5, 20.0, None]
    assert rows(a, "min(contact.cdate)") == [pd.Timestamp("2020-01-10"), pd.Timestamp("2020-03-05"), None]
    assert rows(a, "max(contact.minutes)") == [45.0, 20.0, None]
    assert rows(a, "any(contact.kind == 2)") == [True, True, False]
    assert rows(a, "all(contact.kind == 2)") == [False, True, True]  # all of none: true
    assert rows(a, "median(contact.minutes)") == [37.5, 20.0, None]


def test_where_filters_instances_and_may_use_record_values(a):
    # contacts after consent: record 1 (consent 15 Jan): 20 Jan and 1 Feb; record 2: 5 Mar
    assert rows(a, "count(contact, where=contact.cdate > consent)") == [2.0, 1.0, 0.0]
    assert rows(a, "sum(contact.minutes, where=contact.cdate > consent)") == [30.0, 20.0, 0.0]
    assert rows(a, "count(contact.cdate > consent)") == [2.0, 1.0, 0.0]


def test_first_and_last_order_by_a_field_or_by_instance(a):
    # record 1 by date: 10 Jan (45 min, instance 2), 20 Jan (30, instance 1), 1 Feb (blank)
    assert rows(a, "first(contact.minutes, order_by=contact.cdate)") == [45.0, 20.0, None]
    assert rows(a, "last(contact.minutes, order_by=contact.cdate)") == [None, 20.0, None]
    assert rows(a, "first(contact.minutes)") == [30.0, 20.0, None]  # instance order
    assert rows(a, "first(contact.cdate, order_by=contact.cdate, where=contact.kind == 1)") == [
        pd.Timestamp("2020-01-20"),
        None,
        None,
    ]
    assert rows(a, "label(first(contact.kind, order_by=contact.cdate))") == ["Visit", "Visit", None]


def test_a_repeating_value_must_be_aggregated(a):
    with pytest.raises(ExpressionError, match="one value per instance of a repeating instrument"):
        rows(a, "contact.minutes")


def test_instances_of_two_repeating_forms_cannot_be_combined():
    book = minimal.codebook()
    book["repeating"]["instruments"] += [{"event": "enrol_arm_1", "form": "visit"}]
    from feasibility.analysis import StudyData

    study = StudyData.from_frames(
        book, {"contact": minimal._typed("contact", CONTACT), "visit": minimal._typed("visit", VISIT[:1])}
    )
    a = Analysis(study, load_spec({"timepoints": minimal.TIMEPOINTS}))
    with pytest.raises(
        ExpressionError, match="cannot combine instances of different repeating instruments \\(contact, visit"
    ):
        a.evaluate_rows(parse("sum(contact.minutes + visit[baseline].score)"))


def test_aggregates_of_a_repeating_form_without_any_rows():
    a = analysis(demo=DEMO)  # no contacts at all
    assert rows(a, "count(contact)") == [0.0, 0.0]
    assert rows(a, "sum(contact.minutes)") == [0.0, 0.0]
    assert rows(a, "max(contact.minutes)") == [None, None]
    assert rows(a, "any(contact.kind == 1)") == [False, False]
    assert rows(a, "first(contact.minutes, order_by=contact.cdate)") == [None, None]


def test_row_wise_sum_and_mean_with_min_count(a):
    # record 1 at baseline: q1 1, q2 2, q3 blank; record 2: 0, 0, 0; record 3: nothing
    assert rows(a, "sum(visit[baseline].q1, visit[baseline].q2, visit[baseline].q3)") == [3.0, 0.0, None]
    assert rows(a, "sum(visit[baseline].q1, visit[baseline].q2, visit[baseline].q3, min_count=3)") == [
        None,
        0.0,
        None,
    ]
    assert rows(a, "mean(visit[baseline].q1, visit[baseline].q2, visit[baseline].q3)") == [1.5, 0.0, None]
    assert rows(a, "max(visit[baseline].q1, visit[baseline].q2)") == [2.0, 0.0, None]
    assert rows(a, "min(scr_date, consent)") == [
        pd.Timestamp("2020-01-06"),
        pd.Timestamp("2020-02-10"),
        pd.Timestamp("2020-03-01"),
    ]


def test_one_value_per_record_is_not_aggregated_in_a_derived_variable(a):
    with pytest.raises(ExpressionError, match="count\\(\\) needs the instances of a repeating"):
        rows(a, "count(age > 18)")


# ----------------------------------------------------------------------------- summaries
def test_summary_expressions_aggregate_over_the_records(a):
    assert total(a, "count(scr_ok == 1)") == 2
    assert total(a, "count(age)") == 1
    assert total(a, "sum(contact.minutes)") == 95  # every instance of the records
    assert total(a, "sum(contact.minutes)", ("2", "3")) == 20
    assert total(a, "min(consent)") == pd.Timestamp("2020-01-15")
    assert total(a, "months_between(min(scr_date), max(consent)) + 1") == 2
    assert total(a, "median(visit[baseline].score)") == 8.5
    assert total(a, "quantile(visit[baseline].score, 25)") == 7
    assert total(a, "sd(visit[baseline].score)") == pytest.approx(math.sqrt(4.5))
    assert total(a, "mean(age, where=sex == 1)") == 30
    assert total(a, "fmt(-0.04, 1)") == "0.0"
    assert total(a, "fmt(mean(years), 2)") == "2.50"
    assert total(a, "plural(count(age), 'person', 'people')") == "person"


# ----------------------------------------------------------------------------- variables
def test_derived_variables_in_dependency_order_with_parameters():
    a = analysis(
        derived={
            "older": "age_next >= limit",
            "age_next": "age + 1",
            "contact_hours": {"expr": "sum(contact.minutes) / 60", "label": "Hours"},
        },
        parameters={"limit": 31},
        demo=DEMO,
        contact=CONTACT,
    )
    assert rows(a, "older") == [True, None]
    assert rows(a, "contact_hours") == [1.25, 20 / 60]
    assert a.variable_label("contact_hours") == "Hours"


def test_per_time_point_variables_need_a_time_point_unless_the_scope_has_one():
    a = analysis(
        derived={
            "high": {"expr": "visit.score > 9", "timepoints": "all"},
            "improved": "visit[followup].score > visit[baseline].score",
        },
        visit=VISIT,
        demo=DEMO,
    )
    assert rows(a, "high[baseline]") == [True, False]
    assert rows(a, "high[followup]") == [True, None]
    assert rows(a, "high", "followup") == [True, None]
    assert rows(a, "improved") == [True, None]
    with pytest.raises(
        ExpressionError,
        match="'high' has a value at each of baseline, followup: say which, e.g. high\\[baseline\\]",
    ):
        rows(a, "high")
    with pytest.raises(ExpressionError, match="'improved' is one value per record"):
        rows(a, "improved[baseline]")
    with pytest.raises(ExpressionError, match="unknown time point 'week6'"):
        rows(a, "high[week6]")


def test_a_cycle_of_derived_variables_is_named():
    a = analysis(derived={"a": "b + 1", "b": "c * 2", "c": "a - 1"}, demo=DEMO)
    with pytest.raises(ExpressionError, match="cycle: a -> b -> c -> a"):
        rows(a, "a")


def test_an_unknown_name_names_the_variable_the_expression_and_a_suggestion():
    a = analysis(derived={"placed": "age > 1", "late": "placd and sex == 1"}, demo=DEMO)
    with pytest.raises(ExpressionError) as info:
        a.variable("late")
    err = info.value
    assert err.name == "placd" and err.where == "derived variable 'late'"
    assert err.expression == "placd and sex == 1" and err.position == 0
    assert "unknown name 'placd' (did you mean 'placed'?)" in str(err)


def test_unknown_forms_fields_and_time_points_are_named(a):
    with pytest.raises(ExpressionError, match="unknown form 'dmo' \\(did you mean 'demo'"):
        rows(a, "dmo.age")
    with pytest.raises(ExpressionError, match="form 'demo' has no field 'agee' \\(did you mean 'age'"):
        rows(a, "demo.agee")
    with pytest.raises(ExpressionError, match="unknown time point or event 'fu'"):
        rows(a, "visit[fu].score")
    with pytest.raises(ExpressionError, match="form 'demo' is not collected at time point 'followup'"):
        rows(a, "demo[followup].age")


@pytest.mark.parametrize(
    "text, message",
    [
        ("label(sex) + 1", "needs numbers, not text values"),
        ("'a' + 'b'", "text cannot be added"),
        ("age and true", "needs true/false values, not number values"),
        ("age > 'x'", "cannot compare number with text"),
        ("days_between(1, 2)", "needs dates"),
    ],
)
def test_type_errors_say_what_was_expected(a, text, message):
    with pytest.raises(ExpressionError, match=message):
        rows(a, text)


def test_names_clash_with_fields_scores_or_parameters():
    with pytest.raises(ValueError, match="derived variable 'age' has the name of a field"):
        analysis(derived={"age": "1"}, demo=DEMO)
    with pytest.raises(ValueError, match="parameter 'sex' has the name of a field"):
        analysis(parameters={"sex": 1}, demo=DEMO)


def test_flow_variables(a):
    fa = analysis(
        flow={
            "populations": {"enrolled": "has(demo)"},
            "participants": "enrolled",
            "dropout": "any(contact.kind == 2 and contact.minutes < 25)",
            "follow_up": {"timepoints": ["followup"], "returned": "not_na(visit.score)"},
        },
        screening=SCREENING,
        demo=DEMO,
        visit=VISIT,
        contact=CONTACT,
    )
    assert rows(fa, "enrolled") == [True, True, False]
    assert rows(fa, "dropout") == [False, True, None]  # record 2: a 20-minute visit
    assert rows(fa, "follow_up_status[followup]") == ["returned", "not expected", None]


# ----------------------------------------------------------------------------- vectorised
def test_vectorised_aggregates_agree_with_a_row_by_row_reference():
    rng = np.random.default_rng(7)
    n = 400
    demo = [
        {
            "record_id": str(i),
            "event": E1 if i % 2 else E2,
            "age": int(rng.integers(18, 80)),
            "consent": "2020-01-15",
        }
        for i in range(n)
    ]
    contacts = []
    for i in range(0, n, 3):  # every third record has 0 to 4 contacts
        for k in range(int(rng.integers(0, 5))):
            contacts.append(
                {
                    "record_id": str(i),
                    "event": E1 if i % 2 else E2,
                    "instance": k + 1,
                    "minutes": None if rng.random() < 0.1 else int(rng.integers(1, 90)),
                    "cdate": f"2020-0{1 + k}-0{1 + int(rng.integers(0, 8))}",
                }
            )
    a = analysis(demo=demo, contact=contacts)
    got = a.evaluate_rows(parse("sum(contact.minutes, where=contact.minutes > age / 2)"))
    last = a.evaluate_rows(parse("last(contact.minutes, order_by=contact.cdate)"))
    by = {}
    for c in contacts:
        by.setdefault(c["record_id"], []).append(c)
    for row in demo:
        rid, half = row["record_id"], row["age"] / 2
        mine = by.get(rid, [])
        expected = sum(c["minutes"] for c in mine if c["minutes"] is not None and c["minutes"] > half)
        assert got[rid] == expected
        if mine:
            newest = sorted(mine, key=lambda c: (c["cdate"], c["instance"]))[-1]
            assert (pd.isna(last[rid]) and newest["minutes"] is None) or last[rid] == newest["minutes"]
        else:
            assert pd.isna(last[rid])
