"""The Pandera schemas agree with the REDCap data dictionary, field by field."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from feasibility import crf
from feasibility.schemas.raw import SCHEMAS

from projectcopy import ROOT

DD = pd.read_csv(ROOT / "data" / "raw" / crf.DICTIONARY_FILE, dtype=str, keep_default_na=False)


def column_check(export: str, column: str):
    """The schema column (exact name or regex alias) that checks ``column``, and its checks."""
    schema = SCHEMAS[export].to_schema()
    for name, col in schema.columns.items():
        if name == column or (col.regex and re.fullmatch(name, column)):
            return col
    return None


def dictionary_codes(row) -> list[int] | None:
    text = row["Choices, Calculations, OR Slider Labels"]
    if row["Field Type"] in ("radio", "dropdown") and text:
        return [int(part.split(",")[0]) for part in text.split(" | ")]
    return None


CASES = [(name, col) for name, ex in crf.EXPORTS.items() for col in crf.export_columns(ex)]


def test_dictionary_lists_every_field_once():
    assert DD["Variable / Field Name"].is_unique
    assert list(DD.columns) == crf.DICTIONARY_COLUMNS and len(DD.columns) == 18


@pytest.mark.parametrize("export,column", CASES)
def test_every_export_column_is_checked_like_the_dictionary(export, column):
    col = column_check(export, column)
    assert col is not None, f"{export}: no schema column checks {column}"
    field = column.split("___")[0]
    rows = DD[DD["Variable / Field Name"] == field]
    if rows.empty:
        assert column in ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance") \
            or column.endswith("_complete")
        return
    row = rows.iloc[0]
    checks = {c.name: c for c in col.checks}
    codes = [0, 1] if row["Field Type"] in ("yesno", "checkbox") else dictionary_codes(row)
    if codes is not None:
        allowed = sorted(checks["isin"].statistics["allowed_values"])
        expected = sorted(codes)
        assert allowed == expected, (column, allowed, expected)
    lo, hi = row["Text Validation Min"], row["Text Validation Max"]
    if lo or hi:
        assert checks["greater_than_or_equal_to"].statistics["min_value"] == float(lo)
        assert checks["less_than_or_equal_to"].statistics["max_value"] == float(hi)
    if row["Text Validation Type OR Show Slider Number"] == "date_ymd":
        assert "datetime" in str(col.dtype)
