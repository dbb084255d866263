"""The paper's outputs stay as they are (issue 16.2): a build of the default study compared
with the regression snapshot of main (tests/regression/, README there): every table cell and
every printed word of every table (each figure's words: tests/test_figures.py), the report's visible text,
every named value and every row of the comparison with the paper. The snapshot changes only
deliberately, in the commit that means to change an output, and its README lists why."""

from __future__ import annotations

import json
import math
import sys

import pandas as pd
import pytest

from feasibility.tables.common import CELL_COLUMNS

from projectcopy import ROOT, results_of

SNAPSHOT = ROOT / "tests" / "regression"
sys.path.insert(0, str(SNAPSHOT))
from gt_text import gt_text  # noqa: E402
from report_text import visible_text  # noqa: E402

TABLES = ["table2", "table3", "table4", "table5", "feasibility_metrics"]
NUMBERS = ["estimate", "sd", "lower", "upper"]


def close(want: str, have: str) -> bool:
    """Two numbers of a CSV as equal as full precision allows (the order of a sum may move
    the last bit); anything else exactly equal."""
    if want == have:
        return True
    try:
        w, h = float(want), float(have)
    except ValueError:
        return False
    return (math.isnan(w) and math.isnan(h)) or abs(w - h) <= 1e-12 * max(1.0, abs(w))


@pytest.mark.parametrize("table", TABLES)
def test_every_table_cell_is_the_snapshots(built_project, table):
    want = pd.read_csv(SNAPSHOT / "tables" / f"{table}.csv", dtype=str, keep_default_na=False)
    have = pd.read_csv(
        results_of(built_project) / "tables" / f"{table}.csv", dtype=str, keep_default_na=False
    )
    assert list(have.columns) == CELL_COLUMNS and len(have) == len(want)
    bad = [
        (i, c, want.at[i, c], have.at[i, c])
        for i in range(len(want))
        for c in CELL_COLUMNS
        if not (close(want.at[i, c], have.at[i, c]) if c in NUMBERS else want.at[i, c] == have.at[i, c])
    ]
    assert bad == []


@pytest.mark.parametrize("table", TABLES)
def test_every_printed_word_of_every_table_is_the_snapshots(built_project, table):
    words = gt_text((results_of(built_project) / "tables" / f"{table}.html").read_text())
    assert words == json.loads((SNAPSHOT / "tables" / f"{table}.text.json").read_text())


def test_the_reports_text_is_the_snapshots(built_project):
    html = (results_of(built_project) / "report" / "feasibility.html").read_text(encoding="utf-8")
    have = visible_text(html)
    want = (SNAPSHOT / "report.text").read_text(encoding="utf-8").splitlines()
    # the first block that differs, with its neighbours, says where
    first = next((i for i, (w, h) in enumerate(zip(want, have)) if w != h), min(len(want), len(have)))
    assert have == want, (
        "first difference at block",
        first,
        want[first - 2 : first + 3],
        have[first - 2 : first + 3],
    )


def test_every_named_value_is_the_snapshots(built_project):
    want = json.loads((SNAPSHOT / "values.json").read_text())["values"]
    have = json.loads((results_of(built_project) / "values" / "values.json").read_text())["values"]
    assert set(have) == set(want)
    for name, value in want.items():
        mine = have[name]
        assert {k: v for k, v in mine.items() if k != "parts"} == {
            k: v for k, v in value.items() if k != "parts"
        }, name
        assert set(mine["parts"]) == set(value["parts"]), name
        for part, v in value["parts"].items():
            assert close(str(v), str(mine["parts"][part])), (name, part, v, mine["parts"][part])


def test_the_comparison_with_the_paper_is_the_snapshots(built_project):
    want = (SNAPSHOT / "comparison.csv").read_text(encoding="utf-8")
    have = (results_of(built_project) / "reproduction" / "comparison.csv").read_text(encoding="utf-8")
    assert have == want
