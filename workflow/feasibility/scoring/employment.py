"""Employment outcomes at 14 weeks and 6 months, reported as counted.

Paper, Table 1 and Table 5: number of job offers (from any source), of offers
accepted and of jobs (paid employment) started; each a count (CRF: whole numbers
0-20).
"""
from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from feasibility.scoring.items import Scored, pass_through

SOURCES = {
    "job_offers": "emp_offers",
    "job_offers_accepted": "emp_accepted",
    "jobs_started": "emp_started",
}


def score_employment(items: pd.DataFrame, scoring: Mapping | None = None,
               coding: Mapping | None = None) -> Scored:
    """The three counts, checked and passed through."""
    return pass_through(items, SOURCES, "Employment", coding)
