"""Bad-input cases for the raw-export validation (issue 2's acceptance list, and more).

Each case mutates one shipped export in a temporary copy of data/raw and checks the
failure names file, record, field and value; one case runs the real
`snakemake validate` to check exit status, report files, untouched raw files and the
removal of a stale report.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from feasibility.validation import validate_folder

from projectcopy import ROOT, checksums, copy_project, run_snakemake

RAW = ROOT / "data" / "raw"


def validate_all(raw: Path) -> list:
    """Every failure of the folder's exports, validated as the Snakemake rules do."""
    return validate_folder(raw)[1]


def edit_cell(raw: Path, file: str, record: str, column: str, value: str, row: int = 0) -> None:
    path = raw / file
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    idx = df.index[df["record_id"] == record][row]
    df.at[idx, column] = value
    df.to_csv(path, index=False, lineterminator="\n")


@pytest.fixture
def raw(tmp_path) -> Path:
    dest = tmp_path / "raw"
    shutil.copytree(RAW, dest)
    return dest


def test_shipped_exports_pass():
    assert validate_all(RAW) == []


def _one(failures, **want):
    hits = [f for f in failures if all(want[k] in str(getattr(f, k)) for k in want)]
    assert hits, "no failure with " + repr(want) + " among:\n" + "\n".join(f.message() for f in failures[:20])
    return hits[0]


CELL_CASES = [
    # (file, record, column, bad value, expected rule fragment)
    ("questionnaires_baseline.csv", "PP04", "eq5d_vas", "abc", "not a number"),            # wrong type
    ("questionnaires_baseline.csv", "PP04", "hads_3", "4", "unknown code"),                # out-of-range item
    ("enrolment.csv", "PP07", "dem_ethnicity", "9", "unknown code"),                       # unknown code
    ("enrolment.csv", "PP07", "dem_years_pain", "120.5", "out of range"),                  # range
    ("enrolment.csv", "PP07", "dem_pain_area___2", "2", "unknown code"),                   # checkbox not 0/1
    ("enrolment.csv", "PP07", "enr_consent_date", "2018-02-30", "not a valid date"),       # malformed date
    ("questionnaires_week6.csv", "PP04", "redcap_event_name", "week7_arm_1", "unknown code"),  # unknown event
    ("placements.csv", "PP04", "plc_end", "2017-01-02", "before the placement start"),    # dates out of order
    ("work_preparation.csv", "PP04", "wp_date", "2016-01-04", "before consent"),           # before consent
    ("questionnaires_baseline.csv", "PP04", "hq_date", "", "required field is blank"),     # complete form, blank
]


@pytest.mark.parametrize("file,record,column,value,rule", CELL_CASES)
def test_bad_cell_is_reported_at_its_cell(raw, file, record, column, value, rule):
    edit_cell(raw, file, record, column, value)
    f = _one(validate_all(raw), file=file, field=column, rule=rule)
    assert f.record_id == record
    assert f.line and f.line >= 2
    if value:
        assert value in f.value


def test_duplicate_key(raw):
    path = raw / "enrolment.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[3]]) + "\n")
    f = _one(validate_all(raw), file="enrolment.csv", rule="duplicate key")
    assert f.record_id == lines[3].split(",")[0]


def test_orphan_record(raw):
    edit_cell(raw, "case_management.csv", "PP04", "record_id", "PP99")
    _one(validate_all(raw), file="case_management.csv", record_id="PP99", rule="orphan")


def test_missing_required_column(raw):
    df = pd.read_csv(raw / "placements.csv", dtype=str, keep_default_na=False).drop(columns="plc_start")
    df.to_csv(raw / "placements.csv", index=False)
    _one(validate_all(raw), file="placements.csv", field="plc_start", rule="missing")


def test_unknown_extra_column(raw):
    df = pd.read_csv(raw / "adverse_events.csv", dtype=str, keep_default_na=False)
    df["nhs_number"] = "123"
    df.to_csv(raw / "adverse_events.csv", index=False)
    _one(validate_all(raw), file="adverse_events.csv", field="nhs_number", rule="unknown column")


def test_empty_file(raw):
    (raw / "status_changes.csv").write_text("")
    _one(validate_all(raw), file="status_changes.csv", rule="empty")


def test_header_only(raw):
    path = raw / "adverse_events.csv"
    path.write_text(path.read_text().splitlines()[0] + "\n")
    _one(validate_all(raw), file="adverse_events.csv", rule="no records")


def test_ragged_row(raw):
    path = raw / "work_preparation.csv"
    lines = path.read_text().splitlines()
    lines[5] = lines[5] + ",surplus"
    path.write_text("\n".join(lines) + "\n")
    f = _one(validate_all(raw), file="work_preparation.csv", rule="ragged")
    assert f.line == 6 and f.record_id == lines[5].split(",")[0]


def test_non_utf8_is_rejected_clearly(raw):
    path = raw / "adverse_events.csv"
    text = path.read_text().replace("Increased pain", "Increased pa\u00efn")
    path.write_bytes(text.encode("latin-1"))
    _one(validate_all(raw), file="adverse_events.csv", rule="not UTF-8")


def test_byte_order_mark_and_windows_line_endings_are_accepted(raw):
    path = raw / "screening.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    assert validate_all(raw) == []


def test_dictionary_disagreeing_with_export(raw):
    path = raw / "data_dictionary.csv"
    path.write_text(path.read_text().replace("1, Female | 2, Male", "1, Male | 2, Female"))
    _one(validate_all(raw), file="data_dictionary.csv", field="dem_sex", rule="code list")


def test_follow_up_after_withdrawal(raw):
    # PP05 was found ineligible (status change allowing no further data). A follow-up
    # that was sent but not returned is no data; one returned afterwards is.
    adm = pd.read_csv(raw / "followup_admin.csv", dtype=str, keep_default_na=False)
    row = adm.iloc[0].copy()
    row["record_id"], row["redcap_event_name"] = "PP05", "week14_arm_1"
    row["fu_returned"], row["fu_return_date"] = "0", ""
    row["fu_sent_date"] = "2019-01-07"
    pd.concat([adm, row.to_frame().T]).to_csv(raw / "followup_admin.csv", index=False)
    assert validate_all(raw) == []
    row["fu_returned"], row["fu_return_date"] = "1", "2019-01-20"
    pd.concat([adm, row.to_frame().T]).to_csv(raw / "followup_admin.csv", index=False)
    f = _one(validate_all(raw), file="followup_admin.csv", record_id="PP05",
             field="fu_return_date", rule="withdrawal")
    assert f.value == "2019-01-20"


def test_snakemake_validate_fails_cleanly_and_removes_stale_report(tmp_path):
    proj = copy_project(tmp_path)
    stale = proj / "results" / "report"
    stale.mkdir(parents=True)
    (stale / "feasibility.html").write_text("old report")
    edit_cell(proj / "data" / "raw", "questionnaires_month6.csv", "PP04", "hads_5", "7")
    before = checksums(proj / "data" / "raw")
    res = run_snakemake(proj, "validate")
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "questionnaires_month6.csv" in out and "PP04" in out and "hads_5" in out and "'7'" in out
    report = json.loads((proj / "results" / "validation" / "report.json").read_text())
    assert report["n_failures"] >= 1
    assert any(f["field"] == "hads_5" and f["record_id"] == "PP04" for f in report["first_failures"])
    assert "hads_5" in (proj / "results" / "validation" / "report.md").read_text()
    assert not (proj / "results" / "validated" / "questionnaires_month6.parquet").exists()
    assert not (stale / "feasibility.html").exists()
    assert checksums(proj / "data" / "raw") == before
