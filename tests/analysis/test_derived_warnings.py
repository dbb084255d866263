"""Derived variables that could be silently wrong warn, naming themselves (issue 20.7): one
that divides by zero, one missing for every participant; and a study reading the records'
data access groups from an export without them is refused."""

from __future__ import annotations

import json
import logging

import pytest

import minimal
from feasibility.analysis import Analysis, ExpressionError, load_spec
from test_expressions import DEMO, SCREENING, VISIT


def analysis(derived: dict) -> Analysis:
    return Analysis(
        minimal.study(screening=SCREENING, demo=DEMO, visit=VISIT),
        load_spec({"timepoints": minimal.TIMEPOINTS, "derived": derived}),
    )


def test_a_division_by_zero_and_an_all_missing_variable_warn_naming_them(caplog, tmp_path):
    a = analysis(
        {
            "per_year": {"expr": "demo.age / (demo.years - demo.years)"},
            "ratio": {"expr": "demo.age / demo.years"},
        }
    )
    with caplog.at_level(logging.WARNING, logger="feasibility"):
        a.compute_all()
    # record 1: 30 / 0 (divided by zero); 2: age missing; 3: no demo row - missing for everyone
    assert a.warnings == [
        "derived variable per_year (demo.age / (demo.years - demo.years)) divides by zero for 1 value(s); each "
        "gives a missing value",
        "derived variable per_year (demo.age / (demo.years - demo.years)) is missing for every participant (3)",
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "feasibility.analysis"] == a.warnings
    # the analysis dataset keeps them, for whoever reads it (the report's build reads variables.json)
    a.save(tmp_path)
    assert json.loads((tmp_path / "variables.json").read_text())["warnings"] == a.warnings
    assert Analysis.load(a.study, a.spec, tmp_path).warnings == a.warnings


def test_a_sound_variable_does_not_warn():
    a = analysis({"ratio": {"expr": "demo.age / demo.years"}})
    a.compute_all()
    assert a.warnings == []


def test_the_sites_of_an_export_without_data_access_groups_are_refused():
    a = analysis({"site": {"expr": "redcap_data_access_group"}})
    with pytest.raises(ExpressionError, match="export has no redcap_data_access_group column"):
        a.compute_all()
