"""The study file's reference page is the schema's (issue 16.1: one reference page, from
the schema that checks the study file)."""

from __future__ import annotations

from feasibility.docs import reference

from projectcopy import ROOT


def test_the_reference_page_is_made_from_the_schema():
    page = (ROOT / "docs" / "study-file.md").read_text(encoding="utf-8")
    assert page == reference(), "docs/study-file.md is stale: python -m feasibility.docs > docs/study-file.md"


def test_every_section_of_the_paper_and_trial_study_files_is_on_the_page():
    import yaml

    page = (ROOT / "docs" / "study-file.md").read_text(encoding="utf-8")
    for study in (ROOT / "config" / "config.yaml", ROOT / "config" / "studies" / "full-trial.yaml"):
        for section in yaml.safe_load(study.read_text(encoding="utf-8")):
            assert f"## `{section}`" in page, (study.name, section)
    # keys a user looks up are there with their default
    assert "| `validation.max_file_mb` | number | `100` |" in page
    assert "| `instruments.<name>.scorer` | one of `eq5d_5l`" in page
