"""The all-records export: columns against the project, the split into tidy tables, types,
missing-data codes, repeating structure, designations."""

from __future__ import annotations

import pandas as pd
import pytest
from redcap_helpers import (
    CLASSIC_DATA,
    LONG_DATA,
    XML,
    XML_DATA,
    XML_FILE,
    edit,
    only,
    validate_classic,
    validate_long,
    validate_xml,
)


# ------------------------------------------------------------------------------ valid projects
def test_classic_project_tables_follow_the_validated_data_interface():
    r = validate_classic()
    assert r.ok and r.failures == []
    enr, bq = r.tables["enrolment"], r.tables["baseline_questionnaire"]
    assert list(enr.columns) == [
        "record_id",
        "redcap_data_access_group",
        "enr_site",
        "enr_consent_date",
        "enr_sex",
        "enr_height",
        "enr_weight",
        "enr_bmi",
        "enr_smoker",
        "enr_cigs",
        "enr_conditions___1",
        "enr_conditions___2",
        "enr_conditions___a",
        "enr_conditions____99",
        "enr_cond_other",
        "enr_time",
        "enr_visit_dt",
        "enr_able",
        "enr_file",
        "enr_sign",
        "enr_notes",
        "enrolment_complete",
    ]  # identifiers gone, descriptive has no column
    dtypes = {c: str(t) for c, t in enr.dtypes.items()}
    assert dtypes["enr_consent_date"] == dtypes["enr_visit_dt"] == "datetime64[ns]"
    assert (
        dtypes["enr_sex"]
        == dtypes["enr_smoker"]
        == dtypes["enr_cigs"]
        == dtypes["enrolment_complete"]
        == "Int64"
    )
    assert dtypes["enr_height"] == dtypes["enr_bmi"] == "float64"
    assert dtypes["enr_conditions____99"] == "boolean"
    assert str(enr["enr_site"].dtype) == "string" and str(enr["enr_time"].dtype) == "string"
    assert enr.index.tolist() == [2, 4, 5, 6, 7]  # physical lines (record 1 spans 2-3)
    assert enr["enr_notes"].iloc[0] == "Prefers morning\r\ncalls; café nearby"
    assert enr["enr_visit_dt"].iloc[0] == pd.Timestamp("2024-01-05 09:45:00")
    assert enr["enr_conditions___a"].tolist()[:2] == [True, False]
    assert bq.index.tolist() == [2, 4, 5]  # record 4: complete 0 and no data; 5: nothing
    assert str(bq["baseline_questionnaire_timestamp"].dtype) == "datetime64[ns]"
    assert pd.isna(bq["baseline_questionnaire_timestamp"].iloc[1])  # "[not completed]"
    assert bq["bq_score"].tolist()[0] == 7.25 and bq["bq_hours"].tolist()[0] == 37.5  # comma decimals
    assert bq["bq_employment"].tolist() == ["unemp", "emp", "other"]  # word codes stay text
    assert bq["bq_pain"].tolist()[0] == 35 and str(bq["bq_pain"].dtype) == "Int64"
    assert "redcap_survey_identifier" not in bq and "redcap_survey_identifier" not in enr


def test_missing_data_codes_are_counted_never_bad_data_never_numbers():
    r = validate_classic()
    m = r.missing.drop(columns="line")
    assert m.to_dict(orient="records") == [
        {
            "record_id": "2",
            "redcap_event_name": None,
            "redcap_repeat_instance": None,
            "form": "enrolment",
            "field": "enr_weight",
            "code": "UNK",
        },
        {
            "record_id": "2",
            "redcap_event_name": None,
            "redcap_repeat_instance": None,
            "form": "baseline_questionnaire",
            "field": "bq_date",
            "code": "NASK",
        },
        {
            "record_id": "3",
            "redcap_event_name": None,
            "redcap_repeat_instance": None,
            "form": "enrolment",
            "field": "enr_conditions",
            "code": "UNK",
        },
    ]
    enr = r.tables["enrolment"]
    assert pd.isna(enr.loc[4, "enr_weight"])  # a code is NA, not a number
    assert enr.loc[5, ["enr_conditions___1", "enr_conditions____99"]].isna().all()  # checkbox code: all NA
    # bq_date is required and its form complete: NASK explains the blank, so no failure


def test_without_declared_codes_a_code_is_bad_data():
    r = validate_classic(missing_data_codes=None)
    f = only(r.failures, line=4, field="enr_weight")
    assert (f.value, f.rule) == ("UNK", "not a number")
    f = only(r.failures, field="enr_conditions___unk")
    assert f.rule.startswith("unknown column 21 'enr_conditions___unk'")


def test_nomissing_action_tag_refuses_a_missing_data_code(classic):
    edit(classic / CLASSIC_DATA, ',"7,25","37,5",70.1250,', ',"7,25","37,5",70.1250,')  # unchanged: sanity
    edit(
        classic / CLASSIC_DATA,
        "\r\n2,coventry,,C,2024-01-10,Bob Sample,1975-07-14,bob@example.org,024 7696 0000,"
        "CV1 5FB,2,180.0,UNK,,1,10,0,0,0,1,0,,14:05,2024-01-11 08:00:00,0,,,,2,[not completed],NASK,,3,",
        "\r\n2,coventry,,C,2024-01-10,Bob Sample,1975-07-14,bob@example.org,024 7696 0000,"
        "CV1 5FB,2,180.0,UNK,,1,10,0,0,0,1,0,,14:05,2024-01-11 08:00:00,0,,,,2,[not completed],NASK,,UNK,",
    )
    r = validate_classic(classic)
    f = only(r.failures, field="bq_mobility")
    assert (f.line, f.record, f.value, f.rule) == (
        4,
        "2",
        "UNK",
        "a missing-data code in a field marked @NOMISSING",
    )


def test_longitudinal_project_split_per_instrument_event_and_instance():
    r = validate_long()
    assert r.ok, r.failures
    ae = r.tables["adverse_event"]
    assert list(ae.columns[:4]) == ["record_id", "redcap_event_name", "redcap_arm", "redcap_repeat_instance"]
    assert ae[["record_id", "redcap_event_name", "redcap_repeat_instance"]].astype(
        object
    ).values.tolist() == [
        ["101", "baseline_arm_1", 1],
        ["101", "baseline_arm_1", 2],
        ["102", "month_6_arm_1", 1],
    ]
    assert ae.index.tolist() == [4, 5, 12]
    visit = r.tables["visit"]
    assert visit["redcap_repeat_instance"].tolist() == [1, 2]  # a repeating event
    base = r.tables["baseline"]
    assert "redcap_repeat_instance" not in base  # never repeats
    assert base["redcap_arm"].tolist() == [1, 1, 2]
    assert r.tables["screening"]["record_id"].tolist() == ["101", "102", "103", "104"]
    assert r.project.repeating.instruments == {
        ("baseline_arm_1", "adverse_event"),
        ("month_6_arm_1", "adverse_event"),
    }
    assert r.project.repeating.events == {"visit_arm_1"}
    assert (
        "repeating set-up read from the records (not declared): adverse_event at baseline_arm_1, adverse_event "
        "at month_6_arm_1, event visit_arm_1" in r.notes
    )
    m = r.missing.drop(columns="line").to_dict(orient="records")
    assert m == [
        {
            "record_id": "102",
            "redcap_event_name": "baseline_arm_1",
            "redcap_repeat_instance": None,
            "form": "baseline",
            "field": "bl_weight",
            "code": "UNK",
        },
        {
            "record_id": "103",
            "redcap_event_name": "baseline_arm_2",
            "redcap_repeat_instance": None,
            "form": "baseline",
            "field": "bl_meds",
            "code": "-999",
        },
    ]


def test_project_xml_project_with_letter_codes_and_a_repeating_event():
    r = validate_xml()
    assert r.ok, r.failures
    demo = r.tables["demographics"]
    assert demo["dem_gender"].tolist() == ["F", "M", "X"]
    assert demo.loc[2, ["dem_lang___en", "dem_lang___cy", "dem_lang___oth"]].tolist() == [True, True, False]
    assert r.tables["outcomes"]["out_hours"].tolist()[0] == 22.5
    assert r.tables["phone_call"]["redcap_repeat_instance"].tolist() == [1, 2]
    assert sorted(r.missing["code"]) == ["NA", "UNK", "UNK"]  # codes from the project XML


# ------------------------------------------------------------------------------ broken exports
def test_labels_export_is_named_once(classic):
    path = classic / CLASSIC_DATA
    text = path.read_bytes().decode("utf-8-sig")
    header, rest = text.split("\r\n", 1)
    labels = (
        header.replace("study_id", "Study ID")
        .replace("redcap_data_access_group", "Data Access Group")
        .replace("enrolment_complete", "Complete?")
        .replace("baseline_questionnaire_complete", "Complete?")
        .replace("enr_site", "Site")
        .replace("enr_consent_date", "Date of consent")
    )
    path.write_bytes(("\ufeff" + labels + "\r\n" + rest).encode())
    r = validate_classic(classic)
    (f,) = r.failures
    assert f.file == CLASSIC_DATA and f.line == 1
    assert f.rule.startswith(
        "this is a labels export (its header holds labels such as 'Study ID', 'Data Access Group', 'Site')"
    )


def test_label_values_under_raw_headers_are_named(long):
    path = long / LONG_DATA
    text = path.read_text().replace(",2\n", ",Complete\n")
    path.write_text(text)
    r = validate_long(long)
    (f,) = r.failures
    assert (f.line, f.field) == (2, "followup_complete")
    assert f.rule == (
        "the values are labels (column followup_complete holds 'Complete'), not raw codes: export "
        "the records as raw data (API: rawOrLabel=raw)"
    )


@pytest.mark.parametrize(
    "old, new, field, rule",
    [
        (
            "enr_cond_other,enr_time",
            "enr_cond_other,enr_timing",
            "enr_timing",
            "unknown column 23 'enr_timing': not in the data dictionary",
        ),
        (
            "enr_conditions___a,",
            "enr_conditions___b,",
            "enr_conditions___b",
            "unknown column 19 'enr_conditions___b': not in the data dictionary (not a choice of checkbox enr_conditions",
        ),
        (
            "enrolment_complete",
            "enrolment_completed",
            "enrolment_completed",
            "unknown column 29 'enrolment_completed'",
        ),
    ],
)
def test_unknown_columns_named_with_position(classic, old, new, field, rule):
    edit(classic / CLASSIC_DATA, old, new)
    r = validate_classic(classic)
    f = only(r.failures, field=field)
    assert f.line == 1 and f.rule.startswith(rule)
    assert any(
        x.field == old.rstrip(",").split(",")[-1] and "is missing from the export" in x.rule
        for x in r.failures
    )


def test_export_of_another_project(long):
    path = long / LONG_DATA
    path.write_text(path.read_text().replace("participant_id,", "record_id,", 1))
    r = validate_long(long)
    (f,) = r.failures
    assert f.rule == (
        "the first column is 'record_id', but the data dictionary's record ID field is "
        "'participant_id': is this the export of another project?"
    )


def test_longitudinal_export_without_event_column(long):
    path = long / LONG_DATA
    lines = path.read_text().split("\n")
    path.write_text(
        "\n".join(
            ",".join(c for i, c in enumerate(line.split(",")) if i != 1) if line and '"' not in line else line
            for line in lines
        )
    )
    r = validate_long(long)
    assert any(
        f.rule == "the project is longitudinal but the export has no redcap_event_name column"
        for f in r.failures
    )


@pytest.mark.parametrize(
    "line, old, new, field, value, rule",
    [
        (
            16,
            "104,screening_arm_1,",
            "104,screening_arm_3,",
            "redcap_event_name",
            "screening_arm_3",
            "not an event of this project (see the instrument designations)",
        ),
        (16, "104,screening_arm_1,", ",screening_arm_1,", "participant_id", "", "the record ID is blank"),
        (
            4,
            "101,baseline_arm_1,adverse_event,1,",
            "101,baseline_arm_1,adverse_events,1,",
            "redcap_repeat_instrument",
            "adverse_events",
            "the repeat instrument is not a form of this project",
        ),
        (
            4,
            "101,baseline_arm_1,adverse_event,1,",
            "101,baseline_arm_1,adverse_event,0,",
            "redcap_repeat_instance",
            "0",
            "the repeat instance is not a whole number from 1",
        ),
        (
            4,
            "101,baseline_arm_1,adverse_event,1,",
            "101,baseline_arm_1,adverse_event,,",
            "redcap_repeat_instance",
            "",
            "a repeating instrument's row has no repeat instance",
        ),
    ],
)
def test_row_keys_are_checked(long, line, old, new, field, value, rule):
    edit(long / LONG_DATA, old, new)
    r = validate_long(long)
    f = only(r.failures, line=line, field=field)
    assert (f.value, f.rule) == (value, rule)


def test_repeat_columns_on_a_form_that_does_not_repeat(long):
    edit(long / LONG_DATA, "101,baseline_arm_1,adverse_event,1,", "101,baseline_arm_1,baseline,1,")
    r = validate_long(
        long,
        repeating={
            "instruments": [
                {"form": "adverse_event", "event": "baseline_arm_1"},
                {"form": "adverse_event", "event": "month_6_arm_1"},
            ],
            "events": ["visit_arm_1"],
        },
    )
    f = only(r.failures, line=4, field="redcap_repeat_instrument")
    assert f.value == "baseline"
    assert f.rule.startswith("repeat columns on a form that does not repeat at this event")


def test_a_form_value_on_another_instruments_repeat_row(long):
    # bl_weight is the 15th column; ae_date the 22nd
    edit(
        long / LONG_DATA,
        "101,baseline_arm_1,adverse_event,1," + "," * 17 + "2024-01-20",
        "101,baseline_arm_1,adverse_event,1," + "," * 10 + "73.0" + "," * 7 + "2024-01-20",
    )
    r = validate_long(long)
    f = only(r.failures, line=4, field="bl_weight")
    assert f.value == "73.0"
    assert f.rule.startswith("form baseline has a value on a repeat row of instrument adverse_event")


def test_data_at_an_event_the_designations_do_not_give_the_form(long):
    edit(
        long / LONG_DATA,
        "104,screening_arm_1,,,2024-01-12,0,2,2,,,,,,,,",
        "104,screening_arm_1,,,2024-01-12,0,2,2,,,,,2024-01-12,,,",
    )
    r = validate_long(long)
    f = only(r.failures, line=16, field="redcap_event_name")
    assert (f.record, f.value) == ("104", "screening_arm_1")
    assert f.rule.startswith("form baseline has data at an event the instrument designations do not give it")


def test_two_rows_for_one_record_event_and_instance(long):
    path = long / LONG_DATA
    text = path.read_text()
    path.write_text(text + "102,screening_arm_1,,,2024-01-11,1,,2" + "," * 30 + "\n")
    r = validate_long(long)
    f = only(r.failures, line=17)
    assert (f.record, f.event, f.field) == ("102", "screening_arm_1", "participant_id")  # the project's name
    assert f.rule.startswith(
        "record 102 has a second row of form screening at event screening_arm_1 (first on line 10)"
    )


@pytest.mark.parametrize(
    "old, new, line, field, value, rule",
    [
        (
            "\r\n1,birmingham,,B,2024-01-05,",
            "\r\n1,birmingham,,Q,2024-01-05,",
            2,
            "enr_site",
            "Q",
            "not a code of enr_site (its codes are B, C, L)",
        ),
        (",165.5,70,25.6,", ",165.5,700,25.6,", 2, "enr_weight", "700", "above the validation maximum 250"),
        (
            ",165.5,70,25.6,",
            ",165.55,70,25.6,",
            2,
            "enr_height",
            "165.55",
            "not a number with 1 decimal place",
        ),
        (",165.5,70,25.6,", ",99.5,70,25.6,", 2, "enr_height", "99.5", "below the validation minimum 100"),
        (
            ",165.5,70,25.6,0,",
            ",165.5,70,25.6,2,",
            2,
            "enr_smoker",
            "2",
            "not a code of enr_smoker (its codes are 1, 0)",
        ),
        (
            "2024-01-05 09:45:00",
            "2024-01-05 9:45",
            2,
            "enr_visit_dt",
            "2024-01-05 9:45",
            "not a valid date and time with seconds (YYYY-MM-DD HH:MM:SS)",
        ),
        ("1980-02-29", "1980-02-30", None, None, None, None),
        (",AE,06:30,", ",A3,06:30,", 2, "bq_initials", "A3", "not a valid letters only (alpha_only)"),
        (",AE,06:30,", ",AE,6:30,", 2, "bq_walk", "6:30", "not a valid time (MM:SS)"),
        (
            '"7,25"',
            '"7.25"',
            2,
            "bq_score",
            "7.25",
            "not a number with 2 decimal places (comma as decimal mark)",
        ),
        (
            "2024-01-05 10:02:11",
            "05/01/2024 10:02",
            2,
            "baseline_questionnaire_timestamp",
            "05/01/2024 10:02",
            "survey timestamp is not 'YYYY-MM-DD HH:MM:SS' or '[not completed]'",
        ),
        (",35,2,", ",135,2,", 2, "bq_pain", "135", "slider value outside 0 to 100"),
        (
            ",1,0,1,0,0,2019,",
            ",1,0,yes,0,0,2019,",
            2,
            "enr_conditions___a",
            "yes",
            "checkbox value is not 0 or 1",
        ),
        (
            "ann@example.org",
            "ann(at)example.org",
            2,
            "enr_email",
            "ann(at)example.org",
            "not a valid e-mail address (email)",
        ),
        (
            ",2022-06-01,2\r\n",
            ",2022-06-01,3\r\n",
            2,
            "baseline_questionnaire_complete",
            "3",
            "form status is not 0 (Incomplete), 1 (Unverified) or 2 (Complete)",
        ),
    ],
)
def test_cell_failures_name_line_record_field_value_rule(classic, old, new, line, field, value, rule):
    edit(classic / CLASSIC_DATA, old, new)
    r = validate_classic(classic)
    if rule is None:  # not a date, but it is an identifier's: still checked
        f = only(r.failures, field="enr_dob")
        assert (f.line, f.value, f.rule) == (2, "1980-02-30", "not a valid date (YYYY-MM-DD)")
        return
    f = only(r.failures, line=line, field=field)
    # REDCap stores an out-of-range value after a warning: a warning unless the study says error
    soft = rule.startswith(("above the validation", "below the validation", "slider value outside"))
    assert (f.file, f.record, f.value, f.rule, f.severity) == (
        CLASSIC_DATA,
        "1",
        value,
        rule,
        "warning" if soft else "error",
    )
    assert r.tables and (soft or not r.ok)  # the tables exist for inspection either way
    if soft:
        f = only(validate_classic(classic, out_of_range="error").failures, line=line, field=field)
        assert f.severity == "error"


def test_out_of_range_is_a_warning_unless_the_study_says_error(classic):
    edit(classic / CLASSIC_DATA, ",165.5,70,25.6,", ",165.5,700,255.6,")
    r = validate_classic(classic)
    f = only(r.failures, field="enr_weight")
    assert f.severity == "warning" and r.ok
    r = validate_classic(classic, out_of_range="error")
    assert only(r.failures, field="enr_weight").severity == "error" and not r.ok


def test_required_field_blank_when_form_complete(classic):
    edit(classic / CLASSIC_DATA, "\r\n3,leeds,cara@example.org,L,", "\r\n3,leeds,cara@example.org,,")
    r = validate_classic(classic)
    f = only(r.failures, line=5, field="enr_site")
    assert f.rule == "required field is blank but form enrolment is marked Complete"
    # the same blank on a form marked Unverified is no failure
    edit(classic / CLASSIC_DATA, "\r\n4,birmingham,,B,", "\r\n4,birmingham,,,")
    r = validate_classic(classic)
    assert [f.line for f in r.failures if f.field == "enr_site"] == [5]


def test_control_characters_in_text(classic):
    edit(classic / CLASSIC_DATA, ",H-001,", ",H-\x07001,")
    r = validate_classic(classic)
    f = only(r.failures, field="bq_ref")
    assert f.value == "H-<U+0007 BELL>001" and f.rule.startswith("text contains control characters")


def test_checkbox_with_a_ticked_choice_and_a_missing_code(classic):
    edit(
        classic / CLASSIC_DATA,
        "\r\n3,leeds,cara@example.org,L,2024-02-01,Cara Test,1990-12-01,cara@example.org,"
        "0113 496 0000,LS1 4AP,3,170.2,82.4,28.4,0,,0,0,0,0,1,",
        "\r\n3,leeds,cara@example.org,L,2024-02-01,Cara Test,1990-12-01,cara@example.org,"
        "0113 496 0000,LS1 4AP,3,170.2,82.4,28.4,0,,1,0,0,0,1,",
    )
    r = validate_classic(classic)
    f = only(r.failures, field="enr_conditions")
    assert (f.line, f.value) == (5, "UNK")
    assert f.rule == "a choice is ticked and the field also holds a missing-data code"


def test_the_writer_gives_back_the_same_tables(tmp_path):
    """An export written from the tables (REDCap's shape) reads back to the same tables."""
    from feasibility.redcap import load_project, read_records, tidy_tables, write_records

    project, _ = load_project(project_xml=XML / XML_FILE)
    rec, _ = read_records(XML / XML_DATA, project)
    tables = {k: t.data for k, t in tidy_tables(rec)[0].items()}
    write_records(project, tables, tmp_path / XML_DATA, bom=False, crlf=False)
    rec2, failures = read_records(tmp_path / XML_DATA, project)
    assert failures == []
    tables2, failures = tidy_tables(rec2)
    assert failures == []
    for form, df in tables.items():
        pd.testing.assert_frame_equal(df.reset_index(drop=True), tables2[form].data.reset_index(drop=True))


@pytest.mark.parametrize("crlf", [False, True], ids=["api", "download"])
def test_the_writer_quotes_a_lone_carriage_return(tmp_path, crlf):
    """Free text holding a lone CR (and nothing else a CSV quotes for) is quoted as REDCap
    quotes it, and reads back as written: Python's csv writer alone leaves it unquoted."""
    from feasibility.redcap import load_project, read_records, tidy_tables, write_records

    project, _ = load_project(project_xml=XML / XML_FILE)
    rec, _ = read_records(XML / XML_DATA, project)
    tables = {k: t.data.copy() for k, t in tidy_tables(rec)[0].items()}
    text = "one\rtwo"
    form, column = next(
        (f, c)
        for f, df in tables.items()
        for c in df.columns
        if df[c].dtype == "string"
        and df[c].notna().any()
        and not c.startswith("redcap_")
        and c != df.columns[0]
    )
    first = tables[form][column].first_valid_index()
    tables[form].loc[first, column] = text
    write_records(project, tables, tmp_path / XML_DATA, bom=False, crlf=crlf)
    assert ',"one\rtwo"' in (tmp_path / XML_DATA).read_bytes().decode()
    rec2, failures = read_records(tmp_path / XML_DATA, project)
    assert failures == []
    assert tidy_tables(rec2)[0][form].data.loc[first, column] == text


def test_line_numbers_with_multiline_cells_reach_the_failures(long):
    edit(long / LONG_DATA, "101,month_6_arm_1,,,", "101,month_6_arm_1,,,")
    edit(long / LONG_DATA, ",2024-07-20,40,a,", ",2024-07-20,400,a,")
    r = validate_long(long)
    f = only(r.failures, field="fu_pain")
    assert (f.line, f.record, f.event, f.value) == (9, "101", "month_6_arm_1", "400")


def test_a_record_id_with_a_line_break_inside_quotes(long):
    edit(long / LONG_DATA, "102,month_6_arm_1,adverse_event,1,", '"102\n",month_6_arm_1,adverse_event,1,')
    r = validate_long(long)
    f = only(r.failures, field="participant_id")
    assert (f.line, f.value) == (12, "102<U+000A LINE FEED>")
    assert f.rule == "the record ID has spaces or line breaks around it (REDCap's record names have none)"
    assert r.tables["consent"].index.tolist() == [3, 11, 15]  # the rows after it: one line further down
