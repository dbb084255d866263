"""The instrument library (scoring.registry): each scorer by name with its parameters,
against its manual's worked examples (shared/reference/instruments.md), and the study
file's instruments section on the paper's data."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest

from feasibility.analysis import Analysis, load_spec, parse
from feasibility.scoring import registry


def frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows, dtype="float64")
    df.insert(0, "record_id", [f"R{i}" for i in range(len(rows))])
    return df


def score(name: str, rows: list[dict], **params) -> pd.DataFrame:
    spec = registry.scorer(name)
    items = frame(rows)
    for item in spec.items:
        if item not in items:
            items[item] = np.nan
    return registry.run_scorer(spec, items, spec.parameters(params)).scores


def items(prefix: str, values) -> dict:
    return {f"{prefix}{i}": v for i, v in enumerate(values, start=1) if v is not None}


# ----------------------------------------------------------------------------- EQ-5D
def state(s: str) -> dict:
    levels = {f"eq5d_{d}": int(c) for d, c in zip(("mo", "sc", "ua", "pd", "ad"), s)}
    return levels | {"eq5d_vas": 50}


@pytest.mark.parametrize(
    "value_set, profile, expected",
    [
        # Dolan 1997 UK 3L (instruments.md): 11111 = 1, 11112 = 0.848, 21111 = 0.850,
        # 11113 = 0.414, 12321 = 0.329, 33333 = -0.594
        ("uk_3l_dolan_1997", "11111", 1.0),
        ("uk_3l_dolan_1997", "11112", 0.848),
        ("uk_3l_dolan_1997", "21111", 0.850),
        ("uk_3l_dolan_1997", "11113", 0.414),
        ("uk_3l_dolan_1997", "12321", 0.329),
        ("uk_3l_dolan_1997", "33333", -0.594),
        # England 5L (Devlin 2018): 55555 = 1 - (0.274 + 0.203 + 0.184 + 0.335 + 0.289) = -0.285
        ("england_5l_2018", "55555", -0.285),
        ("england_5l_2018", "11111", 1.0),
        # UK 5L 2026: 55555 = -0.567
        ("uk_5l_2026", "55555", -0.567),
    ],
)
def test_eq5d_value_sets_give_the_published_examples(value_set, profile, expected):
    out = score("eq5d_5l", [state(profile)], value_set=value_set)
    assert out["eq5d_index"].iloc[0] == pytest.approx(expected, abs=5e-4)
    assert out["eq5d_state"].iloc[0] == profile and out["eq5d_vas"].iloc[0] == 50


def test_eq5d_describes_its_valuation_method():
    """The index's label and note name the method in words (feasibility.eq5d_method), never
    a configuration identifier, and say when it is not the paper's."""
    spec = registry.scorer("eq5d_5l")
    text = spec.describe(
        spec.parameters({"value_set": "england_5l_2018", "paper_method": "nice_dsu_5l_to_3l"})
    )
    assert text["labels"]["eq5d_index"] == "EQ-5D-5L index (England 5L value set)"
    assert text["notes"]["method"].startswith(
        "Index values from the England 5L value set (Devlin et al. 2018). The paper used the NICE DSU mapping"
    )
    assert "england_5l_2018" not in text["notes"]["method"]
    assert text["method"]["same_as_paper"] is False
    # synthetic data: the note says what their answers were calibrated to
    calibrated = spec.describe(spec.parameters({}), {"eq5d_index": "england_5l_2018"})
    assert calibrated["notes"]["method"].endswith(
        "The synthetic answers were calibrated so that the England 5L value set (Devlin et al. "
        "2018) reproduces the paper's published index values."
    )
    # the paper's own method: "as in the paper", and the same method
    own = spec.describe(
        spec.parameters({"method": "mapping_table", "mapping_table": "m.csv", "mapping": "nice_dsu_5l_to_3l"})
    )
    assert own["labels"]["eq5d_index"] == "EQ-5D-5L mapped to the UK 3L value set (NICE DSU mapping)"
    assert own["notes"]["method"].endswith("as in the paper.")
    assert own["method"]["same_as_paper"] is True
    table = spec.describe(spec.parameters({"method": "mapping_table", "mapping_table": "m.csv"}))
    assert table["labels"]["eq5d_index"] == "EQ-5D index (the mapping table m.csv)"


# ----------------------------------------------------------------------------- summed scales
def test_hads_subscales_and_the_missing_item_rule_as_a_parameter():
    # anxiety = odd items, depression = even items, each 0-21
    full = items("hads_", [3, 0] * 7)
    one_blank = {**full}
    del one_blank["hads_1"]  # anxiety: 6 answered items of 3 = 18, x 7/6 = 21
    two_blank = {**one_blank}
    del two_blank["hads_3"]
    out = score("hads", [full, one_blank, two_blank])
    assert out["hads_anxiety"].tolist()[:2] == [21.0, 21.0]
    assert math.isnan(out["hads_anxiety"].iloc[2])
    assert out["hads_depression"].tolist() == [0.0, 0.0, 0.0]
    strict = score("hads", [one_blank], missing_items={"max_missing": 0, "method": "none"})
    assert math.isnan(strict["hads_anxiety"].iloc[0])
    per_subscale = score(
        "hads",
        [two_blank],
        missing_items={
            "hads_anxiety": {"max_missing": 2, "method": "mean_of_answered"},
            "hads_depression": {"max_missing": 0, "method": "none"},
        },
    )
    assert per_subscale["hads_anxiety"].iloc[0] == pytest.approx(15 * 7 / 5)


def test_wemwbs_promis_paw_and_rtw_ranges():
    assert score("wemwbs", [items("wemwbs_", [1] * 14), items("wemwbs_", [5] * 14)])["wemwbs"].tolist() == [
        14.0,
        70.0,
    ]
    assert score("promis_fatigue_8a", [items("promis_fat_", [5] * 8)])["promis_fatigue"].tolist() == [40.0]
    assert score("promis_pain_interference_8a", [items("promis_pi_", [1] * 8)])[
        "promis_pain_interference"
    ].tolist() == [8.0]
    # PAW: items 1-7 job satisfaction (7-35), 8-11 social support, 12-15 mental stress
    paw = score("paw", [items("paw_", [5] * 7 + [1] * 4 + [3] * 4)])
    assert paw[["paw_job_satisfaction", "paw_social_support", "paw_mental_stress"]].iloc[0].tolist() == [
        35.0,
        4.0,
        12.0,
    ]
    rtw = score("rtw_self_efficacy", [items("rtwse_", [4, 5]), items("rtwse_", [4, None])])
    assert rtw["rtw_self_efficacy"].iloc[0] == 9 and math.isnan(rtw["rtw_self_efficacy"].iloc[1])


def test_wrfq_not_applicable_limit_is_a_parameter():
    # 27 items: 5 "does not apply" (9) is 18.5 % - scored; 6 is 22 % - not
    five = items("wrfq_", [4] * 22 + [9] * 5)
    six = items("wrfq_", [4] * 21 + [9] * 6)
    out = score("wrfq", [five, six])
    assert out["wrfq"].iloc[0] == 100 and math.isnan(out["wrfq"].iloc[1])
    lenient = score("wrfq", [six], max_not_applicable_fraction=0.25)
    assert lenient["wrfq"].iloc[0] == 100


def test_single_item_scorers_check_their_range():
    spec = registry.scorer("nrs")
    ok = frame([{"pain": 10}, {"pain": 0}])
    assert registry.run_scorer(spec, ok, {}).scores["pain"].tolist() == [10.0, 0.0]
    with pytest.raises(ValueError, match="pain = 11 for record_id 'R0' is outside"):
        registry.run_scorer(spec, frame([{"pain": 11}]), {})
    with pytest.raises(ValueError, match="whole numbers"):
        registry.run_scorer(registry.scorer("count"), frame([{"offers": 1.5}]), {})


def test_unknown_scorers_and_parameters_are_named():
    with pytest.raises(ValueError, match="no scorer 'hadz' in the instrument library"):
        registry.scorer("hadz")
    with pytest.raises(ValueError, match="scorer 'hads' has no parameter\\(s\\) max_nissing"):
        registry.scorer("hads").parameters({"max_nissing": 1})
    with pytest.raises(ValueError, match="missing_items method must be one of"):
        registry.scorer("hads").parameters({"missing_items": {"max_missing": 1, "method": "median"}})


def test_every_scorer_names_its_citation_scores_and_codings():
    for name, spec in registry.SCORERS.items():
        assert spec.citation and spec.title, name
        for item in spec.items:
            coding = spec.item_coding(item)
            assert coding.choices or coding.vmin is not None, (name, item)
        if not spec.single_items:
            assert spec.scores, name


# ----------------------------------------------------------------------------- declared
def test_instrument_items_are_read_from_the_declared_fields_and_checked(paper_study, paper_config):
    config = copy.deepcopy(paper_config)
    config["instruments"]["hads"]["items"] = {"hads_1": "nrs_confidence"}
    analysis = Analysis(paper_study, load_spec(config))
    with pytest.raises(
        ValueError,
        match=r"instrument 'hads' \(Hospital Anxiety and Depression "
        r"Scale\): health_questionnaire.nrs_confidence = \d+ at "
        r"baseline for record 'S\d+' is outside the item's "
        r"coding \(codes 0, 1, 2, 3\)",
    ):
        analysis.variable("hads_anxiety")


def test_instrument_declarations_are_checked(paper_config):
    config = copy.deepcopy(paper_config)
    config["instruments"]["hads"]["items"] = {"hads_15": "x"}
    with pytest.raises(ValueError, match="instruments.hads.items: scorer 'hads' has no item"):
        load_spec(config)
    config = copy.deepcopy(paper_config)
    config["instruments"]["nrs"]["labels"]["work_confidenc"] = "x"
    with pytest.raises(ValueError, match="instruments.nrs.labels: no score\\(s\\) work_confidenc"):
        load_spec(config)
    config = copy.deepcopy(paper_config)
    config["instruments"]["hads_again"] = {"scorer": "hads", "form": "health_questionnaire"}
    with pytest.raises(
        ValueError, match="instruments 'hads' and 'hads_again' both make the score 'hads_anxiety'"
    ):
        Analysis(_study_stub(), load_spec(config))


def _study_stub():
    from feasibility.analysis import StudyData

    return StudyData.from_frames({"fields": [], "forms": []}, {})


def test_scores_are_per_time_point_with_the_scorers_labels(paper_study, paper_config):
    analysis = Analysis(paper_study, load_spec(paper_config))
    var = analysis.variable("hads_depression")
    assert list(var.by_timepoint) == ["baseline", "week6", "week14", "month6"]
    assert var.meta["label"] == "HADS depression"
    assert analysis.variable("eq5d_index").meta["label"] == "EQ-5D-5L index (England 5L value set)"
    assert analysis.variable("eq5d_vas").meta["label"] == "EQ-5D health today"
    # the verbal scale keeps its field's choices, so a table can label its levels
    assert dict(analysis.variable("placement_satisfaction").meta["choices"])[5] == "Very satisfied"
    # a score read at its time point: 31 baseline questionnaires, 8 at 6 weeks
    base = analysis.evaluate_rows(parse("hads_depression[baseline]"))
    assert base.notna().sum() == 31
    assert analysis.evaluate_rows(parse("wrfq[week6]")).notna().sum() <= 8
    log = analysis.scoring_log()
    assert set(log.columns) >= {"record_id", "instrument", "action", "timepoint"}
