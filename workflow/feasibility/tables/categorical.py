"""Categorical outcomes: every level of each outcome, zeros included, at follow-up time points.

The same engine as the baseline table (:mod:`feasibility.tables.baseline`) with the
defaults of an outcomes table: one column per time point the table names (default every
follow-up time point), every level of a coded outcome in the order the declaration gives
(default the dictionary's), percentages of those who answered (``denominator: answered``)
to one decimal, no rows for missing answers. Continuous outcomes (mean (SD)) may sit
between them, as in the paper's Table 4.
"""
from __future__ import annotations

from feasibility.analysis.tables import TableContext, TableResult
from feasibility.tables.baseline import Defaults, build_describe

OUTCOMES = Defaults(timepoint=None, denominator="answered", missing="none", levels="all",
                    decimals=1, percent_decimals=1)


def _timepoint_columns(ctx: TableContext) -> list[dict]:
    """One column per time point: the table's own, else every follow-up time point."""
    timepoints = ctx.analysis.timepoints
    names = [ctx.timepoint] if ctx.timepoint else timepoints.follow_ups()
    return [{"id": tp, "timepoint": tp, "label": timepoints.label(tp)} for tp in names]


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A categorical-outcomes table (kind ``categorical``)."""
    return build_describe(analysis, table_id, raw, OUTCOMES, _timepoint_columns,
                          small_cell_threshold)
