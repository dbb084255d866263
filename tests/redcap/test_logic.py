"""The one REDCap logic engine: each function against REDCap's documented examples and its
own calculation code's semantics (blanks, rounding, datediff's units), and calculated
fields recomputed during validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from redcap_helpers import CLASSIC_DATA, CLASSIC_DD, LONG_META, edit, only, validate_classic, validate_long

from feasibility.redcap.logic import (
    FUNCTIONS,
    Context,
    LogicSyntaxError,
    NotEvaluated,
    calculate,
    check,
    evaluate,
    parse,
    value,
)
from feasibility.redcap.logic.calcs import cycles
from feasibility.redcap.model import Field, Form, Project


def _ctx(rows: dict[str, list[str]], lookup=None, codes=(), calc=True):
    n = len(next(iter(rows.values())))
    keys = pd.DataFrame({"record": [str(i) for i in range(n)], "event": [""] * n, "instance": [""] * n})
    project = Project(
        fields=(Field("id", "f", "text"),),
        forms=(Form("f", "F", ()),),
        record_id_field="id",
        missing_data_codes=tuple((c, c) for c in codes),
    )
    return Context(
        project, lookup or (lambda ref, k: np.full(len(k), "", dtype=object)), keys, own=rows, calc=calc
    )


def calc(expr: str, **rows) -> list:
    rows = rows or {"x": [""]}
    out = calculate(parse(expr), _ctx(rows))
    return [None if math.isnan(v) else round(float(v), 10) for v in out]


# ----------------------------------------------------------- REDCap's documented examples
@pytest.mark.parametrize(
    "expr, expected",
    [
        ("roundup(14.384,1)", 14.4),  # the calculation help's own examples
        ("rounddown(14.384,1)", 14.3),
        ("abs(-7.1)", 7.1),
        ("abs(45)", 45),
        ("(4)^(3)", 64),
        ("round(14.384,2)", 14.38),
        ("round(2.5)", 3),  # no decimal places given: whole number
        ("round(-2.5)", -3),  # half away from zero
        ("roundup(-1.21,1)", -1.3),
        ("rounddown(-1.29,1)", -1.2),
        ("sqrt(16)", 4),
        ("sqrt(-4)", None),  # not a real number: blank
        ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20),
        ("2 ^ 3 ^ 2", 512),  # right-associative
        ("-2 ^ 2", 4),
        ("10 / 4", 2.5),
        ("1 / 0", None),  # a division by zero is blank
        ("min(3, '', 2)", 2),  # blanks ignored
        ("max(3, '', 2)", 3),
        ("mean(2, '', 4)", 3),
        ("median(5, 1, '', 3)", 3),
        ("sum(1, '', 2)", 3),
        ("sum('', '')", None),  # nothing to add: blank
        ("mean('x', 2)", None),  # text that is no number: blank (REDCap's mean)
        ("if(1 > 2, 10, 20)", 20),
        ("if(2 > 1 and 3 > 2, 10, 20)", 10),
        ("isnumber('1.5')", 1),
        ("isnumber('abc')", 0),
        ("isinteger('4')", 1),
        ("isinteger('4.5')", 0),
    ],
)
def test_functions_and_arithmetic_as_redcap_documents_them(expr, expected):
    assert calc(expr) == [expected]


def test_bmi_as_the_calculation_help_writes_it():
    got = calc(
        "round([weight]*10000/([height]*[height]),1)",
        weight=["70", "", "82.4"],
        height=["165.5", "180", "170.2"],
    )
    assert got == [25.6, None, 28.4]  # a blank weight: a blank BMI


def test_blank_in_arithmetic_is_blank_and_sum_ignores_blanks():
    rows = {"a": ["1", "", "2"], "b": ["2", "3", ""]}
    assert calc("[a] + [b]", **rows) == [3, None, None]
    assert calc("sum([a], [b])", **rows) == [3, 3, 2]
    assert calc("mean([a], [b])", **rows) == [1.5, 3, 2]


@pytest.mark.parametrize(
    "expr, expected",
    [
        # y: 365.2425 days, M: 30.44 days; unsigned unless asked (REDCap's datediff)
        ("datediff('2000-01-01', '2010-01-01', 'y')", 3653 / 365.2425),
        ("rounddown(datediff('1980-02-29', '2024-02-28', 'y'))", 43),
        ("datediff('2024-01-01', '2024-03-01', 'M')", 60 / 30.44),
        ("datediff('2024-03-01', '2024-01-01', 'd')", 60),
        ("datediff('2024-03-01', '2024-01-01', 'd', true)", -60),
        ("datediff('2024-03-01', '2024-01-01', 'd', 'ymd', true)", -60),
        ("datediff('05-01-2020', '05-03-2020', 'd', 'mdy')", 2),  # May 1 to May 3
        ("datediff('05-01-2020', '05-03-2020', 'd', 'dmy')", 60),  # 5 Jan to 5 Mar 2020
        ("datediff('2024-01-01 08:00', '2024-01-01 09:30', 'h')", 1.5),
        ("datediff('2024-01-01 08:00', '2024-01-02 20:00', 'd')", 1.5),  # datetimes: not rounded
        ("datediff('2024-01-01', '2024-01-01 12:00', 'm')", 720),
        ("datediff('08:00', '08:45', 'm')", 45),
        ("datediff('08:00:00', '08:00:30', 's')", 30),
        ("datediff('', '2024-01-01', 'd')", None),
        ("datediff('2024-02-30', '2024-03-01', 'd')", None),  # not a date
    ],
)
def test_datediff(expr, expected):
    got = calc(expr)[0]
    assert (got is None and expected is None) or got == pytest.approx(expected, rel=1e-9)


def test_datediff_over_fields_and_in_a_condition():
    rows = {"dob": ["1980-06-15", "2010-01-01", ""], "seen": ["2024-06-14", "2024-06-14", "2024-06-14"]}
    assert calc("rounddown(datediff([dob], [seen], 'y'))", **rows) == [43, 14, None]
    assert evaluate(parse("datediff([dob], [seen], 'y') >= 18"), _ctx(rows, calc=False)).tolist() == [
        True,
        False,
        False,
    ]


def test_missing_data_codes_are_blank_in_a_calculation_and_a_value_in_branching():
    rows = {"w": ["70", "UNK", "-99"]}
    assert calculate(parse("[w] * 2"), _ctx(rows, codes=("UNK", "-99"))).tolist()[0] == 140
    assert np.isnan(calculate(parse("[w] * 2"), _ctx(rows, codes=("UNK", "-99")))[1:]).all()
    assert evaluate(parse("[w] = '-99'"), _ctx(rows, codes=("UNK", "-99"), calc=False)).tolist() == [
        False,
        False,
        True,
    ]
    assert calculate(parse("isblankormissingcode([w])"), _ctx(rows, codes=("UNK", "-99"))).tolist() == [
        0,
        1,
        1,
    ]


def test_checkbox_choice_and_other_event_references():
    def lookup(ref, keys):
        assert (ref.event, ref.field) == ("baseline_arm_1", "bl_pain")
        return np.array(["60", ""], dtype=object)

    ctx = _ctx({"c___2": ["1", ""], "p": ["40", "30"]}, lookup=lookup)
    assert calculate(parse("[c(2)] + [p] - [baseline_arm_1][bl_pain]"), ctx).tolist()[0] == -19
    assert np.isnan(calculate(parse("[p] - [baseline_arm_1][bl_pain]"), ctx)[1])
    assert calculate(parse("if([c(2)] = '1', 1, 0)"), ctx).tolist() == [1, 0]  # an absent box is 0


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("stdev(2, 4, 4, 4, 5, 5, 7, 9)", 2.1380899353),  # the sample standard deviation
        ("stdev(3, '')", None),  # one number: no standard deviation
        ("log(100, 10)", 2),
        ("log(1)", 0),  # base e when not given
        ("log(0)", None),
        ("mod(10, 3)", 1),
        ("mod(10, 0)", None),
        ("length('REDCap')", 6),
        ("find('cap', 'REDCap')", 4),  # any case; the first character is 1
        ("find('x', 'REDCap')", 0),
        ("if(contains('Chronic pain', 'PAIN'), 1, 0)", 1),
        ("if(not_contain('Chronic pain', 'back'), 1, 0)", 1),
        ("if(starts_with('Chronic pain', 'chron') and ends_with('Chronic pain', 'ain'), 1, 0)", 1),
        ("year('2024-02-29')", 2024),
        ("month('2024-02-29 13:45')", 2),  # a datetime's date
        ("day('2024-02-29')", 29),
        ("year('2023-02-29')", None),  # not a date
        ("year('')", None),
        ("month('13:45')", None),  # a time has no month
        ("exponential(0)", 1),
        ("round(exponential(1), 6)", 2.718282),
        ("year('2024-12-31') - year('2020-01-01')", 4),
    ],
)
def test_the_other_documented_functions(expr, expected):
    assert calc(expr) == [expected]


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("left('abcdef', 3)", "abc"),
        ("right('abcdef', 2)", "ef"),
        ("mid('abcdef', 2, 3)", "bcd"),
        ("concat('a', 'b', 'c')", "abc"),
        ("upper('Pain')", "PAIN"),
        ("lower('Pain')", "pain"),
        ("trim('  pain ')", "pain"),
    ],
)
def test_text_functions(expr, expected):
    assert list(value(parse(expr), _ctx({"x": [""]})).text) == [expected]


def test_every_function_is_registered_with_its_arity_and_help():
    assert {
        "if",
        "datediff",
        "sum",
        "round",
        "rounddown",
        "roundup",
        "abs",
        "min",
        "max",
        "mean",
        "sqrt",
        "isnumber",
        "isblankormissingcode",
    } <= set(FUNCTIONS)
    assert all(f.help.startswith(name + "(") for name, f in FUNCTIONS.items())
    with pytest.raises(LogicSyntaxError, match=r"round\(\) takes 1 to 2 argument\(s\), not 3"):
        calc("round(1, 2, 3)")
    with pytest.raises(LogicSyntaxError, match="unit 'w' is not one of"):
        calc("datediff('2024-01-01', '2024-01-02', 'w')")
    project = Project(
        fields=(Field("id", "f", "text"), Field("a", "f", "text")),
        forms=(Form("f", "F", ("a",)),),
        record_id_field="id",
    )
    with pytest.raises(NotEvaluated, match=r"function nonesuch\(\) is not evaluated"):
        check(parse("nonesuch([a])"), project)


def test_cycles_are_found_once_each():
    assert cycles({"a": ["b"], "b": ["a"], "c": ["c"], "d": ["a"]}) == [["a", "b", "a"], ["c", "c"]]


# ----------------------------------------------------------- calculated fields in validation
def test_valid_fixtures_have_every_calculated_value_right():
    for r in (validate_classic(), validate_long()):
        assert not [f for f in r.failures if "calculation" in f.rule], [f.message() for f in r.failures]


def test_a_wrong_calculated_value_names_its_cell_and_both_values(classic):
    edit(classic / CLASSIC_DATA, ",165.5,70,25.6,", ",165.5,70,26.6,")
    r = validate_classic(classic)
    f = only(r.failures, field="enr_bmi")
    assert (f.file, f.line, f.record, f.value, f.severity) == (CLASSIC_DATA, 2, "1", "26.6", "error")
    assert f.rule == (
        "the stored value (26.6) differs from the calculation "
        "round([enr_weight]*10000/([enr_height]^2),1), which gives 25.6"
    )
    assert not r.ok


def test_a_stored_value_that_another_events_value_no_longer_gives(long):
    # fu_score = [fu_pain] - [baseline_arm_1][bl_pain]: change the formula, and every stored value is wrong
    edit(
        long / LONG_META, "[fu_pain] - [baseline_arm_1][bl_pain]", "[fu_pain] - [baseline_arm_1][bl_pain] + 1"
    )
    r = validate_long(long)
    wrong = [f for f in r.failures if f.field == "fu_score"]
    assert wrong and all(
        f.event == "month_6_arm_1" and "which gives" in f.rule and f.severity == "error" for f in wrong
    )
    assert not r.ok


def test_a_calculation_the_engine_cannot_evaluate_is_one_warning(classic):
    edit(
        classic / CLASSIC_DD,
        '"round([enr_weight]*10000/([enr_height]^2),1)"',
        "\"round([enr_weight]*10000/([enr_height]^2),1) + datediff([enr_consent_date], 'today', 'd') * 0\"",
    )
    r = validate_classic(classic)
    f = only(r.failures, field="enr_bmi")
    assert f.severity == "warning" and f.file == CLASSIC_DD and f.line == 13 and f.record == ""
    assert f.rule.startswith(
        "calculated field enr_bmi not recomputed (datediff() with 'today' depends on the day"
    )
    assert r.ok


def test_circular_calculated_fields_are_a_dictionary_failure(classic):
    edit(classic / CLASSIC_DD, '"round([enr_weight]*10000/([enr_height]^2),1)"', '"[enr_bmi] + 1"')
    r = validate_classic(classic)
    f = only(r.failures, field="enr_bmi")
    assert (f.file, f.line, f.severity) == (CLASSIC_DD, 13, "error")
    assert (
        f.rule == "calculated fields depend on each other in a cycle: enr_bmi -> enr_bmi (REDCap cannot "
        "compute them)"
    )
    assert not r.ok


def test_a_branching_logic_syntax_error_is_a_dictionary_failure(classic):
    edit(classic / CLASSIC_DD, "\"[enr_smoker] = '1'\"", "\"[enr_smoker] = '1' and\"")
    r = validate_classic(classic)
    f = only(r.failures, field="enr_cigs")
    assert f.file == CLASSIC_DD and f.severity == "error" and f.value == "[enr_smoker] = '1' and"
    assert f.rule == "the branching logic of enr_cigs cannot be read: the expression ends too early"
    assert not r.ok and r.records is None  # the records are not read against broken metadata


def test_the_dummy_generator_and_validation_compute_calculations_alike(classic):
    """Calculated fields with if(), datediff() over a date and a datetime, and a sum, one of
    them behind branching logic: the generator fills them with the engine, validation
    computes them again from the export and finds every stored value right."""
    import csv
    import io

    from redcap_helpers import CLASSIC_CODES

    from feasibility.redcap import load_project, validate
    from feasibility.synth.dummy import generate

    def row(name, label, formula, branching=""):
        cells = [name, "enrolment", "", "calc", label, formula] + [""] * 5 + [branching] + [""] * 6
        out = io.StringIO()
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(cells)
        return out.getvalue()

    extra = (
        row("enr_age", "Age at consent", "rounddown(datediff([enr_dob], [enr_consent_date], 'y'))")
        + row("enr_days", "Days to visit", "datediff([enr_consent_date], [enr_visit_dt], 'd', true)")
        + row(
            "enr_cig_band",
            "Heavy smoker",
            "if([enr_cigs] >= 20, 2, if([enr_cigs] > 0, 1, 0))",
            "[enr_smoker] = '1'",
        )
        + row("enr_total", "A sum", "sum([enr_weight], [enr_height], [enr_age])")
    )
    edit(classic / CLASSIC_DD, '"enr_smoker","enrolment"', extra + '"enr_smoker","enrolment"')
    project, problems = load_project(dictionary=classic / CLASSIC_DD)
    assert project is not None, [p.message() for p in problems]
    dummy = generate(project, 80, 3, {"item_missing": 0.1})
    path = dummy.write(classic / "dummy.csv")
    r = validate(path, dictionary=classic / CLASSIC_DD, settings={"missing_data_codes": CLASSIC_CODES})
    assert r.ok and not [f for f in r.failures if "calculat" in f.rule], [
        f.message() for f in r.failures[:10]
    ]
    ages = r.tables["enrolment"]["enr_age"].dropna()
    assert len(ages) > 20 and (ages == ages.round()).all()
    assert r.tables["enrolment"]["enr_cig_band"].dropna().isin([0, 1, 2]).all()
    assert not [n for n in dummy.notes if "not evaluated" in n]
