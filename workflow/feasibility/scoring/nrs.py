"""Numeric rating scales (11-point, 0-10), reported as answered.

Paper, Table 1: confidence in working (0 = not at all confident, 10 = completely
confident), perceived work ability (0 = cannot work at all, 10 = best work
ability), pain intensity now and over the past week (0 = no pain, 10 = worst pain
imaginable).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from feasibility.scoring.items import Scored, pass_through

SOURCES = {
    "work_confidence": "nrs_confidence",
    "work_ability": "nrs_ability",
    "pain_now_nrs": "nrs_pain_now",
    "pain_week_nrs": "nrs_pain_week",
}


def score_nrs(items: pd.DataFrame, scoring: Mapping | None = None,
               coding: Mapping | None = None) -> Scored:
    """The four 0-10 ratings, checked and passed through."""
    return pass_through(items, SOURCES, "NRS", coding)
