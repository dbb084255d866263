"""Reading the validated data: the codebook in the shapes a project gives it, classic
projects without events, and forms without rows."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from feasibility.analysis import Analysis, StudyData, load_spec, parse
from feasibility.analysis.study import Codebook


def classic_book() -> dict:
    return {
        "record_id_field": "study_id",
        "longitudinal": False,
        "forms": [
            {"name": "baseline", "fields": ["study_id", "sex", "symptoms"]},
            {"name": "visits", "fields": ["vdate", "weight"]},
        ],
        "fields": [
            {"name": "study_id", "form": "baseline", "type": "text", "label": "ID"},
            {
                "name": "sex",
                "form": "baseline",
                "type": "radio",
                "label": "Sex",
                "choices": [["1", "Female"], ["2", "Male"]],
            },
            {
                "name": "symptoms",
                "form": "baseline",
                "type": "checkbox",
                "label": "Symptoms",
                "choices": [["1", "Cough"], ["-99", "Not known"]],
            },
            {
                "name": "vdate",
                "form": "visits",
                "type": "text",
                "label": "Visit date",
                "validation": "date_ymd",
            },
            {
                "name": "weight",
                "form": "visits",
                "type": "text",
                "label": "Weight (kg)",
                "validation": "number",
            },
        ],
        "repeating": {"instruments": ["visits"]},
    }


def test_a_classic_project_without_events_and_a_repeating_instrument():
    baseline = pd.DataFrame(
        {
            "record_id": ["a", "b"],
            "sex": pd.array([1, 2], dtype="Int64"),
            "symptoms___1": [True, False],
            "symptoms____99": [False, True],
        }
    )
    visits = pd.DataFrame(
        {
            "record_id": ["a", "a", "b"],
            "redcap_repeat_instance": pd.array([1, 2, 1], dtype="Int64"),
            "vdate": pd.to_datetime(["2021-01-01", "2021-02-01", "2021-01-15"]),
            "weight": [80.0, 78.5, 60.0],
        }
    )
    study = StudyData.from_frames(classic_book(), {"baseline": baseline, "visits": visits})
    book = study.codebook
    assert book.fields["symptoms"].columns == ("symptoms___1", "symptoms____99")
    assert book.repeats("visits") and not book.repeats("baseline")
    a = Analysis(study, load_spec({}))

    def rows(text):
        return a.evaluate_rows(parse(text)).tolist()

    assert rows("label(sex)") == ["Female", "Male"]
    assert rows("checked(symptoms, -99)") == [False, True]
    assert rows("last(visits.weight, order_by=visits.vdate) - first(visits.weight)") == [-1.5, 0.0]
    assert rows("count(visits)") == [2.0, 1.0]


def test_instrument_designations_as_redcaps_rows():
    book = Codebook(
        {
            "longitudinal": True,
            "events": [{"unique_name": "v1_arm_1", "arm": 1}, {"unique_name": "v2_arm_1", "arm": 1}],
            "designations": [
                {"arm_num": 1, "unique_event_name": "v1_arm_1", "form": "a"},
                {"arm_num": 1, "unique_event_name": "v2_arm_1", "form": "a"},
                {"arm_num": 1, "unique_event_name": "v2_arm_1", "form": "b"},
            ],
            "forms": [{"name": "a"}, {"name": "b"}],
            "fields": [],
        }
    )
    assert book.events_of("a") == ["v1_arm_1", "v2_arm_1"] and book.events_of("b") == ["v2_arm_1"]


def test_reading_a_folder_needs_its_codebook(tmp_path):
    with pytest.raises(FileNotFoundError, match="codebook.json: no codebook"):
        StudyData.read(tmp_path)
    (tmp_path / "codebook.json").write_text(json.dumps(classic_book()))
    pd.DataFrame(
        {
            "record_id": ["a"],
            "sex": pd.array([1], dtype="Int64"),
            "symptoms___1": [True],
            "symptoms____99": [False],
        }
    ).to_parquet(tmp_path / "baseline.parquet")
    study = StudyData.read(tmp_path)
    assert list(study.record_ids()) == ["a"]
    # a form without a file is an empty table typed from the dictionary
    visits = study.table("visits")
    assert len(visits) == 0 and str(visits["vdate"].dtype) == "datetime64[ns]"
    assert str(visits["weight"].dtype) == "float64"


def test_records_are_in_the_order_the_tables_first_give_them(paper_study):
    ids = list(paper_study.record_ids())
    assert ids[:3] == ["S001", "S002", "S003"] and len(ids) == 117
