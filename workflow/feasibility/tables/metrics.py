"""Metrics: one number per row, each with its own definition (a feasibility-metrics table).

Rows come in groups (``rows: [{group, metrics: [...]}]``); each metric is a statistic
over the table's population (``population``; a metric may name its own) with conditions
and values as expressions:

============ =============================================== ==============================
statistic    declared with                                   cell (``tables.common``)
============ =============================================== ==============================
count        ``count`` (condition)                           count: how many records
sum          ``value``, ``where``                            count: total, n = records summed
rate         ``count`` (condition), ``months`` (summary)     rate: count / months
proportion   ``numerator``, ``denominator`` (conditions)     proportion_ci: Wilson interval
median_iqr   ``value``, ``where``                            median_iqr (Stata centiles)
mean_sd      ``value``, ``where``                            mean_sd
nnt          ``numerator``, ``denominator``, ``control``     nnt_ci: 1 / (p - control)
============ =============================================== ==============================

A proportion counts the records meeting both its numerator and denominator, of those
meeting the denominator. ``for_each: <coded variable>`` repeats a metric for every level
(``level``, ``level_label`` in its expressions and label); ``skip_if`` (a summary
condition, which may use the metric's ``count`` and ``months``) leaves a row out.
"""

from __future__ import annotations

import math

from feasibility.analysis.expressions import _is_missing_scalar
from feasibility.tables.base import Cells, TableContext, TableResult, published_key, slug
from feasibility.stats import exact_sum, mean_sd, median_iqr, proportion
from feasibility.tables.common import cell

KIND = "metrics"
DEFAULTS: dict = {}
SCHEMA = """
description: Metrics, one statistic a row (counts, rates, proportions, medians, means, NNT).
properties:
  rows: {$ref: "#/$defs/metrics_rows", description: "Groups of metrics (rows)."}
"""
READS: dict = {}

STATISTICS = ("count", "sum", "rate", "proportion", "median_iqr", "mean_sd", "nnt")
COLUMN = "value"


def nnt(p_intervention: float, p_control: float) -> float:
    """1 / (p_intervention - p_control); infinite when there is no benefit."""
    difference = p_intervention - p_control
    return 1 / difference if difference > 0 else math.inf


class Metrics:
    def __init__(self, ctx: TableContext):
        self.ctx = ctx
        self.cells = Cells(ctx)

    def run(self) -> None:
        for group in self.ctx.raw.get("rows") or []:
            for metric in group["metrics"]:
                self.metric(group.get("group", ""), metric)

    def metric(self, group: str, m: dict) -> None:
        ctx = self.ctx
        statistic = m.get("statistic")
        rid = m.get("id") or m.get("label", "")
        if statistic not in STATISTICS:
            raise ValueError(
                f"{ctx.where}, metric {rid!r}: statistic {statistic!r} is not one of {', '.join(STATISTICS)}"
            )
        index = (
            ctx.analysis.population(ctx.parse(m["population"], f"metric {rid!r}, population"))
            if "population" in m
            else ctx.index
        )
        if "for_each" in m:
            v = ctx.variable(m["for_each"], f"metric {rid!r}, for_each")
            choices = v.meta.get("choices")
            if not choices:
                raise ValueError(
                    f"{ctx.where}, metric {rid!r}: for_each needs a coded variable "
                    f"(with choices), not {m['for_each']!r}"
                )
            for code, text in choices:
                self.one(
                    group, m, statistic, rid, index, {"level": code, "level_label": text}, level_key=text
                )
        else:
            self.one(group, m, statistic, rid, index, {})

    def _count(self, text, what, index, bound) -> int:
        cond = self.ctx.values(text, what, index=index, **bound)
        if cond.dtype.name != "boolean" and cond.dtype != bool:
            raise ValueError(f"{self.ctx.where}, {what}: must be a condition (true/false)")
        return int(cond.fillna(False).astype(bool).sum())

    def _mask(self, text, what, index, bound):
        cond = self.ctx.values(text, what, index=index, **bound)
        if cond.dtype.name != "boolean" and cond.dtype != bool:
            raise ValueError(f"{self.ctx.where}, {what}: must be a condition (true/false)")
        return cond.fillna(False).to_numpy(dtype=bool)

    def one(self, group, m, statistic, rid, index, bound, level_key=None) -> None:
        ctx = self.ctx
        where = f"metric {rid!r}"
        confidence = ctx.analysis.spec.confidence
        decimals = m.get("decimals", 1 if statistic in ("rate", "sum", "median_iqr", "mean_sd") else 0)
        values = {}
        fields: dict = {}
        if statistic in ("count", "rate"):
            k = self._count(m.get("count", "true"), f"{where}, count", index, bound)
            values["count"] = k
            if statistic == "count":
                fields = dict(estimate=float(k), n=k)
            else:
                months = ctx.summary(m["months"], f"{where}, months", index, **bound)
                values["months"] = months
                if not _is_missing_scalar(months):
                    months = int(months)
                    fields = dict(estimate=k / months if months else math.nan, n=k, denominator=months)
        elif statistic in ("sum", "median_iqr", "mean_sd"):
            data = ctx.values(m["value"], f"{where}, value", index=index, **bound)
            if data.dtype.name == "boolean":
                data = data.astype("float64")
            if "where" in m:
                data = data[self._mask(m["where"], f"{where}, where", index, bound)]
            data = data.astype("float64")
            values["count"] = int(len(data))
            if statistic == "sum":
                fields = dict(estimate=exact_sum(data), n=int(len(data)))
            elif statistic == "median_iqr":
                s = median_iqr(data)
                fields = dict(estimate=s.median, lower=s.q1, upper=s.q3, n=s.n)
            else:
                s = mean_sd(data)
                fields = dict(estimate=s.mean, sd=s.sd, n=s.n)
        else:  # proportion, nnt
            den = self._mask(m["denominator"], f"{where}, denominator", index, bound)
            num = self._mask(m["numerator"], f"{where}, numerator", index, bound)
            k, n = int((den & num).sum()), int(den.sum())
            values.update(count=k, denominator=n)
            p = proportion(k, n, confidence)
            if statistic == "proportion":
                fields = dict(
                    estimate=100 * p.proportion, lower=100 * p.lower, upper=100 * p.upper, n=k, denominator=n
                )
            else:
                control = ctx.summary(m["control"], f"{where}, control", index, **bound)
                fields = dict(
                    estimate=nnt(p.proportion, control),
                    lower=nnt(p.upper, control),
                    upper=nnt(p.lower, control),
                    n=k,
                    denominator=n,
                )
        if "skip_if" in m:
            skip = ctx.summary(m["skip_if"], f"{where}, skip_if", index, **{**bound, **values})
            if skip is True:
                return
        if not fields:
            raise ValueError(
                f"{ctx.where}, {where}: {statistic} could not be computed "
                f"({', '.join(f'{k} = {v}' for k, v in values.items())}); add "
                "skip_if to leave such rows out"
            )
        label = ctx.render(m.get("label", rid), index, **bound)
        key = published_key(
            m.get("published_key"),
            f"{ctx.where}, {where}",
            column=COLUMN,
            column_index=0,
            timepoint="",
            level=slug(level_key or ""),
        )
        kind = {
            "count": "count",
            "sum": "count",
            "rate": "rate",
            "proportion": "proportion_ci",
            "median_iqr": "median_iqr",
            "mean_sd": "mean_sd",
            "nnt": "nnt_ci",
        }[statistic]
        self.cells.add(
            rid,
            cell(ctx.cell_table, group, label, COLUMN, kind, decimals=decimals, published_key=key, **fields),
        )


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A metrics table (kind ``metrics``)."""
    ctx = TableContext(
        analysis,
        table_id,
        raw,
        default_columns=lambda c: [{"id": COLUMN, "label": ""}],
        small_cell_threshold=small_cell_threshold,
    )
    metrics = Metrics(ctx)
    metrics.run()
    return metrics.cells.result()
