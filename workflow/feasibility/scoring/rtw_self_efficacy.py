"""Return-to-work self-efficacy.

The paper reports a range of 2-10; the instrument is not identified in public
sources. It is taken to be two items scored 1-5 and summed (config assumption
``rtw_self_efficacy``); with only two items no item is imputed
(``scoring.missing_items.rtw_self_efficacy``: max_missing 0).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from feasibility.scoring.items import Scored, item_columns, score_subscales

SUBSCALES = {"rtw_self_efficacy": item_columns("rtwse_", range(1, 3))}


def score_rtw_self_efficacy(items: pd.DataFrame, scoring: Mapping, coding: Mapping | None = None) -> Scored:
    """Sum of the two items (2-10)."""
    return score_subscales(items, SUBSCALES, "Return-to-work self-efficacy", scoring, coding)
