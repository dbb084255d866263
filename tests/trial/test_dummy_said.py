"""Dummy data said everywhere (issue 23.8): every table and every figure of the full
trial's report, built from the generator's dummy data (its provenance file), says in its
source note or caption that the data are dummy data and not the trial's; the same tables
and captions built from data without a provenance file (a real export) say nothing of
the kind. (Both data-quality reports: tests/quality/test_quality_report.py checks every
table and figure.)"""

from __future__ import annotations

import html as html_text
import re

import pytest

SAID = "dummy data made by this project's generator from the study's data dictionary"


def report_items(study: dict, kind: str) -> list[dict]:
    out = []
    for section in study["report"]["sections"]:
        out += [item for item in section.get("content") or [] if isinstance(item, dict) and kind in item]
    return out


def source_notes(html: str) -> str:
    found = re.findall(r'class="gt_sourcenote[^"]*"[^>]*>(.*?)</td>', html, re.DOTALL)
    return html_text.unescape(" ".join(re.sub(r"<[^>]+>", "", f) for f in found))


@pytest.fixture(scope="module")
def provenance(cohort):
    from feasibility.provenance import read_provenance

    prov = read_provenance(cohort.folder)
    assert prov is not None and prov.synthetic and not prov.calibrated_to.get("publication")
    return prov


@pytest.fixture(scope="module")
def built(cohort, study, provenance):
    """Every table the study file declares, from the cohort's dummy data (with fewer
    imputations than the report's, declared here) and from the same data as if real."""
    from feasibility.analysis import Analysis, load_spec
    from feasibility.tables.registry import build_table

    config = {
        **study,
        "statistics": {**study["statistics"], "imputation": {"m": 2, "iterations": 2, "seed": 1}},
    }
    spec = load_spec(config)
    dummy = Analysis(cohort.analysis.study, spec, provenance)
    real = Analysis(cohort.analysis.study, spec)
    return {
        tid: (build_table(dummy, tid).gt.as_raw_html(), build_table(real, tid).gt.as_raw_html())
        for tid in study["tables"]
    }


def test_every_table_of_the_trial_report_says_dummy_data(study, built):
    in_report = {item["table"] for item in report_items(study, "table")}
    assert in_report <= set(built) and len(in_report) >= 10
    for tid, (dummy, real) in built.items():
        note = source_notes(dummy).lower()
        assert SAID in note and "not the study's data" in note, tid
        assert SAID not in source_notes(real).lower(), tid


def test_every_figure_of_the_trial_report_says_dummy_data(study, provenance):
    from feasibility.report_content import caption

    figures = report_items(study, "figure")
    assert {f["figure"] for f in figures} == set(study["figures"])
    for item in figures:
        label, text = caption(item, study, provenance)
        assert label == item["label"]
        assert (
            "Dummy data made by this project's generator from the study's data dictionary, "
            "not the study's data" in text
        ), item["figure"]
        assert "Dummy data" not in caption(item, study, None)[1], item["figure"]
