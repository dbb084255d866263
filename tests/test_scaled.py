"""The scaled synthetic cohort (issue 7): schema-valid, deterministic, k sites whose
list is the data dictionary's; the writer's column-wise formatter; and the whole workflow
on a four-site cohort (the recruitment figure's panels for many sites are tested in
tests/test_figures.py)."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from feasibility import crf
from feasibility.synth.scaled import generate_scaled, scaled_sites
from feasibility.synth.writer import export_csv_text
from feasibility.validation import read_dictionary, validate_folder as validate_all

from projectcopy import checksums, copy_project, run_snakemake

N, SITES, SEED = 300, 5, 7


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaled") / "raw"
    generate_scaled(N, SITES, SEED, out)
    return out


@pytest.fixture
def raw(cohort, tmp_path):
    return shutil.copytree(cohort, tmp_path / "raw")


def read(raw, export: str) -> pd.DataFrame:
    return pd.read_csv(raw / crf.EXPORTS[export].file, dtype=str, keep_default_na=False)


# ------------------------------------------------------------------------------ the cohort
def test_every_export_validates(cohort):
    context, failures = validate_all(cohort)
    assert failures == [], "\n".join(f.message() for f in failures[:20])
    assert set(context) == set(crf.EXPORTS)


def test_cohort_has_the_participants_and_sites_asked_for(cohort):
    enrolment = read(cohort, "enrolment")
    assert len(enrolment) == N and enrolment["record_id"].is_unique
    screened = read(cohort, "screening")
    assert (screened["scr_enrolled"] == "1").sum() == N
    for export, column in (("screening", "scr_site"), ("enrolment", "enr_site")):
        assert set(read(cohort, export)[column]) == {"1", "2", "3", "4", "5"}, column
    dictionary = read_dictionary(cohort / crf.DICTIONARY_FILE).set_index("Variable / Field Name")
    for field in crf.SITE_FIELDS:
        assert dictionary.at[field, "Choices, Calculations, OR Slider Labels"] == (
            "1, Birmingham | 2, Coventry | 3, Site 03 | 4, Site 04 | 5, Site 05")


def test_validated_tables_carry_the_dictionary_sites(cohort):
    context, _ = validate_all(cohort)
    five = ((1, "Birmingham"), (2, "Coventry"), (3, "Site 03"), (4, "Site 04"), (5, "Site 05"))
    for export in ("screening", "enrolment", "placements"):
        assert crf.study_sites(context[export]) == five, export
    assert "sites" not in context["case_management"].attrs          # no site field there


def test_cohort_has_the_study_paths(cohort):
    """Withdrawals, people not placed, repeated log entries, checkbox groups, gaps."""
    sc = read(cohort, "status_changes")
    assert {"1", "2", "7"} <= set(sc["sc_type"]) and (sc["sc_further_data"] == "0").any()
    placements = read(cohort, "placements")
    assert set(placements["plc_placed"]) == {"0", "1"}
    for export in ("case_management", "status_changes", "adverse_events"):
        assert (read(cohort, export)["redcap_repeat_instance"] == "2").any(), export
    enrolment = read(cohort, "enrolment")
    ticked = enrolment[[f"dem_pain_area___{k}" for k in range(1, 7)]].eq("1").sum(axis=1)
    assert ticked.min() >= 1 and ticked.max() >= 2
    baseline = read(cohort, "questionnaires_baseline")
    assert (baseline[[f"hads_{i}" for i in range(1, 15)]] == "").any().any()
    returned = read(cohort, "followup_admin")
    for event in crf.FOLLOW_UP_EVENTS:
        assert ((returned["redcap_event_name"] == event) & (returned["fu_returned"] == "1")).any()


def test_generation_is_deterministic(cohort, tmp_path):
    generate_scaled(N, SITES, SEED, tmp_path / "again")
    assert checksums(tmp_path / "again") == checksums(cohort)
    generate_scaled(N, SITES, SEED + 1, tmp_path / "other")
    assert checksums(tmp_path / "other") != checksums(cohort)


def test_progress_names_each_export(tmp_path):
    import io
    log = io.StringIO()
    written = generate_scaled(40, 3, SEED, tmp_path / "raw", progress=log)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("scaled synthetic cohort: n = 40 participants, 3 sites, seed 7")
    enrolled = next(line for line in lines if line.startswith("enrolment.csv: "))
    assert enrolled.startswith("enrolment.csv: 40 records, ") and enrolled.endswith(" s")
    assert len(written) == len(crf.EXPORTS) + 1


def test_site_names_are_the_studys_then_numbered():
    assert scaled_sites(1) == ((1, "Birmingham"),)
    assert scaled_sites(4) == ((1, "Birmingham"), (2, "Coventry"), (3, "Site 03"), (4, "Site 04"))


# --------------------------------------------------------------- sites from the dictionary
@pytest.mark.parametrize("export,column", [("screening", "scr_site"), ("enrolment", "enr_site"),
                                           ("placements", "plc_site")])
def test_site_code_not_in_the_dictionary_fails_at_its_cell(raw, export, column):
    df = read(raw, export)
    row = df.index[df[column] == "5"][0]                 # 5: listed in the dictionary
    df.at[row, column] = "6"                              # 6: not listed
    df.to_csv(raw / crf.EXPORTS[export].file, index=False, lineterminator="\n")
    _, failures = validate_all(raw)
    hits = [f for f in failures if f.field == column and f.value == "6"]
    assert len(hits) == 1, [f.message() for f in failures]
    assert hits[0].file == crf.EXPORTS[export].file and "unknown code" in hits[0].rule
    assert hits[0].line == row + 2                         # header is line 1
    assert hits[0].record_id == df.at[row, "record_id"]


def test_site_list_must_be_the_same_for_every_site_field(raw):
    path = raw / crf.DICTIONARY_FILE
    dictionary = pd.read_csv(path, dtype=str, keep_default_na=False)
    at = dictionary["Variable / Field Name"] == "plc_site"
    dictionary.loc[at, "Choices, Calculations, OR Slider Labels"] = "1, Birmingham | 2, Coventry"
    dictionary.to_csv(path, index=False, lineterminator="\n")
    _, failures = validate_all(raw)
    about_dictionary = [f for f in failures if f.file == crf.DICTIONARY_FILE]
    assert [f.field for f in about_dictionary] == ["plc_site"]
    assert "site list disagrees with scr_site's (1, Birmingham | 2, Coventry | 3, Site 03" \
        in about_dictionary[0].rule


def test_unreadable_site_list_is_reported(raw):
    path = raw / crf.DICTIONARY_FILE
    path.write_text(path.read_text().replace("3, Site 03 | 4, Site 04", "3, Site 03 | four, Site 04"))
    _, failures = validate_all(raw)
    assert {(f.file, f.field) for f in failures if "site list" in f.rule} >= {
        (crf.DICTIONARY_FILE, "scr_site")}


# -------------------------------------------------------------------------------- writer
def test_writer_formats_columns_as_redcap_exports_them():
    frame = pd.DataFrame({
        "record_id": ["PP01", "PP02"], "redcap_event_name": "intervention_arm_1",
        "redcap_repeat_instrument": "adverse_event", "redcap_repeat_instance": [1.0, 2.0],
        "ae_date": [pd.Timestamp("2021-03-04"), pd.NaT], "ae_serious": [0.0, float("nan")],
        "ae_related": [1, 3], "ae_category": [2.0, 4.0],
        "ae_description": ['Fell, then "rested"', None], "adverse_event_complete": 2.0})
    assert export_csv_text(crf.EXPORTS["adverse_events"], frame).splitlines()[1:] == [
        'PP01,intervention_arm_1,adverse_event,1,2021-03-04,0,1,2,"Fell, then ""rested""",2',
        "PP02,intervention_arm_1,adverse_event,2,,,3,4,,2"]
    # number_1dp keeps its decimal; a column the frame lacks is blank (wp_session)
    wp = pd.DataFrame({"record_id": ["PP01"], "redcap_event_name": "intervention_arm_1",
                       "wp_attended": [1.0], "wp_date": [pd.Timestamp("2021-05-06")],
                       "wp_days": [2.0], "work_preparation_complete": [2]})
    assert export_csv_text(crf.EXPORTS["work_preparation"], wp) == (
        "record_id,redcap_event_name,wp_attended,wp_session,wp_date,wp_days,"
        "work_preparation_complete\nPP01,intervention_arm_1,1,,2021-05-06,2.0,2\n")


# ------------------------------------------------------------------------------ end to end
@pytest.mark.slow      # runs the whole workflow again (quick run: -m "not slow")
def test_workflow_runs_on_a_four_site_cohort(tmp_path):
    proj = copy_project(tmp_path)
    raw = proj / "data" / "raw"
    for path in raw.glob("*.csv"):
        path.unlink()
    generate_scaled(300, 4, SEED, raw)
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    results = proj / "results"
    assert (results / "report" / "feasibility.html").stat().st_size > 0
    alt = (results / "figures" / "timeline.alt.txt").read_text()
    assert "in panels for all sites and for Birmingham, Coventry, Site 03 and Site 04" in alt
    metrics = pd.read_csv(results / "tables" / "feasibility_metrics.csv")
    assert {"Birmingham", "Coventry", "Site 03", "Site 04"} <= set(metrics["row_label"])
