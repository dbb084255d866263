"""Inputs by rule and within bounds (issue 20.2, 20.4, 20.5).

* ``Identifier?`` is read as REDCap reads it (``y``/``yes`` in any case); a dictionary
  without the column, or with another value there, is refused naming file and line,
  unless the study says the project has none (``no_identifiers``); the project XML's
  ``redcap:Identifier`` alike.
* Values a typed table cannot hold (whole numbers of more than 18 digits, a number that
  overflows to infinity, dates outside 1678-2261) are failures at their cell, not crashes;
  so are such choice codes and validation limits in the metadata.
* Pathological shapes cost little: deeply nested XML and a header of very many columns
  are refused at once; text of many entity references is read in linear time; a study
  file's YAML aliases are refused before they expand; an unusable provenance file names
  itself.
"""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest

from feasibility.config import ConfigError, MAX_EXPANDED_NODES, _shown, load_study
from feasibility.provenance import ProvenanceError, read_provenance
from feasibility.redcap import read_dictionary, read_project_xml
from feasibility.redcap.xml import MAX_DEPTH
from redcap_helpers import (
    CLASSIC_DATA,
    CLASSIC_DD,
    LAB_DATA,
    LONG_META,
    XML_FILE,
    edit,
    only,
    validate_classic,
    validate_lab,
    validate_long,
)

NAME_ROW = '"enr_name","enrolment","Contact details","text","Participant\'s name","","","","","","y"'


def _rewrite_csv(path: Path, change) -> None:
    """Rewrite a CSV (header and rows) through ``change(header, rows)``; BOM and quoting kept as REDCap writes them."""
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, body = change(rows[0], rows[1:])
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([header, *body])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))


def _drop_column(path: Path, name: str) -> None:
    def change(header, body):
        j = header.index(name)
        return header[:j] + header[j + 1 :], [r[:j] + r[j + 1 :] for r in body]

    _rewrite_csv(path, change)


# ------------------------------------------------------------------------------ identifiers
@pytest.mark.parametrize("mark", ["Y", "yes", "YES", " Yes "])
def test_identifier_is_read_as_redcap_reads_it(classic, mark):
    edit(classic / CLASSIC_DD, NAME_ROW, NAME_ROW[:-3] + f'"{mark}"')
    result = validate_classic(classic)
    assert result.ok, result.failures
    assert "enr_name" in result.dropped and "enr_name" not in result.tables["enrolment"]
    assert "Ann Example" not in result.tables["enrolment"].to_csv()


@pytest.mark.parametrize("mark", ["x", "1", "true", "identifier"])
def test_an_unknown_identifier_mark_is_refused_naming_file_line_field_and_value(classic, mark):
    edit(classic / CLASSIC_DD, NAME_ROW, NAME_ROW[:-3] + f'"{mark}"')
    result = validate_classic(classic)
    assert not result.ok and result.records is None
    hit = only(result.failures, file=CLASSIC_DD, field="enr_name", rule="'Identifier?' is not 'y'")
    assert hit.line == 5 and hit.value == mark


def test_a_dictionary_without_the_identifier_column_is_refused(classic):
    _drop_column(classic / CLASSIC_DD, "Identifier?")
    result = validate_classic(classic)
    assert not result.ok and result.records is None
    hit = only(result.failures, file=CLASSIC_DD, field="Identifier?", rule="has no column 'Identifier?'")
    assert hit.line == 1 and "redcap.no_identifiers: true" in hit.rule


def test_the_api_metadata_without_the_identifier_column_is_refused(long):
    _drop_column(long / LONG_META, "identifier")
    result = validate_long(long)
    only(result.failures, file=LONG_META, line=1, field="identifier", rule="has no column 'identifier'")
    assert not result.ok


def test_a_study_that_says_it_has_no_identifiers_needs_no_column(classic):
    _drop_column(classic / CLASSIC_DD, "Identifier?")
    result = validate_classic(classic, no_identifiers=True)
    assert result.ok, [f.message() for f in result.errors]
    assert result.dropped == []
    assert any("no_identifiers" in note for note in result.notes)


def test_a_marked_identifier_contradicts_a_study_without_identifiers(classic):
    result = validate_classic(classic, no_identifiers=True)
    assert not result.ok
    hit = only(
        result.failures, file=CLASSIC_DD, field="enr_name", rule="the study file says the project has none"
    )
    assert hit.line == 5


def test_no_identifiers_comes_from_the_study_file(tmp_path):
    from feasibility import pipeline

    assert pipeline.validation_settings({"redcap": {"no_identifiers": True}})["no_identifiers"] is True
    assert "no_identifiers" not in pipeline.validation_settings({"redcap": {"no_identifiers": False}})


def test_the_project_xml_identifier_is_read_alike(pilot):
    xml = pilot / XML_FILE
    edit(
        xml,
        'redcap:Variable="dem_name" redcap:FieldType="text" redcap:Identifier="y"',
        'redcap:Variable="dem_name" redcap:FieldType="text" redcap:Identifier="YES"',
    )
    project, failures = read_project_xml(xml)
    assert project is not None and project.field["dem_name"].identifier
    edit(xml, 'redcap:Identifier="YES"', 'redcap:Identifier="maybe"')
    project, failures = read_project_xml(xml)
    assert project is None
    hit = only(failures, file=XML_FILE, field="dem_name", rule="redcap:Identifier is not 'y'")
    assert hit.value == "maybe" and hit.line == 106
    edit(xml, 'redcap:Identifier="maybe"', 'redcap:Identifier="y"')
    project, failures = read_project_xml(xml, no_identifiers=True)
    assert project is None
    only(failures, file=XML_FILE, field="dem_name", rule="the study file says the project has none")


# ------------------------------------------------------------------------------ values
def _set_cell(path: Path, record: str, column: str, value: str, instance: str | None = None) -> int:
    """Set one cell of the export; returns the line its row starts on."""

    def change(header, body):
        j, k = header.index(column), header.index("redcap_repeat_instance") if instance else None
        for r in body:
            if r[0] == record and (instance is None or r[k] == instance):
                r[j] = value
                return header, body
        raise AssertionError((record, column))

    _rewrite_csv(path, change)
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""))
    start = 1
    for row in reader:
        if value in row:
            return start
        start = reader.line_num + 1
    raise AssertionError(value)


@pytest.mark.parametrize(
    "value", ["12345678901234567890", "-99999999999999999999999", "+0000000000000000000001x"]
)
def test_a_whole_number_of_any_size_is_a_failure_at_its_cell(classic, value):
    line = _set_cell(classic / CLASSIC_DATA, "1", "bq_visits", value)
    result = validate_classic(classic)
    assert not result.ok
    rule = "not a whole number" if value.endswith("x") else "whole number too large: more than 18 digits"
    hit = only(result.failures, file=CLASSIC_DATA, field="bq_visits", record="1", rule=rule)
    assert hit.line == line and hit.value == value


def test_eighteen_digits_fit(classic):
    _set_cell(classic / CLASSIC_DATA, "1", "bq_visits", "999999999999999999")
    result = validate_classic(classic)
    assert result.ok, [f.message() for f in result.errors]
    assert int(result.tables["baseline_questionnaire"]["bq_visits"].max()) == 999999999999999999


def test_a_huge_code_is_not_a_code(classic):
    line = _set_cell(classic / CLASSIC_DATA, "1", "enr_sex", "123456789012345678901234567890")
    result = validate_classic(classic)
    hit = only(result.failures, file=CLASSIC_DATA, field="enr_sex", record="1", rule="not a code of enr_sex")
    assert hit.line == line


def test_a_number_beyond_floating_point_is_a_failure(classic):
    line = _set_cell(classic / CLASSIC_DATA, "1", "enr_weight", "1e999")
    result = validate_classic(classic)
    hit = only(result.failures, file=CLASSIC_DATA, field="enr_weight", record="1", rule="number too large")
    assert hit.line == line and hit.value == "1e999"


@pytest.mark.parametrize("value", ["1600-01-01", "0001-01-01", "1677-09-21", "2262-04-12", "9999-12-31"])
def test_a_date_of_any_year_is_a_failure_at_its_cell(classic, value):
    line = _set_cell(classic / CLASSIC_DATA, "1", "enr_dob", value)
    result = validate_classic(classic)
    assert not result.ok
    hit = only(
        result.failures,
        file=CLASSIC_DATA,
        field="enr_dob",
        record="1",
        rule="date outside the years 1678 to 2261",
    )
    assert hit.line == line and hit.value == value


def test_datetimes_and_survey_timestamps_out_of_years(classic):
    _set_cell(classic / CLASSIC_DATA, "1", "enr_visit_dt", "2300-01-05 09:45:00")
    _set_cell(classic / CLASSIC_DATA, "1", "baseline_questionnaire_timestamp", "1500-01-05 10:02:11")
    result = validate_classic(classic)
    only(result.failures, file=CLASSIC_DATA, field="enr_visit_dt", rule="date outside the years")
    only(
        result.failures,
        file=CLASSIC_DATA,
        field="baseline_questionnaire_timestamp",
        rule="survey timestamp: date outside the years",
    )


def test_a_repeat_instance_of_any_size_is_a_failure(lab):
    line = _set_cell(lab / LAB_DATA, "A-001", "redcap_repeat_instance", "99999999999999999999", instance="1")
    result = validate_lab(lab)
    assert not result.ok
    hit = only(
        result.failures,
        file=LAB_DATA,
        field="redcap_repeat_instance",
        record="A-001",
        rule="the repeat instance is too large",
    )
    assert hit.line == line and hit.instance == "99999999999999999999"


def test_a_huge_choice_code_in_the_dictionary_is_refused(classic):
    edit(classic / CLASSIC_DD, '"1, Female', '"123456789012345678901, Female')
    fields, notes, failures = read_dictionary(classic / CLASSIC_DD)
    hit = only(failures, file=CLASSIC_DD, field="enr_sex", rule="more than 18 digits")
    assert hit.value == "123456789012345678901" and hit.line > 1


@pytest.mark.parametrize("limit", ["1500-01-01", "2400-01-01"])
def test_a_date_limit_out_of_years_is_refused(classic, limit):
    edit(classic / CLASSIC_DD, '"date_dmy","2023-01-01"', f'"date_dmy","{limit}"')
    fields, notes, failures = read_dictionary(classic / CLASSIC_DD)
    hit = only(failures, file=CLASSIC_DD, field="enr_consent_date", rule="validation minimum cannot be read")
    assert hit.line == 4 and hit.value == limit


def test_an_integer_limit_beyond_64_bits_is_refused(classic):
    edit(classic / CLASSIC_DD, '"integer","0","100"', '"integer","0","1e30"')
    fields, notes, failures = read_dictionary(classic / CLASSIC_DD)
    only(failures, file=CLASSIC_DD, field="enr_cigs", rule="validation maximum cannot be read", value="1e30")


# ------------------------------------------------------------------------------ XML shapes
def test_deeply_nested_xml_is_refused_naming_the_line(tmp_path):
    depth = 200_000
    path = tmp_path / "project.xml"
    path.write_text('<?xml version="1.0"?>\n<ODM>\n' + "<a>\n" * depth + "</a>" * depth + "</ODM>\n")
    start = time.perf_counter()
    project, failures = read_project_xml(path)
    assert time.perf_counter() - start < 5
    assert project is None
    (hit,) = failures
    assert hit.file == "project.xml" and hit.line == MAX_DEPTH + 2 and "nested more than 64 deep" in hit.rule


def test_entity_references_are_read_in_linear_time(pilot):
    """A label of 400,000 entity references: each arrives as its own chunk of text. Joined
    once per element it takes well under a second; appended chunk by chunk, minutes."""
    xml = pilot / XML_FILE
    edit(xml, "<TranslatedText>", "<TranslatedText>" + "&amp;&lt;" * 200_000)
    start = time.perf_counter()
    project, failures = read_project_xml(xml)
    took = time.perf_counter() - start
    assert project is not None, failures
    assert any(f.label.startswith("&<&<&<") and len(f.label) > 400_000 for f in project.fields)
    assert took < 5, took


# ------------------------------------------------------------------------------ CSV shapes
def test_a_header_of_a_million_columns_is_refused_at_once(classic):
    path = classic / CLASSIC_DATA
    header = ",".join(["study_id"] + [f"c{i}" for i in range(1_000_000)])
    path.write_text(header + "\n" + "1" + ",x" * 10 + "\n", encoding="utf-8")
    start = time.perf_counter()
    result = validate_classic(classic)
    assert time.perf_counter() - start < 10
    (hit,) = result.errors
    assert hit.file == CLASSIC_DATA and hit.line == 1
    assert "the header has 1,000,001 columns, more than the" in hit.rule and hit.value.startswith(
        "study_id, c0, c1"
    )


def test_a_dictionary_header_of_many_columns_is_refused_at_once(classic):
    path = classic / CLASSIC_DD
    path.write_text(",".join(["Variable / Field Name"] + ["x"] * 100_000) + "\n", encoding="utf-8")
    fields, notes, failures = read_dictionary(path)
    (hit,) = failures
    assert fields is None and hit.line == 1 and "100,001 columns" in hit.rule


# ------------------------------------------------------------------------------ study file
def _study(tmp_path: Path, redcap_block: str) -> Path:
    path = tmp_path / "study.yaml"
    path.write_text("study:\n  title: T\nredcap:\n  records: records.csv\n" + redcap_block, encoding="utf-8")
    (tmp_path / "records.csv").write_text("record_id\n1\n", encoding="utf-8")
    return path


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    lines = ["  missing_data_codes:", '    - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"    - &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = _study(tmp_path, "\n".join(lines) + "\n")
    assert path.stat().st_size < 700
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load_study(path)
    assert time.perf_counter() - start < 5
    assert str(err.value) == (
        f"{path} line 6: YAML aliases (*name) expand this document to more than "
        f"{MAX_EXPANDED_NODES:,} values; refused before expanding it"
    )


def test_a_few_aliases_are_fine_and_a_cycle_is_refused(tmp_path):
    path = _study(
        tmp_path, "  missing_data_codes: &codes [[UNK, Unknown]]\n  repeating: null\nx_unused: *codes\n"
    )
    with pytest.raises(ConfigError) as err:  # the alias expands; the unknown key is the problem
        load_study(path)
    assert "unknown key x_unused" in str(err.value)
    path.write_text("study: &s\n  title: *s\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="study.yaml line 1: a YAML alias refers to a node that holds it"):
        load_study(path)


def test_messages_format_a_bounded_part_of_a_value():
    big = [list(range(1000))] * 1000
    start = time.perf_counter()
    text = _shown(big)
    assert time.perf_counter() - start < 0.1 and len(text) <= 80
    assert _shown("x" * 10_000_000) == repr("x" * 76)[:77] + "..."


# ------------------------------------------------------------------------------ provenance
@pytest.mark.parametrize(
    "content, said",
    [
        (b'{"synthetic": true,\n  "files": {', "line 2: not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        (b'{"synthetic": "yes"}', "needs a true/false 'synthetic' entry"),
    ],
)
def test_an_unusable_provenance_file_names_itself(tmp_path, content, said):
    path = tmp_path / "provenance.json"
    path.write_bytes(content)
    with pytest.raises(ProvenanceError) as err:
        read_provenance(tmp_path)
    assert str(err.value).startswith(f"{path}") and said in str(err.value)
    assert err.value.__cause__ is None


def test_a_failure_formats_only_what_it_shows():
    from feasibility.redcap.dictionary import parse_missing_codes, parse_repeating

    big = [list(range(1000))] * 10_000  # ten million items, shared as YAML aliases would share them
    start = time.perf_counter()
    (repeating,) = parse_repeating(big, "settings: repeating")[1]
    (codes,) = parse_missing_codes({"UNK": big}, "settings: missing_data_codes")[1]
    assert time.perf_counter() - start < 1
    assert repeating.value.startswith("[[0, 1, 2, 3") and repeating.value.endswith("characters)")
    assert len(repeating.message()) < 400
    assert codes.rule == "missing-data codes cannot be read: a code or label is list, not text"


def test_a_download_name_dated_beyond_the_years_gives_no_export_date():
    from datetime import date

    from feasibility.redcap.records import export_date_from_name

    assert export_date_from_name("Study_DATA_2024-05-02_1015.csv") == date(2024, 5, 2)
    assert export_date_from_name("Study_DATA_1600-05-02_1015.csv") is None
    assert export_date_from_name("Study_DATA_2300-05-02_1015.csv") is None
