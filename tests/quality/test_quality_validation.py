"""The validation results by rule and severity, from broken copies of the fixture exports: counts
by hand, and examples that never show a record ID, an identifier's value or a date."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "redcap"))

from redcap_helpers import (
    CLASSIC,
    CLASSIC_DATA,
    LONG,
    LONG_DATA,
    copy_fixture,
    edit,
    validate_classic,  # noqa: E402
    validate_long,
)

from feasibility.quality import QualityData, validation_notes, validation_summary  # noqa: E402
from feasibility.quality.report import captions  # noqa: E402
from feasibility.quality.settings import QualitySettings  # noqa: E402
from feasibility.quality.tables import validation_table  # noqa: E402
from feasibility.quality.validation import scrub, shown_value  # noqa: E402
from feasibility.tables.common import html_fragment  # noqa: E402


@pytest.fixture(scope="module")
def broken_classic(tmp_path_factory) -> QualityData:
    """Record 1: consent date 2024-13-05, e-mail (an identifier) 'ann@example', weight 300
    (a warning: out_of_range is set to warning) and 7 cigarettes though not a smoker."""
    folder = copy_fixture(CLASSIC, tmp_path_factory.mktemp("broken"))
    edit(
        folder / CLASSIC_DATA,
        "1,birmingham,,B,2024-01-05,Ann Example,1980-02-29,ann@example.org",
        "1,birmingham,,B,2024-13-05,Ann Example,1980-02-29,ann@example",
    )
    # BMI follows the weight (a calculated field: a stale value would be a third error)
    edit(folder / CLASSIC_DATA, "165.5,70,25.6,0,,", "165.5,300,109.5,0,7,")
    result = validate_classic(folder, out_of_range="warning")
    assert len(result.errors) == 2 and len(result.warnings) == 2
    return QualityData.from_result(result)


def test_failures_grouped_by_severity_field_and_rule(broken_classic):
    s = validation_summary(broken_classic.validation, broken_classic)
    assert s[["severity", "field", "cells"]].values.tolist() == [
        ["error", "enr_consent_date", 1],
        ["error", "enr_email", 1],
        ["warning", "enr_cigs", 1],
        ["warning", "enr_weight", 1],
    ]
    assert s.loc[s["field"] == "enr_weight", "rule"].item() == "above the validation maximum 250"
    assert s.loc[s["field"] == "enr_cigs", "form"].item() == "enrolment"


def test_examples_show_line_and_value_but_never_the_record_or_an_identifier(broken_classic):
    s = validation_summary(broken_classic.validation, broken_classic).set_index("field")
    assert s.loc["enr_weight", "examples"] == "line 2: ‘300’"
    assert s.loc["enr_cigs", "examples"] == "line 2: ‘7’"
    assert s.loc["enr_email", "examples"] == "line 2: value withheld"  # an identifier
    assert s.loc["enr_consent_date", "examples"] == "line 2: ‘9999-99-99’"  # a date: its shape only
    text = s.to_csv()
    assert "ann@example" not in text and "2024-13-05" not in text


def test_a_record_id_in_a_rule_is_removed(tmp_path):
    folder = copy_fixture(LONG, tmp_path)
    lines = (folder / LONG_DATA).read_text(encoding="utf-8").split("\n")
    lines.insert(3, lines[2])  # record 101's baseline row twice
    (folder / LONG_DATA).write_text("\n".join(lines), encoding="utf-8")
    data = QualityData.from_result(validate_long(folder))
    s = validation_summary(data.validation, data)
    assert set(s["rule"]) == {
        f"a record has a second row of form {form} at event baseline_arm_1 (first on line …); REDCap keeps one "
        "per record, event and instance"
        for form in ("consent", "baseline")
    }
    assert set(s["examples"]) == {"line 4, baseline_arm_1: value withheld"}
    assert "101" not in s.to_csv()


def test_failures_counted_beyond_the_listed_ones():
    report = {
        "failures": [
            {
                "file": "x.csv",
                "line": 2 + i,
                "record": f"R{i:03d}",
                "event": "",
                "instance": "",
                "field": "bq_score",
                "value": "7,5",
                "rule": "not a number",
                "severity": "error",
            }
            for i in range(3)
        ]
        + [
            {
                "file": "x.csv",
                "line": None,
                "record": "",
                "event": "",
                "instance": "",
                "field": "bq_score",
                "value": "",
                "rule": "not a number (and 1,234 more cells of bq_score like this: only the first 1,000 are listed)",
                "severity": "error",
            }
        ]
    }
    s = validation_summary(report, examples=2)
    assert s[["field", "rule", "cells"]].values.tolist() == [["bq_score", "not a number", 1237]]
    assert s["examples"].item() == "line 2: value withheld\nline 3: value withheld"  # no codebook: withheld


def test_scrub_and_shown_value():
    assert scrub("record P-0042 has a second row", "P-0042") == "a record has a second row"
    assert scrub("see P-0042 twice", "P-0042") == "see ‹record› twice"
    assert scrub("value 12 is above 10", "12") == "value 12 is above 10"  # short IDs are left alone
    date = {"name": "d", "type": "text", "validation": "datetime_dmy"}
    assert shown_value("31/02/2024 10:00", date) == "99/99/9999 99:99"
    assert shown_value("x", {"name": "t", "type": "notes"}) == "withheld"  # free text
    assert shown_value("abc", {"name": "n", "type": "text", "validation": "integer"}) == "abc"
    assert shown_value("cara@example.org", None, field_name="redcap_survey_identifier") == "withheld"
    assert shown_value("3", None, field_name="enrolment_complete") == "3"
    assert shown_value("P-1", {"name": "pid", "type": "text"}, record="P-1") == "withheld"


def test_the_validation_table(broken_classic):
    caps = captions(broken_classic, QualitySettings())
    t = validation_table(broken_classic, caps["validation"])
    html = html_fragment(t.gt)
    assert "Errors (2 cells)" in html and "Warnings (2 cells)" in html
    assert "Validation failed: 2 errors and 2 warnings" in html
    assert "ann@example" not in html and "2024-13-05" not in html
    assert caps["validation"].label in html


def test_no_failures(classic):
    t = validation_table(classic, captions(classic, QualitySettings())["validation"])
    assert "No errors and no warnings" in html_fragment(t.gt)
    assert t.frame.empty


def test_notes_are_kept(classic):
    notes = validation_notes(classic.validation)
    assert any("export date: 2024-05-02" in n for n in notes)
