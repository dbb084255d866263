"""Work Role Functioning Questionnaire 2.0 (WRFQ).

Abma FI, van der Klink JJL, Bültmann U. The Work Role Functioning Questionnaire
2.0 (Dutch version): examination of its reliability, validity and responsiveness
in the general working population. J Occup Rehabil 2013;23:135-47.
27 items on the percentage of time with difficulty over the past 4 weeks, coded
0 (all of the time) to 4 (none of the time), or 9 = "does not apply to my job".
Score = mean of the applicable items x 25, 0-100, higher = better work
functioning (config assumption ``wrfq_scoring``).

Paper, Methods: the case is dropped when "does not apply" was ticked for over
20 % of items (``scoring.wrfq_max_not_applicable_fraction``); blank items count
towards that limit too. A scored questionnaire with blank items is logged as
imputed (the mean of the applicable answered items stands in for them).
``items_missing`` counts items without a usable answer (blank or does not apply).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from feasibility.scoring.items import IMPUTED, SCORE_MISSING, Scored, check_codes, item_columns, log_rows

ITEMS = item_columns("wrfq_", range(1, 28))
NOT_APPLICABLE = 9
POINTS_PER_LEVEL = 25  # mean item 0-4 -> 0-100


def score_wrfq(items: pd.DataFrame, scoring: Mapping, coding: Mapping | None = None) -> Scored:
    """WRFQ 0-100, missing when blank or not-applicable items exceed the limit."""
    check_codes(items, ITEMS, "WRFQ", coding)
    block = items[ITEMS]
    blank = block.isna().sum(axis=1)
    not_applicable = (block == NOT_APPLICABLE).sum(axis=1)
    unusable = blank + not_applicable
    max_fraction = float(scoring["wrfq_max_not_applicable_fraction"])
    # exactly at the limit is scored; the tolerance absorbs float error in fraction x 27
    scorable = (unusable <= max_fraction * len(ITEMS) + 1e-9) & (unusable < len(ITEMS))
    score = (block.where(block != NOT_APPLICABLE).mean(axis=1) * POINTS_PER_LEVEL).where(scorable)

    logged = ~scorable | (blank > 0)
    action = pd.Series(np.where(scorable, IMPUTED, SCORE_MISSING), index=items.index)
    outcome = pd.Series(
        np.where(
            scorable,
            "mean of the applicable answered items",
            f"more than {max_fraction:.0%} without an answer",
        ),
        index=items.index,
    )
    detail = (
        blank[logged].astype(str)
        + " blank and "
        + not_applicable[logged].astype(str)
        + f" 'does not apply' of {len(ITEMS)} items; "
        + outcome[logged]
    )
    log = log_rows(items, logged, "wrfq", action, unusable, detail)
    return Scored(score.rename("wrfq").to_frame(), log)
