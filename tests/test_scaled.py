"""The scaled synthetic cohort (issue 7): REDCap's downloads of the paper's project that
validate against their own dictionary and the paper's declared rules, deterministic, k
sites whose list is the data dictionary's; the writer's column-wise formatter; and the
whole workflow on a four-site cohort (the recruitment figure's panels for many sites are
tested in tests/test_figures.py)."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feasibility import crf
from feasibility.config import load_study
from feasibility.pipeline import validation_settings
from feasibility.redcap import validate, write_validated
from feasibility.synth.scaled import generate_scaled, scaled_sites
from feasibility.synth.writer import column_text

from projectcopy import ROOT, checksums, copy_project, run_snakemake
from records_helpers import read_csv, write_csv

N, SITES, SEED = 300, 5, 7
FIVE = [["1", "Birmingham"], ["2", "Coventry"], ["3", "Site 03"], ["4", "Site 04"], ["5", "Site 05"]]
EXPORT_DATE = "2025-01-01"
DOWNLOADS = ["records.csv", "data_dictionary.csv", "instrument_designations.csv", "events.csv", "project.xml"]


def settings() -> dict:
    """The paper's validation settings (its declared cross-form rules, repeating forms), with
    an export date after the scaled cohort's last follow-up (it is recruited from 2021, after
    the paper's export)."""
    return {**validation_settings(load_study(ROOT / "config" / "config.yaml")), "export_date": EXPORT_DATE}


def validate_raw(raw: Path):
    """The downloads in ``raw`` validated as the rule validate does it."""
    return validate(raw / crf.RECORDS_FILE, dictionary=raw / crf.DICTIONARY_FILE,
                    instrument_designations=raw / crf.DESIGNATIONS_FILE, events=raw / crf.EVENTS_FILE,
                    settings=settings())


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaled") / "raw"
    generate_scaled(N, SITES, SEED, out)
    return out


@pytest.fixture(scope="module")
def validated(cohort):
    result = validate_raw(cohort)
    assert result.ok, "\n".join(f.message() for f in result.failures[:20])
    return result


@pytest.fixture
def raw(cohort, tmp_path):
    return shutil.copytree(cohort, tmp_path / "raw")


# ------------------------------------------------------------------------------ the cohort
def test_the_downloads_validate(cohort, validated):
    assert validated.failures == [], "\n".join(f.message() for f in validated.failures[:20])
    assert set(validated.tables) == {f.name for f in validated.project.forms}
    assert sorted(p.name for p in cohort.iterdir()) == sorted([*DOWNLOADS, "provenance.json"])


def test_cohort_has_the_participants_and_sites_asked_for(validated):
    tables = validated.tables
    enrolment = tables["enrolment"]
    assert len(enrolment) == N and enrolment["record_id"].is_unique
    assert (tables["screening"]["scr_enrolled"] == 1).sum() == N
    for form, column in (("screening", "scr_site"), ("enrolment", "enr_site")):
        assert set(tables[form][column].dropna()) == {1, 2, 3, 4, 5}, column
    assert set(tables["placement"]["plc_site"].dropna()) <= {1, 2, 3, 4, 5}


def test_the_dictionary_and_the_codebook_list_the_sites(cohort, validated, tmp_path):
    """The site fields' choices are the dictionary's five sites, in the download and in the
    codebook the analysis reads (results/validated/codebook.json)."""
    dictionary = pd.read_csv(cohort / crf.DICTIONARY_FILE, dtype=str, keep_default_na=False)
    choices = dictionary.set_index("Variable / Field Name")["Choices, Calculations, OR Slider Labels"]
    write_validated(validated, tmp_path / "validated")
    fields = {f["name"]: f for f in json.loads((tmp_path / "validated" / "codebook.json").read_text())["fields"]}
    for field in crf.SITE_FIELDS:
        assert choices[field] == " | ".join(f"{c}, {label}" for c, label in FIVE), field
        assert [[str(c), label] for c, label in fields[field]["choices"]] == FIVE, field


def test_cohort_has_the_study_paths(validated):
    """Withdrawals, people not placed, repeated log entries, checkbox groups, gaps."""
    t = validated.tables
    sc = t["status_change"]
    assert {1, 2, 7} <= set(sc["sc_type"].dropna()) and (sc["sc_further_data"] == 0).any()
    assert set(t["placement"]["plc_placed"].dropna()) == {0, 1}
    for form in ("cm_contact", "status_change", "adverse_event"):
        assert (t[form]["redcap_repeat_instance"] == 2).any(), form
    ticked = t["demographics"][[f"dem_pain_area___{k}" for k in range(1, 7)]].sum(axis=1)
    assert ticked.min() >= 1 and ticked.max() >= 2
    hq = t["health_questionnaire"]
    baseline = hq[hq["redcap_event_name"] == "baseline_arm_1"]
    assert baseline[[f"hads_{i}" for i in range(1, 15)]].isna().any().any()
    returned = t["followup_admin"]
    for event in crf.FOLLOW_UP_EVENTS:
        assert ((returned["redcap_event_name"] == event) & (returned["fu_returned"] == 1)).any(), event


def test_generation_is_deterministic(cohort, tmp_path):
    generate_scaled(N, SITES, SEED, tmp_path / "again")
    assert checksums(tmp_path / "again") == checksums(cohort)
    generate_scaled(N, SITES, SEED + 1, tmp_path / "other")
    assert checksums(tmp_path / "other") != checksums(cohort)


def test_progress_names_each_export(tmp_path):
    log = io.StringIO()
    written = generate_scaled(40, 3, SEED, tmp_path / "raw", progress=log)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("scaled synthetic cohort: n = 40 participants, 3 sites, seed 7")
    enrolled = next(line for line in lines if line.startswith("enrolment: "))
    assert enrolled.startswith("enrolment: 40 rows, ") and enrolled.endswith(" s")
    assert lines[-1].startswith("records.csv: ") and "sites Birmingham, Coventry, Site 03" in lines[-1]
    assert [p.name for p in written] == DOWNLOADS


def test_site_names_are_the_studys_then_numbered():
    assert scaled_sites(1) == ((1, "Birmingham"),)
    assert scaled_sites(4) == ((1, "Birmingham"), (2, "Coventry"), (3, "Site 03"), (4, "Site 04"))


# --------------------------------------------------------------- sites from the dictionary
@pytest.mark.parametrize("column", ["scr_site", "enr_site", "plc_site"])
def test_site_code_not_in_the_dictionary_fails_at_its_cell(raw, column):
    header, body = read_csv(raw / crf.RECORDS_FILE)
    j = header.index(column)
    i = next(i for i, r in enumerate(body) if r[j] == "5")       # 5: listed in the dictionary
    body[i][j] = "6"                                              # 6: not listed
    write_csv(raw / crf.RECORDS_FILE, header, body)
    result = validate_raw(raw)
    assert not result.ok
    hits = [f for f in result.failures if f.field == column and f.value == "6"]
    assert len(hits) == 1, [f.message() for f in result.failures]
    assert hits[0].file == crf.RECORDS_FILE and hits[0].line == i + 2    # header is line 1
    assert (hits[0].record, hits[0].event) == (body[i][0], body[i][1])
    assert hits[0].rule == f"not a code of {column} (its codes are 1, 2, 3, 4, 5)"


# -------------------------------------------------------------------------------- writer
def test_writer_formats_columns_as_redcap_exports_them():
    fields = {f.name: f for f in crf.fields()}
    assert column_text(pd.Series([pd.Timestamp("2021-03-04"), pd.NaT]), fields["ae_date"]).tolist() == [
        "2021-03-04", ""]
    assert column_text(pd.Series([0.0, np.nan, 3.0]), fields["ae_serious"]).tolist() == ["0", "", "3"]
    assert column_text(pd.Series([2.0, 0.5]), fields["wp_days"]).tolist() == ["2.0", "0.5"]     # number_1dp
    assert column_text(pd.Series([7.0, 1.25]), fields["plc_hours_wk1"]).tolist() == ["7.00", "1.25"]
    assert column_text(pd.Series(['Fell, then "rested"', None]), fields["ae_description"]).tolist() == [
        'Fell, then "rested"', ""]


def test_the_records_export_is_written_as_redcap_writes_it(cohort):
    """Read back from records.csv: RFC 4180 quoting, dates YYYY-MM-DD, whole numbers without
    a decimal point, number_1dp / number_2dp with their decimals; a form's fields blank on
    the rows of other forms and events."""
    text = (cohort / crf.RECORDS_FILE).read_text(encoding="utf-8")
    assert "\r" not in text and not text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance"]
    assert all(len(r) == len(header) for r in body)
    shapes = {"date_ymd": r"\d{4}-\d{2}-\d{2}", "integer": r"-?\d+", "number_1dp": r"-?\d+\.\d",
              "number_2dp": r"-?\d+\.\d\d"}
    checked = set()
    for fld in crf.fields():
        if fld.validation in shapes and fld.name in header:
            j = header.index(fld.name)
            values = {r[j] for r in body} - {""}
            bad = [v for v in values if not re.fullmatch(shapes[fld.validation], v)]
            assert not bad, (fld.name, bad[:5])
            checked.add(fld.validation) if values else None
    assert checked == set(shapes)
    instance = [r[3] for r in body if r[3]]
    assert instance and all(re.fullmatch(r"[1-9]\d*", v) for v in instance)


# ------------------------------------------------------------------------------ end to end
@pytest.mark.slow      # runs the whole workflow again (quick run: -m "not slow")
def test_workflow_runs_on_a_four_site_cohort(tmp_path):
    proj = copy_project(tmp_path)
    raw = proj / "data" / "raw"
    shutil.rmtree(raw)
    generate_scaled(300, 4, SEED, raw)
    # the paper's export date (2019) is before this cohort's recruitment (2021 to 2024)
    res = run_snakemake(proj, "--config", f"validation={{export_date: '{EXPORT_DATE}'}}")
    assert res.returncode == 0, res.stderr[-3000:]
    results = proj / "results"
    assert (results / "report" / "feasibility.html").stat().st_size > 0
    alt = (results / "figures" / "timeline.alt.txt").read_text()
    assert "in panels for all sites and for Birmingham, Coventry, Site 03 and Site 04" in alt
    metrics = pd.read_csv(results / "tables" / "feasibility_metrics.csv")
    assert {"Birmingham", "Coventry", "Site 03", "Site 04"} <= set(metrics["row_label"])
