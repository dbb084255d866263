"""The full trial built by the real workflow, `snakemake --configfile
config/studies/full-trial.yaml`, in a copy of the project, on a small cohort the generator
makes (issue 17.2 and 17.5). The study file is the shipped one; a second study file laid
over it (Snakemake merges study files in order) points `redcap.records` at the small
export. Checked against counts made by hand from the raw export (read with the csv module):
every CONSORT box of results/figures/<flow id>.csv and its sums, a baseline row in each
arm, the primary outcome's between-arm risk difference and its Newcombe interval; the
report (HTML and PDF, and the data-quality report) is there, without the appendices a study
with no publication has nothing for, and its PDF has no overprinted, clipped or tiny text;
two clean builds give byte-identical tables, figures and named values."""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd
import pytest
from scipy import stats

from projectcopy import TRIAL, checksums_tree, copy_project, results_of, run_snakemake
from test_trial_numbers import wilson
from trial_helpers import read_export

pytestmark = pytest.mark.slow

N, SEED = 150, 23  # people screened; about 90 are randomised
STUDY = "config/studies/full-trial.yaml"
SMALL = "small/study.yaml"  # laid over the study file: the small cohort's export
COLUMN = {"1": "supported_work_placement", "2": "usual_care"}
STATUS = {"2": "Withdrew from follow-up", "3": "Lost to follow-up", "4": "Died"}


def build(project: Path) -> None:
    out = run_snakemake(project, "--configfile", STUDY, SMALL, timeout=600)
    assert out.returncode == 0, out.stderr[-4000:]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A project copy with a small generated cohort, built once."""
    root = tmp_path_factory.mktemp("trial") / "project"
    root.mkdir()
    copy_project(root)
    small = root / "small"
    small.mkdir()
    from feasibility.synth.dummy import main

    assert (
        main(
            ["--study", str(root / STUDY), "--n", str(N), "--seed", str(SEED), "--out", str(small), "--quiet"]
        )
        == 0
    )
    (root / SMALL).write_text("redcap:\n  records: records.csv\n", encoding="utf-8")
    build(root)
    return root


@pytest.fixture(scope="module")
def raw(project) -> dict:
    """Per event, per record, the raw export's row (non-repeating rows)."""
    by_event: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in read_export(project / "small" / "records.csv"):
        if not row.get("redcap_repeat_instrument"):
            by_event[row["redcap_event_name"]][row["record_id"]] = row
    arm = {rid: r["rand_arm"] for rid, r in by_event["baseline_arm_1"].items() if r["rand_arm"]}
    return {**by_event, "arm": arm}


@pytest.fixture(scope="module")
def consort(project) -> pd.DataFrame:
    flow_ids = [f for f, d in _study(project)["figures"].items() if d["kind"] == "flow"]
    assert flow_ids == ["consort"]
    frame = pd.read_csv(
        results_of(project, TRIAL) / "figures" / "consort.csv", dtype=str, keep_default_na=False
    )
    boxes = frame[frame["what"] == "box"].copy()
    boxes["n"] = boxes["n"].astype(int)
    return boxes


def _study(project: Path) -> dict:
    import yaml

    return yaml.safe_load((project / STUDY).read_text(encoding="utf-8"))


def n(boxes: pd.DataFrame, box: str, arm: str = "", reason: str = "") -> int:
    hit = boxes[(boxes["box"] == box) & (boxes["arm"] == arm) & (boxes["reason"] == reason)]
    assert len(hit) == 1, (box, arm, reason)
    return int(hit["n"].iloc[0])


def test_the_report_and_the_quality_report_are_built(project):
    results = results_of(project, TRIAL)
    for name in ("full-trial.html", "full-trial.pdf", "full-trial-quality.html", "full-trial-quality.pdf"):
        assert (results / "report" / name).stat().st_size > 10_000, name
    # no publication: no audit, no reproduction, and the report has no such appendix
    assert not (results / "reproduction").exists()
    html = (results / "report" / "full-trial.html").read_text(encoding="utf-8")
    assert "Reproduction against" not in html and "Audit of the published" not in html
    assert "Appendix A: Data validation" in html and "Appendix B: Provenance" in html
    # dummy data say so: first page, source notes, provenance appendix
    assert "not the study\u2019s data" in html or "not the study's data" in html
    assert "feasibility.synth.dummy" in html
    assert "Allocated to Supported work placement" in (results / "figures" / "consort.svg").read_text()


def test_the_report_prints_the_estimands_and_the_adjusted_analyses(project):
    """Issue 23.1 and 23.2: the methods' estimands table, the adjusted tables with the
    unadjusted estimates labelled supportive, each result named by its estimand, and the
    primary narrative's adjusted difference is the table's cell."""
    results = results_of(project, TRIAL)
    html = (results / "report" / "full-trial.html").read_text(encoding="utf-8")
    assert "Estimands (ICH E9(R1))" in html
    for text in (
        "E1 (primary)",
        "Intercurrent events and strategies",
        "treatment policy",
        "Adjusted difference (95% CI)",
        "Unadjusted, complete cases (supportive)",
        "Adjusted, multiple imputation (primary analysis)",
        "In paid work at 6 months (E1)",
        "WEMWBS at 6 months (E9)",
    ):
        assert text in html, text
    cells = pd.read_csv(results / "tables" / "primary_adjusted.csv", keep_default_na=False)
    adjusted = cells[cells["column"] == "adjusted"].iloc[0]
    assert adjusted["statistic"] == "risk_difference_ci"
    values = json.loads((results / "values" / "values.json").read_text(encoding="utf-8"))
    text = json.dumps(values)
    assert "primary_adjusted.in_paid_work.adjusted" in text
    assert f"difference adjusted for site of {adjusted['text'].split(' ')[0]} percentage" in html


def test_every_consort_box_adds_up_and_matches_the_export(consort, raw):
    b = consort
    screening, arm = raw["screening_arm_1"], raw["arm"]
    assert n(b, "assessed") == len(screening) == N
    assert n(b, "randomised") == len(arm)
    assert n(b, "excluded") + n(b, "randomised") == n(b, "assessed")
    why = Counter(
        "Not meeting inclusion criteria"
        if r["scr_eligible"] == "0"
        else "Declined to participate"
        if r["scr_consented"] == "0"
        else "Other reasons"
        for rid, r in screening.items()
        if rid not in arm
    )
    for reason, k in why.items():
        assert n(b, "excluded", reason=reason) == k
    assert sum(n(b, "allocated", a) for a in COLUMN) == n(b, "randomised")
    for a in COLUMN:
        mine = [rid for rid, x in arm.items() if x == a]
        assert n(b, "allocated", a) == len(mine)
        # each stage's boxes that are part of the allocation add up to it, record by record
        assert n(b, "received", a) + n(b, "not_received", a) == len(mine)
        assert n(b, "analysed", a) + n(b, "not_analysed", a) == len(mine)
        analysed = [
            rid for rid in mine if raw["month6_arm_1"].get(rid, {}).get("emp_paid_work") in ("0", "1")
        ]
        assert n(b, "analysed", a) == len(analysed)
        lost = Counter(
            STATUS[raw["study_log_arm_1"][rid]["ss_status"]]
            for rid in mine
            if raw["study_log_arm_1"][rid]["ss_status"] in STATUS
        )
        assert n(b, "lost", a) == sum(lost.values())
        for reason, k in lost.items():
            assert n(b, "lost", a, reason) == k
        assert n(b, "discontinued", a) == sum(
            raw["study_log_arm_1"][rid]["ss_discontinued"] == "1" for rid in mine
        )
        if a == "1":
            got = sum(raw["intervention_arm_1"].get(rid, {}).get("wp_attended") == "1" for rid in mine)
            assert n(b, "received", a) == got
        else:
            assert n(b, "received", a) == len(mine)  # usual care needs no delivery
        # every box's reasons add up to it
        for box in ("not_received", "lost", "discontinued", "not_analysed"):
            rows = b[(b["box"] == box) & (b["arm"] == a) & (b["reason"] != "")]
            assert rows["n"].sum() == n(b, box, a), (box, a)


def _cell(project: Path, table: str, row: str, column: str) -> pd.Series:
    cells = pd.read_csv(results_of(project, TRIAL) / "tables" / f"{table}.csv")
    hit = cells[(cells["row_label"] == row) & (cells["column"] == column)]
    assert len(hit) == 1, (table, row, column)
    return hit.iloc[0]


def test_a_baseline_row_in_each_arm_by_hand(project, raw):
    for a, column in COLUMN.items():
        rows = [raw["baseline_arm_1"][rid] for rid, x in raw["arm"].items() if x == a]
        female = sum(r["dem_sex"] == "1" for r in rows)
        c = _cell(project, "baseline", "Female", column)
        assert (c["n"], c["denominator"]) == (female, len(rows))
        assert c["estimate"] == pytest.approx(100 * female / len(rows))
        assert c["text"] == f"{female} ({100 * female / len(rows):.0f})"


def test_the_between_arm_risk_difference_by_hand(project, raw):
    counts = {}
    for a in COLUMN:
        answers = [
            raw["month6_arm_1"][rid]["emp_paid_work"]
            for rid, x in raw["arm"].items()
            if x == a and raw["month6_arm_1"].get(rid, {}).get("emp_paid_work") in ("0", "1")
        ]
        counts[a] = (answers.count("1"), len(answers))
    (k1, n1), (k2, n2) = counts["1"], counts["2"]
    p1, p2 = k1 / n1, k2 / n2
    z = stats.norm.ppf(0.975)
    (l1, u1), (l2, u2) = wilson(k1, n1, z), wilson(k2, n2, z)
    lower = p1 - p2 - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = p1 - p2 + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    d = _cell(project, "primary_outcome", "In paid work at 6 months, n (%)", "difference")
    assert d["statistic"] == "risk_difference_ci" and d["n"] == n1 + n2
    assert (d["estimate"], d["lower"], d["upper"]) == pytest.approx(
        (100 * (p1 - p2), 100 * lower, 100 * upper)
    )
    # the narrative states the same numbers, through the named value
    value = json.loads((results_of(project, TRIAL) / "values" / "values.json").read_text())["values"][
        "primary.in_paid_work.difference"
    ]
    assert value["parts"]["estimate"] == pytest.approx(100 * (p1 - p2))
    html = (results_of(project, TRIAL) / "report" / "full-trial.html").read_text(encoding="utf-8")
    sign = "\u2212" if p1 < p2 else ""
    # (issue 23.2: the narrative's difference is the adjusted one; the unadjusted is supportive)
    assert f"unadjusted, supportive: {sign}{abs(100 * (p1 - p2)):.1f}," in html


def test_the_pdf_has_no_overprinted_clipped_or_tiny_text(project):
    pymupdf = pytest.importorskip("pymupdf")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from test_layout import off_page, overprinted, small_text, struck_through

    with pymupdf.open(results_of(project, TRIAL) / "report" / "full-trial.pdf") as doc:
        problems = [
            p
            for page in doc
            for check in (overprinted, struck_through, off_page, small_text)
            for p in check(page)
        ]
    assert problems == []


def test_two_clean_builds_are_byte_identical(project):
    def outputs() -> dict[str, str]:
        sums = checksums_tree(results_of(project, TRIAL))
        return {
            k: v
            for k, v in sums.items()
            if k == "values/values.json"
            or k.startswith(("tables/", "figures/"))
            and k.endswith((".csv", ".svg"))
        }

    first = outputs()
    assert {"values/values.json", "tables/baseline.csv", "figures/consort.svg", "figures/consort.csv"} <= set(
        first
    )
    shutil.rmtree(results_of(project, TRIAL))
    shutil.rmtree(project / ".snakemake")
    build(project)
    assert outputs() == first
