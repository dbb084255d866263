"""PROMIS short forms v1.0: Fatigue 8a and Pain Interference 8a.

HealthMeasures, PROMIS Fatigue and Pain Interference scoring manuals: each short
form has 8 items scored 1-5; the raw score is their sum, 8-40, higher = more
fatigue / interference. The paper reports raw sums (no T-score conversion). It
names the Pain Interference 8a form but prints the range 6-30; the 8a raw sum is
used (config assumption ``promis_pain_interference_form``).
Missing items: the paper's rule (Methods), ``scoring.missing_items``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from feasibility.scoring.items import Scored, item_columns, score_subscales

SUBSCALES = {
    "promis_fatigue": item_columns("promis_fat_", range(1, 9)),
    "promis_pain_interference": item_columns("promis_pi_", range(1, 9)),
}


def score_promis(items: pd.DataFrame, scoring: Mapping, coding: Mapping | None = None) -> Scored:
    """Fatigue 8a and Pain Interference 8a raw sums (8-40 each)."""
    return score_subscales(items, SUBSCALES, "PROMIS", scoring, coding)
