"""What every declared table shares: its population and columns, text templates,
published keys and footnotes.

A table declaration (study file ``tables.<id>``) names its ``kind``; the module of that
kind (``feasibility.tables.registry``) computes its tidy cells (``tables.common.CELL_COLUMNS``)
and :func:`finish_gt` adds the declared notes to the one great-tables table that
``tables.common.build_gt`` makes from them.

Templates (titles, labels, notes) are text with ``{expression}`` placeholders, evaluated
as summary expressions over the table's (or column's) records: ``{N}`` is the number of
records, ``{fmt(median(x), 1)}`` a median as printed; ``{{`` and ``}}`` print braces.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd
from great_tables import GT, loc

from feasibility.analysis.expressions import (
    ROW,
    Evaluator,
    Expression,
    V,
    _code_key,
    _is_missing_scalar,
    as_row_series,
    parse,
)
from feasibility.tables.common import build_gt, cells_frame

PARTS = {"value": "__v0", "n": "__n", "denominator": "__N"}
DIFFERENCE = "difference"


@dataclass
class TableResult:
    """A computed table: its tidy cells, its great-tables table, and which cells each
    declared row made (``row_ids``: row id -> list of (row_group, row_label))."""

    id: str
    cells: pd.DataFrame
    gt: GT
    row_ids: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def slug(text: str) -> str:
    """``"Back or neck"`` -> ``"back_or_neck"`` (a published-key part)."""
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")


def format_value(value: Any) -> str:
    """A template value as text: whole numbers without decimals, others as ``:g``."""
    if isinstance(value, V):
        value = value.data
    if _is_missing_scalar(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return f"{value:g}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


_KEY_FORMAT = string.Formatter()


def published_key(template: str | None, where: str, **fields) -> str:
    """A published key from its template (placeholders {column}, {column_index},
    {timepoint}, {level})."""
    if not template:
        return ""
    try:
        names = {f for _, f, _, _ in _KEY_FORMAT.parse(template) if f is not None}
        unknown = names - set(fields)
        if unknown:
            raise ValueError(
                f"{where}: published_key {template!r} uses "
                f"{', '.join('{' + u + '}' for u in sorted(unknown))}; it may use "
                f"{', '.join('{' + f + '}' for f in fields)}"
            )
        return template.format(**fields)
    except (IndexError, KeyError) as exc:
        raise ValueError(f"{where}: published_key {template!r}: {exc}") from None


@dataclass
class DifferenceSpec:
    """A table's between-arm difference column: the two columns compared (first minus
    second), its label, the methods (:mod:`feasibility.analysis.compare`) and its note."""

    first: "Column"
    second: "Column"
    label: str
    binary: str = "newcombe"
    continuous: str = "welch"
    decimals: int | None = None
    footnote: Any = True
    id: str = DIFFERENCE


@dataclass
class Column:
    """A table column: its id (the cells' ``column``), spanner label, time point and records."""

    id: str
    label: str
    timepoint: str | None
    index: pd.Index
    level: Any = None
    level_label: str | None = None


class TableContext:
    """One table being built: its declaration, population, columns and templates."""

    def __init__(
        self,
        analysis,
        table_id: str,
        raw: dict,
        *,
        default_columns: Callable | None = None,
        small_cell_threshold: int | None = None,
    ):
        self.analysis, self.id, self.raw = analysis, table_id, raw
        self.where = f"table {table_id!r}"
        self.cell_table = raw.get("cell_table", table_id)
        self.threshold = small_cell_threshold
        self.timepoint = raw.get("timepoint")
        if self.timepoint is not None and self.timepoint not in analysis.timepoints.points:
            raise ValueError(f"{self.where}: unknown time point {self.timepoint!r}")
        pop = raw.get("population", analysis.spec.participants)
        self.population_expr = self.parse(pop, "population") if pop is not None else None
        self.index = analysis.population(self.population_expr)
        self.columns = self._columns(raw.get("columns"), default_columns)
        self.difference = self._difference(raw.get("difference"))

    @property
    def column_ids(self) -> list[str]:
        """Every column of the printed table: the columns of records, then the difference."""
        return [c.id for c in self.columns] + ([self.difference.id] if self.difference else [])

    # -- parsing -------------------------------------------------------------------
    def parse(self, text, what: str, functions=()) -> Expression:
        return parse(text, f"{self.where}, {what}", functions)

    def _columns(self, raw, default: Callable | None) -> list[Column]:
        a = self.analysis
        if raw is None:
            raw = default(self) if default else [{"id": "overall", "label": ""}]
        if isinstance(raw, dict):
            return self._by_columns(raw)
        out = []
        for i, col in enumerate(raw):
            tp = col.get("timepoint", self.timepoint)
            if tp is not None and tp not in a.timepoints.points:
                raise ValueError(
                    f"{self.where}, column {col['id']!r}: unknown time point {tp!r} "
                    f"(time points: {', '.join(a.timepoints.points)})"
                )
            index = self.index
            if col.get("where") is not None:
                cond = self.parse(col["where"], f"column {col['id']!r}")
                mask = a.evaluate_rows(cond, tp, index=index)
                index = index[mask.fillna(False).to_numpy(dtype=bool)]
            label = col.get("label", a.timepoints.label(tp) if tp else "")
            out.append(Column(col["id"], label, tp, index))
        ids = [c.id for c in out]
        if len(set(ids)) != len(ids):
            raise ValueError(f"{self.where}: column ids repeat ({', '.join(ids)})")
        return out

    def _by_columns(self, raw: dict) -> list[Column]:
        a = self.analysis
        expr = self.parse(raw["by"], "columns.by")
        v = a.evaluate(expr, self.timepoint, index=self.index)
        choices = v.meta.get("choices")
        if not choices:
            raise ValueError(
                f"{self.where}: columns.by needs a coded variable (with choices), not {raw['by']!r}"
            )
        values = v.data
        out = []
        template = raw.get("label", "{level_label} (n = {n})")
        if raw.get("overall"):
            out.append(
                Column(
                    "overall",
                    self.render(template, self.index, level_label="Overall", n=len(self.index)),
                    self.timepoint,
                    self.index,
                )
            )
        for code, text in choices:
            index = self.index[(values == code).fillna(False).to_numpy(dtype=bool)]
            col = Column(slug(text) or f"level_{code}", "", self.timepoint, index, code, text)
            col.label = self.render(template, index, level=code, level_label=text, n=len(index))
            out.append(col)
        return out

    def _difference(self, raw) -> DifferenceSpec | None:
        """The declared ``difference`` (true, or its settings) between two by-arm columns."""
        if not raw:
            return None
        raw = {} if raw is True else dict(raw)
        levelled = [c for c in self.columns if c.level is not None]
        if not levelled:
            raise ValueError(
                f"{self.where}: a difference compares columns by arm; declare columns: {{by: arm}}"
            )
        if "between" in raw:
            first, second = raw["between"]
        else:
            first, second = self.analysis.compared_arms()
        found = []
        for code in (first, second):
            hit = [c for c in levelled if _code_key(c.level) == _code_key(code)]
            if not hit:
                raise ValueError(
                    f"{self.where}: difference: no column for level {code!r} "
                    f"(levels: {', '.join(str(c.level) for c in levelled)})"
                )
            found.append(hit[0])
        if found[0] is found[1]:
            raise ValueError(f"{self.where}: difference: the two levels compared are the same")
        percent = f"{100 * self.analysis.spec.confidence:g}"
        return DifferenceSpec(
            found[0],
            found[1],
            raw.get("label", f"Difference ({percent}% CI)"),
            raw.get("binary", "newcombe"),
            raw.get("continuous", "welch"),
            raw.get("decimals"),
            raw.get("footnote", True),
        )

    # -- templates -----------------------------------------------------------------
    def bound(self, column: Column | None = None, **extra) -> dict[str, Any]:
        index = self.index if column is None else column.index
        out = {"N": len(index), "table_id": self.id}
        if column is not None:
            out.update(column_id=column.id, column_label=column.label, n=len(column.index))
            if column.level is not None:
                out.update(level=column.level, level_label=column.level_label)
        out["small_cell_threshold"] = self.threshold
        out.update(extra)
        return out

    def render(
        self,
        template: str | None,
        index: pd.Index | None = None,
        timepoint: str | None = None,
        functions: dict | None = None,
        values: dict | None = None,
        **bound,
    ) -> str:
        """``template`` with each ``{expression}`` replaced by its value."""
        if template is None:
            return ""
        index = self.index if index is None else index
        out, i, text = [], 0, str(template)
        names = {**({"N": len(index)}), **bound, **(values or {})}
        while i < len(text):
            ch = text[i]
            if ch == "{" and text.startswith("{{", i):
                out.append("{")
                i += 2
            elif ch == "}" and text.startswith("}}", i):
                out.append("}")
                i += 2
            elif ch == "{":
                end = text.find("}", i)
                if end < 0:
                    raise ValueError(f"{self.where}: unclosed {{ in {template!r}")
                source = text[i + 1 : end]
                expr = parse(
                    source, f"{self.where}, text {template!r}", functions=tuple((functions or {}).keys())
                )
                value = self.analysis.summarise(expr, index, timepoint, names, functions)
                out.append(format_value(value))
                i = end + 1
            else:
                out.append(ch)
                i += 1
        return "".join(out)

    # -- summaries -----------------------------------------------------------------
    def values(
        self,
        text,
        what: str,
        column: Column | None = None,
        timepoint: str | None = None,
        index: pd.Index | None = None,
        **bound,
    ) -> pd.Series:
        """A row-level expression over the column's (or table's) records."""
        expr = self.parse(text, what)
        tp = timepoint if timepoint is not None else (column.timepoint if column else self.timepoint)
        idx = index if index is not None else (column.index if column else self.index)
        scope = self.analysis.scope(tp, index=idx, bound=bound)
        return as_row_series(Evaluator(scope, expr).run(), scope, expr)

    def variable(self, text, what: str, column: Column | None = None, **bound) -> V:
        """A row-level expression with what it knows of itself (``meta``)."""
        expr = self.parse(text, what)
        tp = column.timepoint if column else self.timepoint
        idx = column.index if column else self.index
        v = self.analysis.evaluate(expr, tp, index=idx, **bound)
        if v.level not in (None, ROW):
            raise expr.error("gives one value per instance of a repeating instrument; aggregate it first")
        if v.is_scalar:
            v = V(Evaluator(self.analysis.scope(tp, index=idx), expr).full(v.data, ROW, []), ROW, v.meta)
        return v

    def summary(
        self, text, what: str, index: pd.Index | None = None, timepoint: str | None = None, **bound
    ) -> Any:
        expr = self.parse(text, what)
        return self.analysis.summarise(
            expr,
            self.index if index is None else index,
            timepoint if timepoint is not None else self.timepoint,
            bound,
        )

    def label_of(self, text) -> str:
        """The default label of a row's variable: a variable's or field's label."""
        name = str(text).strip()
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", name):
            return self.analysis.variable_label(name.split(".")[-1])
        return name


class Cells:
    """The cells a table kind makes, and which declared row (id) made each."""

    def __init__(self, ctx: "TableContext"):
        self.ctx = ctx
        self.records: list[dict] = []
        self.row_ids: dict[str, list[tuple[str, str]]] = {}

    def add(self, rid: str, record: dict) -> None:
        """Add one cell (``tables.common.cell``) made by row ``rid``."""
        self.records.append(record)
        rows = self.row_ids.setdefault(rid, [])
        key = (record["row_group"], record["row_label"])
        if key not in rows:
            rows.append(key)

    def result(self) -> TableResult:
        """The tidy cells and the one great-tables table with the declared notes."""
        frame = cells_frame(self.records)
        result = TableResult(self.ctx.id, frame, None, self.row_ids)
        result.gt = finish_gt(self.ctx, build_gt(frame, **gt_arguments(self.ctx)), result)
        return result


# ----------------------------------------------------------------------------- notes
def _row_positions(cells: pd.DataFrame) -> dict[tuple[str, str], int]:
    keys = cells[["row_group", "row_label"]].drop_duplicates()
    return {key: i for i, key in enumerate(zip(keys["row_group"], keys["row_label"]))}


def _locations(ctx: TableContext, raw: dict | None, result: TableResult, columns: list[str] | None) -> list:
    if not raw:
        return []
    where = f"{ctx.where}, footnote location"
    positions = _row_positions(result.cells)
    column_ids = ctx.column_ids

    def listed(value):
        return [value] if isinstance(value, str) else list(value)

    def rows_of(ids):
        out = []
        for rid in ids:
            if rid not in result.row_ids:
                raise ValueError(f"{where}: no row {rid!r} (rows: {', '.join(result.row_ids)})")
            out += [positions[k] for k in result.row_ids[rid] if k in positions]
        return sorted(set(out))

    locs = []
    if "row_group" in raw:
        groups = listed(raw["row_group"])
        unknown = set(groups) - set(result.cells["row_group"])
        if unknown:
            raise ValueError(f"{where}: no row group {sorted(unknown)[0]!r}")
        locs.append(loc.row_groups(rows=groups))
    if "spanner" in raw:
        ids = listed(raw["spanner"])
        unknown = set(ids) - set(column_ids)
        if unknown:
            raise ValueError(f"{where}: no column {sorted(unknown)[0]!r} (columns: {', '.join(column_ids)})")
        locs.append(loc.spanner_labels(ids=ids))
    if "stub" in raw:
        locs.append(loc.stub(rows=rows_of(listed(raw["stub"]))))
    if "body" in raw:
        body = raw["body"]
        part = PARTS[body.get("part", "value")]
        cols = columns if columns is not None else body.get("columns", column_ids)
        rows = rows_of(body["rows"]) if "rows" in body else None
        for c in cols:
            if c not in column_ids:
                raise ValueError(f"{where}: no column {c!r} (columns: {', '.join(column_ids)})")
            locs.append(loc.body(columns=f"{c}{part}", rows=rows))
    return locs


def _cell_function(ctx: TableContext, result: TableResult, column: Column | None):
    def cell(row, field, *, node, expr: Expression):
        if not (row.is_scalar and field.is_scalar):
            raise expr.error("cell(row, field) takes a row id and a field name", node)
        rid, name = row.data, field.data
        if rid not in result.row_ids:
            raise expr.error(f"no row {rid!r} (rows: {', '.join(result.row_ids)})", node, rid)
        if name not in ("estimate", "sd", "lower", "upper", "n", "denominator"):
            raise expr.error(
                f"cell field {name!r} is not one of estimate, sd, lower, upper, n, denominator", node, name
            )
        keys = result.row_ids[rid]
        cells = result.cells
        here = cells[[(g, r) in keys for g, r in zip(cells["row_group"], cells["row_label"])]]
        if column is not None:
            here = here[here["column"] == column.id]
        if len(here) != 1:
            raise expr.error(
                f"cell({rid!r}, ...) is not one cell here ({len(here)} cells); use for_each_column", node
            )
        value = here[name].iloc[0]
        return V(None if pd.isna(value) else float(value))

    return cell


def _small(ctx: TableContext, values: dict[str, Any], names: list[str]) -> bool:
    k = ctx.threshold
    if not k:
        return False
    for name in names:
        v = values.get(name)
        v = v.data if isinstance(v, V) else v
        if not _is_missing_scalar(v) and 0 < float(v) < k:
            return True
    return False


def finish_gt(ctx: TableContext, gt: GT, result: TableResult) -> GT:
    """The declared footnotes, footnote marks and source note added to ``gt``."""
    marks: list[str] = []
    for i, note in enumerate(ctx.raw.get("footnotes") or []):
        if isinstance(note, str):
            note = {"text": note}
        columns = ctx.columns if note.get("for_each_column") else [None]
        texts, shown = [], []
        for column in columns:
            functions = {"cell": _cell_function(ctx, result, column)}
            bound = ctx.bound(column)
            index = column.index if column is not None else ctx.index
            tp = column.timepoint if column is not None else ctx.timepoint
            values = {}
            for name, text in (note.get("values") or {}).items():
                expr = ctx.parse(text, f"footnote {i + 1}, value {name!r}", ("cell",))
                values[name] = ctx.analysis.summarise(expr, index, tp, {**bound, **values}, functions)
            if note.get("when") is not None:
                expr = ctx.parse(note["when"], f"footnote {i + 1}, when", ("cell",))
                ok = ctx.analysis.summarise(expr, index, tp, {**bound, **values}, functions)
                if ok is not True:
                    continue
            template = note["text"]
            if note.get("text_small") and _small(ctx, values, note.get("counts") or []):
                template = note["text_small"]
            texts.append(ctx.render(template, index, tp, functions, values, **bound))
            if column is not None:
                shown.append(column.id)
        if not texts:
            continue
        text = note.get("prefix", "") + note.get("join", "; ").join(texts) + note.get("suffix", "")
        locations = _locations(
            ctx, note.get("location"), result, shown if note.get("for_each_column") else None
        )
        gt = gt.tab_footnote(text, locations=locations) if locations else gt.tab_footnote(text)
        if note.get("mark"):
            marks.append(note["mark"])
    gt = _difference_note(ctx, gt, result)
    if marks:
        gt = gt.opt_footnote_marks(marks=marks)
    elif ctx.raw.get("footnote_marks"):
        gt = gt.opt_footnote_marks(marks=list(ctx.raw["footnote_marks"]))
    note = source_note_text(ctx)
    if note:
        gt = gt.tab_source_note(note)
    return gt


def source_note_text(ctx: TableContext) -> str:
    """The declared source note: ``source_note`` (a template), or ``{text, synthetic}``:
    for data a generator made (its provenance file, ``feasibility.provenance``) the
    statement that they are synthetic and not the study's, then ``synthetic`` (e.g. the
    forms used); ``text`` otherwise. A table that declares none has, for dummy data, the
    statement alone."""
    from feasibility.provenance import default_source_note, source_note

    raw = ctx.raw.get("source_note")
    if not raw:  # none declared: dummy data still say what they are (issue 23.8)
        return default_source_note(getattr(ctx.analysis, "provenance", None))
    if isinstance(raw, str):
        raw = {"text": raw}
    text = ctx.render(raw.get("text", ""))
    synthetic = raw.get("synthetic")
    return source_note(
        getattr(ctx.analysis, "provenance", None), text, ctx.render(synthetic) if synthetic else ""
    )


def _difference_note(ctx: TableContext, gt: GT, result: TableResult) -> GT:
    """The note that says what the difference column holds and how its intervals are made
    (unless the declaration gives its own text, or ``footnote: false``)."""
    d = ctx.difference
    if d is None or d.footnote is False:
        return gt
    from feasibility.analysis.compare import METHOD_TEXT

    if isinstance(d.footnote, str):
        text = ctx.render(d.footnote)
    else:
        kinds = set(result.cells.loc[result.cells["column"] == d.id, "statistic"])
        methods = []
        if "risk_difference_ci" in kinds:
            methods.append("for proportions, the " + METHOD_TEXT[d.binary])
        if "mean_difference_ci" in kinds:
            methods.append("for means, the " + METHOD_TEXT[d.continuous])
        percent = f"{100 * ctx.analysis.spec.confidence:g}"
        text = (
            f"Difference: {d.first.level_label} minus {d.second.level_label}"
            + (f"; {'; '.join(methods)}" if methods else "")
            + f"; {percent}% confidence intervals, unadjusted."
        )
    return gt.tab_footnote(text, locations=loc.spanner_labels(ids=[d.id]))


def gt_arguments(ctx: TableContext) -> dict:
    """The keyword arguments of ``build_gt`` from the declaration."""
    raw = ctx.raw
    columns = {c.id: c.label for c in ctx.columns}
    value_labels = {}
    if ctx.difference is not None:
        # issue 23.7: the difference column is headed by what it holds ("Difference (95%
        # CI)"), under the arms it compares, never by the arms' "n (%)"
        d = ctx.difference
        columns[d.id] = f"{d.first.level_label} minus {d.second.level_label}"
        value_labels[d.id] = d.label
    return dict(
        table_id=ctx.id,
        title=ctx.render(raw.get("title", ctx.id)),
        label=raw.get("label"),
        columns=columns,
        value_labels=value_labels,
        value_label=ctx.render(raw.get("value_label", "")),
        stub_label=raw.get("stub_label", ""),
        n_label=raw.get("n_label"),
        denominator_label=raw.get("denominator_label"),
    )
