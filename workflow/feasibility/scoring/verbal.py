"""Five-point verbal rating scales of the work questionnaire, reported as codes 1-5.

Paper, Tables 1 and 4: satisfaction with the placement (1 = very dissatisfied ...
5 = very satisfied); how much pain interfered with work and how much work made
pain worse (1 = not at all ... 5 = extremely).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from feasibility.scoring.items import Scored, pass_through

SOURCES = {
    "placement_satisfaction": "wq_satisfaction",
    "pain_interfered_with_work": "wq_pain_interfere",
    "work_made_pain_worse": "wq_pain_worse",
}


def score_verbal(items: pd.DataFrame, scoring: Mapping | None = None,
               coding: Mapping | None = None) -> Scored:
    """The three verbal items, checked and passed through as codes 1-5."""
    return pass_through(items, SOURCES, "Work questionnaire", coding)
