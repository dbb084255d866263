"""Validated data as docs/design.md's interface: files, types, codebook, missing codes, identifiers,
derivations, determinism; the report; the schemas as YAML."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
import yaml
from redcap_helpers import CLASSIC_DATA, LONG_DATA, edit, validate_classic, validate_long, validate_xml

from feasibility.config import ValidationPaths
from feasibility.redcap import schemas_yaml, validation_report, write_report, write_validated
from feasibility.redcap.identifiers import whole_years

DERIVE = [{"name": "age_at_consent", "kind": "age_years", "birth_date": "con_dob", "at": "con_date"}]


def _digest(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_validated_folder_longitudinal(tmp_path):
    r = validate_long(derive=DERIVE)
    written = write_validated(r, tmp_path / "validated")
    assert sorted(p.name for p in written) == [
        "adverse_event.parquet",
        "baseline.parquet",
        "codebook.json",
        "consent.parquet",
        "followup.parquet",
        "missing_codes.parquet",
        "screening.parquet",
        "visit.parquet",
    ]
    consent = pd.read_parquet(tmp_path / "validated" / "consent.parquet")
    # the record ID keeps its project's name, participant_id (issue 25.8)
    assert list(consent.columns) == [
        "participant_id",
        "redcap_event_name",
        "redcap_arm",
        "con_date",
        "age_at_consent",
        "consent_complete",
    ]
    assert consent["age_at_consent"].tolist() == [38, 44, 34]  # derived from con_dob, then con_dob dropped
    assert str(consent["age_at_consent"].dtype) == "Int64" and str(consent["redcap_arm"].dtype) == "Int64"
    assert (
        str(consent["participant_id"].dtype) == "string"
        and str(consent["con_date"].dtype) == "datetime64[ns]"
    )
    ae = pd.read_parquet(tmp_path / "validated" / "adverse_event.parquet")
    assert str(ae["redcap_repeat_instance"].dtype) == "Int64"
    base = pd.read_parquet(tmp_path / "validated" / "baseline.parquet")
    assert str(base["bl_meds___1"].dtype) == "boolean"
    missing = pd.read_parquet(tmp_path / "validated" / "missing_codes.parquet")
    assert list(missing.columns) == [
        "participant_id",
        "redcap_event_name",
        "redcap_repeat_instance",
        "form",
        "field",
        "code",
    ]
    assert missing.astype(object).where(missing.notna(), None).values.tolist() == [
        ["102", "baseline_arm_1", None, "baseline", "bl_weight", "UNK"],
        ["103", "baseline_arm_2", None, "baseline", "bl_meds", "-999"],
    ]
    book = json.loads((tmp_path / "validated" / "codebook.json").read_text())
    assert book["record_id_field"] == "participant_id" and book["longitudinal"] is True
    assert book["arms"] == {"1": "Arm 1", "2": "Arm 2"}
    assert book["events"][1] == {
        "unique_name": "baseline_arm_1",
        "label": "Baseline",
        "arm": 1,
        "day_offset": 7.0,
    }
    assert book["designations"]["month_6_arm_1"] == ["followup", "adverse_event"]
    assert book["repeating"] == {
        "instruments": [
            {"event": "baseline_arm_1", "form": "adverse_event"},
            {"event": "month_6_arm_1", "form": "adverse_event"},
        ],
        "events": ["visit_arm_1"],
    }
    assert book["forms"][1] == {
        "name": "consent",
        "label": "Consent",
        "fields": ["con_date", "con_dob", "con_initials"],
        "derived": ["age_at_consent"],
    }
    meds = next(f for f in book["fields"] if f["name"] == "bl_meds")
    assert meds["choices"] == [["1", "Paracetamol"], ["2", "NSAID"], ["3", "Opioid"]]
    assert meds["columns"] == ["bl_meds___1", "bl_meds___2", "bl_meds___3"]
    dob = next(f for f in book["fields"] if f["name"] == "con_dob")
    assert dob["identifier"] is True and dob["columns"] == [] and dob["validation"] == "date_ymd"
    assert book["missing_data_codes"] == [["UNK", "Unknown"], ["-999", "Not recorded"]]
    assert book["identifiers_dropped"] == ["con_dob", "con_initials"]


def test_no_identifier_value_in_any_validated_file(tmp_path):
    r = validate_classic()
    write_validated(r, tmp_path)
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.suffix == ".parquet")
    for value in (
        "Ann Example",
        "Bob Sample",
        "ann@example.org",
        "0121 496 0000",
        "B15 2TT",
        "1980-02-29",
        "cara@example.org",
    ):
        assert value.encode() not in blob, value
    enr = pd.read_parquet(tmp_path / "enrolment.parquet")
    assert not {"enr_name", "enr_dob", "enr_email", "enr_phone", "enr_postcode"} & set(enr.columns)
    assert "redcap_survey_identifier" not in enr


def test_byte_identical_on_rerun(tmp_path):
    for name in ("a", "b"):
        write_validated(validate_long(derive=DERIVE), tmp_path / name)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    write_validated(validate_xml(), tmp_path / "c")
    write_validated(validate_xml(), tmp_path / "d")
    assert _digest(tmp_path / "c") == _digest(tmp_path / "d")


def test_nothing_is_written_for_data_that_fail(long, tmp_path):
    edit(long / LONG_DATA, "2024-01-08,60,72.5,", "2024-01-08,60,720.5,")
    r = validate_long(long, out_of_range="error")  # the study says so (REDCap's default: a warning)
    with pytest.raises(ValueError, match=r"validation failed \(1 error\(s\)\); nothing written"):
        write_validated(r, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_report_json_and_markdown(long, tmp_path):
    edit(long / LONG_DATA, "2024-01-08,60,72.5,", "2024-01-08,60,720.5,")
    edit(long / LONG_DATA, "2024-01-20,Headache,0,,2", "2024-01-20,Headache,0,SAE-0009,2")
    r = validate_long(long, out_of_range="error")
    where = ValidationPaths(str(tmp_path))
    write_report(validation_report(r, {"records": str(long / LONG_DATA)}, {}, {}, where), r.failures, where)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["outcome"] == "failed" and data["n_failures"] == 1 and data["n_warnings"] == 1
    assert data["ok"] is False and data["errors"] == 1 and data["warnings"] == 1
    assert data["rows"] == 14 and data["records"] == 4 and data["export_date"] == "2024-09-01"
    assert data["failures"][0] == {
        "file": LONG_DATA,
        "line": 3,
        "record": "101",
        "event": "baseline_arm_1",
        "instance": "",
        "field": "bl_weight",
        "value": "720.5",
        "rule": "above the validation maximum 250.0",
        "severity": "error",
    }
    assert data["missing_data_codes"] == [
        {"form": "baseline", "field": "bl_meds", "code": "-999", "label": "Not recorded", "n": 1},
        {"form": "baseline", "field": "bl_weight", "code": "UNK", "label": "Unknown", "n": 1},
    ]
    md = (tmp_path / "report.md").read_text()
    assert md.startswith("# Validation report\n\n**Failed: 1 failure(s)**, 1 warning(s).")
    assert (
        f"| {LONG_DATA} | 3 | 101 | baseline_arm_1 |  | bl_weight | 720.5 | above the validation maximum "
        "250.0 | error |" in md
    )
    failures = pd.read_csv(tmp_path / "failures.csv", dtype=str, keep_default_na=False)
    assert (
        failures[["line", "record", "field", "value", "severity"]].values.tolist()[:1]
        == [["3", "101", "bl_weight", "720.5", "error"]]
        and len(failures) == 2
    )


def test_schemas_yaml_for_review():
    r = validate_long()
    text = schemas_yaml(r.project, today=r.export_date)
    assert text == schemas_yaml(r.project, today=r.export_date)  # deterministic
    doc = yaml.safe_load(text)
    assert list(doc) == ["screening", "consent", "baseline", "adverse_event", "visit", "followup"]
    base = doc["baseline"]["columns"]
    assert base["bl_weight"] == {
        "dtype": "float64",
        "nullable": True,
        "required": False,
        "greater_than_or_equal_to": 30.0,
        "less_than_or_equal_to": 250.0,
    }
    assert base["bl_pain"]["dtype"] == "Int64" and base["bl_pain"]["less_than_or_equal_to"] == 100
    assert base["redcap_event_name"]["isin"] == ["baseline_arm_1", "baseline_arm_2"]
    assert doc["baseline"]["unique"] == ["participant_id", "redcap_event_name"]  # as the tables hold it
    assert "participant_id" in base and "record_id" not in base
    ae = doc["adverse_event"]
    assert ae["unique"] == ["participant_id", "redcap_event_name", "redcap_repeat_instance"]
    assert ae["checks"][0] == {
        "events": ["baseline_arm_1", "month_6_arm_1"],  # read from the records
        "options": {
            "check_name": "repeat_instance_where_repeating",
            "error": "repeat_instance_where_repeating(events=['baseline_arm_1', 'month_6_arm_1'])",
        },
    }
    req = [c for c in doc["screening"]["checks"] if c["options"]["check_name"] == "required_when_complete"]
    assert [c["field"] for c in req] == ["scr_date", "scr_eligible"]
    assert text.startswith(
        "# Pandera schemas of the tidy tables, built from TrialLong_metadata.csv, "
        "TrialLong_InstrumentDesignations_2024-09-01.csv, TrialLong_events.csv\n"
    )


def test_whole_years_counts_birthdays():
    birth = pd.Series(pd.to_datetime(["1980-02-29", "1980-02-29", "2000-06-15", None]))
    at = pd.Series(pd.to_datetime(["2024-02-28", "2024-02-29", "2024-06-14", "2024-01-01"]))
    assert whole_years(birth, at).tolist()[:3] == [43, 44, 23]
    assert pd.isna(whole_years(birth, at).iloc[3])


def test_derivation_declared_wrong_is_a_settings_failure():
    r = validate_long(
        derive=[{"name": "scr_date", "kind": "age_years", "birth_date": "con_dob", "at": "bl_pain"}]
    )
    rules = sorted(f.rule for f in r.failures if f.file == "validation.derive")
    assert rules == [
        "scr_date: at 'bl_pain' is not a date field of the project",
        "scr_date: the name must be new (not a field of the project, not used twice)",
    ]


def test_classic_files_and_codebook(tmp_path):
    write_validated(validate_classic(), tmp_path)
    book = json.loads((tmp_path / "codebook.json").read_text())
    assert book["longitudinal"] is False and book["events"] == [] and book["designations"] == {}
    info = next(f for f in book["fields"] if f["name"] == "enr_info")
    assert (
        info["label"] == "Please check the participant information sheet. Thank you."
        and info["columns"] == []
    )
    conditions = next(f for f in book["fields"] if f["name"] == "enr_conditions")
    assert conditions["columns"][-1] == "enr_conditions____99"
    assert next(f for f in book["fields"] if f["name"] == "study_id")["columns"] == ["study_id"]
    enr = pd.read_parquet(tmp_path / "enrolment.parquet")
    assert "redcap_event_name" not in enr and "redcap_repeat_instance" not in enr
    assert enr["study_id"].tolist() == ["1", "2", "3", "4", "5"] and "record_id" not in enr


def test_console_shows_first_twenty_and_the_total(classic):
    edit(classic / CLASSIC_DATA, ",H-001,", ",H-\x07001,")
    from feasibility.redcap import console_summary

    r = validate_classic(classic)
    lines = console_summary(
        validation_report(r, {"records": str(classic / CLASSIC_DATA)}, {}, {})
    ).splitlines()
    assert lines[0] == "Validation failed: 1 failure(s), 0 warning(s)."
    # the failure named by file, line, record, field and value (its control character shown by name)
    assert lines[1] == (
        f"  {CLASSIC_DATA} line 2: record 1 field bq_ref value 'H-<U+0007 BELL>001': "
        "text contains control characters (not tab or line breaks)"
    )
    assert (
        lines[2]
        == "Full report: results/validation/report.md; every failure: results/validation/failures.csv"
    )


def test_raise_for_errors(long):
    from feasibility.redcap import RedcapError

    assert validate_long().raise_for_errors().ok
    edit(long / LONG_DATA, "2024-01-08,60,72.5,", "2024-01-08,60,720.5,")
    with pytest.raises(RedcapError) as info:
        validate_long(long, out_of_range="error").raise_for_errors()
    assert len(info.value.failures) == 1
    assert str(info.value).splitlines()[1] == (
        f"  {LONG_DATA} line 3: record 101 event baseline_arm_1 field bl_weight "
        "value '720.5': above the validation maximum 250.0"
    )
