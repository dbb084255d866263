"""A generated export (the benchmark's project, small): valid as written, and a flood of bad
cells gives a bounded report (the speed targets themselves live in tests/benchmarks/bench_redcap.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from feasibility.redcap import validate
from feasibility.redcap.messages import MAX_PER_RULE

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_redcap.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_redcap", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _validate(paths):
    return validate(
        paths["records"],
        dictionary=paths["dictionary"],
        instrument_designations=paths["designations"],
        settings={
            "missing_data_codes": "UNK, Unknown | NASK, Not asked",
            "repeating": {
                "instruments": [
                    {"form": "adverse_event", "event": "month_6_arm_1"},
                    {"form": "adverse_event", "event": "month_12_arm_1"},
                ]
            },
        },
    )


def test_generated_export_is_valid(bench, tmp_path):
    paths = bench.write(bench.project(), 300, tmp_path)
    r = _validate(paths)
    assert r.ok and r.failures == [], r.failures[:3]
    assert len(r.tables["quality_of_life"]) > 600 and "dob" not in r.tables["consent"]
    assert (r.missing["code"] == "UNK").sum() == (r.missing["field"] == "weight").sum() > 0


def test_a_flood_of_bad_cells_is_listed_up_to_a_bound_and_counted(bench, tmp_path):
    p = bench.project()
    paths = bench.write(p, 400, tmp_path, bad=True)  # ~1,200 questionnaire dates, 400 sites
    r = _validate(paths)
    dates = [f for f in r.failures if f.field == "qol_date"]
    assert len(dates) == MAX_PER_RULE + 1
    assert dates[0].rule == "not a valid date (YYYY-MM-DD)" and dates[0].value.count("/") == 2
    (more,) = [f for f in dates if f.line is None]
    n_bad = sum(1 for f in r.failures if f.field == "qol_date") - 1
    assert more.rule.startswith("not a valid date (YYYY-MM-DD) (and ")
    assert more.rule.endswith(
        f"more cells of qol_date like this: only the first {MAX_PER_RULE:,} are listed)"
    )
    counted = int(more.rule.split("(and ")[1].split(" more")[0].replace(",", ""))
    written = sum(1 for v in r.records.column("qol_date").to_pylist() if v)  # every one is DD/MM/YYYY
    assert n_bad + counted == written
    sites = [f for f in r.failures if f.field == "site"]
    assert len(sites) == 400 and sites[0].rule == (
        "not a code of site (its codes are 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, …)"
    )
    # a required field that is unreadable is reported once, not again as blank
    assert not [f for f in r.failures if "required field is blank" in f.rule]
