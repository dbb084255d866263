"""Hospital Anxiety and Depression Scale (HADS).

Zigmond AS, Snaith RP. The Hospital Anxiety and Depression Scale. Acta Psychiatr
Scand 1983;67:361-70. 14 items scored 0-3; anxiety = the odd items 1, 3, ..., 13,
depression = the even items 2, 4, ..., 14; each subscale 0-21, higher = more
symptoms. The CRF stores the item score (not the option position), so the
reversed option order of the printed form needs no recoding.
Missing items: the paper's rule (Methods), ``scoring.missing_items``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from feasibility.scoring.items import Scored, item_columns, score_subscales

SUBSCALES = {
    "hads_anxiety": item_columns("hads_", range(1, 15, 2)),
    "hads_depression": item_columns("hads_", range(2, 15, 2)),
}


def score_hads(items: pd.DataFrame, scoring: Mapping, coding: Mapping | None = None) -> Scored:
    """Anxiety and depression subscale sums (0-21 each)."""
    return score_subscales(items, SUBSCALES, "HADS", scoring, coding)
