"""A classic project (no events) with a repeating instrument, from its project XML (REDCap names
the single event event_1_arm_1 there), and the validation types the other fixtures lack."""

from __future__ import annotations

import pandas as pd
import pytest
from redcap_helpers import LAB_DATA, edit, only, validate_lab


def test_classic_repeating_instrument():
    r = validate_lab()
    assert r.ok and r.failures == []
    assert r.project.repeating.instruments == {("", "lab_result")} and not r.project.longitudinal
    lab = r.tables["lab_result"]
    assert list(lab.columns) == [
        "record_id",
        "redcap_repeat_instance",
        "lab_taken",
        "lab_clock",
        "lab_value",
        "lab_flag",
        "lab_result_complete",
    ]
    assert lab["redcap_repeat_instance"].tolist() == [1, 2, 3, 1]
    assert lab["lab_flag"].tolist() == [0, -1, 1, 0]  # negative integer codes
    assert lab["lab_taken"].iloc[0] == pd.Timestamp("2024-09-02 08:15:00")
    assert lab["lab_clock"].tolist()[:2] == ["08:14:52", "08:20:11"]
    assert list(r.tables["patient"].columns) == ["record_id", "patient_complete"]  # identifiers dropped


@pytest.mark.parametrize(
    "old, new, line, field, value, rule",
    [
        (
            "615-322-2222",
            "115-322-2222",
            2,
            "pt_phone",
            "115-322-2222",
            "not a valid North American phone number (phone)",
        ),
        ("37232-1234", "3723", 6, "pt_zip", "3723", "not a valid U.S. ZIP code (zipcode)"),
        (
            "K1A 0B1",
            "K1A 0B",
            2,
            "pt_postal",
            "K1A 0B",
            "not a valid Canadian postal code (postalcode_canada)",
        ),
        (
            "0123456789",
            "012345678",
            2,
            "pt_mrn",
            "012345678",
            "not a valid 10-digit medical record number (mrn_10d)",
        ),
        ("08:14:52", "8:14:52", 3, "lab_clock", "8:14:52", "not a valid time (HH:MM:SS)"),
        ("4.125", "4.13", 3, "lab_value", "4.13", "not a number with 3 decimal places"),
        ("4.125", "51.000", 3, "lab_value", "51.000", "above the validation maximum 50.0"),
        (
            "2024-09-09 08:20:30",
            "2024-09-09 08:20",
            4,
            "lab_taken",
            "2024-09-09 08:20",
            "not a valid date and time with seconds (YYYY-MM-DD HH:MM:SS)",
        ),
        (
            "2024-09-16 08:05:00",
            "2099-09-16 08:05:00",
            5,
            "lab_taken",
            "2099-09-16 08:05:00",
            "above the validation maximum now",
        ),
        (",12.000,1,1", ",12.000,2,1", 5, "lab_flag", "2", "not a code of lab_flag (its codes are -1, 0, 1)"),
    ],
)
def test_cell_failures(lab, old, new, line, field, value, rule):
    edit(lab / LAB_DATA, old, new)
    f = only(validate_lab(lab).failures, field=field)
    assert (f.file, f.line, f.value, f.rule) == (LAB_DATA, line, value, rule)


def test_repeating_instrument_values_on_a_plain_row(lab):
    edit(lab / LAB_DATA, "B-002,lab_result,1,", "B-002,,,")
    f = only(validate_lab(lab).failures, line=7)
    assert (f.record, f.field, f.value) == ("B-002", "lab_taken", "2024-09-03 10:00:00")
    assert f.rule == (
        "form lab_result repeats at this event, but this row is not one of its repeat rows "
        "(redcap_repeat_instrument is blank)"
    )


def test_repeat_instance_on_a_row_of_a_form_that_does_not_repeat(lab):
    edit(lab / LAB_DATA, "B-002,,,", "B-002,,1,")
    f = only(validate_lab(lab).failures, line=6)
    assert (f.field, f.value, f.rule) == (
        "redcap_repeat_instance",
        "1",
        "a repeat instance on a row whose event does not repeat",
    )


def test_same_instance_twice(lab):
    edit(lab / LAB_DATA, "A-001,lab_result,3,", "A-001,lab_result,2,")
    f = only(validate_lab(lab).failures, line=5)
    assert (f.record, f.instance, f.field) == ("A-001", "2", "record_id")
    assert f.rule == (
        "record A-001 has a second row of form lab_result, instance 2 (first on line 4); REDCap keeps "
        "one per record, event and instance"
    )
