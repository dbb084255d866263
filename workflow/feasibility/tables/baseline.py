"""Baseline characteristics: a declared table of variables summarised over a population.

The gtsummary way: a table names its variables and, where the dictionary does not say
it, each one's type (continuous, categorical, dichotomous, multi-response checkbox), the
statistic (mean (SD), median (IQR), n (%)) and decimals; labels default to the data
dictionary's field labels (or a score's or derived variable's label). Columns are the
whole population, or one per level of a coded variable (``columns: {by: arm}``).

Defaults of this kind: values at the baseline time point; percentages of the whole
column (``denominator: population``), with an n (%) row for missing values; the
dictionary's levels in code order. The categorical-outcomes kind
(:mod:`feasibility.tables.categorical`) is the same engine with other defaults.

Cells (``tables.common``): ``n_pct`` for levels and dichotomous rows (count, percent,
denominator), ``mean_sd`` and ``median_iqr`` for continuous rows (Stata centiles).

With ``difference`` (columns by arm), continuous and dichotomous rows get a between-arm
difference column: ``mean_difference_ci`` (Welch or pooled t interval) and
``risk_difference_ci`` (percentage points, Newcombe's hybrid score interval), of the
same records and denominators as the row's cells (:mod:`feasibility.analysis.compare`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from feasibility.analysis.compare import mean_difference, risk_difference
from feasibility.analysis.expressions import FieldRef, Ref, _code_key
from feasibility.tables.base import Cells, TableContext, TableResult, published_key, slug
from feasibility.stats import mean_sd, median_iqr, n_pct
from feasibility.tables.common import cell

KIND = "baseline"
DEFAULTS = {
    "timepoint": "baseline",
    "denominator": "population",
    "missing": "row",
    "levels": "all",
    "decimals": 1,
    "percent_decimals": 0,
}
SCHEMA = """
description: Baseline characteristics, the variables summarised over a population.
properties:
  rows: {$ref: "#/$defs/describe_rows", description: "The variables and groups of variables (rows)."}
  denominator: {enum: [population, answered], description: "Percentages of the column's records (population) or of those who answered (answered); default population."}
  levels: {oneOf: [{type: array}, {enum: [all, observed]}], description: "Levels shown (default all)."}
  missing: {enum: [row, none], description: "A row for missing values (row) or none; default row."}
  decimals: {type: integer, minimum: 0, description: "Decimals of means and medians (default 1)."}
  percent_decimals: {type: integer, minimum: 0, description: "Decimals of n (%) percentages (default 0)."}
"""
READS: dict = {}

MISSING = "Missing"
# what a group may set for all its variables
GROUP_DEFAULTS = ("type", "statistic", "decimals", "levels", "missing", "denominator")
STATISTIC_TEXT = {"mean_sd": "mean (SD)", "median_iqr": "median (IQR)", "n_pct": "n (%)"}


@dataclass(frozen=True)
class Defaults:
    """What a kind assumes where a declaration is silent."""

    timepoint: str | None  # "baseline": the study's baseline time point
    denominator: str  # "population" or "answered"
    missing: str  # "row" or "none"
    levels: Any  # "all", "observed" or a list
    decimals: int  # decimals of means and medians
    percent_decimals: int  # decimals of the percentages of n (%) rows


BASELINE = Defaults(**DEFAULTS)


def matches(values: pd.Series, code) -> pd.Series:
    """Where ``values`` hold the choice ``code`` (numbers compared as numbers), as bool."""
    key = _code_key(code)
    present = values.notna()
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return (
            (values == key).fillna(False).astype(bool)
            if isinstance(key, float)
            else pd.Series(False, index=values.index)
        )
    if pd.api.types.is_bool_dtype(values.dtype):
        return (values.fillna(False).astype(bool) == bool(key)) & present
    text = values.astype(object).where(present, None).map(lambda x: None if x is None else _code_key(x))
    return (text == key).fillna(False).astype(bool)


def _numbers(values: pd.Series) -> pd.Series:
    if values.dtype.name == "boolean":
        values = values.astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64")


class Describe:
    """The rows of a baseline or categorical-outcomes table."""

    def __init__(self, ctx: TableContext, defaults: Defaults):
        self.ctx, self.defaults, self.raw = ctx, defaults, ctx.raw
        self.cells = Cells(ctx)

    def option(self, spec: dict, name: str):
        if name in spec:
            return spec[name]
        if name in self.raw:
            return self.raw[name]
        return getattr(self.defaults, name)

    def add(self, rid: str, column, key: tuple[str, str], record: dict) -> None:
        self.cells.add(rid, record)

    # -- the declaration -----------------------------------------------------------
    def run(self) -> None:
        for entry in self.raw.get("rows") or []:
            if "variables" in entry:
                shared = {k: entry[k] for k in GROUP_DEFAULTS if k in entry}
                for spec in entry["variables"]:
                    self.variable({**shared, **spec}, entry["group"])
            else:
                self.variable(entry, None)

    def kind_of(self, spec: dict, v) -> str:
        if "type" in spec:
            return spec["type"]
        if spec.get("statistic") in ("mean_sd", "median_iqr"):
            return "continuous"
        if self.is_checkbox(spec):
            return "multi_response"
        if v.meta.get("choices"):
            return "categorical"
        if v.data.dtype.name == "boolean":
            return "dichotomous"
        return "continuous"

    def checkbox_field(self, spec: dict):
        """The checkbox field a row names (``field`` or ``form.field``), else None."""
        expr = self.ctx.parse(spec["variable"], f"row {spec.get('id', spec['variable'])!r}")
        root = expr.root
        name = root.name if isinstance(root, Ref) else root.field if isinstance(root, FieldRef) else None
        info = self.ctx.analysis.book.fields.get(name) if name else None
        return info if info is not None and info.is_checkbox else None

    def is_checkbox(self, spec: dict) -> bool:
        return self.checkbox_field(spec) is not None

    def variable(self, spec: dict, group: str | None) -> None:
        ctx = self.ctx
        rid = spec.get("id") or str(spec["variable"])
        where = f"row {rid!r}"
        if self.is_checkbox(spec) and spec.get("type", "multi_response") == "multi_response":
            return self.multi_response(spec, group, rid)
        columns = []
        only = spec.get("columns")
        if only is not None:
            known = [c.id for c in ctx.columns]
            unknown = [c for c in only if c not in known]
            if unknown:
                raise ValueError(
                    f"{ctx.where}, {where}: columns {', '.join(map(repr, unknown))}"
                    f" are not columns of the table ({', '.join(known)})"
                )
        for column in ctx.columns:
            if only is not None and column.id not in only:
                continue  # the row does not apply there: a blank cell (issue 23.7)
            v = ctx.variable(spec["variable"], where, column)
            columns.append((column, v))
        kind = self.kind_of(spec, columns[0][1])
        # a row with missing values in one column has its missing row in every column (a
        # blank cell beside "12 (5)" would read as not computed, not as none missing)
        self.row_missing = any(bool(v.data.isna().any()) for _, v in columns)
        label = ctx.render(spec["label"]) if "label" in spec else ctx.label_of(spec["variable"])
        for i, (column, v) in enumerate(columns):
            keys = dict(column=column.id, column_index=i, timepoint=column.timepoint or "")
            if kind == "continuous":
                self.continuous(spec, rid, group or "", label, column, v, keys)
            elif kind == "dichotomous":
                self.dichotomous(spec, rid, group or "", label, column, v, keys)
            elif kind == "categorical":
                self.categorical(spec, rid, group, label, column, v, keys)
            else:
                raise ValueError(f"{ctx.where}, {where}: type {kind!r} needs a checkbox field")
        if (
            ctx.difference is not None
            and kind in ("continuous", "dichotomous")
            and (only is None or {ctx.difference.first.id, ctx.difference.second.id} <= set(only))
        ):
            self.difference(spec, rid, group or "", label, kind, {column.id: v for column, v in columns})

    def difference(self, spec, rid, group, label, kind, values: dict) -> None:
        """The between-arm difference of a continuous (mean difference) or dichotomous (risk
        difference, percentage points) row, in the table's difference column."""
        ctx = self.ctx
        d = ctx.difference
        a, b = values[d.first.id].data, values[d.second.id].data
        confidence = ctx.analysis.spec.confidence
        key = published_key(
            spec.get("published_key"),
            f"{ctx.where}, row {rid!r}",
            column=d.id,
            column_index=len(ctx.columns),
            timepoint=ctx.timepoint or "",
        )
        if kind == "continuous":
            r = mean_difference(_numbers(a), _numbers(b), confidence, d.continuous)
            decimals = d.decimals if d.decimals is not None else self.option(spec, "decimals")
            record = cell(
                ctx.cell_table,
                group,
                label,
                d.id,
                "mean_difference_ci",
                decimals=decimals,
                estimate=r.estimate,
                lower=r.lower,
                upper=r.upper,
                n=r.n1 + r.n2,
                published_key=key,
            )
        else:
            k1, n1 = self.hits(spec, d.first, a)
            k2, n2 = self.hits(spec, d.second, b)
            r = risk_difference(k1, n1, k2, n2, confidence, d.binary)
            decimals = d.decimals if d.decimals is not None else 1
            record = cell(
                ctx.cell_table,
                group,
                label,
                d.id,
                "risk_difference_ci",
                decimals=decimals,
                estimate=100 * r.estimate,
                lower=100 * r.lower,
                upper=100 * r.upper,
                n=n1 + n2,
                published_key=key,
            )
        self.add(rid, None, (group, label), record)

    def denominator(self, spec: dict, column, values: pd.Series) -> int:
        how = self.option(spec, "denominator")
        return len(column.index) if how == "population" else int(values.notna().sum())

    def missing_row(self, spec, rid, group, base_label, column, values, keys) -> None:
        if self.option(spec, "missing") != "row":
            return
        k = int(values.isna().sum())
        if not k and not getattr(self, "row_missing", False):
            return
        label = spec.get("missing_label", f"{base_label}: missing")
        n = len(column.index)
        self.add(
            rid,
            column,
            (group, label),
            cell(
                self.ctx.cell_table,
                group,
                label,
                column.id,
                "n_pct",
                decimals=0,
                estimate=n_pct(k, n).percent,
                n=k,
                denominator=n,
            ),
        )

    def base_label(self, spec: dict, label: str) -> str:
        return self.ctx.label_of(spec["variable"]) if "label" in spec else label

    # -- row kinds -----------------------------------------------------------------
    def continuous(self, spec, rid, group, label, column, v, keys) -> None:
        values = v.data
        if values.dtype.name == "boolean":
            values = values.astype("float64")
        if not pd.api.types.is_numeric_dtype(values.dtype):
            raise ValueError(
                f"{self.ctx.where}, row {rid!r}: a continuous row needs numbers, not {values.dtype} values"
            )
        values = values.astype("float64")
        statistic = spec.get("statistic", "mean_sd")
        decimals = self.option(spec, "decimals")
        key = published_key(spec.get("published_key"), f"{self.ctx.where}, row {rid!r}", **keys)
        if statistic == "mean_sd":
            m = mean_sd(values)
            record = cell(
                self.ctx.cell_table,
                group,
                label,
                column.id,
                "mean_sd",
                decimals=decimals,
                estimate=m.mean,
                sd=m.sd,
                n=m.n,
                published_key=key,
            )
        elif statistic == "median_iqr":
            m = median_iqr(values)
            record = cell(
                self.ctx.cell_table,
                group,
                label,
                column.id,
                "median_iqr",
                decimals=decimals,
                estimate=m.median,
                lower=m.q1,
                upper=m.q3,
                n=m.n,
                published_key=key,
            )
        else:
            raise ValueError(
                f"{self.ctx.where}, row {rid!r}: statistic {statistic!r} is not one "
                "of mean_sd, median_iqr for a continuous variable"
            )
        self.add(rid, column, (group, label), record)
        self.missing_row(spec, rid, group, self.base_label(spec, label), column, values, keys)

    def hits(self, spec, column, values: pd.Series) -> tuple[int, int]:
        """A dichotomous row's count (the ``value`` counted, default 1 / true) and its
        denominator in a column."""
        if "value" in spec:
            hit = matches(values, spec["value"])
        elif values.dtype.name == "boolean":
            hit = values.fillna(False).astype(bool)
        else:
            hit = values == 1
        return int(hit.fillna(False).astype(bool).sum()), self.denominator(spec, column, values)

    def dichotomous(self, spec, rid, group, label, column, v, keys) -> None:
        values = v.data
        count, n = self.hits(spec, column, values)
        key = published_key(spec.get("published_key"), f"{self.ctx.where}, row {rid!r}", **keys)
        self.add(
            rid,
            column,
            (group, label),
            cell(
                self.ctx.cell_table,
                group,
                label,
                column.id,
                "n_pct",
                decimals=spec.get("decimals", self.option(spec, "percent_decimals")),
                estimate=n_pct(count, n).percent,
                n=count,
                denominator=n,
                published_key=key,
            ),
        )
        self.missing_row(spec, rid, group, self.base_label(spec, label), column, values, keys)

    def levels(self, spec, choices, values: pd.Series) -> list[tuple[Any, str]]:
        wanted = self.option(spec, "levels")
        present = {_code_key(x) for x in values.dropna()}
        known = [(c, t) for c, t in choices]
        if isinstance(wanted, list):
            by_key = {_code_key(c): (c, t) for c, t in known}
            out = []
            for c in wanted:
                if _code_key(c) not in by_key:
                    raise ValueError(
                        f"{self.ctx.where}: level {c!r} is not a code of the "
                        f"variable (codes: {', '.join(str(k) for k, _ in known)})"
                    )
                out.append(by_key[_code_key(c)])
            return out
        if wanted == "observed":
            known = [(c, t) for c, t in known if _code_key(c) in present]
        others = sorted(present - {_code_key(c) for c, _ in choices}, key=str)
        return known + [(o, str(o)) for o in others]

    def level_key(self, spec, code, text, keys) -> str:
        template = spec.get("published_key")
        if not template:
            return ""
        level_keys = spec.get("level_keys")
        if level_keys is not None:
            mapped = {_code_key(k): v for k, v in level_keys.items()}
            if _code_key(code) not in mapped:
                return ""
            level = mapped[_code_key(code)]
        else:
            level = slug(text)
        where = f"{self.ctx.where}, row {spec.get('id', spec['variable'])!r}"
        return published_key(template, where, level=level, **keys)

    def categorical(self, spec, rid, group, label, column, v, keys) -> None:
        choices = v.meta.get("choices") or ()
        values = v.data
        group = group if group is not None else spec.get("group", f"{label}, {STATISTIC_TEXT['n_pct']}")
        n = self.denominator(spec, column, values)
        decimals = spec.get("decimals", self.option(spec, "percent_decimals"))
        for code, text in self.levels(spec, choices, values):
            count = int(matches(values, code).sum())
            self.add(
                rid,
                column,
                (group, text),
                cell(
                    self.ctx.cell_table,
                    group,
                    text,
                    column.id,
                    "n_pct",
                    decimals=decimals,
                    estimate=n_pct(count, n).percent,
                    n=count,
                    denominator=n,
                    published_key=self.level_key(spec, code, text, keys),
                ),
            )
        k = int(values.isna().sum())
        if (k or getattr(self, "row_missing", False)) and self.option(spec, "missing") == "row":
            self.add(
                rid,
                column,
                (group, MISSING),
                cell(
                    self.ctx.cell_table,
                    group,
                    MISSING,
                    column.id,
                    "n_pct",
                    decimals=decimals,
                    estimate=n_pct(k, n).percent,
                    n=k,
                    denominator=n,
                ),
            )

    def multi_response(self, spec, group, rid) -> None:
        """One row per choice of a checkbox field: ticked, of the whole column."""
        ctx = self.ctx
        text = str(spec["variable"]).strip()
        info = self.checkbox_field(spec)
        label = ctx.render(spec["label"]) if "label" in spec else info.label
        group = group if group is not None else spec.get("group", f"{label}, {STATISTIC_TEXT['n_pct']}")
        decimals = spec.get("decimals", self.option(spec, "percent_decimals"))
        for i, column in enumerate(ctx.columns):
            keys = dict(column=column.id, column_index=i, timepoint=column.timepoint or "")
            n = len(column.index)
            for code, choice in info.choices:
                ticked = ctx.values(f"checked({text}, {code!r})", f"row {rid!r}", column)
                count = int(ticked.fillna(False).astype(bool).sum())
                self.add(
                    rid,
                    column,
                    (group, choice),
                    cell(
                        ctx.cell_table,
                        group,
                        choice,
                        column.id,
                        "n_pct",
                        decimals=decimals,
                        estimate=n_pct(count, n).percent,
                        n=count,
                        denominator=n,
                        published_key=self.level_key(spec, code, choice, keys),
                    ),
                )


def _overall(ctx: TableContext) -> list[dict]:
    return [{"id": "overall", "label": ""}]


def build_describe(
    analysis, table_id: str, raw: dict, defaults: Defaults, default_columns, small_cell_threshold=None
) -> TableResult:
    if "timepoint" not in raw and defaults.timepoint == "baseline":
        raw = {**raw, "timepoint": analysis.timepoints.baseline}
    ctx = TableContext(
        analysis, table_id, raw, default_columns=default_columns, small_cell_threshold=small_cell_threshold
    )
    rows = Describe(ctx, defaults)
    rows.run()
    return rows.cells.result()


def build(analysis, table_id: str, raw: dict, small_cell_threshold=None) -> TableResult:
    """A baseline-characteristics table (kind ``baseline``)."""
    return build_describe(analysis, table_id, raw, BASELINE, _overall, small_cell_threshold)
