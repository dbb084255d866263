"""The query list (issue 24): REDCap's data-quality rules A to I from the dictionary and the data,
validation's failures and the study's checks as queries with stable IDs; tracking across three
successive exports; the CSV and the workbook (read back with openpyxl, byte-identical when
written again); record IDs for the study team, never an identifier; synthetic data said."""

from __future__ import annotations

import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from feasibility.provenance import Provenance
from feasibility.quality import QualityData, captions, load_settings
from feasibility.quality.missingness import field_missingness
from feasibility.quality.queries import QUERY_COLUMNS, RULE_NAMES, query_id, query_list, rule_letter
from feasibility.quality.query_outputs import write_queries, write_site_workbook
from feasibility.quality.workbook import SHEET_COLUMNS, site_slug

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "redcap"))
from redcap_helpers import CLASSIC, CLASSIC_DATA, copy_fixture, edit, validate_classic  # noqa: E402

EVENTS = [("baseline_arm_1", "Baseline"), ("week6_arm_1", "Week 6")]


def _field(name, type_, label, **kw):
    return {
        "name": name,
        "form": "visit",
        "type": type_,
        "label": label,
        "columns": [name],
        "export_columns": [name],
        "choices": kw.pop("choices", []),
        "validation": kw.pop("validation", None),
        "min": kw.pop("min", None),
        "max": kw.pop("max", None),
        "branching": kw.pop("branching", None),
        "required": kw.pop("required", False),
        "identifier": False,
        "calculation": None,
        **kw,
    }


CODEBOOK = {
    "title": "Mini trial",
    "longitudinal": True,
    "record_id_field": "record_id",
    "forms": [{"name": "visit", "label": "Visit form"}],
    "events": [
        {"unique_name": e, "label": lab, "arm": 1, "day_offset": d}
        for (e, lab), d in zip(EVENTS, (0.0, 42.0))
    ],
    "arms": {"1": "Arm 1"},
    "designations": {e: ["visit"] for e, _ in EVENTS},
    "missing_data_codes": [["UNK", "Unknown"]],
    "identifiers_dropped": [],
    "fields": [
        _field("record_id", "text", "Record ID"),
        _field("weight", "text", "Weight (kg)", validation="number", min="30", max="250", required=True),
        _field("smoker", "yesno", "Smokes?"),
        _field("cigs", "text", "Cigarettes a day", validation="integer", branching="[smoker] = '1'"),
        _field("visit_date", "text", "Visit date", validation="date_ymd"),
        _field("mood", "radio", "Mood", choices=[["1", "Good"], ["2", "Fair"], ["3", "Poor"]]),
    ],
}


def mini(rows: list[dict], export_date: str, records_sha: str, codes: list[tuple] = ()) -> QualityData:
    """A validated project in memory: one form at two events, two sites; ``rows``: record, event,
    site and values (blank: None)."""
    table = pd.DataFrame(
        {
            "record_id": pd.array([r["record"] for r in rows], dtype="string"),
            "redcap_event_name": pd.array([r.get("event", "baseline_arm_1") for r in rows], dtype="string"),
            "redcap_data_access_group": pd.array([r.get("site", "north") for r in rows], dtype="string"),
            "weight": pd.array([r.get("weight") for r in rows], dtype="Float64").astype(float),
            "smoker": pd.array([r.get("smoker", 0) for r in rows], dtype="Int64"),
            "cigs": pd.array([r.get("cigs") for r in rows], dtype="Int64"),
            "visit_date": pd.to_datetime(pd.Series([r.get("date", "2024-03-01") for r in rows])),
            "mood": pd.array([r.get("mood", 1) for r in rows], dtype="Int64"),
            "visit_complete": pd.array([r.get("complete", 2) for r in rows], dtype="Int64"),
        }
    )
    missing = pd.DataFrame(
        [
            {
                "record_id": rec,
                "redcap_event_name": ev,
                "redcap_repeat_instance": pd.NA,
                "form": "visit",
                "field": fld,
                "code": code,
            }
            for rec, ev, fld, code in codes
        ],
        columns=["record_id", "redcap_event_name", "redcap_repeat_instance", "form", "field", "code"],
    )
    from feasibility.quality.data import _missing_frame

    report = {
        "ok": True,
        "errors": 0,
        "warnings": 0,
        "export": "records.csv",
        "export_date": export_date,
        "failures": [],
        "inputs": [{"what": "records export", "sha256": records_sha}],
    }
    return QualityData(CODEBOOK, {"visit": table}, _missing_frame(missing), report)


def first_export() -> QualityData:
    rows = [
        {"record": str(i), "weight": 60.0 + i, "site": "north" if i % 2 else "south"} for i in range(1, 13)
    ]
    rows[0]["weight"] = 20.0  # 1: below the minimum (D)
    rows[1].update(smoker=0, cigs=5)  # 2: hidden by branching, with a value (F)
    rows[2]["weight"] = None  # 3: blank and required (A, B)
    rows[3]["mood"] = 7  # 4: not a choice code (G)
    rows[4]["weight"] = None  # 5: a missing-data code (I), not blank
    rows[5]["weight"] = 240.0  # 6: an outlier (E), inside the range
    rows.append(
        {
            "record": "1",
            "event": "week6_arm_1",
            "weight": 70.0,
            "site": "north",
            "date": "2031-01-01",
            "mood": 3,
        }
    )
    return mini(rows, "2024-04-01", "a" * 64, codes=[("5", "baseline_arm_1", "weight", "UNK")])


def by_rule(frame: pd.DataFrame) -> dict[str, set]:
    return {r: set(zip(part["record_id"], part["event"], part["field"])) for r, part in frame.groupby("rule")}


def test_every_rule_a_to_i_that_the_data_can_hold_is_found():
    frame, notes = query_list(first_export())
    found = by_rule(frame)
    base = "baseline_arm_1"
    assert found["A"] == {("3", base, "weight")} and found["B"] == {("3", base, "weight")}
    assert ("5", base, "weight") not in found["A"]  # coded, not blank
    assert found["D"] == {("1", base, "weight")}
    assert ("6", base, "weight") in found["E"] and ("6", base, "weight") not in found.get("D", set())
    assert found["F"] == {("2", base, "cigs")}
    assert found["G"] == {("4", base, "mood")}
    assert found["I"] == {("5", base, "weight")}
    # blanks of cigs are hidden by its branching logic (non-smokers): never rule A
    assert not any(f == "cigs" for _, _, f in found["A"])
    assert set(frame.columns) == set(QUERY_COLUMNS) and not notes
    assert set(frame.loc[frame["rule"] == "E", "severity"]) == {"check"}  # a check, never a failure
    row = frame[(frame["rule"] == "F")].iloc[0]
    assert (row["site"], row["event_label"], row["instrument"], row["field_label"], row["value"]) == (
        "south",
        "Baseline",
        "Visit form",
        "Cigarettes a day",
        "5",
    )


def test_rule_a_counts_agree_with_the_missingness_table(fixture_data):
    """Rule A lists every blank cell the missingness table counts as blank (same rows, other code)."""
    for name in ("classic", "long", "pilot", "lab"):
        data = fixture_data(name)
        frame, _ = query_list(data)
        a = frame[frame["rule"] == "A"].groupby("field").size()
        for item in field_missingness(data):
            assert int(a.get(item.field, 0)) == item.blank, (name, item.field)
        codes = frame[frame["rule"] == "I"]
        assert len(codes) == len(data.missing), name


def test_query_ids_are_stable_and_distinct():
    one, _ = query_list(first_export())
    rows = [{"record": str(i), "weight": 61.0 + i} for i in range(1, 13)]
    rows[2]["weight"] = None
    two, _ = query_list(mini(rows, "2024-05-01", "b" * 64))
    same = one[(one["record_id"] == "3") & (one["rule"] == "A")]["query_id"].iat[0]
    assert same == two[(two["record_id"] == "3") & (two["rule"] == "A")]["query_id"].iat[0]
    assert same == query_id("A", "3", "baseline_arm_1", "", "weight")
    assert one["query_id"].is_unique
    assert query_id("A", "3", "baseline_arm_1", "", "weight") != query_id(
        "B", "3", "baseline_arm_1", "", "weight"
    )


def test_validation_failures_become_queries_with_redcaps_letters(tmp_path):
    """Real validation runs: out-of-range values (as warnings) map to D, branching to F; a bad
    code, a bad date and an identifier's bad value are mapped too, the identifier's value withheld."""
    folder = copy_fixture(CLASSIC, tmp_path / "classic")
    data_file = folder / CLASSIC_DATA
    edit(
        data_file,
        "1,birmingham,,B,2024-01-05,Ann Example,1980-02-29,ann@example.org,0121 496 0000,B15 2TT,1,165.5,70,",
        "1,birmingham,,B,2024-01-05,Ann Example,1980-02-29,ann@example.org,0121 496 0000,B15 2TT,1,165.5,20,",
    )
    edit(
        data_file,
        "1,birmingham,,B,2024-01-05,Ann Example,1980-02-29,ann@example.org,0121 496 0000,B15 2TT,1,165.5,20,25.6,0,,",
        "1,birmingham,,B,2024-01-05,Ann Example,1980-02-29,ann@example.org,0121 496 0000,B15 2TT,1,165.5,20,7.3,0,7,",
    )
    result = validate_classic(folder, out_of_range="warning")
    assert result.ok, result.failures
    data = QualityData.from_result(result)
    frame, _ = query_list(data)
    d = frame[(frame["rule"] == "D") & (frame["field"] == "enr_weight")]
    assert list(d["record_id"]) == ["1"] and d["severity"].iat[0] == "warning"  # validation's row stands
    f = frame[(frame["rule"] == "F") & (frame["field"] == "enr_cigs")]
    assert list(f["record_id"]) == ["1"] and f["value"].iat[0] == "7"
    assert frame["query_id"].is_unique  # one row per finding
    # a failed validation's texts: REDCap's letters
    bad = copy_fixture(CLASSIC, tmp_path / "bad")
    edit(
        bad / CLASSIC_DATA,
        ",B,2024-01-05,Ann Example,1980-02-29,ann@example.org,",
        ",X,2024-01-05,Ann Example,1980-02-29,ann@@example,",
    )
    edit(bad / CLASSIC_DATA, "2,coventry,,C,2024-01-10,", "2,coventry,,C,2024-13-10,")
    edit(bad / CLASSIC_DATA, ",1,165.5,70,25.6,", ",1,165.5,70,26.6,")  # a stored calc the formula denies
    failed = validate_classic(bad)
    letters = {(f.field, rule_letter(f.rule)) for f in failed.failures}
    assert (
        ("enr_site", "G") in letters
        and ("enr_consent_date", "C") in letters
        and ("enr_email", "C") in letters
    )
    assert ("enr_bmi", "H") in letters
    report = {"failures": [f.as_dict() for f in failed.failures], "export_date": "2024-05-02"}
    book_data = QualityData(data.codebook, data.tables, data.missing, report)
    rows, _ = query_list(book_data)
    email = rows[rows["field"] == "enr_email"]
    assert list(email["value"]) == ["withheld"] and not email["message"].str.contains("ann@@example").any()


def test_study_checks_add_queries_and_bad_checks_are_named():
    check = {
        "id": "mood_not_good",
        "logic": "[mood] <> '1' or [smoker] = '1'",
        "message": "please confirm",
        "field": "mood",
    }
    everywhere = load_settings({"quality": {"checks": [check]}})
    frame, _ = query_list(first_export(), everywhere.checks)
    hits = frame[frame["rule"] == "mood_not_good"]
    assert set(zip(hits["record_id"], hits["event"])) == {("4", "baseline_arm_1"), ("1", "week6_arm_1")}
    at_baseline = load_settings({"quality": {"checks": [{**check, "events": ["baseline_arm_1"]}]}})
    frame, _ = query_list(first_export(), at_baseline.checks)
    hits = frame[frame["rule"] == "mood_not_good"]
    assert list(zip(hits["record_id"], hits["event"], hits["value"])) == [("4", "baseline_arm_1", "7")]
    assert set(hits["message"]) == {"please confirm"} and set(hits["rule_name"]) == {"Study check"}
    bad = load_settings(
        {"quality": {"checks": [{"id": "oops", "logic": "[nonesuch] = '1'", "message": "m"}]}}
    )
    with pytest.raises(ValueError, match=r"quality.checks\[0\] \(oops\).*nonesuch"):
        query_list(first_export(), bad.checks)


def second_export() -> QualityData:
    rows = [
        {"record": str(i), "weight": 60.0 + i, "site": "north" if i % 2 else "south"} for i in range(1, 14)
    ]
    rows[0]["weight"] = 35.0  # 1: corrected: D resolved
    rows[1].update(smoker=0, cigs=8)  # 2: still hidden with a value, a new value: F changed
    rows[2]["weight"] = None  # 3: still blank: A and B pending
    rows[3]["mood"] = 7  # 4: G pending
    rows[4]["weight"] = 65.0  # 5: code replaced by a value: I resolved
    rows[5]["weight"] = 240.0  # 6: E pending
    rows[12]["weight"] = None  # 13: a new record, blank: A and B new
    return mini(rows, "2024-05-01", "b" * 64)


def third_export() -> QualityData:
    rows = [
        {"record": str(i), "weight": 60.0 + i, "site": "north" if i % 2 else "south"} for i in range(1, 14)
    ]
    rows[0]["weight"] = 20.0  # 1: wrong again: D new (first seen again)
    rows[1].update(smoker=0, cigs=8)  # 2: F pending, first seen in the first export
    rows[3]["mood"] = 7
    rows[5]["weight"] = 240.0
    rows[12]["weight"] = None  # 13: still blank: pending since the second export
    return mini(rows, "2024-06-01", "c" * 64)


def _write(data, out: Path, history: Path) -> pd.DataFrame:
    settings = load_settings({"study": {"title": "Mini trial"}})
    caps = captions(data, settings)
    write_queries(
        data,
        settings,
        caps["queries"],
        history,
        out / "queries.csv",
        out / "queries.xlsx",
        out / "quality_queries.html",
        out / "quality_queries.csv",
        out / "queries.parquet",
        out / "queries.json",
    )
    return pd.read_parquet(out / "queries.parquet")


def _status(frame, rule, record) -> tuple[str, str]:
    row = frame[(frame["rule"] == rule) & (frame["record_id"] == record)]
    assert len(row) == 1, (rule, record, row)
    return row["status"].iat[0], row["first_seen"].iat[0]


def test_three_successive_exports_mark_every_status(tmp_path):
    history = tmp_path / "history"
    one = _write(first_export(), tmp_path / "1", history)
    assert set(one["status"]) == {"new"} and set(one["first_seen"]) == {"2024-04-01"}

    two = _write(second_export(), tmp_path / "2", history)
    assert _status(two, "D", "1") == ("resolved", "2024-04-01")
    assert _status(two, "I", "5") == ("resolved", "2024-04-01")
    assert _status(two, "F", "2") == ("changed", "2024-04-01")
    assert two.loc[(two["rule"] == "F") & (two["record_id"] == "2"), "value"].iat[0] == "8"
    assert _status(two, "A", "3") == ("pending", "2024-04-01")
    assert _status(two, "B", "3") == ("pending", "2024-04-01")
    assert _status(two, "G", "4") == ("pending", "2024-04-01")
    assert _status(two, "A", "13") == ("new", "2024-05-01")

    # the second export built again compares with the first again: the same files, byte for byte
    again = tmp_path / "2again"
    _write(second_export(), again, history)
    for name in (
        "queries.csv",
        "queries.xlsx",
        "quality_queries.html",
        "quality_queries.csv",
        "queries.json",
    ):
        assert (again / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name

    three = _write(third_export(), tmp_path / "3", history)
    assert _status(three, "D", "1") == ("new", "2024-06-01")  # resolved, then back: new again
    assert _status(three, "F", "2") == ("pending", "2024-04-01")
    assert _status(three, "A", "3") == ("resolved", "2024-04-01")
    assert _status(three, "A", "13") == ("pending", "2024-05-01")
    assert "I" not in set(three["rule"])  # resolved once, not again
    summary = pd.read_csv(tmp_path / "3" / "quality_queries.csv")
    total = summary[summary["group"] == "All queries"].iloc[0]
    assert {s: int(total[s]) for s in ("new", "pending", "changed", "resolved")} == {
        s: int((three["status"] == s).sum()) for s in ("new", "pending", "changed", "resolved")
    }
    assert int(total["open"]) == int(three["status"].isin(["new", "pending", "changed"]).sum())


def test_the_workbook_sheets_columns_filters_and_bytes(tmp_path):
    data = first_export()
    object.__setattr__(data, "provenance", Provenance(synthetic=True, calibrated_to={}))
    _write(data, tmp_path / "a", tmp_path / "h1")
    time.sleep(2.1)  # zip entries are dated to 2 s
    _write(data, tmp_path / "b", tmp_path / "h2")
    assert (tmp_path / "a" / "queries.xlsx").read_bytes() == (tmp_path / "b" / "queries.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a" / "queries.xlsx") as z:
        assert {i.date_time[:3] for i in z.infolist()} == {(2024, 4, 1)}
        assert b"2024-04-01T00:00:00Z" in z.read("docProps/core.xml")
    wb = openpyxl.load_workbook(tmp_path / "a" / "queries.xlsx")
    assert wb.sheetnames == ["Summary", "north", "south"]
    summary = [c for row in wb["Summary"].iter_rows(values_only=True) for c in row if c]
    assert any("study team" in str(c) and "record ID" in str(c) for c in summary)
    assert any("Dummy data" in str(c) and "not the study's data" in str(c) for c in summary)
    frame, _ = query_list(data)
    for site in ("north", "south"):
        ws = wb[site]
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[0]) == [label for _, label in SHEET_COLUMNS]
        assert len(rows) - 1 == int((frame["site"] == site).sum())
        assert ws.auto_filter.ref == f"A1:O{len(rows)}" and ws.freeze_panes == "A2"
        widths = {k: ws.column_dimensions[k].width for k in "ABCDEFGHIJKLMNO"}
        assert widths["M"] > widths["B"] >= 8  # the message is wider than the status
        ids = {r[3] for r in rows[1:]}
        assert ids == set(frame.loc[frame["site"] == site, "record_id"])
    # one site's own file
    write_site_workbook(
        tmp_path / "a" / "queries.parquet",
        tmp_path / "a" / "queries.json",
        "south",
        tmp_path / "queries-south.xlsx",
    )
    one = openpyxl.load_workbook(tmp_path / "queries-south.xlsx")
    assert one.sheetnames == ["Summary", "south"]
    with pytest.raises(
        ValueError, match="no site whose file name is queries-east.xlsx.*north, south|north.*south"
    ):
        write_site_workbook(
            tmp_path / "a" / "queries.parquet",
            tmp_path / "a" / "queries.json",
            "east",
            tmp_path / "queries-east.xlsx",
        )
    assert site_slug("Birmingham & Solihull") == "birmingham-solihull"


def test_formula_like_text_stays_text_in_the_workbook(tmp_path):
    from feasibility.quality.workbook import write_workbook

    frame = pd.DataFrame([{c: "" for c in QUERY_COLUMNS}])
    frame.loc[0, ["query_id", "status", "site", "record_id", "value", "rule", "rule_name"]] = [
        "Q1",
        "new",
        "north",
        '=HYPERLINK("x")',
        "=1+1\x07",
        "A",
        RULE_NAMES["A"],
    ]
    write_workbook(tmp_path / "q.xlsx", frame, frame.iloc[0:0], {"export_date": "2024-01-01"})
    ws = openpyxl.load_workbook(tmp_path / "q.xlsx")["north"]
    assert ws["D2"].value == '=HYPERLINK("x")' and ws["D2"].data_type == "s"
    assert ws["J2"].value == "=1+1<U+0007>" and ws["J2"].data_type == "s"


def test_no_identifier_value_in_the_query_files_of_the_classic_fixture(fixture_data, tmp_path):
    """The classic fixture's identifiers (names, e-mails, dates of birth) never reach the list."""
    data = fixture_data("classic")
    _write(data, tmp_path, tmp_path / "history")
    texts = [(tmp_path / n).read_text(encoding="utf-8") for n in ("queries.csv", "queries.json")]
    with zipfile.ZipFile(tmp_path / "queries.xlsx") as z:
        texts += [z.read(n).decode("utf-8") for n in z.namelist()]
    for value in ("Ann Example", "Bob Sample", "ann@example.org", "1980-02-29", "0121 496 0000", "B15 2TT"):
        assert not any(value in t for t in texts), value
    assert texts[0].startswith("query_id,status,site,study_id,") and "\nQ" in texts[0]  # the project's name


def test_forms_are_overdue_when_their_window_has_closed_by_the_export():
    """Issue 24.4: week 6 is expected 42 days after the baseline visit date; its window closes
    14 days later; by an export of 2024-06-01 every record without a Complete week-6 form is late."""
    rows = [{"record": str(i), "weight": 60.0 + i, "site": "north"} for i in range(1, 5)]
    rows.append({"record": "1", "event": "week6_arm_1", "weight": 61.0, "site": "north"})  # complete
    rows.append({"record": "2", "event": "week6_arm_1", "weight": 62.0, "site": "north", "complete": 0})
    data = mini(rows, "2024-06-01", "d" * 64)
    schedule = {"anchor_field": "visit_date", "anchor_event": "baseline_arm_1"}
    frame, _ = query_list(data, schedule=load_settings({"quality": {"schedule": schedule}}).schedule)
    late = frame[frame["rule"] == "overdue"]
    assert list(zip(late["record_id"], late["value"])) == [
        ("2", "Incomplete"),
        ("3", "no data"),
        ("4", "no data"),
    ]
    assert set(late["event"]) == {"week6_arm_1"} and set(late["field"]) == {"visit_complete"}
    # baseline visit 2024-03-01 + 42 days = 2024-04-12; + 14 days = 2024-04-26; 36 days before 2024-06-01
    assert set(late["message"]) == {
        "expected by 2024-04-12; window closed 2024-04-26, 36 days before the export"
    }
    wider = {**schedule, "windows": {"week6_arm_1": 60}}
    frame, _ = query_list(data, schedule=load_settings({"quality": {"schedule": wider}}).schedule)
    assert "overdue" not in set(frame["rule"])
    earlier, _ = query_list(
        mini(rows, "2024-04-20", "e" * 64),
        schedule=load_settings({"quality": {"schedule": schedule}}).schedule,
    )
    assert "overdue" not in set(earlier["rule"])
    with pytest.raises(ValueError, match=r"quality.schedule.*'week9' is not an event"):
        query_list(
            data,
            schedule=load_settings({"quality": {"schedule": {**schedule, "anchor_event": "week9"}}}).schedule,
        )


def test_a_site_workbook_of_10000_queries_reads_back(tmp_path):
    """Issue 24.9: a site with 10,000 queries gets a workbook a spreadsheet program opens: read
    back with openpyxl, every row and its filter are there."""
    from feasibility.quality.workbook import write_workbook

    n = 10_000
    frame = pd.DataFrame({c: [""] * n for c in QUERY_COLUMNS})
    frame["query_id"] = [f"Q{i:010d}" for i in range(n)]
    frame["status"], frame["site"], frame["rule"], frame["rule_name"] = (
        "new",
        "big_site",
        "A",
        RULE_NAMES["A"],
    )
    frame["record_id"] = [str(1000 + i // 10) for i in range(n)]
    frame["field"] = [f"item_{i % 10}" for i in range(n)]
    frame["message"] = "blank value"
    started = time.perf_counter()
    write_workbook(
        tmp_path / "queries-big_site.xlsx",
        frame,
        frame.iloc[0:0],
        {"export_date": "2024-01-01"},
        sites=["big_site"],
    )
    assert time.perf_counter() - started < 30
    wb = openpyxl.load_workbook(tmp_path / "queries-big_site.xlsx", read_only=True)
    rows = list(wb["big_site"].iter_rows(values_only=True))
    assert len(rows) == n + 1 and rows[-1][0] == f"Q{n - 1:010d}" and rows[-1][3] == str(1000 + (n - 1) // 10)
    assert [r[0] for r in rows[1:]] == list(frame["query_id"])
    with zipfile.ZipFile(tmp_path / "queries-big_site.xlsx") as z:
        assert f'<autoFilter ref="A1:O{n + 1}"'.encode() in z.read("xl/worksheets/sheet2.xml")


def test_the_query_history_survives_a_failed_validation(tmp_path):
    """A failed validation withdraws everything built from the data (results/<id>/quality/
    among it), never the history that the next export's statuses are counted against
    (results/<id>/query_history/, the study's own)."""
    import re

    from feasibility.pipeline import withdraw

    rules = (Path(__file__).resolve().parents[2] / "workflow" / "rules" / "quality.smk").read_text()
    history = re.search(r'^QUERY_HISTORY = R\("([^"]+)"\)', rules, re.M)[1]
    results = tmp_path / "results" / "study"
    kept = results / history / "exports.json"
    kept.parent.mkdir(parents=True)
    kept.write_text("[]\n")
    (results / "quality" / "queries").mkdir(parents=True)
    (results / "validation").mkdir()
    (results / "validation" / "passed.json").write_text("{}")
    withdraw(str(results), quiet=True)
    assert not (results / "quality").exists() and kept.read_text() == "[]\n"
