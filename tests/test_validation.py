"""Validation of the paper's REDCap downloads, as the workflow runs it (issues 12 and 15).

The study's own data dictionary is the CRF: the shipped records pass it and every rule the
study file declares; a bad cell is reported at its cell (file, line, record, event,
instance, field, value, rule); `snakemake validate` writes the per-form tables, the
codebook, the missing-data codes, the report and the success record, and on bad data exits
non-zero with the first failures on the console and every one in the report. The
generator's project XML says what the dictionary and designations say; `snakemake schemas`
writes each instrument's Pandera schema. Library-level behaviour is tested in tests/redcap/,
each bad-input class in tests/corpus/.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from feasibility.studies.pilot2020 import crf
from feasibility.redcap import validate

import records_helpers as rh
from projectcopy import ROOT, checksums, copy_project, results_of, run_snakemake
from test_corpus import case_settings, validate_folder

RAW = ROOT / "data" / "raw"


@pytest.fixture
def raw(tmp_path) -> Path:
    return shutil.copytree(RAW, tmp_path / "raw")


def _one(failures, **want):
    hits = [f for f in failures if all(str(want[k]) in str(getattr(f, k)) for k in want)]
    assert hits, "no failure with " + repr(want) + " among:\n" + "\n".join(f.message() for f in failures[:20])
    return hits[0]


def test_the_shipped_downloads_pass_every_rule_of_the_study_without_a_warning():
    result = validate_folder(RAW)
    assert result.ok and result.failures == [], [f.message() for f in result.failures[:10]]
    assert not [n for n in result.notes if "not evaluated" in n]  # every branching logic evaluated
    settings = case_settings()
    assert len(settings["rules"]) >= 30
    # every rule kind of the paper's cross-export checks is declared
    kinds = {r["kind"] for r in settings["rules"]}
    assert kinds == {"record_exists", "rows_only_when", "date_order", "not_after_export", "required_if"}


def test_identifiers_are_dropped_and_age_is_derived_before():
    result = validate_folder(RAW)
    assert result.dropped == ["scr_participant_id", "dem_dob"]
    for table in result.tables.values():
        assert not {"scr_participant_id", "dem_dob"} & set(table.columns)
    enrolment = result.tables["enrolment"]
    assert enrolment["age"].notna().all() and enrolment["age"].between(16, 100).all()
    # whole years from date of birth to consent, as the old derivation computed them
    rows = {r["record_id"]: r for r in rh.form_rows(RAW, ["dem_dob", "enr_consent_date"], "baseline")}
    for rec, age in zip(enrolment["record_id"], enrolment["age"]):
        dob, consent = (pd.Timestamp(rows[rec][k]) for k in ("dem_dob", "enr_consent_date"))
        assert age == consent.year - dob.year - ((consent.month, consent.day) < (dob.month, dob.day))


def test_the_project_xml_gives_the_same_tables():
    by_dictionary = validate_folder(RAW)
    settings = {k: v for k, v in case_settings().items() if k != "repeating"}  # the XML says it
    by_xml = validate(RAW / "records.csv", project_xml=RAW / "project.xml", settings=settings)
    assert by_xml.ok and by_xml.failures == []
    assert set(by_xml.tables) == set(by_dictionary.tables) == set(crf.FORM_LABELS)
    for form, table in by_dictionary.tables.items():
        pd.testing.assert_frame_equal(table, by_xml.tables[form])
    assert [f.label for f in by_xml.project.forms] == [crf.FORM_LABELS[f.name] for f in by_xml.project.forms]
    assert [e.label for e in by_xml.project.events] == [e.label for e in by_dictionary.project.events]


# (participant, event, field, value, rule fragment): a cell of each kind of fault
CELL_CASES = [
    ("PP04", "baseline", "eq5d_vas", "abc", "not a whole number"),  # wrong type
    ("PP04", "baseline", "hads_3", "4", "not a code of hads_3"),  # out-of-range item
    ("PP07", "baseline", "dem_ethnicity", "9", "not a code of dem_ethnicity"),  # unknown code
    ("PP07", "baseline", "dem_years_pain", "120.5", "above the validation maximum 80"),  # range
    ("PP07", "baseline", "dem_pain_area___2", "2", "checkbox value is not 0 or 1"),
    ("PP07", "baseline", "enr_consent_date", "2018-02-30", "not a valid date"),  # malformed date
    ("PP04", "intervention", "plc_end", "2017-01-02", "date is before the placement start"),
    ("PP04", "intervention", "wp_date", "2016-01-04", "date is before consent"),
    (
        "PP04",
        "baseline",
        "hq_date",
        "",
        "required field is blank but form health_questionnaire is marked Complete",
    ),
]


@pytest.mark.parametrize("who,event,field,value,rule", CELL_CASES)
def test_a_bad_cell_is_reported_at_its_cell(raw, who, event, field, value, rule):
    rh.set_value(raw, who, event, field, value)
    f = _one(validate_folder(raw).failures, field=field, rule=rule)
    assert (f.file, f.line, f.record, f.event) == (
        "records.csv",
        rh.line_of(RAW, who, event),
        rh.record_of(RAW, who),
        rh.EVENTS[event],
    )
    assert f.value == value and f.severity == "error"


def test_an_unknown_event_is_named(raw):
    rh.set_value(raw, "PP04", "week6", "redcap_event_name", "week7_arm_1")
    f = _one(validate_folder(raw).failures, field="redcap_event_name", rule="not an event of this project")
    assert (f.line, f.record, f.value) == (rh.line_of(RAW, "PP04", "week6"), "S041", "week7_arm_1")


@pytest.mark.parametrize(
    "text,written",
    [
        ("Left early\rphoned back", b'"Left early\rphoned back"'),  # a lone CR, nothing else to quote
        (
            'Left on day 1, said "not for me"\r\nthen\nphoned back',
            b'"Left on day 1, said ""not for me""\r\nthen\nphoned back"',
        ),
    ],
)
def test_free_text_with_line_breaks_commas_and_quotes_reads_back_as_written(raw, text, written):
    """REDCap quotes a notes cell holding a comma, a quote or a line break, a lone carriage
    return included; the cell reads back as written and later rows keep their physical lines
    (counted by LF). Regression: the tests' writer once left a lone CR unquoted (a ragged row)."""
    rh.set_value(raw, "PP05", "intervention", "sc_details", text, instrument="status_change", instance="1")
    assert written in (raw / "records.csv").read_bytes()
    assert (
        rh.get_value(raw, "PP05", "intervention", "sc_details", instrument="status_change", instance="1")
        == text
    )
    rh.set_value(raw, "PP04", "week6", "hads_5", "7")
    result = validate_folder(raw)
    changes = result.tables["status_change"]
    assert changes.loc[changes["record_id"] == "S001", "sc_details"].tolist() == [text]
    f = _one(result.failures, field="hads_5")
    assert [g.field for g in result.failures] == ["hads_5"]
    assert (f.record, f.line) == ("S041", rh.line_of(RAW, "PP04", "week6") + text.count("\n"))


def test_a_follow_up_after_a_withdrawal(raw):
    """PP05 was found ineligible (a status change allowing no further data, 2017-09-20): a
    6-week follow-up sent later and not returned is no data; returned, it is."""
    header, body = rh.read_csv(raw / "records.csv")
    row = [""] * len(header)
    row[:2] = ["S001", "week6_arm_1"]
    for field, value in (
        ("fu_sent_date", "2017-11-07"),
        ("fu_returned", "0"),
        ("followup_admin_complete", "2"),
    ):
        row[header.index(field)] = value
    rh.write_csv(raw / "records.csv", header, body + [row])
    assert validate_folder(raw).ok
    rh.set_value(raw, "PP05", "week6", "fu_returned", "1")
    rh.set_value(raw, "PP05", "week6", "fu_return_date", "2017-11-20")
    f = _one(validate_folder(raw).failures, field="fu_return_date", rule="withdrawal")
    assert (f.record, f.value, f.line) == ("S001", "2017-11-20", len(body) + 2)
    assert "the earliest sc_date 2017-09-20" in f.rule


def test_a_wrong_setting_is_named_before_the_data_are_read(raw):
    settings = case_settings(
        {
            "study": {
                "rules": [
                    {
                        "id": "oops",
                        "kind": "date_order",
                        "earlier": {"field": "hq_date"},
                        "later": {"field": "fu_returned"},
                    }
                ]
            }
        }
    )
    result = validate(
        raw / "records.csv",
        dictionary=raw / "data_dictionary.csv",
        instrument_designations=raw / "instrument_designations.csv",
        settings=settings,
    )
    f = _one(result.failures, file="validation.rules")
    assert f.rule == "oops: fu_returned is a code field, not a date or datetime field"
    assert not result.ok


# --------------------------------------------------------------------------------- the rules
def _copy(tmp_path) -> Path:
    proj = tmp_path / "proj"
    proj.mkdir()
    return copy_project(proj)


def test_snakemake_validate_writes_the_interface_and_the_success_record(tmp_path):
    proj = _copy(tmp_path)
    res = run_snakemake(proj, "validate")
    assert res.returncode == 0, res.stderr[-3000:]
    validated = results_of(proj) / "validated"
    assert sorted(p.name for p in validated.iterdir() if not p.name.startswith(".")) == sorted(
        [f"{form}.parquet" for form in crf.FORM_LABELS] + ["codebook.json", "missing_codes.parquet"]
    )
    book = json.loads((validated / "codebook.json").read_text())
    assert book["record_id_field"] == "record_id" and book["longitudinal"]
    assert book["identifiers_dropped"] == ["dem_dob", "scr_participant_id"]
    assert [f["derived"] for f in book["forms"] if f["name"] == "enrolment"] == [["age"]]
    passed = json.loads((results_of(proj) / "validation" / "passed.json").read_text())
    assert passed["inputs"] == {
        f"data/raw/{name}": rh_sha(proj / "data" / "raw" / name)
        for name in ("records.csv", "data_dictionary.csv", "instrument_designations.csv", "events.csv")
    }
    assert passed["settings"]["export_date"] == "2019-07-01" and passed["n_failures"] == 0
    report = json.loads((results_of(proj) / "validation" / "report.json").read_text())
    assert report["outcome"] == "passed" and report["forms"]["cm_contact"] == 183
    md = (results_of(proj) / "validation" / "report.md").read_text()
    assert md.startswith("# Validation report\n\n**Passed**: no failures, 0 warning(s).")
    assert not (results_of(proj) / "validation" / "failures.csv").exists()
    # no participant ID nor date of birth in the validated data
    for path in validated.glob("*.parquet"):
        text = pd.read_parquet(path).astype(str).to_csv()
        assert "PP0" not in text and "1979-04-14" not in text, path.name


def rh_sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_snakemake_validate_fails_cleanly_and_removes_a_stale_report(tmp_path):
    proj = _copy(tmp_path)
    stale = results_of(proj) / "report"
    stale.mkdir(parents=True)
    (stale / "feasibility.html").write_text("old report")
    rh.set_value(proj / "data" / "raw", "PP04", "month6", "hads_5", "7")
    before = checksums(proj / "data" / "raw")
    res = run_snakemake(proj, "validate")
    assert res.returncode != 0
    out = res.stdout + res.stderr
    line = rh.line_of(RAW, "PP04", "month6")
    assert (
        f"records.csv line {line}: record S041 event month6_arm_1 field hads_5 value '7': "
        "not a code of hads_5 (its codes are 0, 1, 2, 3)"
    ) in out
    assert "Validation failed: 1 failure(s), 0 warning(s)." in out
    report = json.loads((results_of(proj) / "validation" / "report.json").read_text())
    assert report["outcome"] == "failed" and report["n_failures"] == 1
    assert [(f["record"], f["field"]) for f in report["failures"]] == [("S041", "hads_5")]
    failures = pd.read_csv(results_of(proj) / "validation" / "failures.csv", dtype=str, keep_default_na=False)
    assert failures.to_dict("records") == [
        {
            "file": "records.csv",
            "line": str(line),
            "record": "S041",
            "event": "month6_arm_1",
            "instance": "",
            "field": "hads_5",
            "value": "7",
            "rule": "not a code of hads_5 (its codes are 0, 1, 2, 3)",
            "severity": "error",
        }
    ]
    assert "hads_5" in (results_of(proj) / "validation" / "report.md").read_text()
    # the tables and the record of the check stand for the data-quality report (issue 25.2);
    # the success record, which the analysis and the main report need, does not
    assert not (results_of(proj) / "validation" / "passed.json").exists()
    checked = json.loads((results_of(proj) / "validation" / "checked.json").read_text())
    assert checked["outcome"] == "failed" and checked["n_failures"] == 1
    assert not (stale / "feasibility.html").exists()
    assert checksums(proj / "data" / "raw") == before


def test_the_console_shows_20_failures_and_the_report_has_every_one(tmp_path):
    proj = _copy(tmp_path)
    raw = proj / "data" / "raw"
    header, body = rh.read_csv(raw / "records.csv")
    j = header.index("hads_1")
    bad = [r for r in body if r[j] != ""][:30]
    for r in bad:
        r[j] = "7"
    rh.write_csv(raw / "records.csv", header, body)
    res = run_snakemake(proj, "validate")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert out.count("value '7': not a code of hads_1") == 20
    assert "... 10 more" in out
    failures = pd.read_csv(results_of(proj) / "validation" / "failures.csv", dtype=str)
    assert len(failures) == 30


def test_snakemake_schemas_writes_each_instruments_pandera_schema(tmp_path):
    import yaml

    proj = _copy(tmp_path)
    res = run_snakemake(proj, "schemas")
    assert res.returncode == 0, res.stderr[-3000:]
    folder = results_of(proj) / "schemas"
    assert sorted(p.stem for p in folder.glob("*.yaml")) == sorted(crf.FORM_LABELS)
    screening = yaml.safe_load((folder / "screening.yaml").read_text())
    assert screening["schema_type"] == "dataframe"
    assert screening["columns"]["scr_source"]["isin"] == [1, 2, 3, 4]
    assert "scr_participant_id" in screening["columns"]  # validation's schema: before the drop
    demographics = yaml.safe_load((folder / "demographics.yaml").read_text())
    pain = demographics["columns"]["dem_years_pain"]
    assert (pain["dtype"], pain["greater_than_or_equal_to"], pain["less_than_or_equal_to"]) == (
        "float64",
        0.0,
        80.0,
    )
    first = {p.name: p.read_bytes() for p in folder.glob("*.yaml")}
    shutil.rmtree(folder)
    assert run_snakemake(proj, "schemas").returncode == 0
    assert {p.name: p.read_bytes() for p in folder.glob("*.yaml")} == first  # stable, for diffs
