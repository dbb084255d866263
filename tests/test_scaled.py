"""The scaled synthetic cohort (issue 7) in REDCap's shape: valid against its own data
dictionary and every rule of the study file, deterministic, k sites whose list is the
dictionary's; the writer's column-wise formatter; and the whole workflow on a four-site
cohort (the recruitment figure's panels for many sites are tested in tests/test_figures.py)."""

from __future__ import annotations

import io
import shutil

import pandas as pd
import pytest

from feasibility.studies.pilot2020 import crf
from feasibility.redcap import validate
from feasibility.studies.pilot2020.synth.scaled import generate_scaled, scaled_sites
from feasibility.studies.pilot2020.synth.writer import column_text

import records_helpers as rh
from projectcopy import checksums, copy_project, results_of, run_snakemake
from test_corpus import case_settings

N, SITES, SEED = 300, 5, 7
# the scaled calendar runs to 2024, past the paper's export date (2019-07-01): validated as exported later
EXPORT_DATE = "2025-01-01"


def validate_scaled(raw):
    """The downloads in ``raw`` validated with the study's settings and rules, exported on EXPORT_DATE."""
    return validate(
        raw / "records.csv",
        dictionary=raw / "data_dictionary.csv",
        instrument_designations=raw / "instrument_designations.csv",
        events=raw / "events.csv",
        settings={**case_settings(), "export_date": EXPORT_DATE},
    )


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaled") / "raw"
    generate_scaled(N, SITES, SEED, out)
    return out


@pytest.fixture(scope="module")
def validated(cohort):
    return validate_scaled(cohort)


@pytest.fixture
def raw(cohort, tmp_path):
    return shutil.copytree(cohort, tmp_path / "raw")


# ------------------------------------------------------------------------------ the cohort
def test_the_cohort_validates_against_its_dictionary_and_the_studys_rules(validated):
    assert validated.ok and validated.failures == [], "\n".join(f.message() for f in validated.failures[:20])
    assert set(validated.tables) == set(crf.FORM_LABELS)


def test_cohort_has_the_participants_and_sites_asked_for(validated):
    enrolment, screening = validated.tables["enrolment"], validated.tables["screening"]
    assert len(enrolment) == N and enrolment["record_id"].is_unique
    assert (screening["scr_enrolled"] == 1).sum() == N
    assert set(enrolment["record_id"]) == set(screening.loc[screening["scr_enrolled"] == 1, "record_id"])
    for form, column in (("screening", "scr_site"), ("enrolment", "enr_site")):
        assert set(validated.tables[form][column]) == {1, 2, 3, 4, 5}, column
    five = (("1", "Birmingham"), ("2", "Coventry"), ("3", "Site 03"), ("4", "Site 04"), ("5", "Site 05"))
    for field in crf.SITE_FIELDS:
        assert tuple(validated.project.field[field].choices) == five, field
    assert tuple((str(c), label) for c, label in scaled_sites(SITES)) == five


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
    fu = t["followup_admin"]
    for event in crf.FOLLOW_UP_EVENTS:
        assert ((fu["redcap_event_name"] == event) & (fu["fu_returned"] == 1)).any(), event


def test_generation_is_deterministic(cohort, tmp_path):
    generate_scaled(N, SITES, SEED, tmp_path / "again")
    assert checksums(tmp_path / "again") == checksums(cohort)
    generate_scaled(N, SITES, SEED + 1, tmp_path / "other")
    assert checksums(tmp_path / "other") != checksums(cohort)


def test_progress_names_each_group_of_forms_and_the_files(tmp_path):
    log = io.StringIO()
    written = generate_scaled(40, 3, SEED, tmp_path / "raw", progress=log)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("scaled synthetic cohort: n = 40 participants, 3 sites, seed 7")
    assert any(line.startswith("enrolment: 40 rows, ") and line.endswith(" s") for line in lines)
    assert lines[-1].startswith("records.csv: ") and "data_dictionary.csv: " in lines[-1]
    assert sorted(p.name for p in written) == sorted(
        ["records.csv", "data_dictionary.csv", "instrument_designations.csv", "events.csv", "project.xml"]
    )


def test_site_names_are_the_studys_then_numbered():
    assert scaled_sites(1) == ((1, "Birmingham"),)
    assert scaled_sites(4) == ((1, "Birmingham"), (2, "Coventry"), (3, "Site 03"), (4, "Site 04"))


# --------------------------------------------------------------- sites from the dictionary
@pytest.mark.parametrize("column", ["scr_site", "enr_site", "plc_site"])
def test_site_code_not_in_the_dictionary_fails_at_its_cell(raw, column):
    header, body = rh.read_csv(raw / "records.csv")
    j = header.index(column)
    i = next(i for i, r in enumerate(body) if r[j] == "5")  # 5: listed in the dictionary
    body[i][j] = "6"  # 6: not listed
    rh.write_csv(raw / "records.csv", header, body)
    failures = validate_scaled(raw).failures
    hits = [f for f in failures if f.field == column and f.value == "6"]
    assert len(hits) == 1 and len(failures) == 1, [f.message() for f in failures]
    assert hits[0].file == "records.csv" and hits[0].rule.startswith(f"not a code of {column}")
    assert (hits[0].line, hits[0].record) == (i + 2, body[i][0])  # header is line 1; no cell spans lines


# -------------------------------------------------------------------------------- writer
def test_writer_formats_columns_as_redcap_exports_them():
    fields = crf.fields_by_name()
    text = {
        name: list(column_text(pd.Series(values), fields.get(name)))
        for name, values in {
            "ae_date": [pd.Timestamp("2021-03-04"), pd.NaT],
            "ae_serious": [0.0, float("nan")],
            "ae_related": [1, 3],
            "ae_description": ['Fell, then "rested"', None],
            "dem_years_pain": [2.0, 12.34],  # number_1dp: one decimal
        }.items()
    }
    assert text == {
        "ae_date": ["2021-03-04", ""],
        "ae_serious": ["0", ""],
        "ae_related": ["1", "3"],
        "ae_description": ['Fell, then "rested"', ""],
        "dem_years_pain": ["2.0", "12.3"],
    }
    assert fields["dem_years_pain"].validation == "number_1dp"


# ------------------------------------------------------------------------ many-site figure
@pytest.mark.slow  # runs the whole workflow again (quick run: -m "not slow")
def test_workflow_runs_on_a_four_site_cohort(tmp_path):
    proj = copy_project(tmp_path)
    raw = proj / "data" / "raw"
    for path in [*raw.glob("*.csv"), raw / "project.xml"]:
        path.unlink()
    generate_scaled(300, 4, SEED, raw)
    config = proj / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert text.count('export_date: "2019-07-01"') == 1
    config.write_text(
        text.replace('export_date: "2019-07-01"', f'export_date: "{EXPORT_DATE}"'), encoding="utf-8"
    )
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    results = results_of(proj)
    assert (results / "report" / "feasibility.html").stat().st_size > 0
    alt = (results / "figures" / "timeline.alt.txt").read_text()
    assert "in panels for all sites and for Birmingham, Coventry, Site 03 and Site 04" in alt
    metrics = pd.read_csv(results / "tables" / "feasibility_metrics.csv")
    assert {"Birmingham", "Coventry", "Site 03", "Site 04"} <= set(metrics["row_label"])
