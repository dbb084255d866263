"""Counts: totals of a measure with their own definitions of who is counted (paper, Table 5).

Each row sums an expression over the records of each column (its time point) for which
its ``over`` condition holds (default: those with a value); ``n`` is how many records the
sum is over. So "offers accepted" can be summed over those who had an offer to accept,
and "jobs started" over those who accepted one. Cells: ``count`` (total, n).
"""

from __future__ import annotations

from feasibility.tables.base import Cells, TableContext, TableResult, published_key
from feasibility.tables.categorical import _timepoint_columns
from feasibility.tables.common import cell

KIND = "counts"
DEFAULTS = {"decimals": 0}
SCHEMA = """
description: Counts, totals of a measure each over its own records.
properties:
  rows: {type: array, items: {$ref: "#/$defs/counts_row"}, description: "The sums (rows)."}
  decimals: {type: integer, minimum: 0, description: "Decimals of the totals (default 0)."}
"""
READS: dict = {}


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A counts table (kind ``counts``)."""
    ctx = TableContext(
        analysis, table_id, raw, default_columns=_timepoint_columns, small_cell_threshold=small_cell_threshold
    )
    cells = Cells(ctx)
    rows = raw.get("rows") or []
    # cells column by column (each column's counts together, as the table is read)
    for i, column in enumerate(ctx.columns):
        for row in rows:
            rid = row.get("id") or str(row["sum"])
            where = f"row {rid!r}"
            label = ctx.render(row["label"]) if "label" in row else ctx.label_of(row["sum"])
            group = row.get("group", "")
            values = ctx.values(row["sum"], where, column)
            if values.dtype.name == "boolean":
                values = values.astype("float64")
            over = ctx.values(row["over"], f"{where}, over", column) if "over" in row else values.notna()
            if over.dtype.name != "boolean" and over.dtype != bool:
                raise ValueError(f"{ctx.where}, {where}: over must be a condition (true/false)")
            mask = over.fillna(False).to_numpy(dtype=bool)
            total = float(values[mask].astype("float64").sum())
            key = published_key(
                row.get("published_key"),
                f"{ctx.where}, {where}",
                column=column.id,
                column_index=i,
                timepoint=column.timepoint or "",
            )
            cells.add(
                rid,
                cell(
                    ctx.cell_table,
                    group,
                    label,
                    column.id,
                    "count",
                    decimals=row.get("decimals", raw.get("decimals", DEFAULTS["decimals"])),
                    estimate=total,
                    n=int(mask.sum()),
                    published_key=key,
                ),
            )
    return cells.result()
