"""Instrument scorers, and scoring as the paper's study file declares it: hand-worked examples.

Expected values are worked out by hand in the comments from the instrument rules
(shared/reference/instruments.md) and the paper's missing-item rule, never taken
from the code's own output.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from feasibility.analysis import Analysis, StudyData, load_spec
from feasibility.config import load_study
from feasibility.scoring import hads, paw, promis, rtw_self_efficacy, wemwbs, wrfq
from feasibility.scoring.registry import missing_item_rules, scorer
from feasibility.studies.pilot2020 import crf
from paperdata import codebook

ROOT = Path(__file__).resolve().parents[1]
CONFIG = load_study(ROOT / "config/config.yaml")
CODING = crf.fields_by_name()  # the paper's CRF: each item's allowed answers
# the paper's rules as its study file declares them (instruments.<name>.parameters), in
# the shape the instrument modules take them
SCORING = {
    "missing_items": missing_item_rules(CONFIG["instruments"]),
    "wrfq_max_not_applicable_fraction": scorer("wrfq").parameters(
        CONFIG["instruments"]["wrfq"]["parameters"]
    )["max_not_applicable_fraction"],
}


# the paper's codebook.json as validation writes it; its three questionnaire forms
BOOK = codebook()
QUESTIONNAIRES = ("health_questionnaire", "work_questionnaire", "employment")
NUMERIC_TYPES = {"radio", "dropdown", "yesno", "truefalse", "slider", "calc"}


def questionnaire_frame(rows: list[dict], event: str = "week14_arm_1") -> pd.DataFrame:
    """The questionnaire forms at ``event`` as the scorers receive them, one row per dict of
    answers (records P01, P02, ...): every column the codebook gives them, blanks NaN, items
    and complete statuses as numbers, dates as dates."""
    fields = {f["name"]: f for f in BOOK["fields"]}
    forms = {f["name"]: f["fields"] for f in BOOK["forms"]}
    columns = ["record_id", "redcap_event_name"] + [
        c
        for form in QUESTIONNAIRES
        for c in [*(c for name in forms[form] for c in fields[name]["export_columns"]), f"{form}_complete"]
    ]
    unknown = {k for row in rows for k in row} - set(columns)
    assert not unknown, f"not columns of the questionnaire forms: {unknown}"
    df = pd.DataFrame(rows, columns=columns, index=range(len(rows)))
    df["record_id"] = [f"P{i + 1:02d}" for i in range(len(rows))]
    df["redcap_event_name"] = event
    for col in columns[2:]:
        fld = fields.get(col)
        if fld is not None and (fld["validation"] or "").startswith("date"):
            df[col] = pd.to_datetime(df[col])
        elif (
            fld is None
            or fld["type"] in NUMERIC_TYPES
            or (fld["validation"] or "").startswith(("integer", "number"))
        ):  # items and <form>_complete
            df[col] = df[col].astype("float64")
    df["hq_date"] = pd.Timestamp("2018-03-01")
    return df


def items(prefix: str, values) -> dict:
    """{"hads_1": v1, "hads_2": v2, ...}; None leaves the item blank."""
    return {f"{prefix}{i}": v for i, v in enumerate(values, start=1) if v is not None}


def hads_items(anxiety, depression) -> dict:
    """HADS answers by subscale: anxiety is items 1, 3, ..., depression 2, 4, ...."""
    out = {}
    for k, (a, d) in enumerate(zip(anxiety, depression)):
        if a is not None:
            out[f"hads_{2 * k + 1}"] = a
        if d is not None:
            out[f"hads_{2 * k + 2}"] = d
    return out


def log_of(scored, instrument: str) -> pd.DataFrame:
    return scored.log[scored.log["instrument"] == instrument]


# ----------------------------------------------------------------------------- HADS
def test_hads_boundaries_and_a_mixed_answer():
    df = questionnaire_frame(
        [
            hads_items([0] * 7, [0] * 7),
            hads_items([3] * 7, [3] * 7),
            # anxiety 1+2+3+0+1+2+3 = 12; depression 0+0+1+1+2+2+3 = 9
            hads_items([1, 2, 3, 0, 1, 2, 3], [0, 0, 1, 1, 2, 2, 3]),
        ]
    )
    scored = hads.score_hads(df, SCORING, CODING)
    assert scored.scores["hads_anxiety"].tolist() == [0, 21, 12]
    assert scored.scores["hads_depression"].tolist() == [0, 21, 9]
    assert scored.log.empty


def test_hads_one_missing_item_is_imputed_two_make_the_score_missing():
    df = questionnaire_frame(
        [
            # anxiety: 6 answered items sum to 2+2+2+2+1+1 = 10, hads_13 blank:
            # 10 + 10/6 = 11.667; depression complete: 6 x 1 + 0 = 6
            hads_items([2, 2, 2, 2, 1, 1, None], [1, 1, 1, 1, 1, 1, 0]),
            # anxiety: two items blank -> missing; depression: one blank, 6 x 3 = 18
            # answered -> 18 + 18/6 = 21
            hads_items([None, None, 1, 1, 1, 1, 1], [3, 3, 3, None, 3, 3, 3]),
        ]
    )
    scored = hads.score_hads(df, SCORING, CODING)
    assert scored.scores["hads_anxiety"][0] == pytest.approx(11.6667, abs=1e-4)
    assert scored.scores["hads_depression"].tolist() == [6, 21]
    assert math.isnan(scored.scores["hads_anxiety"][1])
    log = scored.log.sort_values(["record_id", "instrument"])
    assert log[["record_id", "instrument", "action", "items_missing"]].values.tolist() == [
        ["P01", "hads_anxiety", "imputed", 1],
        ["P02", "hads_anxiety", "score missing", 2],
        ["P02", "hads_depression", "imputed", 1],
    ]
    assert "hads_13" in log["detail"].iloc[0]
    assert "hads_1, hads_3" in log["detail"].iloc[1]


@pytest.mark.parametrize("column,value", [("hads_3", 4), ("hads_14", -1), ("hads_2", 1.5)])
def test_hads_rejects_out_of_range_answers(column, value):
    row = hads_items([1] * 7, [1] * 7) | {column: value}
    df = questionnaire_frame([hads_items([0] * 7, [0] * 7), row])
    with pytest.raises(ValueError) as err:
        hads.score_hads(df, SCORING, CODING)
    message = str(err.value)
    assert column in message and "'P02'" in message and f"= {value:g} " in message


# ----------------------------------------------------------------------------- WEMWBS
def test_wemwbs_boundaries_imputation_and_missing():
    df = questionnaire_frame(
        [
            items("wemwbs_", [1] * 14),  # 14
            items("wemwbs_", [5] * 14),  # 70
            items("wemwbs_", [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2, 3, 4]),  # 15+15+10 = 40
            items("wemwbs_", [4] * 13),  # 13 x 4 = 52, + 52/13 = 56
            items("wemwbs_", [4] * 12),  # two blank -> missing
        ]
    )
    scored = wemwbs.score_wemwbs(df, SCORING, CODING)
    assert scored.scores["wemwbs"].tolist()[:4] == [14, 70, 40, 56]
    assert math.isnan(scored.scores["wemwbs"][4])
    assert scored.log[["record_id", "action", "items_missing"]].values.tolist() == [
        ["P04", "imputed", 1],
        ["P05", "score missing", 2],
    ]


def test_wemwbs_rejects_zero():
    df = questionnaire_frame([items("wemwbs_", [3] * 13 + [0])])
    with pytest.raises(ValueError, match=r"wemwbs_14 = 0 for record_id 'P01'"):
        wemwbs.score_wemwbs(df, SCORING, CODING)


# ----------------------------------------------------------------------------- PROMIS
def test_promis_boundaries_imputation_and_missing():
    df = questionnaire_frame(
        [
            items("promis_fat_", [1] * 8) | items("promis_pi_", [5] * 8),  # 8, 40
            items("promis_fat_", [5] * 8) | items("promis_pi_", [1] * 8),  # 40, 8
            # fatigue 1+2+3+4+5+1+2+3 = 21; pain interference: 7 answered sum
            # 1+2+3+4+5+1+2 = 18 -> 18 + 18/7 = 20.571
            items("promis_fat_", [1, 2, 3, 4, 5, 1, 2, 3]) | items("promis_pi_", [1, 2, 3, 4, 5, 1, 2, None]),
            # fatigue: two blank -> missing; pain interference complete 8 x 3 = 24
            items("promis_fat_", [None, 2, None, 2, 2, 2, 2, 2]) | items("promis_pi_", [3] * 8),
        ]
    )
    scored = promis.score_promis(df, SCORING, CODING)
    fatigue = scored.scores["promis_fatigue"]
    interference = scored.scores["promis_pain_interference"]
    assert fatigue.tolist()[:3] == [8, 40, 21] and math.isnan(fatigue[3])
    assert interference.tolist()[:2] == [40, 8] and interference[3] == 24
    assert interference[2] == pytest.approx(20.5714, abs=1e-4)
    log = scored.log.sort_values("record_id")
    assert log[["record_id", "instrument", "action"]].values.tolist() == [
        ["P03", "promis_pain_interference", "imputed"],
        ["P04", "promis_fatigue", "score missing"],
    ]


def test_promis_rejects_six():
    df = questionnaire_frame([items("promis_pi_", [2, 2, 6, 2, 2, 2, 2, 2])])
    with pytest.raises(ValueError, match=r"promis_pi_3 = 6 for record_id 'P01'"):
        promis.score_promis(df, SCORING, CODING)


# ----------------------------------------------------------------------------- PAW
def test_paw_subscales_boundaries_imputation_and_missing():
    df = questionnaire_frame(
        [
            items("paw_", [1] * 15),  # 7, 4, 4
            items("paw_", [5] * 15),  # 35, 20, 20
            # job satisfaction items 1-7: 1+2+3+4+5+1+2 = 18; social support items 8-11:
            # 5+4+3+2 = 14; mental stress items 12-15: 2+3+4+5 = 14
            items("paw_", [1, 2, 3, 4, 5, 1, 2, 5, 4, 3, 2, 2, 3, 4, 5]),
            # job satisfaction: item 7 blank, 6 answered sum 3+3+3+3+4+4 = 20 -> 20 + 20/6
            # = 23.333; social support: items 8 and 9 blank -> missing; stress 4 x 1 = 4
            items("paw_", [3, 3, 3, 3, 4, 4, None, None, None, 2, 2, 1, 1, 1, 1]),
        ]
    )
    scored = paw.score_paw(df, SCORING, CODING)
    s = scored.scores
    assert s["paw_job_satisfaction"].tolist()[:3] == [7, 35, 18]
    assert s["paw_job_satisfaction"][3] == pytest.approx(23.3333, abs=1e-4)
    assert s["paw_social_support"].tolist()[:3] == [4, 20, 14]
    assert math.isnan(s["paw_social_support"][3])
    assert s["paw_mental_stress"].tolist() == [4, 20, 14, 4]
    assert scored.log[["instrument", "action", "items_missing"]].values.tolist() == [
        ["paw_job_satisfaction", "imputed", 1],
        ["paw_social_support", "score missing", 2],
    ]


# ----------------------------------------------------------------------------- RTW self-efficacy
def test_rtw_self_efficacy_sums_two_items_and_imputes_nothing():
    df = questionnaire_frame(
        [
            items("rtwse_", [1, 1]),  # 2
            items("rtwse_", [5, 5]),  # 10
            items("rtwse_", [3, 4]),  # 7
            items("rtwse_", [None, 4]),  # max_missing 0: one blank -> missing
            items("rtwse_", [None, None]),  # both blank -> missing
        ]
    )
    scored = rtw_self_efficacy.score_rtw_self_efficacy(df, SCORING, CODING)
    got = scored.scores["rtw_self_efficacy"]
    assert got.tolist()[:3] == [2, 10, 7] and got[3:].isna().all()
    assert scored.log[["record_id", "action", "items_missing"]].values.tolist() == [
        ["P04", "score missing", 1],
        ["P05", "score missing", 2],
    ]


# ----------------------------------------------------------------------------- WRFQ
def test_wrfq_boundaries_and_a_mixed_answer():
    df = questionnaire_frame(
        [
            items("wrfq_", [0] * 27),  # mean 0 x 25 = 0
            items("wrfq_", [4] * 27),  # mean 4 x 25 = 100
            # 5 not applicable (5/27 = 18.5 % <= 20 %); 22 applicable: 11 x 2 and 11 x 3,
            # mean 2.5 -> 62.5
            items("wrfq_", [9] * 5 + [2] * 11 + [3] * 11),
        ]
    )
    scored = wrfq.score_wrfq(df, SCORING, CODING)
    assert scored.scores["wrfq"].tolist() == [0, 100, 62.5]
    assert scored.log.empty  # "does not apply" is an answer, not missing data


def test_wrfq_not_applicable_limit():
    df = questionnaire_frame(
        [
            # 6 of 27 not applicable = 22.2 % > 20 % -> missing
            items("wrfq_", [9] * 6 + [4] * 21),
            # 4 not applicable + 1 blank = 5 of 27 (18.5 %) -> scored on the 22 answered
            # applicable items: 11 x 1 + 11 x 4 = 55, mean 2.5 -> 62.5
            items("wrfq_", [9] * 4 + [None] + [1] * 11 + [4] * 11),
            # 4 not applicable + 2 blank = 6 of 27 -> missing
            items("wrfq_", [9] * 4 + [None, None] + [4] * 21),
        ]
    )
    scored = wrfq.score_wrfq(df, SCORING, CODING)
    got = scored.scores["wrfq"]
    assert math.isnan(got[0]) and got[1] == 62.5 and math.isnan(got[2])
    assert scored.log[["record_id", "action", "items_missing"]].values.tolist() == [
        ["P01", "score missing", 6],
        ["P02", "imputed", 5],
        ["P03", "score missing", 6],
    ]


def test_wrfq_exactly_at_the_limit_is_scored():
    # 20 % of 27 items is 5.4, so no count of items is exactly 20 %; with a limit
    # of exactly 6/27 the questionnaire with 6 items not applicable is scored
    # (mean of 21 x 4 = 4 -> 100) and one with 7 is not.
    df = questionnaire_frame([items("wrfq_", [9] * 6 + [4] * 21), items("wrfq_", [9] * 7 + [4] * 20)])
    scored = wrfq.score_wrfq(df, SCORING | {"wrfq_max_not_applicable_fraction": 6 / 27}, CODING)
    assert scored.scores["wrfq"][0] == 100 and math.isnan(scored.scores["wrfq"][1])


def test_wrfq_rejects_seven():
    df = questionnaire_frame([items("wrfq_", [4] * 26 + [7])])
    with pytest.raises(ValueError, match=r"wrfq_27 = 7 for record_id 'P01'"):
        wrfq.score_wrfq(df, SCORING, CODING)


# ----------------------------------------------------------------------------- property test
# Documented ranges (instruments.md; paper Table 1), written out independently of the code.
RANGES = {
    "hads_anxiety": (0, 21),
    "hads_depression": (0, 21),
    "wemwbs": (14, 70),
    "promis_fatigue": (8, 40),
    "promis_pain_interference": (8, 40),
    "paw_job_satisfaction": (7, 35),
    "paw_social_support": (4, 20),
    "paw_mental_stress": (4, 20),
    "rtw_self_efficacy": (2, 10),
    "wrfq": (0, 100),
}


def numbered(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(1, n + 1)]


INSTRUMENTS = [  # scorer, item columns, item codes
    (hads.score_hads, numbered("hads_", 14), [0, 1, 2, 3]),
    (wemwbs.score_wemwbs, numbered("wemwbs_", 14), [1, 2, 3, 4, 5]),
    (promis.score_promis, numbered("promis_fat_", 8) + numbered("promis_pi_", 8), [1, 2, 3, 4, 5]),
    (paw.score_paw, numbered("paw_", 15), [1, 2, 3, 4, 5]),
    (rtw_self_efficacy.score_rtw_self_efficacy, numbered("rtwse_", 2), [1, 2, 3, 4, 5]),
    (wrfq.score_wrfq, numbered("wrfq_", 27), [0, 1, 2, 3, 4, 9]),
]


@st.composite
def answered_forms(draw):
    """A scorer and 1-6 forms of its items: any codes, any set of items left blank."""
    scorer, columns, codes = draw(st.sampled_from(INSTRUMENTS))
    n = len(columns)

    @st.composite
    def form(draw):
        # extreme forms (every item at one code, e.g. all maximum) probe the range ends
        every = st.sampled_from(codes)
        code = st.just(draw(every)) if draw(st.booleans()) else every
        answers = draw(st.lists(code, min_size=n, max_size=n))
        for i in draw(st.sets(st.integers(0, n - 1))):
            answers[i] = None
        return answers

    return scorer, columns, draw(st.lists(form(), min_size=1, max_size=6))


def with_extreme_examples(test):
    """Always include, per instrument, forms with every item at one code (each code in
    turn: all-minimum, all-maximum, all "does not apply"), with the first or last
    item(s) blank, and forms with one item at one code and the rest at another."""
    for scorer_fn, columns, codes in INSTRUMENTS:
        n = len(columns)
        rows = [
            blanks + [code] * (n - len(blanks) - len(tail)) + tail
            for code in codes
            for blanks, tail in (([None], []), ([], [None]), ([None, None], []), ([], []))
        ]
        rows += [[a] + [b] * (n - 1) for a in codes for b in codes if a != b]
        test = example((scorer_fn, columns, rows))(test)
    return test


@settings(max_examples=150, deadline=None)
@with_extreme_examples
@given(answered_forms())
def test_scores_stay_within_their_documented_range(case):
    scorer, columns, rows = case
    frame = pd.DataFrame(rows, columns=columns, dtype="float64")
    frame.insert(0, "record_id", [f"P{i}" for i in range(len(rows))])
    scores = scorer(frame, SCORING, CODING).scores
    for name, values in scores.items():
        lo, hi = RANGES[name]
        present = values.dropna()
        assert ((present >= lo - 1e-9) & (present <= hi + 1e-9)).all(), (name, present.tolist())


# ----------------------------------------------------------------------------- declared
FORM_OF = {c: f["form"] for f in BOOK["fields"] for c in f["export_columns"]}
FORM_OF.update({f"{f['name']}_complete": f["name"] for f in BOOK["forms"]})
SCORES = [
    name for inst in load_spec(CONFIG, checked=True).instruments.values() for name in inst.score_names()
]


def scored(rows: list[dict], timepoint: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``rows`` (one dict of answers per record P01, P02, ...) as the per-form interface at
    ``timepoint``'s event, scored by the analysis with the paper's declared instruments:
    one row of scores per record (a score not made at the time point is missing) and the
    scoring log."""
    event = CONFIG["timepoints"]["schedule"][timepoint]["event"]
    ids = [f"P{i + 1:02d}" for i in range(len(rows))]
    forms = {
        "screening": pd.DataFrame({"record_id": ids, "redcap_event_name": "screening_arm_1", "redcap_arm": 1})
    }
    for form in QUESTIONNAIRES:
        answers = [(rid, {k: v for k, v in row.items() if FORM_OF[k] == form}) for rid, row in zip(ids, rows)]
        answers = [(rid, a) for rid, a in answers if a]
        if not answers:
            continue
        frame = pd.DataFrame(
            {"record_id": [rid for rid, _ in answers], "redcap_event_name": event, "redcap_arm": 1}
        )
        for column in sorted({k for _, a in answers for k in a}):
            frame[column] = pd.array(
                [
                    None
                    if a.get(column) is None or (isinstance(a.get(column), float) and np.isnan(a[column]))
                    else int(a[column])
                    for _, a in answers
                ],
                dtype="Int64",
            )
        forms[form] = frame
    analysis = Analysis(StudyData.from_frames(BOOK, forms), load_spec(CONFIG, checked=True))
    analysis.score_all()
    out = pd.DataFrame(index=analysis.records)
    for name in SCORES:
        by = analysis.variable(name).by_timepoint
        out[name] = by[timepoint] if timepoint in by else np.nan
    return out, analysis.scoring_log()


def full_health_questionnaire(level: int) -> dict:
    """Every health-questionnaire item answered; ``level`` 1 = best, 3 = middling."""
    return (
        {f"eq5d_{d}": level for d in ("mo", "sc", "ua", "pd", "ad")}
        | {"eq5d_vas": 70}
        | hads_items([level - 1] * 7, [level - 1] * 7)
        | {"nrs_confidence": 6, "nrs_ability": 5, "nrs_pain_now": 4, "nrs_pain_week": 5}
        | items("wemwbs_", [level] * 14)
        | items("promis_fat_", [level] * 8)
        | items("promis_pi_", [level] * 8)
        | {"health_questionnaire_complete": 2}
    )


def test_every_declared_instrument_at_14_weeks():
    work = (
        items("wrfq_", [4] * 27)
        | items("paw_", [5] * 15)
        | items("rtwse_", [4, 5])
        | {"wq_satisfaction": 4, "wq_pain_interfere": 2, "wq_pain_worse": 1, "work_questionnaire_complete": 2}
    )
    scores, log = scored(
        [
            full_health_questionnaire(1)
            | work
            | {"emp_offers": 2, "emp_accepted": 1, "emp_started": 1, "employment_complete": 2},
            # HADS anxiety with item 1 blank (imputed); PROMIS fatigue with 2 blank (missing);
            # work questionnaire and employment not returned at all (not logged)
            {
                k: v
                for k, v in full_health_questionnaire(3).items()
                if k not in ("hads_1", "promis_fat_1", "promis_fat_2")
            },
            # nothing returned: every score missing, nothing logged
            {},
        ],
        "week14",
    )
    assert scores.index.tolist() == ["P01", "P02", "P03"]
    p1, p2, p3 = (scores.iloc[i] for i in range(3))
    # P01: full health (England 5L: 11111 = 1), every HADS item 0, every 1-5 item 1
    assert p1["eq5d_state"] == "11111" and p1["eq5d_index"] == 1 and p1["eq5d_vas"] == 70
    assert (p1["hads_anxiety"], p1["wemwbs"], p1["promis_fatigue"]) == (0, 14, 8)
    assert (p1["work_confidence"], p1["work_ability"], p1["pain_now_nrs"], p1["pain_week_nrs"]) == (
        6,
        5,
        4,
        5,
    )
    assert (
        p1["wrfq"],
        p1["paw_job_satisfaction"],
        p1["paw_social_support"],
        p1["paw_mental_stress"],
        p1["rtw_self_efficacy"],
    ) == (100, 35, 20, 20, 9)
    assert (p1["placement_satisfaction"], p1["pain_interfered_with_work"], p1["work_made_pain_worse"]) == (
        4,
        2,
        1,
    )
    assert (p1["job_offers"], p1["job_offers_accepted"], p1["jobs_started"]) == (2, 1, 1)
    # P02: state 33333, England 5L: 1 - (0.076 + 0.080 + 0.063 + 0.084 + 0.104) = 0.593;
    # HADS anxiety 6 answered items of 2 = 12, + 12/6 = 14; depression 7 x 2 = 14
    assert p2["eq5d_state"] == "33333" and p2["eq5d_index"] == pytest.approx(0.593)
    assert p2["eq5d_mo"] == 3
    assert (p2["hads_anxiety"], p2["hads_depression"], p2["wemwbs"]) == (14, 14, 42)
    assert math.isnan(p2["promis_fatigue"]) and p2["promis_pain_interference"] == 24
    assert p2[["wrfq", "paw_job_satisfaction", "job_offers"]].isna().all()
    # P03: nothing returned
    assert p3.isna().all()

    assert log[["record_id", "instrument", "action", "items_missing"]].values.tolist() == [
        ["P02", "hads_anxiety", "imputed", 1],
        ["P02", "promis_fatigue", "score missing", 2],
    ]
    assert (log["timepoint"] == "week14").all()


def test_at_baseline_the_work_and_employment_forms_are_not_scored():
    scores, log = scored([full_health_questionnaire(2)], "baseline")
    work = [
        "placement_satisfaction",
        "wrfq",
        "paw_job_satisfaction",
        "paw_social_support",
        "paw_mental_stress",
        "rtw_self_efficacy",
        "pain_interfered_with_work",
        "work_made_pain_worse",
        "job_offers",
        "job_offers_accepted",
        "jobs_started",
    ]
    assert scores[work].isna().all().all()
    # 22222, England 5L: 1 - (0.058 + 0.050 + 0.050 + 0.063 + 0.078) = 0.701
    assert scores["eq5d_index"].iloc[0] == pytest.approx(0.701)
    assert scores["hads_anxiety"].iloc[0] == 7 and log.empty


def test_an_incomplete_eq5d_profile_is_logged():
    answers = full_health_questionnaire(1)
    del answers["eq5d_pd"]
    scores, log = scored([answers], "week6")
    assert scores[["eq5d_state", "eq5d_index"]].isna().all().all()
    assert scores["eq5d_mo"].iloc[0] == 1 and scores["eq5d_vas"].iloc[0] == 70
    assert log[["instrument", "action", "items_missing"]].values.tolist() == [
        ["eq5d_index", "score missing", 1]
    ]
    assert "eq5d_pd" in log["detail"].iloc[0]


def test_out_of_range_items_are_refused_naming_field_time_point_and_record():
    answers = full_health_questionnaire(1) | {"hads_4": 4}
    with pytest.raises(
        ValueError,
        match=r"health_questionnaire.hads_4 = 4 at week14 for "
        r"record 'P02' is outside the item's coding",
    ):
        scored([full_health_questionnaire(1), answers], "week14")


@pytest.mark.slow  # a scale check (benchmarks time it)
def test_100000_records_are_scored_record_by_record():
    """Scoring is vectorised: 100,000 records (one imputation or dropped score each) give
    one row of scores and one log row each (speed: tests/benchmarks/benchmark.py)."""
    rows = [
        full_health_questionnaire(2) | {"hads_1": None},
        full_health_questionnaire(3) | {"promis_pi_1": None, "promis_pi_2": None},
    ] * 50_000
    scores, log = scored(rows, "week14")
    assert len(scores) == 100_000 and len(log) == 100_000  # one log row per record
    assert scores["hads_anxiety"].notna().all()
    assert scores["promis_pain_interference"].isna().sum() == 50_000
