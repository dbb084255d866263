"""Categorical outcomes: every level of each outcome, zeros included, at follow-up time points.

The same engine as the baseline table (:mod:`feasibility.tables.baseline`) with the
defaults of an outcomes table: one column per time point the table names (default every
follow-up time point), every level of a coded outcome in the order the declaration gives
(default the dictionary's), percentages of those who answered (``denominator: answered``)
to one decimal, no rows for missing answers. Continuous outcomes (mean (SD)) may sit
between them, as in the paper's Table 4.
"""

from __future__ import annotations

from feasibility.tables.base import TableContext, TableResult
from feasibility.tables.baseline import Defaults, build_describe

KIND = "categorical"
DEFAULTS = {
    "timepoint": None,
    "denominator": "answered",
    "missing": "none",
    "levels": "all",
    "decimals": 1,
    "percent_decimals": 1,
}
SCHEMA = """
description: Categorical outcomes, every level of each outcome at follow-up time points.
properties:
  rows: {$ref: "#/$defs/describe_rows", description: "The variables and groups of variables (rows)."}
  denominator: {enum: [population, answered], description: "Percentages of the column's records (population) or of those who answered (answered); default answered."}
  levels: {oneOf: [{type: array}, {enum: [all, observed]}], description: "Levels shown (default all)."}
  missing: {enum: [row, none], description: "A row for missing values (row) or none; default none."}
  decimals: {type: integer, minimum: 0, description: "Decimals of means and medians (default 1)."}
  percent_decimals: {type: integer, minimum: 0, description: "Decimals of n (%) percentages (default 1)."}
"""
# without columns, one column per follow-up time point
READS = {"every_timepoint_by_default": True}

OUTCOMES = Defaults(**DEFAULTS)


def _timepoint_columns(ctx: TableContext) -> list[dict]:
    """One column per time point: the table's own, else every follow-up time point."""
    timepoints = ctx.analysis.timepoints
    names = [ctx.timepoint] if ctx.timepoint else timepoints.follow_ups()
    return [{"id": tp, "timepoint": tp, "label": timepoints.label(tp)} for tp in names]


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A categorical-outcomes table (kind ``categorical``)."""
    return build_describe(analysis, table_id, raw, OUTCOMES, _timepoint_columns, small_cell_threshold)
