"""Reading the downloads safely: file kinds, sizes, encodings, CSV shape and physical lines."""

from __future__ import annotations

import codecs
import os

import pytest
from redcap_helpers import CLASSIC_DATA, CLASSIC_DD, edit, only, replace_line, validate_classic

from feasibility.redcap.files import Limits, read_csv_text


def test_records_keep_the_physical_line_they_start_on(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(
        b'\xef\xbb\xbfid,a,b\r\n1,"two\r\nlines",x\r\n\r\n2,"say ""hi""",y\r\n3,"a\nb\nc",z\r\n4,,\r\n'
    )
    t, failures = read_csv_text(path, "export")
    assert failures == []
    assert t.lines.tolist() == [2, 5, 6, 9]
    assert t.table.column("a").to_pylist() == ["two\r\nlines", 'say "hi"', "a\nb\nc", ""]
    assert t.notes == ["UTF-8 byte-order mark", "CRLF line ends"]


def test_ragged_rows_are_named_with_their_lines_and_the_rest_read(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b'id,a,b\n1,x,y\n2,x\n3,"multi\nline",y,\n4,x,y\n')
    t, failures = read_csv_text(path, "export")
    assert t.lines.tolist() == [2, 6]
    assert [(f.line, f.record, f.rule) for f in failures] == [
        (3, "2", "ragged row: 2 cells where the header has 3"),
        (4, "3", "ragged row: 4 cells where the header has 3 (a trailing comma at the end of the line?)"),
    ]


@pytest.mark.parametrize(
    "encoding, expected",
    [
        ("utf-16", "file is UTF-16 LE (it starts with a UTF-16 byte-order mark), not UTF-8"),
        ("utf-16-le", "file is probably UTF-16 LE without a byte-order mark"),
        ("utf-16-be", "file is probably UTF-16 BE without a byte-order mark"),
    ],
)
def test_utf16_is_named_not_read_as_nul_bytes(tmp_path, encoding, expected):
    path = tmp_path / "x.csv"
    path.write_bytes("study_id,enr_site\n1,B\n".encode(encoding))
    t, failures = read_csv_text(path, "records export")
    assert t is None
    assert len(failures) == 1 and failures[0].rule.startswith(expected) and failures[0].line == 1


def test_windows_1252_bytes_name_the_probable_encoding_and_line(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("study_id,enr_notes\n1,ok\n2,caf\u00e9 \u2019quoted\u2019\n".encode("cp1252"))
    t, failures = read_csv_text(path, "records export")
    (f,) = failures
    assert t is None and f.line == 3
    assert "byte 0xE9 at byte offset 29" in f.rule and "probably Windows-1252" in f.rule


def test_latin1_without_cp1252_bytes(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes("id,x\n1,na\u00efve\n".encode("latin-1"))
    (f,) = read_csv_text(path, "export")[1]
    assert "ISO-8859-1 (Latin-1) or Windows-1252" in f.rule and f.line == 2


def test_semicolon_separated_file_is_named_once(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("study_id;enr_site;enr_height\n1;B;165,5\n")
    t, failures = read_csv_text(path, "records export")
    (f,) = failures
    assert t is None and f.line == 1 and f.value == "study_id;enr_site;enr_height"
    assert "re-saved with ';' between columns" in f.rule


def test_tab_separated_file_is_named(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("study_id\tenr_site\n1\tB\n")
    (f,) = read_csv_text(path, "records export")[1]
    assert "re-saved with tab between columns" in f.rule


def test_trailing_comma_names_the_column_position_and_text(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("study_id,enr_site,\n1,B,\n")
    (f,) = read_csv_text(path, "records export")[1]
    assert f.field == "column 3" and f.line == 1
    assert f.rule.startswith("column 3 of the header is empty, after 'enr_site': a trailing comma")


def test_duplicate_headers_named_with_positions(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("study_id,enr_site,enr_height,enr_site\n1,B,160,B\n")
    t, failures = read_csv_text(path, "records export")
    (f,) = failures
    assert t is None and f.field == "enr_site"
    assert f.rule == "column 'enr_site' appears twice in the header (columns 2 and 4)"


def test_a_cell_over_the_csv_modules_field_limit_is_a_failure_not_a_crash(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"id,notes\n1,short\n2," + b"z" * 140_000 + b"\n3,ok\n")
    t, failures = read_csv_text(path, "records export")
    (f,) = failures
    assert (f.line, f.record, f.field) == (3, "2", "notes")
    assert f.rule.startswith("cell is 140,000 characters long, over the limit of 131,072")
    assert f.value.endswith("… (140000 characters)")
    assert t.lines.tolist() == [2, 3, 4]
    # a ragged file with a huge cell goes through the exact reader, still without a crash
    path.write_bytes(b"id,notes\n1,short,extra\n2," + b"z" * 140_000 + b"\n")
    t, failures = read_csv_text(path, "records export")
    assert [f.line for f in failures] == [2, 3]


def test_not_a_regular_file_is_refused_without_opening(tmp_path):
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    t, failures = read_csv_text(fifo, "records export")  # would block for ever if opened
    assert t is None and failures[0].rule.startswith(
        "records export is a named pipe (FIFO), not a regular file"
    )
    assert failures[0].file == str(fifo)
    t, failures = read_csv_text(tmp_path, "records export")
    assert "is a directory" in failures[0].rule


def test_file_over_the_size_limit_is_refused_naming_path_and_size(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"id\n" + b"1\n" * 3000)
    (f,) = read_csv_text(path, "records export", Limits(max_bytes=4096))[1]
    assert f.file == str(path)
    assert f.rule.startswith("records export is 6,003 bytes, over the size limit of 4,096 bytes")


def test_missing_and_empty_files(tmp_path):
    (f,) = read_csv_text(tmp_path / "none.csv", "data dictionary")[1]
    assert f.rule == "data dictionary is missing (no such file)"
    (tmp_path / "empty.csv").write_bytes(codecs.BOM_UTF8 + b"\r\n")
    (f,) = read_csv_text(tmp_path / "empty.csv", "records export")[1]
    assert f.rule == "records export is empty (no header, no rows)"


# ---------------------------------------------------------- the same, end to end on a fixture project
def test_export_problems_reach_the_result_with_file_and_line(classic):
    replace_line(classic / CLASSIC_DATA, 5, "3,leeds,,L,2024-02-01")
    r = validate_classic(classic)
    assert not r.ok
    f = only(r.failures, line=5)
    assert (f.file, f.record) == (CLASSIC_DATA, "3")
    assert f.rule.startswith("ragged row: 5 cells where the header has 44")


def test_dictionary_in_utf16_is_named(classic):
    path = classic / CLASSIC_DD
    path.write_bytes(path.read_bytes().decode("utf-8-sig").encode("utf-16"))
    r = validate_classic(classic)
    (f,) = r.failures
    assert f.file == CLASSIC_DD and "UTF-16 LE" in f.rule
    assert r.tables == {} and not r.ok


def test_invisible_character_in_a_value_is_shown_by_name(classic):
    edit(classic / CLASSIC_DATA, "\r\n2,coventry,,C,2024-01-10,", "\r\n2,coventry,,C,2024-01-10\u200b,")
    r = validate_classic(classic)
    f = only(r.failures, line=4, field="enr_consent_date")
    assert f.value == "2024-01-10<U+200B ZERO WIDTH SPACE>"
    assert f.rule == "not a valid date (YYYY-MM-DD) (the raw export writes date_dmy as Y-M-D)"
