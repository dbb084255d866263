"""EQ-5D-5L: health state, value sets, user-supplied mapping tables.

Value-set expectations are the published check values (instruments.md) or are
worked out by hand from the published coefficients in the comments. The shared
reference tables (../shared/reference/eq5d) are read in place, never copied; the
tests that need them skip when the folder is absent.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from feasibility.analysis import Analysis, StudyData, load_spec
from feasibility.scoring import eq5d
from feasibility.scoring.registry import eq5d_index_config, scorer
from feasibility.studies.pilot2020 import crf
from paperdata import codebook

# the shared reference folder beside the checkout (or a worktree's main checkout)
SHARED = next(
    (
        d / "shared/reference/eq5d"
        for d in Path(__file__).resolve().parents
        if (d / "shared/reference/eq5d").is_dir()
    ),
    Path(__file__).resolve().parents[2] / "shared/reference/eq5d",
)
DSU = SHARED / "eq5d5l_to_3l_dsu_hernandezalava_uk.csv"
CROSSWALK = SHARED / "eq5d5l_crosswalk_vanhout2012_uk.csv"
needs_shared = pytest.mark.skipif(
    not (DSU.exists() and CROSSWALK.exists()), reason="../shared/reference/eq5d not available"
)
ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
EQ5D = CONFIG["instruments"]["eq5d"]  # the paper's declaration of the EQ-5D


def profiles(*states: str | None, vas: float = 50) -> pd.DataFrame:
    """EQ-5D answers from state strings; "." marks a blank dimension, None a blank form."""
    rows = []
    for i, state in enumerate(states):
        row = {"record_id": f"P{i + 1:02d}", "eq5d_vas": float(vas) if state else np.nan}
        for col, digit in zip(eq5d.LEVEL_COLUMNS, state or "....."):
            row[col] = np.nan if digit == "." else float(digit)
        rows.append(row)
    return pd.DataFrame(rows)


def value(value_set: eq5d.ValueSet, state: str) -> float:
    return float(value_set.index(profiles(state)).iloc[0])


# ----------------------------------------------------------------------------- value sets
@pytest.mark.parametrize(
    "value_set,state,expected",
    [
        # published check values (instruments.md)
        (eq5d.UK_3L_DOLAN_1997, "11111", 1.0),
        (eq5d.UK_3L_DOLAN_1997, "11112", 0.848),
        (eq5d.UK_3L_DOLAN_1997, "21111", 0.850),
        (eq5d.UK_3L_DOLAN_1997, "11113", 0.414),
        (eq5d.UK_3L_DOLAN_1997, "12321", 0.329),
        (eq5d.UK_3L_DOLAN_1997, "33333", -0.594),
        (eq5d.ENGLAND_5L_2018, "11111", 1.0),
        (eq5d.ENGLAND_5L_2018, "55555", -0.285),
        (eq5d.UK_5L_2026, "11111", 1.0),
        (eq5d.UK_5L_2026, "55555", -0.567),
        # hand-computed from the coefficients:
        # Dolan 22222: 1 - 0.081 - (0.069 + 0.104 + 0.036 + 0.123 + 0.071) = 0.516
        (eq5d.UK_3L_DOLAN_1997, "22222", 0.516),
        # Dolan 11311: 1 - 0.081 - 0.094 (UA3) - 0.269 (a level 3) = 0.556
        (eq5d.UK_3L_DOLAN_1997, "11311", 0.556),
        # England 21345: 1 - (MO2 0.058 + UA3 0.063 + PD4 0.276 + AD5 0.289) = 0.314
        (eq5d.ENGLAND_5L_2018, "21345", 0.314),
        # England 54321: 1 - (0.274 + 0.164 + 0.063 + 0.063 + 0) = 0.436
        (eq5d.ENGLAND_5L_2018, "54321", 0.436),
        # UK 2026 12345: 1 - (SC2 0.038 + UA3 0.086 + PD4 0.371 + AD5 0.391) = 0.114
        (eq5d.UK_5L_2026, "12345", 0.114),
        # UK 2026 22222: 1 - (0.032 + 0.038 + 0.049 + 0.056 + 0.041) = 0.784
        (eq5d.UK_5L_2026, "22222", 0.784),
    ],
)
def test_value_set_check_values(value_set, state, expected):
    assert value(value_set, state) == pytest.approx(expected, abs=1e-9)


def test_value_sets_are_registered_by_name_with_england_5l_the_default():
    assert set(eq5d.VALUE_SETS) == {"uk_3l_dolan_1997", "england_5l_2018", "uk_5l_2026"}
    assert eq5d.index_from_config(None) is eq5d.ENGLAND_5L_2018
    assert (
        eq5d.index_from_config(eq5d_index_config(scorer("eq5d_5l").parameters(EQ5D["parameters"])))
        is eq5d.ENGLAND_5L_2018
    )
    assert eq5d.index_from_config({"method": "value_set", "value_set": "uk_5l_2026"}) is eq5d.UK_5L_2026
    assert "secondary source" in eq5d.UK_5L_2026.source


def test_dolan_values_3l_states_only():
    with pytest.raises(ValueError, match=r"uk_3l_dolan_1997.*eq5d_pd = 4 for record_id 'P02'"):
        eq5d.UK_3L_DOLAN_1997.index(profiles("11111", "11141"))


def test_incomplete_profile_has_no_state_and_no_index():
    df = profiles("21345", "2134.", None)
    assert eq5d.health_state(df).tolist()[0] == "21345"
    assert eq5d.health_state(df)[1:].isna().all()
    assert eq5d.ENGLAND_5L_2018.index(df)[1:].isna().all()


@needs_shared
def test_england_5l_matches_the_devlin_column_of_the_dsu_table_for_every_state():
    table = eq5d.load_mapping_table(DSU, value_column="england_5l_value_devlin2018")
    one_stratum = table[(table["age_band"] == "18-34") & (table["sex"] == "male")]
    assert len(one_stratum) == 5**5
    levels = pd.DataFrame(
        {col: one_stratum["state"].str[i].astype(float) for i, col in enumerate(eq5d.LEVEL_COLUMNS)}
    )
    ours = eq5d.ENGLAND_5L_2018.index(levels)
    np.testing.assert_allclose(ours.to_numpy(), one_stratum["value"].to_numpy(), atol=1e-9)


# ----------------------------------------------------------------------------- scorer
@pytest.mark.parametrize(
    "column,bad", [("eq5d_mo", 0), ("eq5d_ad", 6), ("eq5d_sc", 2.5), ("eq5d_vas", 101), ("eq5d_vas", 50.5)]
)
def test_score_eq5d_rejects_out_of_range_answers(column, bad):
    df = profiles("11111", "22222")
    df.loc[1, column] = bad
    with pytest.raises(ValueError) as err:
        eq5d.score_eq5d(df, eq5d.ENGLAND_5L_2018, coding=crf.fields_by_name())
    assert f"{column} = {bad:g} for record_id 'P02'" in str(err.value)


def test_score_eq5d_boundaries_and_log():
    df = profiles("11111", "55555", "1.1.1", None)
    df.loc[0, "eq5d_vas"] = 0
    df.loc[1, "eq5d_vas"] = 100
    scored = eq5d.score_eq5d(df, eq5d.ENGLAND_5L_2018, coding=crf.fields_by_name())
    s = scored.scores
    assert s["eq5d_state"].tolist()[:2] == ["11111", "55555"]
    assert s["eq5d_index"].tolist()[:2] == [1.0, pytest.approx(-0.285)]
    assert s["eq5d_vas"].tolist()[:3] == [0, 100, 50]
    assert s.loc[2, ["eq5d_mo", "eq5d_ua", "eq5d_ad"]].tolist() == [1, 1, 1]
    assert s.loc[2:, ["eq5d_state", "eq5d_index"]].isna().all().all()
    # the scorer logs every incomplete profile; score_timepoint drops forms not returned
    assert scored.log[["record_id", "instrument", "action", "items_missing"]].values.tolist() == [
        ["P03", "eq5d_index", "score missing", 2],
        ["P04", "eq5d_index", "score missing", 5],
    ]
    assert "eq5d_sc, eq5d_pd" in scored.log["detail"].iloc[0]


# ----------------------------------------------------------------------------- mapping tables
def write(tmp_path: Path, text: str, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_age_bands():
    ages = pd.Series([17.9, 18, 34.99, 35, 44.5, 45, 54.9, 55, 64.99, 65, 90, np.nan])
    assert eq5d.age_band(ages).tolist()[1:11] == [
        "18-34",
        "18-34",
        "35-44",
        "35-44",
        "45-54",
        "45-54",
        "55-64",
        "55-64",
        "65+",
        "65+",
    ]
    assert pd.isna(eq5d.age_band(ages)[0]) and pd.isna(eq5d.age_band(ages)[11])


def test_unconditional_table_by_state_column(tmp_path):
    path = write(tmp_path, "state,value\n11111,0.95\n12345, 0.2\n55555,-0.5\n")
    table = eq5d.load_mapping_table(path)
    assert table.columns.tolist() == ["state", "value"]
    found = eq5d.lookup_mapping_table(table, pd.Series(["12345", None, "55555", "22222"]))
    assert found[0] == 0.2 and found[2] == -0.5 and found[[1, 3]].isna().all()
    assert eq5d.lookup_mapping_table(table, "11111") == 0.95


def test_conditional_table_by_dimension_columns(tmp_path):
    path = write(
        tmp_path,
        "mo,sc,ua,pd,ad,age_band,sex,other,mapped\n"
        "1,2,3,4,5,18-34,Female,9,0.11\n1,2,3,4,5,18-34,male,9,0.12\n"
        "1,2,3,4,5,65+,female,9,0.13\n",
    )
    table = eq5d.load_mapping_table(path, value_column="mapped")
    assert table.columns.tolist() == ["state", "age_band", "sex", "value"]
    got = eq5d.lookup_mapping_table(
        table,
        pd.Series(["12345"] * 5),
        age=pd.Series([34.9, 20, 70, 50, np.nan]),
        sex=pd.Series(["Female", "Male", "FEMALE", "Female", "Female"]),
    )
    assert got[:3].tolist() == [0.11, 0.12, 0.13] and got[3:].isna().all()
    with pytest.raises(ValueError, match="conditional on age_band"):
        eq5d.lookup_mapping_table(table, pd.Series(["12345"]))


@pytest.mark.parametrize(
    "text,message",
    [
        ("state,value\n12346,0.5\n", r"state '12346' .* line 2 is not five levels 1-5"),
        ("state,value\n11111,1\n1234,0.5\n", r"state '1234' .* line 3"),
        ("state,value\n11111,1\n11111,0.9\n", r"2 rows repeat a key"),
        ("state,age_band,value\n11111,30-40,1\n", r"age_band = '30-40' on line 2"),
        ("state,sex,value\n11111,x,1\n", r"sex = 'x' on line 2 is not male or female"),
        ("state,value\n11111,\n", r"value = '' on line 2 is not a number of at most 1"),
        ("state,value\n11111,1.2\n", r"value = '1.2' on line 2"),
        ("state,a,b\n11111,1,1\n", r"name the value column .* candidates: a, b"),
        ("code,value\n11111,1\n", r"needs a 'state' column"),
    ],
)
def test_malformed_tables_are_rejected(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        eq5d.load_mapping_table(write(tmp_path, text))


def test_named_value_column_must_exist(tmp_path):
    with pytest.raises(ValueError, match=r"no value column 'uk'"):
        eq5d.load_mapping_table(write(tmp_path, "state,value\n11111,1\n"), value_column="uk")


@needs_shared
def test_dsu_table_check_values():
    table = eq5d.load_mapping_table(DSU, value_column="uk_3l_mapped_dsu")
    assert len(table) == 5**5 * 5 * 2
    lookup = eq5d.lookup_mapping_table
    assert lookup(table, "12345", 30, "female") == pytest.approx(0.067, abs=5e-4)
    assert lookup(table, "24112", 50, "Female") == pytest.approx(0.761, abs=5e-4)
    assert lookup(table, "11111", 18, "Male") == pytest.approx(0.98665, abs=5e-6)
    with pytest.raises(ValueError, match="england_5l_value_devlin2018, uk_3l_mapped_dsu"):
        eq5d.load_mapping_table(DSU)


@needs_shared
@pytest.mark.parametrize(
    "state,expected", [("11111", 1), ("11221", 0.795), ("44441", 0.226), ("44525", 0.004), ("55555", -0.594)]
)
def test_crosswalk_check_values(state, expected):
    table = eq5d.load_mapping_table(CROSSWALK)  # the only value column is inferred
    assert table.columns.tolist() == ["state", "value"] and len(table) == 5**5
    assert eq5d.lookup_mapping_table(table, state) == pytest.approx(expected, abs=1e-9)


# ----------------------------------------------------------------------------- wiring
def analysed(
    states: list[str | None], people: list[tuple[float, int]] | None = None, parameters: dict | None = None
):
    """The EQ-5D declared as in the paper's study file (its parameters replaced by
    ``parameters``), scored by the analysis from a health questionnaire at baseline holding
    ``states`` (None: no questionnaire row) and demographics ``people`` (age, dem_sex code)
    for the first records; returns the index, the states and the scoring log."""
    book = codebook()  # the paper's, as validation writes it
    ids = [f"P{i + 1:02d}" for i in range(len(states))]
    answers = profiles(*[s for s in states if s is not None])
    answered = [r for r, s in zip(ids, states) if s is not None]
    hq = pd.DataFrame({"record_id": answered, "redcap_event_name": "baseline_arm_1", "redcap_arm": 1})
    for column in [*eq5d.LEVEL_COLUMNS, "eq5d_vas"]:
        hq[column] = pd.array([None if pd.isna(v) else int(v) for v in answers[column]], dtype="Int64")
    people = people or []
    # age at consent: derived by validation in the enrolment form (config.yaml: validation.derive)
    enrolled = {"record_id": ids[: len(people)], "redcap_event_name": "baseline_arm_1", "redcap_arm": 1}
    enrolment = pd.DataFrame({**enrolled, "age": pd.array([int(a) for a, _ in people], dtype="Int64")})
    demo = pd.DataFrame({**enrolled, "dem_sex": pd.array([s for _, s in people], dtype="Int64")})
    screening = pd.DataFrame(
        {
            "record_id": ids,
            "redcap_event_name": "screening_arm_1",
            "redcap_arm": 1,
            "scr_eligible": pd.array([1] * len(ids), "Int64"),
        }
    )
    study = StudyData.from_frames(
        book,
        {"screening": screening, "enrolment": enrolment, "demographics": demo, "health_questionnaire": hq},
    )
    declared = {**EQ5D, "parameters": {**EQ5D["parameters"], **(parameters or {})}}
    spec = load_spec(
        {
            "timepoints": {"schedule": {"baseline": {"event": "baseline_arm_1"}}},
            "instruments": {"eq5d": declared},
        }
    )
    analysis = Analysis(study, spec)
    index = analysis.variable("eq5d_index").by_timepoint["baseline"]
    state = analysis.variable("eq5d_state").by_timepoint["baseline"]
    return index, state, analysis.scoring_log()


def mapping(path: Path, value_column: str | None = None) -> dict:
    return {"method": "mapping_table", "mapping_table": str(path), "value_column": value_column}


def test_an_age_sex_mapping_table_through_the_declared_inputs(tmp_path):
    path = write(
        tmp_path,
        "state,age_band,sex,value\n12345,18-34,female,0.3\n12345,45-54,male,0.2\n11111,18-34,female,0.9\n",
    )
    # dem_sex: 1 Female, 2 Male; P04 has no demographics row
    index, _, log = analysed(["12345", "12345", "12345", "11111"], [(30, 1), (50, 2), (60, 1)], mapping(path))
    assert index.tolist()[:2] == [0.3, 0.2]
    assert index[2:].isna().all()  # no 55-64 row; P04 has no demographics
    log = log[log["instrument"] == "eq5d_index"]
    assert log[["record_id", "instrument", "action"]].values.tolist() == [
        ["P03", "eq5d_index", "score missing"],
        ["P04", "eq5d_index", "score missing"],
    ]
    assert log["detail"].tolist() == [
        "no value in the mapping table for state 12345, age band 55-64, sex Female",
        "no value in the mapping table for state 11111, age band unknown, sex unknown",
    ]


@needs_shared
def test_the_dsu_table_through_the_declaration_reproduces_its_check_values():
    index, _, log = analysed(
        ["12345", "24112", "11111"], [(30, 1), (50, 1), (25, 2)], mapping(DSU, "uk_3l_mapped_dsu")
    )
    assert index.round(3).tolist() == [0.067, 0.761, 0.987]
    assert not (log["instrument"] == "eq5d_index").any()


def test_mapping_method_needs_a_path():
    with pytest.raises(ValueError, match="mapping_table .* is not set"):
        eq5d.index_from_config({"method": "mapping_table", "mapping_table": None})
    with pytest.raises(ValueError, match="value_set or mapping_table"):
        eq5d.index_from_config({"method": "crosswalk"})
    with pytest.raises(ValueError, match="'uk_3l' is not one of"):
        eq5d.index_from_config({"method": "value_set", "value_set": "uk_3l"})


def test_not_returned_form_gives_no_log_and_missing_state():
    index, state, log = analysed(["11111", None])
    assert state.tolist()[0] == "11111"
    assert math.isnan(index.iloc[1]) and pd.isna(state.iloc[1])
    # P02 returned nothing (no questionnaire row) and is not logged at all
    assert "P02" not in log["record_id"].tolist()
    assert "eq5d_index" not in log["instrument"].tolist()
