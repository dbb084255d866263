"""Warwick-Edinburgh Mental Wellbeing Scale (WEMWBS).

Tennant R, et al. The Warwick-Edinburgh Mental Well-being Scale (WEMWBS):
development and UK validation. Health Qual Life Outcomes 2007;5:63. 14 items
scored 1 (none of the time) to 5 (all of the time), summed: 14-70, higher = better
wellbeing. WEMWBS has no official missing-item rule; the paper's rule for the
other scales is applied (config assumption ``wemwbs_missing_rule``).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from feasibility.scoring.items import Scored, item_columns, score_subscales

SUBSCALES = {"wemwbs": item_columns("wemwbs_", range(1, 15))}


def score_wemwbs(items: pd.DataFrame, scoring: Mapping, coding: Mapping | None = None) -> Scored:
    """WEMWBS total (14-70)."""
    return score_subscales(items, SUBSCALES, "WEMWBS", scoring, coding)
