"""The full trial's REDCap project (data/full-trial/) and its study file: the shipped
downloads are REDCap's (and what make_crf.py drafts), the project XML says the same,
identifiers are flagged, every branching expression can be evaluated, the shipped records
validate and the study file's analysis sections load."""

from __future__ import annotations

import csv
import dataclasses
import importlib
import io


from trial_helpers import ROOT, STUDY, TRIAL
from feasibility.analysis import load_spec
from feasibility.redcap import load_project, parse_logic
from feasibility.redcap.logic import check_references
from trial_helpers import validate_trial


def make_crf():
    return importlib.import_module("feasibility.studies.full_trial.make_crf")


def test_the_shipped_downloads_are_what_make_crf_writes(tmp_path):
    written = make_crf().write(tmp_path)
    assert {p.name for p in written} == {
        "data_dictionary.csv",
        "instrument_designations.csv",
        "project.xml",
        "events.csv",
    }
    for p in written:
        assert p.read_bytes() == (TRIAL / p.name).read_bytes(), (
            f"{p.name}: rerun python -m feasibility.studies.full_trial.make_crf"
        )


def test_the_dictionary_is_the_18_column_download(project):
    data = (TRIAL / "data_dictionary.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data  # REDCap's download
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0][:4] == ["Variable / Field Name", "Form Name", "Section Header", "Field Type"]
    assert rows[0][5] == "Choices, Calculations, OR Slider Labels"
    assert {len(r) for r in rows} == {18}
    assert rows[1][0] == "record_id" and len(rows) - 1 == len(project.fields)


def test_the_project_xml_describes_the_same_project(project, study):
    xml, failures = load_project(project_xml=TRIAL / "project.xml")
    assert xml is not None and not [f for f in failures if f.severity == "error"]

    def fields(p):  # where each field is defined (a line of one file or the other) aside
        return [dataclasses.replace(f, line=None) for f in p.fields]

    differ = [(a, b) for a, b in zip(fields(xml), fields(project)) if a != b]
    assert not differ and len(xml.fields) == len(project.fields), differ[:3]
    assert xml.designations == project.designations
    assert [(e.unique_name, e.label, e.day_offset) for e in xml.events] == [
        (e.unique_name, e.label, e.day_offset) for e in project.events
    ]
    assert xml.repeating == project.repeating
    assert xml.missing_data_codes == project.missing_data_codes


def test_design_arms_events_forms_and_identifiers(project):
    assert [e.unique_name for e in project.events] == [
        "screening_arm_1",
        "baseline_arm_1",
        "intervention_arm_1",
        "week6_arm_1",
        "week14_arm_1",
        "month6_arm_1",
        "study_log_arm_1",
    ]
    assert {e.arm for e in project.events} == {1}
    rand = project.field["rand_arm"]
    assert rand.type == "radio" and rand.codes == (("1", "Supported work placement"), ("2", "Usual care"))
    assert project.events_of("randomisation") == ("baseline_arm_1",)
    full = ("baseline_arm_1", "month6_arm_1")
    for form in ("hads", "wemwbs", "promis_fatigue", "promis_pain_interference"):
        assert project.events_of(form) == full  # the full set
    for form in ("eq5d5l", "pain_work_nrs"):  # the short set as well
        assert project.events_of(form) == ("baseline_arm_1", "week6_arm_1", "week14_arm_1", "month6_arm_1")
    assert project.events_of("employment") == ("week14_arm_1", "month6_arm_1")
    assert project.repeats("adverse_event", "study_log_arm_1") == "instrument"
    assert project.repeats("cm_contact", "intervention_arm_1") == "instrument"
    assert {f.name for f in project.fields if f.identifier} == {
        "con_name",
        "con_dob",
        "con_email",
        "con_phone",
        "con_postcode",
    }
    intervention = [f for f in project.fields if f.form in ("work_preparation", "placement", "cm_contact")]
    gateways = [f for f in intervention if "[baseline_arm_1][rand_arm] = '1'" in f.branching]
    assert {f.form for f in gateways} == {"work_preparation", "placement", "cm_contact"}


def test_every_branching_expression_can_be_evaluated(project):
    branched = [f for f in project.fields if f.branching]
    assert len(branched) > 40
    for f in branched:
        check_references(parse_logic(f.branching), project)


def test_the_shipped_records_validate_without_a_failure(study):
    result = validate_trial(STUDY.parent / study["redcap"]["records"], study, branching="error")
    assert result.ok and result.failures == [], [f.message() for f in result.failures[:10]]
    assert not [n for n in result.notes if "not evaluated" in n]
    assert "age_at_consent" in result.tables["consent"]
    assert "con_dob" not in result.tables["consent"]  # identifiers dropped


def test_the_study_files_analysis_sections_load(study):
    spec = load_spec(study)
    assert spec.arms.name == "arm" and (spec.arms.intervention, spec.arms.control) == (1, 2)
    assert [b.id for b in spec.consort][:3] == ["assessed", "excluded", "randomised"]
    assert {"baseline", "primary_outcome", "secondary_outcomes", "change_month6"} <= set(spec.tables)


def test_the_study_file_paths_are_relative_to_it(study):
    for key in ("records", "dictionary", "instrument_designations", "events"):
        path = (STUDY.parent / study["redcap"][key]).resolve()
        assert path.is_file() and path.parent == TRIAL.resolve()


def test_the_study_file_sections_match_their_schemas(study):
    import jsonschema
    import yaml as _yaml

    schemas = ROOT / "schemas"
    whole = _yaml.safe_load((schemas / "config.schema.yaml").read_text())
    defs = whole["$defs"]
    jsonschema.Draft202012Validator({**whole["properties"]["validation"], "$defs": defs}).validate(
        study["validation"]
    )
    jsonschema.Draft202012Validator({**whole["properties"]["redcap"], "$defs": defs}).validate(
        study["redcap"]
    )
    from feasibility.synth.dummy import check_settings

    check_settings(study["dummy_data"])  # raises on any key out of place
    load_spec(study)  # the analysis sections' schema
