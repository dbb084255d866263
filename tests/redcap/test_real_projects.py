"""REDCap projects as they come (issue 25.5, 25.7, 25.8, 25.9, 25.10), on fixture projects of our
own written from REDCap's documentation (tests/redcap/projects/):

* ``garden/``: a classic project whose record ID is ``participant_id``; its data dictionary
  re-saved by a spreadsheet (byte-order mark, CRLF, three empty columns at the end of every
  line, a blank row between fields and 2,000 after them, two choices sharing the label
  "Other", which REDCap allows); its records export named without REDCap's date
  (``garden_records.csv``); free-text fields not flagged as identifiers that hold e-mail
  addresses, phone numbers, people's names and postcodes;
* ``garden/Garden_2025-03-14_0930.REDCap.xml``: the same project as REDCap's "CDISC ODM
  project XML with data" (ClinicalData/SubjectData/StudyEventData/FormData/ItemGroupData/
  ItemData), created 2025-03-14T09:30:12.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from feasibility.quality import QualityData, load_settings, summary_markdown
from feasibility.redcap import validate
from feasibility.redcap.output import report_dict

from redcap_helpers import edit, only

GARDEN = Path(__file__).with_name("projects") / "garden"
DD = "Garden_DataDictionary_resaved.csv"
DATA = "garden_records.csv"
XML_DATA = "Garden_2025-03-14_0930.REDCap.xml"


@pytest.fixture
def garden(tmp_path) -> Path:
    out = tmp_path / "garden"
    shutil.copytree(GARDEN, out)
    return out


def run(folder: Path = GARDEN, **settings):
    return validate(folder / DATA, dictionary=folder / DD, settings=settings)


# ------------------------------------------------------------------ 25.5 dictionaries as saved
def test_a_spreadsheet_resaved_dictionary_is_read_as_redcap_reads_it():
    raw = (GARDEN / DD).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw                    # the fixture is what it says
    assert raw.splitlines()[0].endswith(b",,,") and raw.splitlines().count(b",," * 10) >= 2000
    r = run()
    assert r.ok and r.errors == []
    assert [f.name for f in r.project.fields][:3] == ["participant_id", "consent_date", "first_name"]
    assert len(r.project.fields) == 14                                            # the blank rows are no fields
    # nothing said about the blank rows or the empty columns: only the shared label, as a warning
    assert [f.rule for f in r.failures if f.file == DD] == [
        "two choices share the label 'Other' (codes 1 and 4): REDCap allows it, but a table by label would "
        "show them as one"]
    assert only(r.failures, field="plot_site").severity == "warning"
    assert r.project.field["plot_site"].codes[3] == ("4", "Other")               # both codes kept apart


def test_a_value_in_a_column_without_header_is_still_named(garden):
    edit(garden / DD, "Participant ID" + "," * 16 + "\r\n", "Participant ID" + "," * 16 + "oops\r\n")
    r = run(garden)
    f = only(r.failures, field="column 21")
    assert (f.file, f.line, f.value, f.severity) == (DD, 2, "oops", "error")
    assert "has no header but holds a value" in f.rule


# ------------------------------------------------------------------ 25.7 the export date
def test_without_a_date_anywhere_the_export_date_is_unknown_never_the_run_date():
    r = run(rules=[{"kind": "not_after_export"}])
    assert r.ok and r.export_date is None and report_dict(r)["export_date"] is None
    assert any(n.startswith("export date: unknown (not in REDCap's file name") for n in r.notes)
    assert "not checked, as the export date is unknown: not_after_export (limits of 'today' or the export date)" \
        in r.notes
    text = summary_markdown(QualityData.from_result(r), load_settings({"study": {"title": "Garden"}}))
    assert "as exported on an unknown date (neither REDCap's file name" in text


def test_the_export_date_from_the_file_name_or_the_study_file(garden):
    (garden / DATA).rename(garden / "Garden_DATA_2025-03-01_1200.csv")
    r = validate(garden / "Garden_DATA_2025-03-01_1200.csv", dictionary=garden / DD)
    assert r.export_date.isoformat() == "2025-03-01" and "export date: 2025-03-01 (from the file name)" in r.notes
    r = validate(garden / "Garden_DATA_2025-03-01_1200.csv", dictionary=garden / DD,
                 settings={"export_date": "2025-03-02"})
    assert "export date: 2025-03-02 (from the study file)" in r.notes
