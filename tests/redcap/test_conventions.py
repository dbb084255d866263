"""REDCap's conventions as real projects come (issue 25): required fields hidden by their
branching logic, checks' severities, restricted exports, designations inferred, records with no
data beyond their ID; and what the data-quality report says of each. In process, on copies of
the fixture projects of tests/fixtures/redcap (our own, written from REDCap's documentation)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from redcap_helpers import (
    CLASSIC_DATA,
    CLASSIC_DD,
    LONG,
    LONG_CODES,
    LONG_DATA,
    LONG_META,
    edit,
    only,
    validate_classic,
    validate_long,
)

from feasibility.quality import QualityData
from feasibility.quality.report import DID_NOT_PASS, summary_markdown
from feasibility.quality.settings import load_settings
from feasibility.redcap import validate
from feasibility.redcap.checks import CHECKS, check_of
from feasibility.redcap.output import report_dict


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], body: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *body])


def _summary(result) -> str:
    return summary_markdown(QualityData.from_result(result), load_settings({}))


# ------------------------------------------------------------------ 25.1 required and branching
def _required_with_logic(classic: Path, logic: str) -> None:
    """enr_cigs (cigarettes a day) made required, shown only to smokers."""
    header, body = _rows(classic / CLASSIC_DD)
    row = next(r for r in body if r[0] == "enr_cigs")
    row[11], row[12] = logic, "y"
    _write(classic / CLASSIC_DD, header, body)


def test_a_required_field_hidden_by_its_branching_logic_is_not_missing(classic):
    _required_with_logic(classic, "[enr_smoker] = '1'")
    header, body = _rows(classic / CLASSIC_DATA)
    smoker, cigs, status = (header.index(c) for c in ("enr_smoker", "enr_cigs", "enrolment_complete"))
    hidden = [r for r in body if r[smoker] != "1" and r[cigs] == "" and r[status] == "2"]
    assert hidden  # the fixture has non-smokers with the field blank
    r = validate_classic(classic)
    assert not [f for f in r.failures if f.field == "enr_cigs" and "required" in f.rule], r.failures
    # shown (a smoker) and blank: the failure stands
    shown = next(r for r in body if r[status] == "2" and r[0] == hidden[0][0])
    shown[smoker], shown[cigs] = "1", ""
    _write(classic / CLASSIC_DATA, header, body)
    r = validate_classic(classic)
    f = only(r.failures, field="enr_cigs", rule="required field is blank")
    # REDCap saves a blank required field after a prompt: a warning unless the study says error
    assert f.severity == "warning" and f.record == shown[0] and check_of(f) == "required"
    r = validate_classic(classic, severities={"required": "error"})
    assert only(r.failures, field="enr_cigs", rule="required field is blank").severity == "error"


def test_a_required_field_whose_logic_cannot_be_evaluated_is_a_warning_that_says_so(classic):
    _required_with_logic(classic, "[enr_smoker] = '1' and datediff([enr_dob], 'today', 'y') >= 18")
    r = validate_classic(classic)
    found = [f for f in r.failures if f.field == "enr_cigs" and "required" in f.rule]
    assert found and all(f.severity == "warning" and "could not be evaluated" in f.rule for f in found)
    assert r.ok


# ------------------------------------------------------------------ 25.2 severities
def test_every_check_has_a_default_severity_and_a_study_sets_any_by_name(classic):
    assert set(CHECKS) >= {"type", "choice", "out_of_range", "required", "branching", "calculation"}
    assert all(default in ("error", "warning") for default, _ in CHECKS.values())
    edit(classic / CLASSIC_DATA, "unemp,AE", "maybe,AE")  # not a code of bq_employment
    r = validate_classic(classic)
    f = only(r.failures, field="bq_employment")
    assert f.severity == "error" and check_of(f) == "choice" and not r.ok
    r = validate_classic(classic, severities={"choice": "warning"})
    assert only(r.failures, field="bq_employment").severity == "warning" and r.ok
    r = validate_classic(classic, severities={"choice": "off"})
    assert not [f for f in r.failures if f.field == "bq_employment"] and r.ok


def test_the_quality_report_says_plainly_when_the_data_did_not_pass(classic):
    edit(classic / CLASSIC_DATA, "unemp,AE", "maybe,AE")
    r = validate_classic(classic)
    assert not r.ok
    text = _summary(r)
    assert DID_NOT_PASS in text and "block the analysis and the main report" in text
    assert DID_NOT_PASS not in _summary(validate_classic(classic, severities={"choice": "warning"}))


# ------------------------------------------------------------------ 25.3 restricted exports
def test_a_restricted_export_validates_what_it_has_and_lists_what_it_lacks(classic):
    header, body = _rows(classic / CLASSIC_DATA)
    gone = {"enr_name", "enr_email", "enr_dob", "enr_notes"} | {
        c for c in header if c.startswith("bq_") or c.startswith("baseline_questionnaire")
    }
    keep = [j for j, c in enumerate(header) if c not in gone]
    _write(classic / CLASSIC_DATA, [header[j] for j in keep], [[row[j] for j in keep] for row in body])
    r = validate_classic(classic)
    assert r.ok, [f.message() for f in r.errors]
    absent = report_dict(r)["absent"]
    assert absent["enr_name"].startswith("identifier field removed")
    assert absent["enr_notes"].startswith("free-text field removed")
    assert absent["baseline_questionnaire_complete"].startswith("form not in the export")
    assert any(n.startswith("restricted export") and "enr_notes" in n for n in r.notes)
    text = _summary(r)
    assert "The export is restricted" in text and "`baseline_questionnaire`" in text
    # an absent field has no column in the validated data, so it is not counted as missing
    fields = {f["name"]: f for f in QualityData.from_result(r).codebook["fields"]}
    assert fields["enr_notes"]["columns"] == [] and fields["bq_pain"]["columns"] == []
    assert fields["enr_sex"]["columns"] == ["enr_sex"]


def test_a_column_a_restricted_export_would_keep_is_still_a_failure(classic):
    header, body = _rows(classic / CLASSIC_DATA)
    j = header.index("enr_sex")  # a radio field: no export right removes it alone
    _write(classic / CLASSIC_DATA, header[:j] + header[j + 1 :], [row[:j] + row[j + 1 :] for row in body])
    r = validate_classic(classic)
    f = only(r.failures, field="enr_sex")
    assert "missing from the export" in f.rule and f.severity == "error" and check_of(f) == "missing_column"


# ------------------------------------------------------------------ 25.4 designations inferred
def test_designations_are_inferred_from_the_records_and_said_so(long):
    given = validate_long(long)
    inferred = validate(
        long / LONG_DATA, dictionary=long / LONG_META, settings={"missing_data_codes": LONG_CODES}
    )
    assert inferred.ok and inferred.designations_inferred and not given.designations_inferred
    with_data = {(e, f) for f, t in given.tables.items() for e in set(t["redcap_event_name"])}
    assert set(inferred.project.designations) == with_data  # a form where any record has data
    header, body = _rows(long / LONG_DATA)
    in_export = list(dict.fromkeys(row[header.index("redcap_event_name")] for row in body))
    assert [e.unique_name for e in inferred.project.events] == in_export
    assert any("inferred from the records" in n for n in inferred.notes)
    assert "inferred from the records" in _summary(inferred)
    assert "inferred" not in _summary(given)


# ------------------------------------------------------------------ 25.6 every record counts
def test_a_record_with_no_data_beyond_its_id_counts(classic):
    header, body = _rows(classic / CLASSIC_DATA)
    before = report_dict(validate_classic(classic))
    _write(classic / CLASSIC_DATA, header, body + [["99"] + [""] * (len(header) - 1)])
    r = validate_classic(classic)
    d = report_dict(r)
    assert d["records"] == before["records"] + 1 and d["records_without_data"] == 1
    assert d["rows"] == before["rows"] + 1 and d["forms"] == before["forms"]
    text = _summary(r)
    assert f"The export holds {before['records'] + 1} records" in text
    assert "1 of the records has no data beyond the record ID" in text


def test_the_summary_counts_the_rows_and_events_of_a_longitudinal_export():
    r = validate_long(LONG)
    d = report_dict(r)
    header, body = _rows(LONG / LONG_DATA)
    assert d["rows"] == len(body)
    assert d["events"] == len({row[header.index("redcap_event_name")] for row in body})
    assert d["records"] == len({row[0] for row in body})
    assert f"({d['rows']} rows of the export, at {d['events']} events)" in _summary(r)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_check_is_named_in_the_study_file_schema(name):
    import yaml

    schema = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml").read_text()
    )
    names = schema["properties"]["validation"]["properties"]["severities"]["propertyNames"]["enum"]
    assert name in names and len(names) == len(CHECKS)
