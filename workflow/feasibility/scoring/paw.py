"""Psychosocial Aspects of Work (PAW).

Symonds TL, Burton AK, Tillotson KM, Main CJ. Do attitudes and beliefs influence
work loss due to low back trouble? Occup Med 1996;46:25-32. 15 items scored 1
(completely disagree) to 5 (completely agree), summed by subscale: job
satisfaction items 1-7 (7-35), social support items 8-11 (4-20), mental stress
items 12-15 (4-20). The item counts match the paper's ranges; the item
assignment is not confirmed by a public manual (config assumption
``paw_subscales``). Missing items: the paper's rule, ``scoring.missing_items``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from feasibility.scoring.items import Scored, item_columns, score_subscales

SUBSCALES = {
    "paw_job_satisfaction": item_columns("paw_", range(1, 8)),
    "paw_social_support": item_columns("paw_", range(8, 12)),
    "paw_mental_stress": item_columns("paw_", range(12, 16)),
}


def score_paw(items: pd.DataFrame, scoring: Mapping, coding: Mapping | None = None) -> Scored:
    """Job satisfaction (7-35), social support (4-20) and mental stress (4-20) sums."""
    return score_subscales(items, SUBSCALES, "PAW", scoring, coding)
