"""Change from baseline: measures x follow-up time points, paired complete cases, t intervals.

Each measure (a score, or any per-time-point variable) at each follow-up column: the
mean within-person change, follow-up minus baseline, over the population's records with
both values, its SD and the t interval at ``statistics.confidence_level``
(``feasibility.stats.paired_change``); ``n`` is the number of complete pairs. Columns
default to every follow-up time point; the baseline is ``timepoints.baseline`` unless the
table names another. Cells: ``change_ci`` (paper, Table 3).

By arm (``timepoint: month6`` with ``columns: {by: arm}``), each arm's mean change, and with
``difference`` the difference between the arms' mean changes (``mean_difference_ci``:
Welch's t interval on the within-person changes, unadjusted).
"""

from __future__ import annotations

from feasibility.analysis.compare import mean_difference
from feasibility.tables.base import Cells, TableContext, TableResult, published_key
from feasibility.stats import paired_change
from feasibility.tables.categorical import _timepoint_columns
from feasibility.tables.common import cell

KIND = "change"
DEFAULTS = {"baseline": "timepoints.baseline", "decimals": 1}
SCHEMA = """
description: Change from baseline, measures by follow-up time point (paired complete cases).
properties:
  baseline: {type: string, description: "The baseline time point (default timepoints.baseline)."}
  measures: {type: array, items: {$ref: "#/$defs/measure"}, description: "The measures (rows)."}
  decimals: {type: integer, minimum: 0, description: "Decimals of the changes (default 1)."}
required: [measures]
"""
# without columns, one column per follow-up time point
READS = {"every_timepoint_by_default": True}


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A change-from-baseline table (kind ``change``)."""
    ctx = TableContext(
        analysis, table_id, raw, default_columns=_timepoint_columns, small_cell_threshold=small_cell_threshold
    )
    baseline = raw.get("baseline", analysis.timepoints.baseline)
    if baseline not in analysis.timepoints.points:
        raise ValueError(f"{ctx.where}: baseline {baseline!r} is not a time point")
    decimals = raw.get("decimals", DEFAULTS["decimals"])
    cells = Cells(ctx)
    for measure in raw.get("measures") or []:
        name = measure["score"]
        rid = measure.get("id", name)
        where = f"measure {rid!r}"
        label = measure.get("label") or ctx.label_of(name)
        group = measure.get("group", "")
        changes = {}
        for i, column in enumerate(ctx.columns):
            if column.timepoint is None:
                hint = (
                    " (a change table by arm names its follow-up time point, e.g. timepoint: month6)"
                    if column.level is not None
                    else ""
                )
                raise ValueError(f"{ctx.where}: column {column.id!r} needs a time point{hint}")
            before = ctx.values(f"{name}[{baseline}]", where, column).astype("float64")
            after = ctx.values(f"{name}[{column.timepoint}]", where, column).astype("float64")
            changes[column.id] = (after - before).to_numpy()
            change = paired_change(before, after, analysis.spec.confidence)
            key = published_key(
                measure.get("published_key"),
                f"{ctx.where}, {where}",
                column=column.id,
                column_index=i,
                timepoint=column.timepoint,
            )
            cells.add(
                rid,
                cell(
                    ctx.cell_table,
                    group,
                    label,
                    column.id,
                    "change_ci",
                    decimals=measure.get("decimals", decimals),
                    estimate=change.estimate,
                    sd=change.sd,
                    lower=change.lower,
                    upper=change.upper,
                    n=change.n,
                    published_key=key,
                ),
            )
        d = ctx.difference
        if d is not None:
            r = mean_difference(
                changes[d.first.id], changes[d.second.id], analysis.spec.confidence, d.continuous
            )
            key = published_key(
                measure.get("published_key"),
                f"{ctx.where}, {where}",
                column=d.id,
                column_index=len(ctx.columns),
                timepoint=ctx.timepoint or "",
            )
            cells.add(
                rid,
                cell(
                    ctx.cell_table,
                    group,
                    label,
                    d.id,
                    "mean_difference_ci",
                    decimals=d.decimals if d.decimals is not None else measure.get("decimals", decimals),
                    estimate=r.estimate,
                    lower=r.lower,
                    upper=r.upper,
                    n=r.n1 + r.n2,
                    published_key=key,
                ),
            )
    return cells.result()
