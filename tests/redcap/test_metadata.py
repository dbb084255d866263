"""Metadata in: the dictionary (download or API form), designations, events, project XML."""

from __future__ import annotations

import datetime as dt

import pytest
from redcap_helpers import (
    CLASSIC,
    CLASSIC_DD,
    LONG,
    LONG_DES,
    LONG_EVENTS,
    LONG_META,
    XML,
    XML_FILE,
    edit,
    only,
    replace_line,
)

from feasibility.redcap import load_project, read_dictionary, read_project_xml
from feasibility.redcap.write import write_dictionary


def test_classic_dictionary_download_every_field_type():
    project, failures = load_project(dictionary=CLASSIC / CLASSIC_DD)
    assert failures == []
    assert project.record_id_field == "study_id" and not project.longitudinal
    assert [f.name for f in project.forms] == ["enrolment", "baseline_questionnaire"]
    assert [f.label for f in project.forms] == ["Enrolment", "Baseline questionnaire"]
    types = {f.type for f in project.fields}
    assert types == {
        "text",
        "notes",
        "radio",
        "dropdown",
        "checkbox",
        "yesno",
        "truefalse",
        "calc",
        "slider",
        "descriptive",
        "file",
        "sql",
    }
    f = project.field
    assert f["enr_sex"].choices == (("1", "Female"), ("2", "Male"), ("3", "Another term"))  # no spaces at |
    assert f["enr_conditions"].choices[1] == ("2", "Arthritis, any kind")  # comma in a label
    assert f["enr_conditions"].export_columns == (
        "enr_conditions___1",
        "enr_conditions___2",
        "enr_conditions___a",
        "enr_conditions____99",
    )
    assert f["enr_height"].maximum == 220.0 and f["enr_height"].max_text == "220.0"  # 220.0 is 220
    assert f["enr_consent_date"].minimum == dt.date(2023, 1, 1)
    assert f["enr_dob"].maximum == "today"
    assert f["enr_bmi"].calculation == "round([enr_weight]*10000/([enr_height]^2),1)"
    assert f["bq_pain"].slider_labels == ("No pain", "", "Worst pain imaginable")
    assert f["bq_clinic"].calculation == "select value, label from clinics"
    assert [x.name for x in project.fields if x.identifier] == [
        "enr_name",
        "enr_dob",
        "enr_email",
        "enr_phone",
        "enr_postcode",
    ]
    assert f["enr_site"].required and f["bq_mobility"].action_tags == {"@NOMISSING"}
    assert f["enr_info"].line == 18 and f["enr_time"].line == 20  # a label over two lines: physical lines
    assert f["enr_info"].export_columns == ()
    assert (
        "validation type 'hospital_ref' is not one this library knows; values of bq_ref are checked as "
        "text only" in project.notes
    )


def test_api_metadata_and_designations_and_events():
    project, failures = load_project(
        dictionary=LONG / LONG_META, instrument_designations=LONG / LONG_DES, events=LONG / LONG_EVENTS
    )
    assert failures == []
    assert project.longitudinal and project.record_id_field == "participant_id"
    assert [(a.num, a.name) for a in project.arms] == [(1, "Arm 1"), (2, "Arm 2")]
    assert [(e.unique_name, e.label, e.arm) for e in project.events][:3] == [
        ("screening_arm_1", "Screening", 1),
        ("baseline_arm_1", "Baseline", 1),
        ("visit_arm_1", "Visit", 1),
    ]
    assert project.events_of("adverse_event") == (
        "baseline_arm_1",
        "month_6_arm_1",
        "baseline_arm_2",
        "month_6_arm_2",
    )
    assert project.repeating is None  # not declared: read from the records
    assert list(project.notes[:2]) == [
        "TrialLong_metadata.csv: REDCap's API metadata (no byte-order mark, LF line ends)",
        "TrialLong_InstrumentDesignations_2024-09-01.csv: instrument designations (UTF-8 byte-order mark, "
        "CRLF line ends, as REDCap's download writes them)",
    ]


def test_the_same_dictionary_written_in_either_form_reads_the_same(tmp_path):
    project, _ = load_project(dictionary=CLASSIC / CLASSIC_DD)
    write_dictionary(project, tmp_path / "api.csv", api=True)
    write_dictionary(project, tmp_path / "download.csv", api=False)
    assert (tmp_path / "download.csv").read_bytes().startswith(b"\xef\xbb\xbfVariable / Field Name,")
    a, _ = load_project(dictionary=tmp_path / "api.csv")
    b, _ = load_project(dictionary=tmp_path / "download.csv")

    def strip(p):
        return [
            (
                f.name,
                f.form,
                f.type,
                f.choices,
                f.validation,
                f.minimum,
                f.maximum,
                f.identifier,
                f.branching,
                f.required,
                f.annotation,
            )
            for f in p.fields
        ]

    assert strip(a) == strip(b) == strip(project)


@pytest.mark.parametrize(
    "old, new, line, field, value, rule",
    [
        (
            '"enr_smoker","enrolment"',
            '"enr_sex","enrolment"',
            14,
            "enr_sex",
            "enr_sex",
            "field name appears twice in the data dictionary (first on line 10)",
        ),
        (
            '"1, Back pain | 2, Arthritis, any kind | A, Migraine | -99, Prefer not to say"',
            '"1, Back pain | Arthritis | A, Migraine"',
            16,
            "enr_conditions",
            "1, Back pain | Arthritis | A, Migraine",
            "choice list cannot be read: choice 'Arthritis' is not 'code, label'",
        ),
        (
            '"enr_sex","enrolment","About you","radio"',
            '"enr_sex","enrolment","About you","radios"',
            10,
            "enr_sex",
            "radios",
            "unknown field type",
        ),
        (
            '"number_1dp","100","220.0"',
            '"number_1dp","100","9O"',
            11,
            "enr_height",
            "9O",
            "validation maximum cannot be read as a number (number_1dp)",
        ),
        (
            '"number","30","250"',
            '"number","300","250"',
            12,
            "enr_weight",
            "250",
            "validation minimum 300 is above the maximum",
        ),
        (
            '"enr_notes","enrolment"',
            '"Enr Notes","enrolment"',
            25,
            "Enr Notes",
            "Enr Notes",
            "field name is not a REDCap variable name",
        ),
        (
            '"1, Female|2, Male|3, Another term"',
            '"1, Female|2, Male|1, Another term"',
            10,
            "enr_sex",
            "1, Female|2, Male|1, Another term",
            "code '1' appears more than once",
        ),
        (
            '"bq_pain","baseline_questionnaire"',
            '"bq_pain","enrolment"',
            27,
            "bq_pain",
            "enrolment",
            "field of form enrolment comes after fields of form baseline_questionnaire",
        ),
        (
            "| A, Migraine",
            "| a, Migraine",
            16,
            "enr_conditions",
            "1, Back pain | 2, Arthritis, any kind | a, Migraine | -99, Prefer not to say",
            "",
        ),
    ],
)
def test_dictionary_problems_name_file_line_field_and_value(tmp_path, old, new, line, field, value, rule):
    path = tmp_path / CLASSIC_DD
    path.write_bytes((CLASSIC / CLASSIC_DD).read_bytes())
    edit(path, old, new)
    fields, notes, failures = read_dictionary(path)
    if not rule:  # a harmless change: still read
        assert failures == []
        return
    f = only(failures, line=line, field=field)
    assert f.file == CLASSIC_DD and f.value == value and rule in f.rule and f.severity == "error"


def test_checkbox_codes_that_give_one_column_are_refused(tmp_path):
    path = tmp_path / CLASSIC_DD
    path.write_bytes((CLASSIC / CLASSIC_DD).read_bytes())
    edit(
        path,
        '"1, Back pain | 2, Arthritis, any kind | A, Migraine',
        '"1, Back pain | 2, Arthritis, any kind | A, Migraine | a, migraine (lower)',
    )
    f = only(read_dictionary(path)[2], field="enr_conditions")
    assert f.rule.startswith("checkbox codes give the same export column enr_conditions___a")


def test_not_a_dictionary(tmp_path):
    path = tmp_path / "dd.csv"
    path.write_text("study_id,enr_site\n1,B\n")
    (f,) = read_dictionary(path)[2]
    assert f.rule.startswith("not a REDCap data dictionary: the header starts 'study_id, enr_site'")


def test_dictionary_missing_a_needed_column(tmp_path):
    path = tmp_path / "dd.csv"
    path.write_text("field_name,form_name,field_type,field_label\nrecord_id,f,text,ID\n")
    failures = read_dictionary(path)[2]
    assert {f.field for f in failures} == {
        "select_choices_or_calculations",
        "text_validation_type_or_show_slider_number",
        "text_validation_min",
        "text_validation_max",
    }


@pytest.mark.parametrize(
    "line, new, field, value, rule",
    [
        (
            3,
            "1,baseline_arm_1,consents",
            "form",
            "consents",
            "designation names a form that is not in the data dictionary",
        ),
        (4, "1,Baseline,baseline", "", "Baseline", "unique_event_name is not a REDCap unique event name"),
        (5, "one,baseline_arm_1,adverse_event", "", "one", "arm_num is not a whole number"),
        (
            6,
            "2,visit_arm_1,visit",
            "",
            "2",
            "event visit_arm_1 is designated to arm 2 but its name ends in a different arm",
        ),
    ],
)
def test_designation_problems(tmp_path, line, new, field, value, rule):
    path = tmp_path / LONG_DES
    path.write_bytes((LONG / LONG_DES).read_bytes())
    replace_line(path, line, new)
    project, failures = load_project(dictionary=LONG / LONG_META, instrument_designations=path)
    f = only(failures, line=line)
    assert (f.file, f.field, f.value) == (LONG_DES, field, value) and rule in f.rule
    assert project is None


def test_project_xml_replaces_dictionary_designations_and_repeating_settings():
    project, failures = read_project_xml(XML / XML_FILE)
    assert failures == []
    assert project.title == "Pilot Study" and project.record_id_field == "pid"
    assert [(e.unique_name, e.label, e.arm, e.day_offset) for e in project.events] == [
        ("baseline_arm_1", "Baseline", 1, 1.0),
        ("call_arm_1", "Phone call", 1, 14.0),
        ("week_12_arm_1", "Week 12", 1, 84.0),
    ]
    assert project.designations == (
        ("baseline_arm_1", "demographics"),
        ("baseline_arm_1", "medication"),
        ("call_arm_1", "phone_call"),
        ("week_12_arm_1", "outcomes"),
    )
    assert project.repeating.instruments == {("baseline_arm_1", "medication")}
    assert project.repeating.events == {"call_arm_1"}
    assert project.missing_data_codes == (("NA", "Not applicable"), ("UNK", "Unknown"))
    f = project.field
    assert (f["dem_gender"].type, f["dem_address"].type) == ("dropdown", "notes")  # select, textarea
    assert (f["dem_height"].validation, f["dem_children"].validation) == ("number", "integer")  # float, int
    assert (f["dem_height"].minimum, f["dem_height"].maximum) == (120.0, 220.0)
    assert f["dem_dob"].minimum == dt.date(1930, 1, 1) and f["dem_dob"].required and f["dem_dob"].identifier
    assert f["dem_lang"].choices == (("EN", "English"), ("CY", "Welsh"), ("OTH", "Other"))
    assert f["dem_lang"].export_columns == ("dem_lang___en", "dem_lang___cy", "dem_lang___oth")
    assert f["dem_lang_other"].branching == "[dem_lang(OTH)] = '1'"
    assert f["dem_gender"].codes[2] == ("X", "Another gender, or prefers not to say")
    assert f["dem_intro"].type == "descriptive" and f["dem_intro"].line == 156
    assert [x.name for x in project.forms] == ["demographics", "medication", "phone_call", "outcomes"]
    assert project.form["outcomes"].label == "Outcomes at week 12"
    assert "demographics_complete" not in f


def test_project_xml_problems(tmp_path):
    path = tmp_path / XML_FILE
    path.write_bytes((XML / XML_FILE).read_bytes())
    edit(
        path,
        'redcap:FieldType="select">\n\t\t<Question><TranslatedText>Gender',
        'redcap:FieldType="selectbox">\n\t\t<Question><TranslatedText>Gender',
    )
    edit(
        path,
        '<FormRef FormOID="Form.outcomes" OrderNumber="1" Mandatory="No" redcap:FormName="outcomes"/>',
        '<FormRef FormOID="Form.outcome" OrderNumber="1" Mandatory="No" redcap:FormName="outcome"/>',
    )
    project, failures = read_project_xml(path)
    assert project is None
    f = only(failures, field="dem_gender")
    assert (f.line, f.value) == (120, "selectbox") and f.rule.startswith("unknown redcap:FieldType")
    f = only(failures, value="outcome")
    assert (f.line, f.event) == (41, "week_12_arm_1")
    assert f.rule == "FormRef names a form the project XML does not define"


def test_not_odm_and_broken_xml(tmp_path):
    (tmp_path / "a.xml").write_text("<?xml version='1.0'?><project/>")
    assert read_project_xml(tmp_path / "a.xml")[1][0].rule.startswith("not a CDISC ODM file")
    (tmp_path / "b.xml").write_text("<?xml version='1.0'?>\n<ODM>\n<Study>\n</ODM>")
    (f,) = read_project_xml(tmp_path / "b.xml")[1]
    assert f.rule.startswith("not readable XML: mismatched tag") and f.line == 4
    (tmp_path / "c.xml").write_text('<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "x">]><ODM>&a;</ODM>')
    assert "entity declarations are not allowed" in read_project_xml(tmp_path / "c.xml")[1][0].rule


def test_designation_naming_an_event_the_events_file_does_not_have(tmp_path):
    path = tmp_path / LONG_DES
    path.write_bytes((LONG / LONG_DES).read_bytes())
    replace_line(path, 6, "1,visits_arm_1,visit")
    project, failures = load_project(
        dictionary=LONG / LONG_META, instrument_designations=path, events=LONG / LONG_EVENTS
    )
    f = only(failures, line=6)
    assert (f.file, f.event, f.field, f.value) == (
        LONG_DES,
        "visits_arm_1",
        "unique_event_name",
        "visits_arm_1",
    )
    assert f.rule == "designation names an event that is not in the events file"
