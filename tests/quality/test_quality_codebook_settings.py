"""The codebook from the fixture dictionaries, and the study file's quality section (schema,
defaults, errors)."""

from __future__ import annotations

from dataclasses import asdict

import jsonschema
import pytest

from feasibility.quality import codebook_frame, load_settings
from feasibility.quality.settings import QualitySettings, schema


def test_codebook_lists_every_field_of_the_dictionary(classic):
    cb = codebook_frame(classic)
    # Classic_DataDictionary: 36 fields, one of them descriptive (enr_info), listed only on request
    assert len(cb) == 35 and "enr_info" not in set(cb["field"])
    assert len(codebook_frame(classic, descriptive=True)) == 36
    assert cb["form"].unique().tolist() == ["enrolment", "baseline_questionnaire"]
    row = cb.set_index("field")
    assert row.loc["study_id", "flags"] == "record ID"
    assert row.loc["enr_dob", "flags"] == "identifier (dropped)"
    assert row.loc["enr_dob", "values"] == "1920-01-01–today"
    assert row.loc["enr_site", "flags"] == "required"
    assert (
        row.loc["enr_conditions", "values"]
        == "1 Back pain; 2 Arthritis, any kind; A Migraine; -99 Prefer not to say"
    )
    assert row.loc["enr_bmi", "values"] == "Calculated: round([enr_weight]*10000/([enr_height]^2),1)"
    assert row.loc["enr_cigs", "branching"] == "[enr_smoker] = '1'"
    assert row.loc["enr_cigs", ["type", "validation", "values"]].tolist() == ["text", "integer", "0–100"]
    assert row.loc["bq_pain", "values"] == "0–100 (No pain … Worst pain imaginable)"
    assert row.loc["bq_mobility", "form_label"] == "Baseline questionnaire"


def test_codebook_shortens_long_choice_lists(classic):
    row = codebook_frame(classic, max_choices=2).set_index("field")
    assert row.loc["enr_conditions", "values"] == "1 Back pain; 2 Arthritis, any kind; … and 2 more"


def test_codebook_of_a_project_xml(pilot):
    cb = codebook_frame(pilot).set_index("field")
    assert cb.loc["pid", "flags"] == "record ID"
    assert set(cb.index[cb["flags"].str.startswith("identifier (dropped)")]) == {
        "dem_name",
        "dem_dob",
        "dem_address",
    }
    assert cb.loc["dem_dob", "flags"] == "identifier (dropped), required"


# ---------------------------------------------------------------------------- settings
def _walk(node, path=""):
    if isinstance(node, dict):
        if "type" in node and path:
            yield path, node
        for key, value in (node.get("properties") or {}).items():
            yield from _walk(value, f"{path}.{key}" if path else key)


def test_the_schema_fragment_is_a_json_schema_with_descriptions():
    s = schema()
    jsonschema.Draft202012Validator.check_schema(s)
    for path, node in _walk(s):
        assert node.get("description"), f"{path} has no description"


def test_schema_defaults_are_the_code_defaults():
    quality = schema()["properties"]["quality"]
    defaults = asdict(QualitySettings())
    for part, node in quality["properties"].items():
        if part == "title":
            assert node["default"] is None and defaults["title"] is None
            continue
        if part == "checks":  # a list of the study's own checks (test_quality_queries)
            assert node["default"] == [] and defaults["checks"] == ()
            continue
        for key, sub in node["properties"].items():
            assert sub["default"] == defaults[part][key], f"quality.{part}.{key}"
        assert set(node["properties"]) == set(defaults[part]), part


def test_a_study_file_with_only_study_and_redcap_gets_every_default():
    s = load_settings({"study": {"title": "My trial"}, "redcap": {"records": "x.csv"}})
    assert s == QualitySettings(title="My trial")
    assert s.recruitment.date_field is None and s.missingness.flag_percent == 20


def test_settings_are_read_and_checked():
    s = load_settings(
        {
            "quality": {
                "title": "QA",
                "recruitment": {"date_field": "con_date", "source_field": "site"},
                "missingness": {"flag_percent": 5, "fields": "incomplete"},
            }
        }
    )
    assert (s.title, s.recruitment.date_field, s.recruitment.source_field) == ("QA", "con_date", "site")
    assert s.missingness.flag_percent == 5 and s.missingness.fields == "incomplete"
    with pytest.raises(ValueError, match=r"quality.recruitment: Additional properties .*'date'"):
        load_settings({"quality": {"recruitment": {"date": "con_date"}}})
    with pytest.raises(ValueError, match=r"quality.missingness.flag_percent: 120 is greater than"):
        load_settings({"quality": {"missingness": {"flag_percent": 120}}})


def test_a_shared_choice_list_is_printed_once():
    """Issue 24.7: fields with the same codes and labels refer to the list printed at the first."""
    from feasibility.quality import QualityData

    scale = [["0", "Never"], ["1", "Sometimes"], ["2", "Often"]]
    fields = [
        {"name": n, "form": "q", "type": "radio", "label": n.upper(), "choices": c}
        for n, c in (
            ("q1", scale),
            ("q2", scale),
            ("sex", [["1", "F"], ["2", "M"]]),
            ("q3", scale),
            ("q4", scale[:2]),
        )
    ]
    data = QualityData({"forms": [{"name": "q", "label": "Q"}], "fields": fields}, {})
    cb = codebook_frame(data).set_index("field")
    assert cb.loc["q1", "values"] == "List 1: 0 Never; 1 Sometimes; 2 Often"
    assert cb.loc["q2", "values"] == cb.loc["q3", "values"] == "List 1 (as q1)"
    assert cb.loc["sex", "values"] == "1 F; 2 M" and cb.loc["q4", "values"] == "0 Never; 1 Sometimes"
    assert cb.loc["sex", "choice_list"] == "" and cb.loc["q3", "choice_list"] == "List 1"


def test_the_codebook_appendix_can_be_left_out(fixture_data, tmp_path):
    from pathlib import Path

    from feasibility.quality import build_quality_report, captions

    root = Path(__file__).resolve().parents[2]
    data = fixture_data("lab")
    assert load_settings({"quality": {"codebook": False}}).codebook.include is False
    assert load_settings({"quality": {"codebook": {"include": False}}}).codebook.include is False
    without = load_settings({"quality": {"codebook": False}})
    assert "codebook" not in captions(data, without)
    files = build_quality_report(data, without, tmp_path / "without", report_src=root / "report")
    assert (files["build"] / "_generated" / "quality_codebook.md").read_text() == ""
    assert not (tmp_path / "without" / "tables" / "quality_codebook.html").exists()
    files = build_quality_report(data, load_settings({}), tmp_path / "with", report_src=root / "report")
    text = (files["build"] / "_generated" / "quality_codebook.md").read_text()
    assert "# Appendix: Codebook" in text and "Codebook: every instrument and field" in text
