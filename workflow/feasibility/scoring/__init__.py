"""Instrument scoring: questionnaire items -> the scores of ``schemas/derived.py`` ``Scores``.

One module per instrument, each a pure function from item columns to scores
that cites its manual; ``items`` holds the rules they share (CRF codings, the
paper's missing-item rule, the scoring log). ``score_timepoint`` scores one
questionnaire export.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import pandas as pd

from feasibility import crf
from feasibility.schemas.derived import TIMEPOINTS, Scores, ScoringLog
from feasibility.scoring import (employment, eq5d, hads, nrs, paw, promis, rtw_self_efficacy,
                                 verbal, wemwbs, wrfq)
from feasibility.scoring.items import Scored

__all__ = ["score_timepoint", "SCORE_COLUMNS", "LOG_COLUMNS"]

SCORE_COLUMNS = list(Scores.to_schema().columns)
LOG_COLUMNS = list(ScoringLog.to_schema().columns)


def _answer_columns(form: str) -> list[str]:
    """The answer columns of a CRF form (coded and numeric fields, not dates or text)."""
    return [c for f in crf.form_fields(form) if f.is_numeric and not f.is_date
            for c in f.columns()]


def _scorers(scoring: Mapping, demographics: pd.DataFrame | None
             ) -> dict[str, list[Callable[[pd.DataFrame], Scored]]]:
    """The scorers of each CRF form."""
    index = eq5d.index_from_config(scoring.get("eq5d_index"))
    with_config = [partial(f, scoring=scoring) for f in (
        hads.score_hads, nrs.score_nrs, wemwbs.score_wemwbs, promis.score_promis)]
    return {
        "health_questionnaire": [partial(eq5d.score_eq5d, index=index,
                                         demographics=demographics), *with_config],
        "work_questionnaire": [partial(f, scoring=scoring) for f in (
            verbal.score_verbal, wrfq.score_wrfq, paw.score_paw,
            rtw_self_efficacy.score_rtw_self_efficacy)],
        "employment": [partial(employment.score_employment, scoring=scoring)],
    }


def score_timepoint(items: pd.DataFrame, timepoint: str, demographics: pd.DataFrame | None,
                    config: Mapping) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score one questionnaire export (``questionnaires_<timepoint>``).

    ``items``: the validated export, one row per record (item columns float, NaN
    for blank). ``demographics`` (record_id, age, sex) is needed only for an
    age/sex-conditional EQ-5D mapping table. ``config``: the parsed config.yaml.

    Returns the scores (columns of ``Scores``, one row per record; NaN for the
    forms this export does not hold) and the scoring log (columns of
    ``ScoringLog``). Forms that were not returned at all (every answer blank)
    are not logged; partly answered ones are.
    """
    if timepoint not in TIMEPOINTS:
        raise ValueError(f"timepoint must be one of {TIMEPOINTS}, not {timepoint!r}")
    if items["record_id"].duplicated().any():
        raise ValueError(f"{timepoint}: more than one questionnaire row for a record_id")
    scoring = config["scoring"]
    if not items.index.is_unique:
        items = items.reset_index(drop=True)
    parts = [pd.DataFrame({"record_id": items["record_id"].astype(str),
                           "timepoint": timepoint,
                           "questionnaire_date": items["hq_date"]}, index=items.index)]
    logs = []
    for form, scorers in _scorers(scoring, demographics).items():
        answers = _answer_columns(form)
        if not set(answers) <= set(items.columns):
            continue                      # form not in this export: scores stay NaN
        returned = items[answers].notna().any(axis=1)
        for scorer in scorers:
            scored = scorer(items)
            parts.append(scored.scores)
            logs.append(scored.log[returned.loc[scored.log.index].to_numpy()])

    scores = pd.concat(parts, axis=1).reindex(columns=SCORE_COLUMNS)
    numeric = [c for c in SCORE_COLUMNS if c not in ("record_id", "timepoint",
                                                       "questionnaire_date", "eq5d_state")]
    scores[numeric] = scores[numeric].astype(float)
    log = (pd.concat(logs).assign(timepoint=timepoint)
           .sort_index(kind="stable")
           .reindex(columns=LOG_COLUMNS).reset_index(drop=True))
    return scores.reset_index(drop=True), log
