"""REDCap conventions the model encodes, and how values are shown in messages."""

from __future__ import annotations

import re

import pytest

from feasibility.redcap import VALIDATIONS, checkbox_column, parse_choices, shown
from feasibility.redcap.messages import Failure, summary
from feasibility.redcap.model import ChoicesError, Field, validation


@pytest.mark.parametrize(
    "code, column",
    [
        ("1", "race___1"),
        ("-99", "race____99"),
        ("A", "race___a"),
        ("oth", "race___oth"),
        ("1.5", "race___1_5"),
        ("a b", "race___ab"),
        ("x_y", "race___x_y"),
        ("UNK", "race___unk"),
    ],
)
def test_checkbox_column_as_redcap_names_it(code, column):
    # REDCap core: '-' and '.' become '_', lower case, other characters outside [a-z0-9_] dropped
    assert checkbox_column("race", code) == column


def test_choices_split_on_the_first_comma_with_or_without_spaces():
    assert parse_choices("1, One|2,Two, or three | -99 , Refused") == (
        ("1", "One"),
        ("2", "Two, or three"),
        ("-99", "Refused"),
    )
    assert parse_choices("emp, Employed | unemp, Unemployed") == (
        ("emp", "Employed"),
        ("unemp", "Unemployed"),
    )
    assert parse_choices("") == ()


@pytest.mark.parametrize(
    "text, message",
    [
        ("1, One | Two", "'Two' is not 'code, label'"),
        ("1, One | 1, Uno", "code '1' appears more than once"),
        (", no code", "is not 'code, label'"),
    ],
)
def test_unreadable_choices(text, message):
    with pytest.raises(ChoicesError, match=re.escape(message)):
        parse_choices(text)


@pytest.mark.parametrize(
    "name, good, bad",
    [
        ("date_dmy", ["2024-01-31"], ["31-01-2024", "2024-1-31"]),
        ("datetime_mdy", ["2024-01-31 09:05"], ["2024-01-31 09:05:00", "01-31-2024 09:05"]),
        ("datetime_seconds_ymd", ["2024-01-31 09:05:59"], ["2024-01-31 09:05"]),
        ("time", ["00:00", "23:59"], ["24:00", "9:30", "09:30:00"]),
        ("time_mm_ss", ["59:59"], ["60:00", "1:00"]),
        ("integer", ["0", "-12", "+3"], ["1.0", "1e3", ""]),
        ("number", ["1", "-6.28", "3.14e-2", ".5"], ["1,5", "abc"]),
        ("number_1dp", ["80.0", "-1.5"], ["80", "80.00"]),
        ("number_3dp", ["1.234"], ["1.23"]),
        ("number_4dp", ["70.1250"], ["70.125"]),
        ("number_comma_decimal", ["1,5", "12"], ["1.5"]),
        ("number_2dp_comma_decimal", ["7,25"], ["7.25", "7,2"]),
        ("email", ["ann@example.org"], ["ann@", "ann example.org"]),
        ("zipcode", ["37232", "37232-1234"], ["3723"]),
        ("postalcode_canada", ["K1A 0B1"], ["K1A0B"]),
        ("alpha_only", ["Ann"], ["Ann1", "A B"]),
        ("phone", ["615-322-2222"], ["115-322-2222"]),
    ],
)
def test_validation_patterns_of_the_raw_export(name, good, bad):
    spec = VALIDATIONS[name]
    for value in good:
        assert re.fullmatch(spec.pattern, value), value
    for value in bad:
        assert not re.fullmatch(spec.pattern, value), value


def test_database_names_of_validations_are_aliases():
    assert validation("int").name == "integer"
    assert validation("float").name == "number"
    assert validation("my_custom_type") is None


def test_field_kinds_and_export_columns():
    assert Field("x", "f", "descriptive").export_columns == ()
    assert Field("x", "f", "checkbox", choices=(("1", "a"), ("-99", "b"))).export_columns == (
        "x___1",
        "x____99",
    )
    assert Field("x", "f", "yesno").codes == (("1", "Yes"), ("0", "No"))
    assert Field("x", "f", "truefalse").integer_codes
    assert Field("x", "f", "dropdown", choices=(("a", "A"),)).kind == "code"
    assert not Field("x", "f", "dropdown", choices=(("a", "A"),)).integer_codes
    assert Field("x", "f", "slider").kind == "integer"
    assert Field("x", "f", "calc").kind == "number"
    assert Field("x", "f", "text", validation="time").kind == "time"
    assert Field("x", "f", "text", validation="email").kind == "text"
    assert Field("x", "f", "text", annotation="@HIDDEN @nomissing").action_tags == {"@HIDDEN", "@NOMISSING"}


def test_invisible_characters_are_named_never_escaped_ambiguously():
    assert shown("12\u200b") == "12<U+200B ZERO WIDTH SPACE>"
    assert shown("a\x00b") == "a<U+0000 NULL>b"
    assert shown("x\u00a0y") == "x<U+00A0 NO-BREAK SPACE>y"
    assert shown("\ufeffid") == "<U+FEFF ZERO WIDTH NO-BREAK SPACE>id"
    assert shown("café naïve") == "café naïve"  # printable non-ASCII stays as it is
    assert "\\x" not in shown("\u200b\x07")


def test_long_values_are_shortened_with_their_length():
    text = "é" * 79 + "\u200b" + "x" * 200
    out = shown(text)
    assert out.endswith("… (280 characters)")
    assert "<U+200B ZERO WIDTH SPACE>" in out
    assert "x" not in out


def test_failure_message_and_console_summary():
    f = Failure("data.csv", 12, "101", "baseline_arm_1", "2", "bl_weight", "300", "above the maximum 250")
    assert f.message() == (
        "data.csv line 12: record 101 event baseline_arm_1 instance 2 field bl_weight "
        "value '300': above the maximum 250"
    )
    w = Failure("data.csv", None, rule="something", severity="warning")
    assert w.message() == "data.csv: [warning] something"
    text = summary([f] * 25 + [w], first=20)
    assert text.splitlines()[0] == "25 error(s), 1 warning(s)"
    assert text.splitlines()[-1] == "  … and 6 more (see the validation report)"
    assert len(text.splitlines()) == 22


def test_writer_formats_numbers_as_redcap_raw_values():
    import pandas as pd

    from feasibility.redcap.write import _format

    plain = Field("x", "f", "text", validation="number")
    values = pd.Series([1.0, -2.0, 0.1, 12.345, 1e20, -0.5, None])
    assert _format(values, plain).tolist() == ["1", "-2", "0.1", "12.345", "1e+20", "-0.5", ""]
    assert _format(
        pd.Series([7.25, 10.0]), Field("x", "f", "text", validation="number_2dp_comma_decimal")
    ).tolist() == ["7,25", "10,00"]
    assert _format(
        pd.Series(pd.array([True, False, None], dtype="boolean")),
        Field("x", "f", "checkbox", choices=(("1", "a"),)),
    ).tolist() == ["1", "0", ""]
    assert _format(pd.Series(["UNK", 3.5], dtype=object), plain).tolist() == [
        "UNK",
        "3.5",
    ]  # codes as written
