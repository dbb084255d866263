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
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the fixture is what it says
    assert raw.splitlines()[0].endswith(b",,,") and raw.splitlines().count(b",," * 10) >= 2000
    r = run()
    assert r.ok and r.errors == []
    assert [f.name for f in r.project.fields][:3] == ["participant_id", "consent_date", "first_name"]
    assert len(r.project.fields) == 14  # the blank rows are no fields
    # nothing said about the blank rows or the empty columns: only the shared label, as a warning
    assert [f.rule for f in r.failures if f.file == DD] == [
        "two choices share the label 'Other' (codes 1 and 4): REDCap allows it, but a table by label would "
        "show them as one"
    ]
    assert only(r.failures, field="plot_site").severity == "warning"
    assert r.project.field["plot_site"].codes[3] == ("4", "Other")  # both codes kept apart


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
    assert (
        "not checked, as the export date is unknown: not_after_export (limits of 'today' or the export date)"
        in r.notes
    )
    text = summary_markdown(QualityData.from_result(r), load_settings({"study": {"title": "Garden"}}))
    assert "as exported on an unknown date (neither REDCap's file name" in text


def test_the_export_date_from_the_file_name_or_the_study_file(garden):
    (garden / DATA).rename(garden / "Garden_DATA_2025-03-01_1200.csv")
    r = validate(garden / "Garden_DATA_2025-03-01_1200.csv", dictionary=garden / DD)
    assert (
        r.export_date.isoformat() == "2025-03-01"
        and "export date: 2025-03-01 (from the file name)" in r.notes
    )
    r = validate(
        garden / "Garden_DATA_2025-03-01_1200.csv",
        dictionary=garden / DD,
        settings={"export_date": "2025-03-02"},
    )
    assert "export date: 2025-03-02 (from the study file)" in r.notes


# ------------------------------------------------------------------ 25.9 project XML with data
def test_the_project_xml_with_data_is_the_records_source_when_no_export_is_given():
    from_xml = validate(None, project_xml=GARDEN / XML_DATA)
    from_csv = run()
    assert from_xml.ok and from_xml.records is not None and len(from_xml.records) == 4
    assert (
        "records: read from the project XML's ClinicalData (Garden_2025-03-14_0930.REDCap.xml); no records "
        "export was given" in from_xml.notes
    )
    assert from_xml.export_date.isoformat() == "2025-03-14"  # its CreationDateTime
    for form in ("intake", "visit"):  # the same typed tables as from the CSV export of the same records
        a, b = from_xml.tables[form].reset_index(drop=True), from_csv.tables[form].reset_index(drop=True)
        assert list(a.columns) == list(b.columns) and a.equals(b), form
    assert len(from_xml.tables["visit"]) == 3  # G-104 has no visit


def test_a_failure_in_the_xmls_data_names_the_xml_line(garden):
    edit(
        garden / XML_DATA, '<ItemData ItemOID="hours" Value="1"/>', '<ItemData ItemOID="hours" Value="one"/>'
    )
    r = validate(None, project_xml=garden / XML_DATA)
    f = only(r.failures, field="hours", rule="not a number")
    lines = (garden / XML_DATA).read_text().splitlines()
    assert (f.file, f.record, f.value) == (XML_DATA, "G-102", "one")
    assert (
        lines[f.line - 1].strip().startswith('<StudyEventData StudyEventOID="Event.event_1_arm_1"')
    )  # its row
    assert (
        lines[f.line - 2].strip() == '<SubjectData SubjectKey="G-102" redcap:RecordIdField="participant_id">'
    )


def test_a_project_xml_without_records_gets_its_quality_report_saying_so(garden, tmp_path):
    text = (garden / XML_DATA).read_text()
    empty = text[: text.index("\t<SubjectData")] + text[text.index("</ClinicalData>") :]
    (garden / XML_DATA).write_text(empty)
    r = validate(None, project_xml=garden / XML_DATA)
    assert r.ok and len(r.records) == 0 and all(len(t) == 0 for t in r.tables.values())
    assert only(r.failures, rule="ClinicalData hold no records").severity == "warning"
    text = summary_markdown(QualityData.from_result(r), load_settings({"study": {"title": "Garden"}}))
    assert (
        "**The export holds no records**: this report shows the project's structure (instruments and "
        "codebook) only." in text
    )
    from feasibility.quality import build_quality_report

    files = build_quality_report(
        QualityData.from_result(r),
        load_settings({"study": {"title": "Garden"}}),
        tmp_path / "quality",
        render=False,
    )
    codebook = (files["codebook_csv"]).read_text()
    assert "participant_id" in codebook and "visit_comment" in codebook


def test_a_metadata_only_xml_without_records_export_is_refused_by_name(tmp_path):
    text = (GARDEN / XML_DATA).read_text()
    (tmp_path / "meta.xml").write_text(text[: text.index("<ClinicalData")] + "</ODM>\n")
    r = validate(None, project_xml=tmp_path / "meta.xml")
    assert not r.ok
    assert only(r.failures, file="meta.xml", severity="error").rule.startswith(
        "no records export is given and the project XML holds no data (no ClinicalData)"
    )


# ------------------------------------------------------------------ 25.10 identifier hints
def test_free_text_that_looks_like_identifiers_is_a_warning_without_its_values():
    r = run()
    hints = {
        f.field: f for f in r.failures if f.rule.startswith("free-text field not flagged as an identifier")
    }
    assert set(hints) == {"contact_note", "buddy", "home_area"}  # not visit_comment, not first_name (flagged)
    assert (
        "e-mail addresses in 1 of its 4 values; phone numbers in 2 of its 4 values"
        in hints["contact_note"].rule
    )
    assert "people's names in 4 of its 4 values" in hints["buddy"].rule
    assert "postcodes in 4 of its 4 values" in hints["home_area"].rule
    for f in hints.values():
        assert f.severity == "warning" and (f.value, f.record, f.line) == ("", "", None)
    assert r.ok
    # the quality report lists them, as warnings, without a value
    from feasibility.quality import validation_summary

    data = QualityData.from_result(r)
    table = validation_summary(report_dict(r), data)
    rows = table[table["rule"].str.startswith("free-text field not flagged")]
    assert set(rows["field"]) == set(hints) and set(rows["severity"]) == {"warning"}
    shown = " ".join(table["rule"]) + " ".join(table["examples"])
    for value in ("Harriet Cole", "amelia.stone@example.org", "07700 900123", "SW1A 1AA", "Ravi Patel"):
        assert value not in shown


def test_flagging_the_field_an_identifier_ends_the_hint(garden):
    edit(garden / DD, "Gardening buddy" + "," * 7, "Gardening buddy" + "," * 6 + "y,")
    r = run(garden)
    assert r.project.field["buddy"].identifier
    assert not [f for f in r.failures if f.field == "buddy"]


def test_a_study_file_naming_only_the_project_xml_with_data_validates_it(garden, tmp_path):
    import json

    from feasibility import pipeline as steps
    from feasibility.config import ConfigError, load_study

    study = garden / "study.yaml"
    study.write_text(f"study: {{title: Garden}}\nredcap:\n  project_xml: {XML_DATA}\n")
    config = load_study(study)  # redcap.records is not required beside a project XML
    files = steps.redcap_files(config)
    assert set(files) == {"project_xml"}
    where = steps.ValidationPaths(str(tmp_path / "validation"))
    settings = steps.validation_settings(config)
    steps.validate(
        files, settings, steps.fingerprint(files), str(tmp_path / "validated"), where.passed, where
    )
    report = json.loads(Path(where.json).read_text())
    assert report["outcome"] == "passed" and report["export_date"] == "2025-03-14" and report["rows"] == 4
    assert sorted(p.name for p in (tmp_path / "validated").iterdir()) == [
        "codebook.json",
        "intake.parquet",
        "missing_codes.parquet",
        "visit.parquet",
    ]
    study.write_text("study: {title: Garden}\nredcap:\n  dictionary: Garden_DataDictionary_resaved.csv\n")
    with pytest.raises(ConfigError, match="redcap.records is required but missing"):
        load_study(study)  # without a project XML, the records export still is


# ------------------------------------------------------------------ 25.8 the project's names and labels
def test_the_record_id_keeps_its_name_in_the_validated_files(tmp_path):
    import json

    import pandas as pd

    from feasibility.analysis.study import StudyData
    from feasibility.redcap import write_validated

    write_validated(run(), tmp_path)
    intake = pd.read_parquet(tmp_path / "intake.parquet")
    assert list(intake.columns)[:2] == ["participant_id", "consent_date"] and "record_id" not in intake
    book = json.loads((tmp_path / "codebook.json").read_text())
    assert book["record_id_field"] == "participant_id" and "labels" not in book  # labels are off by default
    assert next(f for f in book["fields"] if f["name"] == "participant_id")["columns"] == ["participant_id"]
    assert list(intake.columns) == [
        "participant_id",
        "consent_date",
        "plot_site",
        "contact_note",
        "buddy",
        "home_area",
        "grows_veg",
        "tools___1",
        "tools___2",
        "tools___3",
        "intake_complete",
    ]
    # the readers key the tables by it as before
    assert QualityData.read(tmp_path).rows["record_id"].tolist()[:4] == ["G-101", "G-102", "G-103", "G-104"]
    assert StudyData.read(tmp_path).forms["visit"]["record_id"].tolist() == ["G-101", "G-102", "G-103"]


def test_labels_as_the_study_file_asks(tmp_path):
    import json

    import pandas as pd

    from feasibility.redcap import write_validated

    r = run(labels=True)
    write_validated(r, tmp_path)
    intake = pd.read_parquet(tmp_path / "intake.parquet")
    visit = pd.read_parquet(tmp_path / "visit.parquet")
    assert list(intake.columns) == [
        "participant_id",
        "consent_date",
        "plot_site",
        "plot_site_label",
        "contact_note",
        "buddy",
        "home_area",
        "grows_veg",
        "grows_veg_bool",
        "tools___1",
        "tools___2",
        "tools___3",
        "tools",
        "intake_complete",
    ]
    site = intake["plot_site_label"]
    assert isinstance(site.dtype, pd.CategoricalDtype)
    assert list(site.cat.categories) == [
        "Other",
        "Allotment",
        "Community garden",
    ]  # choices' order, "Other" once
    assert site.tolist() == ["Allotment", "Other", "Community garden", "Other"]  # codes 2, 4, 3, 1
    assert intake["grows_veg_bool"].tolist()[:3] == [True, False, True] and intake["grows_veg_bool"].isna()[3]
    assert intake["tools"].tolist()[:3] == ["Spade | Hoe", "Fork", "Spade | Fork | Hoe"]
    assert pd.isna(intake["tools"].iat[3])  # none ticked
    assert visit["mood_label"].tolist() == ["Good", "OK", "Good"] and visit["active_bool"].tolist() == [
        True,
        False,
        True,
    ]
    assert intake["plot_site"].tolist() == [2, 4, 3, 1]  # the codes stay
    book = json.loads((tmp_path / "codebook.json").read_text())
    columns = {f["name"]: f["label_column"] for f in book["fields"]}
    assert (
        book["labels"] is True and columns["plot_site"] == "plot_site_label" and columns["tools"] == "tools"
    )
    assert columns["buddy"] is None
    # the quality report reads the labelled tables as it reads coded ones
    from feasibility.quality import build_quality_report

    data = QualityData.read(tmp_path)
    files = build_quality_report(
        data, load_settings({"study": {"title": "Garden"}}), tmp_path / "quality", render=False
    )
    assert files["completion_csv"].is_file()


def test_designations_and_events_resaved_by_a_spreadsheet_are_read_too(long):
    from redcap_helpers import LONG_DES, LONG_EVENTS, validate_long

    for name in (LONG_DES, LONG_EVENTS):
        lines = (long / name).read_text(encoding="utf-8-sig").splitlines()
        width = lines[0].count(",") + 1
        resaved = [line + ",," for line in lines] + ["," * (width + 1)] * 50
        (long / name).write_bytes(b"\xef\xbb\xbf" + "\r\n".join(resaved).encode() + b"\r\n")
    r = validate_long(long)
    assert r.ok, [f.message() for f in r.errors]
    assert [f for f in r.failures if f.file in (LONG_DES, LONG_EVENTS)] == []
    assert len(r.project.events) == len(validate_long().project.events)
