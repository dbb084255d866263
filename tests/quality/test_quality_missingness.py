"""Missingness per field, counted by hand from the fixture exports: answered, missing-data
codes, hidden by branching logic (evaluated on the validated tables), blank."""

from __future__ import annotations

import copy
from dataclasses import replace

import numpy as np
import pandas as pd

from feasibility.quality import QualityData, field_missingness, missing_codes_used, missingness_frame
from feasibility.quality.missingness import as_text, missingness_cells


def _by_field(data, **kw) -> dict:
    return {i.field: i for i in field_missingness(data, **kw)}


def _counts(item) -> tuple:
    return item.rows, item.answered, dict(item.codes), item.hidden, item.blank


def test_classic_fields_counted_by_hand(classic):
    m = _by_field(classic)
    codes0 = {"UNK": 0, "NASK": 0, "NA": 0}
    # enr_weight: 70, UNK, 82.4, 90, 55.5
    assert _counts(m["enr_weight"]) == (5, 4, codes0 | {"UNK": 1}, None, 0)
    # enr_bmi (calc; REDCap computes it whatever its logic): blank where the weight is UNK
    assert _counts(m["enr_bmi"]) == (5, 4, codes0, None, 1)
    # enr_cigs, shown if [enr_smoker] = '1': smokers 2 and 4 answered; 1, 3, 5 were not asked
    assert _counts(m["enr_cigs"]) == (5, 2, codes0, 3, 0)
    # enr_cond_other, shown if [enr_conditions(A)] = '1': 1 and 4 ticked A and answered; record 3's
    # conditions are UNK (no box ticked), so it is hidden there too
    assert _counts(m["enr_cond_other"]) == (5, 2, codes0, 3, 0)
    # checkbox: 1 (1, A), 2 (-99), 4 (2, A) ticked; 3 UNK; 5 no box ticked = blank
    assert _counts(m["enr_conditions"]) == (5, 3, codes0 | {"UNK": 1}, None, 1)
    # a NASK date on record 2's baseline questionnaire; three questionnaire rows (records 1-3)
    assert _counts(m["bq_date"]) == (3, 2, codes0 | {"NASK": 1}, None, 0)
    # shown if [bq_employment] = 'unemp': only record 1 (unemp) is asked, and answered
    assert _counts(m["bq_unemployed_since"]) == (3, 1, codes0, 2, 0)


def test_record_id_and_identifiers_are_not_counted(classic):
    m = _by_field(classic)
    assert "study_id" not in m
    assert not set(m) & {"enr_name", "enr_dob", "enr_email", "enr_phone", "enr_postcode"}
    assert "enr_info" not in m  # descriptive: no column
    assert len(m) == 35 - 1 - 5  # fields with a value, less record ID and identifiers


def test_logic_across_events_and_the_event_name(long):
    m = _by_field(long)
    # fu_pain_note: [baseline_arm_1][bl_pain] >= 50 and [event-name] = 'month_6_arm_1'
    # 101 (baseline pain 60, month 6 of arm 1): asked, answered; 103 (arm 2): hidden
    assert _counts(m["fu_pain_note"]) == (2, 1, {"UNK": 0, "-999": 0}, 1, 0)
    # bl_meds_other: [bl_meds(3)] = '1': 101 (opioid) answered; 102 no opioid; 103's meds are -999
    assert _counts(m["bl_meds_other"]) == (3, 1, {"UNK": 0, "-999": 0}, 2, 0)
    assert _counts(m["bl_meds"]) == (3, 2, {"UNK": 0, "-999": 1}, None, 0)
    # vis_minutes: [vis_attended] = '1' within the repeating event visit_arm_1 (instance 2 not attended)
    assert _counts(m["vis_minutes"]) == (2, 1, {"UNK": 0, "-999": 0}, 1, 0)
    # scr_reason: [scr_eligible] = '0': only 104 was ineligible, and has a reason
    assert _counts(m["scr_reason"]) == (4, 1, {"UNK": 0, "-999": 0}, 3, 0)
    # fu_score (calc) is blank for 103, whose baseline is in arm 2
    assert _counts(m["fu_score"]) == (2, 1, {"UNK": 0, "-999": 0}, None, 1)


def test_a_missing_code_is_a_value_in_branching_logic(long):
    """REDCap compares a missing-data code as a value: bl_weight UNK is not blank to the logic."""
    book = copy.deepcopy(long.codebook)
    for f in book["fields"]:
        if f["name"] == "bl_meds_other":
            f["branching"] = "[bl_weight] = 'UNK'"  # shown only where the weight is UNK (102)
    data = QualityData(book, long.tables, long.missing, long.validation)
    item = _by_field(data)["bl_meds_other"]
    # 101 answered (shown or not, its value counts as answered); 102 shown and blank; 103 hidden
    assert _counts(item) == (3, 1, {"UNK": 0, "-999": 0}, 1, 1)


def test_logic_that_cannot_be_evaluated_counts_its_blanks_as_blank(classic):
    book = copy.deepcopy(classic.codebook)
    for f in book["fields"]:
        if f["name"] == "enr_cigs":
            f["branching"] = "datediff([enr_consent_date], 'today', 'y') > 1"
        if f["name"] == "enr_cond_other":
            f["branching"] = "[enr_dob] <> ''"  # an identifier: not in the validated data
    data = QualityData(book, classic.tables, classic.missing, classic.validation)
    m = _by_field(data)
    assert m["enr_cigs"].hidden is None and m["enr_cigs"].blank == 3
    assert m["enr_cigs"].logic.startswith("not evaluated")
    assert m["enr_cond_other"].hidden is None and "identifier" in m["enr_cond_other"].logic
    assert m["enr_cond_other"].blank == 3


def test_branching_switched_off(classic):
    m = _by_field(classic, branching=False)
    assert m["enr_cigs"].hidden is None and m["enr_cigs"].blank == 3


def test_missing_codes_used(classic, lab):
    codes = missing_codes_used(classic).set_index("code")
    assert codes.loc["UNK", ["label", "cells", "fields", "forms"]].tolist() == ["Unknown", 2, 2, "Enrolment"]
    assert codes.loc["NASK", ["cells", "fields"]].tolist() == [1, 1]
    assert codes.loc["NA", ["cells", "fields", "forms"]].tolist() == [0, 0, ""]
    assert missing_codes_used(lab).empty  # LabAudit defines no codes


def test_missingness_cells_and_frame(classic):
    items = field_missingness(classic)
    cells = missingness_cells(classic, items)
    cigs = cells[cells["row_label"] == "enr_cigs"].set_index("column")["text"].to_dict()
    assert cigs == {
        "rows": "5",
        "answered": "2 (40)",
        "code:UNK": "0 (0)",
        "code:NASK": "0 (0)",
        "code:NA": "0 (0)",
        "hidden": "3 (60)",
        "blank": "0 (0)",
    }
    sex = cells[cells["row_label"] == "enr_sex"].set_index("column")["text"].to_dict()
    assert sex["hidden"] == ""  # no branching logic: nothing hidden
    frame = missingness_frame(items)
    assert (
        frame["answered"]
        + frame[["code UNK", "code NASK", "code NA"]].sum(axis=1)
        + frame["hidden"].fillna(0)
        + frame["blank"]
        == frame["rows"]
    ).all()
    only = missingness_cells(classic, items, only_incomplete=True)
    assert "enr_sex" not in set(only["row_label"]) and "enr_weight" in set(only["row_label"])


def test_values_as_redcap_writes_them():
    assert as_text(pd.Series([True, False, pd.NA], dtype="boolean")).tolist() == ["1", "0", ""]
    assert as_text(pd.Series([3, pd.NA], dtype="Int64")).tolist() == ["3", ""]
    assert as_text(pd.Series([72.5, 65.0, np.nan])).tolist() == ["72.5", "65", ""]
    assert as_text(pd.Series(pd.to_datetime(["2024-01-08", None])), {"validation": "date_dmy"}).tolist() == [
        "2024-01-08",
        "",
    ]
    assert as_text(
        pd.Series(pd.to_datetime(["2024-07-08 10:30"])), {"validation": "datetime_ymd"}
    ).tolist() == ["2024-07-08 10:30"]
    assert as_text(pd.Series(["a", None], dtype="string")).tolist() == ["a", ""]


def test_a_form_without_rows(classic):
    tables = dict(classic.tables)
    tables["baseline_questionnaire"] = classic.tables["baseline_questionnaire"].iloc[0:0]
    missing = classic.missing[classic.missing["form"] != "baseline_questionnaire"]
    data = replace(classic, tables=tables, missing=missing)
    m = _by_field(data)
    assert _counts(m["bq_unemployed_since"]) == (0, 0, {"UNK": 0, "NASK": 0, "NA": 0}, 0, 0)
