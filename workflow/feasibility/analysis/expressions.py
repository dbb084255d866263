"""Declared expressions: a small, safe, vectorised expression language over a study's data.

A study file declares derived variables, populations, table rows and notes as
expressions in Python's expression syntax, parsed with :mod:`ast` and checked against a
whitelist of nodes and functions; nothing is ever passed to ``eval``. Every expression is
evaluated on whole columns (pandas/numpy), never row by row.

Names
    ``field`` (any field of the data dictionary), ``form.field`` and
    ``form[event].field`` (``event`` a declared time point or a REDCap unique event name),
    ``var`` (a derived variable, a score or a declared parameter), ``var[timepoint]``
    (a score or per-time-point variable at one time point), ``form`` (as the first argument
    of ``count``/``has``), the literals ``true``/``false`` and ``NA``.
Operators
    ``+ - * / // % **``, ``== != < <= > >=`` (chained too), ``in``/``not in`` a tuple of
    literals, ``and``/``or``/``not`` (three-valued: ``NA and false`` is false, ``NA or true``
    is true, otherwise NA), ``a if cond else b``.
Missing values
    A comparison or arithmetic with a missing value is missing; a filter (``where=``, a
    table's population) keeps only rows where the condition is true. Aggregates skip
    missing values.
Levels
    A value is one per record (the row level), one per instance of a repeating instrument,
    or a single scalar. Aggregates reduce one level: in derived variables the instances of
    a repeating instrument to one value per record; in tables and notes (summary
    expressions) the records of the population to one number.

See :data:`FUNCTIONS` for the functions. Errors are :class:`ExpressionError`, naming
the declaration, the expression, the position and the unknown name, with suggestions.
"""
from __future__ import annotations

import ast
import difflib
import math
import operator
from dataclasses import dataclass, field as dc_field
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from feasibility.stats import (exact_mean_sd, exact_sum, format_number, round_half_up,
                               stata_centile)

NA = pd.NA
LITERALS = {"true": True, "True": True, "false": False, "False": False,
            "NA": None, "None": None, "null": None}


# ----------------------------------------------------------------------------- errors
class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated.

    ``where`` names the declaration (e.g. "derived variable 'placed'"), ``expression`` is
    its text, ``name`` the unknown or misused name and ``position`` its column (0-based).
    """

    def __init__(self, message: str, *, where: str = "", expression: str = "",
                 name: str | None = None, position: int | None = None):
        self.message, self.where, self.expression = message, where, expression
        self.name, self.position = name, position
        super().__init__(self._text())

    def _text(self) -> str:
        head = f"{self.where}: " if self.where else ""
        text = f"{head}{self.message}"
        if self.expression:
            text += f"\n    {self.expression}"
            if self.position is not None:
                text += "\n    " + " " * self.position + "^"
        return text

    def located(self, where: str, expression: str) -> "ExpressionError":
        """The same error with the declaration and expression filled in (if not yet)."""
        return ExpressionError(self.message, where=self.where or where,
                               expression=self.expression or expression, name=self.name,
                               position=self.position)


def suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


# ----------------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Lit(Node):
    value: Any


@dataclass(frozen=True)
class Ref(Node):
    """A bare name: a variable, score, field, parameter or (as an argument) a form."""
    name: str


@dataclass(frozen=True)
class At(Node):
    """``name[timepoint]``: a per-time-point variable at one time point."""
    name: str
    timepoint: str


@dataclass(frozen=True)
class FieldRef(Node):
    """``form.field`` or ``form[event].field``."""
    form: str
    event: str | None
    field: str


@dataclass(frozen=True)
class FormAt(Node):
    """``form[event]`` as an argument of ``count`` or ``has``."""
    form: str
    event: str


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logic(Node):
    op: str                      # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Compare(Node):
    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class In(Node):
    operand: Node
    values: tuple
    negate: bool


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...] = ()


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
           ast.GtE: ">="}


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text and syntax tree."""

    text: str
    root: Node
    where: str = ""

    def names(self) -> set[str]:
        """Bare names and ``name[timepoint]`` names it refers to (for dependency order)."""
        out: set[str] = set()

        def walk(node):
            if isinstance(node, (Ref, At)):
                out.add(node.name)
            for value in vars(node).values():
                if isinstance(value, Node):
                    walk(value)
                elif isinstance(value, tuple):
                    for item in value:
                        if isinstance(item, Node):
                            walk(item)
                        elif (isinstance(item, tuple) and len(item) == 2
                              and isinstance(item[1], Node)):
                            walk(item[1])
        walk(self.root)
        return out

    def error(self, message: str, node: Node | None = None, name: str | None = None):
        return ExpressionError(message, where=self.where, expression=self.text, name=name,
                               position=None if node is None else node.pos)


def parse(text: str, where: str = "", functions: Iterable[str] = ()) -> Expression:
    """Parse and check an expression (``where`` names the declaration, for errors).

    ``functions`` are extra function names a context provides (e.g. ``cell`` in notes).
    """
    if isinstance(text, bool) or text is None:
        text = {True: "true", False: "false", None: "NA"}[text]
    if isinstance(text, (int, float)):
        text = repr(text)
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression must be a non-empty text", where=where,
                              expression=str(text))
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"is not a valid expression ({exc.msg})", where=where,
                              expression=source,
                              position=None if exc.offset is None else max(exc.offset - 1, 0)
                              ) from None
    known = set(FUNCTIONS) | set(functions)
    return Expression(source, _Builder(source, where, known).build(tree.body), where)


class _Builder:
    """ast -> the whitelisted syntax tree; anything else is an error."""

    def __init__(self, text: str, where: str, functions: set[str]):
        self.text, self.where, self.functions = text, where, functions

    def fail(self, message: str, node: ast.AST, name: str | None = None):
        return ExpressionError(message, where=self.where, expression=self.text, name=name,
                               position=getattr(node, "col_offset", None))

    def build(self, node: ast.AST) -> Node:
        pos = getattr(node, "col_offset", 0)
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, (bool, int, float, str)):
                return Lit(pos, node.value)
            raise self.fail(f"the literal {node.value!r} is not allowed", node)
        if isinstance(node, ast.Name):
            if node.id in LITERALS:
                return Lit(pos, LITERALS[node.id])
            return Ref(pos, node.id)
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Subscript):
            target, index = node.value, self._event(node.slice)
            if not isinstance(target, ast.Name):
                raise self.fail("only a name can be followed by [time point]", node)
            return At(pos, target.id, index)
        if isinstance(node, ast.UnaryOp):
            ops = {ast.Not: "not", ast.USub: "-", ast.UAdd: "+"}
            if type(node.op) not in ops:
                raise self.fail("the operator ~ is not allowed (use not)", node)
            return Unary(pos, ops[type(node.op)], self.build(node.operand))
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise self.fail(f"the operator {type(node.op).__name__} is not allowed "
                                "(allowed: + - * / // % **)", node)
            return Binary(pos, _BINOPS[type(node.op)], self.build(node.left),
                          self.build(node.right))
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return Logic(pos, op, tuple(self.build(v) for v in node.values))
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            return Call(pos, "if_else", (self.build(node.test), self.build(node.body),
                                         self.build(node.orelse)))
        if isinstance(node, ast.Call):
            return self._call(node)
        kind = type(node).__name__
        raise self.fail(f"{kind} is not allowed in an expression (allowed: names, form.field, "
                        "literals, arithmetic, comparisons, and/or/not, if-else and the "
                        "listed functions)", node)

    def _event(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        raise self.fail("[...] takes a time point or event name", node)

    def _attribute(self, node: ast.Attribute) -> Node:
        target = node.value
        if isinstance(target, ast.Name):
            return FieldRef(target.col_offset, target.id, None, node.attr)
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            return FieldRef(target.col_offset, target.value.id, self._event(target.slice),
                            node.attr)
        raise self.fail("only form.field or form[event].field may use a dot", node)

    def _literal(self, node: ast.AST):
        if isinstance(node, ast.Constant) and (node.value is None
                                               or isinstance(node.value, (bool, int, float, str))):
            return node.value
        if (isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
                and isinstance(node.operand, ast.Constant)
                and isinstance(node.operand.value, (int, float))):
            return -node.operand.value
        raise self.fail("the values after `in` must be literals, e.g. x in (1, 2)", node)

    def _compare(self, node: ast.Compare) -> Node:
        pos = node.col_offset
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            values = node.comparators[0]
            if not isinstance(values, (ast.Tuple, ast.List, ast.Set)):
                raise self.fail("`in` needs a tuple of literals, e.g. x in (1, 2)", values)
            return In(pos, self.build(node.left), tuple(self._literal(v) for v in values.elts),
                      isinstance(node.ops[0], ast.NotIn))
        ops = []
        for op in node.ops:
            if type(op) not in _CMPOPS:
                raise self.fail(f"the comparison {type(op).__name__} is not allowed here "
                                "(use == != < <= > >=, or a single `in`)", node)
            ops.append(_CMPOPS[type(op)])
        operands = tuple(self.build(n) for n in (node.left, *node.comparators))
        return Compare(pos, tuple(ops), operands)

    def _call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only the listed functions can be called, e.g. sum(...)", node)
        name = node.func.id
        if name not in self.functions:
            raise self.fail(f"unknown function {name!r}{suggest(name, self.functions)}", node,
                            name)
        spec = FUNCTIONS.get(name)
        kwargs = []
        for kw in node.keywords:
            if kw.arg is None:
                raise self.fail("**arguments are not allowed", node)
            if spec is not None and kw.arg not in spec.keywords:
                allowed = ", ".join(spec.keywords) or "none"
                raise self.fail(f"{name}() takes no argument {kw.arg!r} (keywords: {allowed})",
                                kw.value, kw.arg)
            kwargs.append((kw.arg, self.build(kw.value)))
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail("*arguments are not allowed", node)
        args = []
        for a in node.args:
            if (isinstance(a, ast.Subscript) and isinstance(a.value, ast.Name)
                    and spec is not None and spec.form_argument):
                args.append(FormAt(a.col_offset, a.value.id, self._event(a.slice)))
            else:
                args.append(self.build(a))
        if spec is not None:
            too_many = spec.max_args is not None and len(args) > spec.max_args
            if len(args) < spec.min_args or too_many:
                want = (f"{spec.min_args}" if spec.max_args == spec.min_args else
                        f"{spec.min_args} or more" if spec.max_args is None else
                        f"{spec.min_args} to {spec.max_args}")
                raise self.fail(f"{name}() takes {want} argument(s), not {len(args)}", node, name)
        return Call(node.col_offset, name, tuple(args), tuple(kwargs))


# ----------------------------------------------------------------------------- values
ROW = "row"


@dataclass
class V:
    """A value: a scalar (``level`` None), one per row of the scope (``"row"``) or one per
    instance of a repeating instrument (``level`` = that instrument's key).

    ``meta`` carries what a field or variable knows about itself (``choices``, ``label``,
    ``field``, ``checkbox`` columns)."""

    data: Any
    level: str | None = None
    meta: dict = dc_field(default_factory=dict)

    @property
    def is_scalar(self) -> bool:
        return self.level is None


def _is_missing_scalar(x) -> bool:
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and math.isnan(x))


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "text"


def _scalar_kind(x) -> str:
    if _is_missing_scalar(x):
        return "missing"
    if isinstance(x, (bool, np.bool_)):
        return "boolean"
    if isinstance(x, (pd.Timestamp, np.datetime64)):
        return "date"
    if isinstance(x, (int, float, np.number)):
        return "number"
    return "text"


def kind_of(v: V) -> str:
    """boolean, number, date, text (or missing, for a scalar NA)."""
    return _scalar_kind(v.data) if v.is_scalar else _kind(v.data)


def normalise(series: pd.Series) -> pd.Series:
    """A column in the language's dtypes: numbers float64, true/false nullable boolean,
    dates datetime64[ns], text object (missing None)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return series.astype("boolean")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return series.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(dtype):
        return series.astype("float64")
    out = series.astype(object)
    return out.where(series.notna(), None)


# ----------------------------------------------------------------------------- functions
@dataclass(frozen=True)
class FunctionSpec:
    min_args: int
    max_args: int | None
    keywords: tuple[str, ...] = ()
    form_argument: bool = False      # the first argument may be a form
    help: str = ""


FUNCTIONS: dict[str, FunctionSpec] = {
    # choices, missing values
    "if_else": FunctionSpec(3, 4, ("missing",), help="if_else(cond, a, b, missing=NA): a where "
                            "cond is true, b where false, `missing` where cond is missing"),
    "coalesce": FunctionSpec(1, None, help="the first non-missing value"),
    "is_na": FunctionSpec(1, 1, help="true where the value is missing"),
    "not_na": FunctionSpec(1, 1, help="true where the value is present"),
    # numbers
    "round": FunctionSpec(1, 2, help="round(x, digits=0), half away from zero"),
    "abs": FunctionSpec(1, 1),
    # dates
    "days_between": FunctionSpec(2, 2, help="days_between(a, b): days from date a to date b"),
    "years_between": FunctionSpec(2, 2, help="years_between(a, b): whole years from a to b "
                                  "(age at b of someone born on a)"),
    "months_between": FunctionSpec(2, 2, help="calendar months from a's month to b's month"),
    "month_of": FunctionSpec(1, 1, help="the first day of the date's month"),
    "year_of": FunctionSpec(1, 1, help="the date's year"),
    "year_month": FunctionSpec(1, 1, help="the date's month as text, YYYY-MM (the report "
                               "prints it as the month's name and year)"),
    "date": FunctionSpec(1, 1, help="date('2018-01-31')"),
    # dictionary
    "label": FunctionSpec(1, 1, help="the choice label of a coded field's value"),
    "n_checked": FunctionSpec(1, 1, help="how many choices of a checkbox field are ticked"),
    "any_checked": FunctionSpec(1, 1, help="whether any choice of a checkbox field is ticked"),
    "checked": FunctionSpec(2, 2, help="checked(field, code): whether that choice is ticked"),
    "has": FunctionSpec(1, 1, form_argument=True,
                        help="has(form) / has(form[event]): whether the record has that form"),
    # aggregates (and row-wise with several arguments)
    "count": FunctionSpec(1, 1, ("where",), form_argument=True,
                          help="count(form), count(condition) or count(x): instances, true "
                               "values or present values"),
    "sum": FunctionSpec(1, None, ("where", "min_count")),
    "mean": FunctionSpec(1, None, ("where", "min_count")),
    "min": FunctionSpec(1, None, ("where",)),
    "max": FunctionSpec(1, None, ("where",)),
    "any": FunctionSpec(1, 1, ("where",)),
    "all": FunctionSpec(1, 1, ("where",)),
    "first": FunctionSpec(1, 1, ("order_by", "where")),
    "last": FunctionSpec(1, 1, ("order_by", "where")),
    "median": FunctionSpec(1, 1, ("where",)),
    "quantile": FunctionSpec(2, 2, ("where",), help="quantile(x, p): the p-th centile (Stata "
                             "summarize, detail)"),
    "sd": FunctionSpec(1, 1, ("where",)),
    "mode": FunctionSpec(1, 1, ("where",), help="the most frequent value (ties: the lowest)"),
    # text
    "concat": FunctionSpec(1, None, help="concat(a, ': ', b): text joined; missing if any "
                           "part is missing"),
    "lower": FunctionSpec(1, 1, help="text in lower case"),
    "contains": FunctionSpec(2, 2, help="contains(text, 'part'): whether the text holds that "
                             "part (case-sensitive; missing text gives missing)"),
    "starts_with": FunctionSpec(2, 2, help="starts_with(text, 'prefix'): whether the text "
                                "begins so (missing text gives missing)"),
    "fmt": FunctionSpec(1, 2, help="fmt(x, decimals=0): x as printed (rounded half up, true "
                        "minus sign)"),
    "plural": FunctionSpec(3, 3, help="plural(n, 'person', 'people')"),
    "instrument_note": FunctionSpec(2, 2, help="instrument_note('eq5d', 'method'): a note the "
                                    "instrument's scorer writes (e.g. the EQ-5D valuation method)"),
}
AGGREGATES = {"count", "sum", "mean", "min", "max", "any", "all", "first", "last", "median",
              "quantile", "sd", "mode"}
ROW_WISE = {"sum", "mean", "min", "max"}


# ----------------------------------------------------------------------------- evaluation
class Scope:
    """What names mean where an expression is evaluated (implemented by the dataset).

    ``index``: the rows (record ids); ``summary``: aggregates reduce rows to one number.
    """

    index: pd.Index
    summary: bool = False

    def name(self, node: Ref, expr: Expression) -> V: ...
    def at(self, node: At, expr: Expression) -> V: ...
    def field(self, node: FieldRef, expr: Expression) -> V: ...
    def form_rows(self, form: str, event: str | None, node: Node, expr: Expression) -> V: ...
    def instance_rows(self, level: str) -> np.ndarray:
        """For each instance of ``level``, the position of its record in ``index`` (-1 when
        the record is not in this scope)."""
    def instance_order(self, level: str) -> np.ndarray: ...
    def checkbox(self, node: Node, expr: Expression) -> tuple[list[tuple[Any, pd.Series]], str]: ...

    def is_form(self, name: str) -> bool:
        """Whether a bare ``name`` is a form (not a variable, field or parameter)."""
        return False

    def call(self, name: str, node: Call, expr: Expression, ev: "Evaluator") -> V | None:
        return None


class Evaluator:
    """Evaluates a parsed expression in a scope, on whole columns."""

    def __init__(self, scope: Scope, expr: Expression):
        self.scope, self.expr = scope, expr
        self.divided_by_zero = 0          # values divided by zero (each gave a missing value)

    def error(self, message: str, node: Node | None = None, name: str | None = None):
        return self.expr.error(message, node, name)

    # -- entry ---------------------------------------------------------------------
    def run(self) -> V:
        try:
            return self.eval(self.expr.root)
        except ExpressionError as exc:
            raise exc.located(self.expr.where, self.expr.text) from None

    def eval(self, node: Node) -> V:
        if isinstance(node, Lit):
            return V(None if node.value is None else node.value)
        if isinstance(node, Ref):
            return self.scope.name(node, self.expr)
        if isinstance(node, At):
            return self.scope.at(node, self.expr)
        if isinstance(node, FieldRef):
            return self.scope.field(node, self.expr)
        if isinstance(node, FormAt):
            raise self.error(f"{node.form}[{node.event}] is a form: use it in count() or has()",
                             node)
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Binary):
            return self._binary(node)
        if isinstance(node, Logic):
            return self._logic(node)
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, In):
            return self._in(node)
        if isinstance(node, Call):
            return self._call(node)
        raise self.error(f"cannot evaluate {type(node).__name__}", node)   # pragma: no cover

    # -- alignment -----------------------------------------------------------------
    def align(self, values: list[V], node: Node) -> tuple[list[Any], str | None]:
        """The values' data on one level (a row value is repeated for each instance of its
        record); scalars stay scalars."""
        levels = {v.level for v in values if v.level is not None}
        instance = [lv for lv in levels if lv != ROW]
        if len(instance) > 1:
            raise self.error("cannot combine instances of different repeating instruments ("
                             + ", ".join(sorted(instance)) + "); aggregate each one first",
                             node)
        if instance:
            level = instance[0]
            rows = self.scope.instance_rows(level)
            out = []
            for v in values:
                if v.level == ROW:
                    out.append(pd.Series(take(v.data.array, rows),
                                         index=self._instance_index(values, level)))
                else:
                    out.append(v.data)
            return out, level
        if levels:
            return [v.data for v in values], ROW
        return [v.data for v in values], None

    @staticmethod
    def _instance_index(values: list[V], level: str) -> pd.Index:
        return next(v.data.index for v in values if v.level == level)

    def full(self, data, level: str | None, like: list[Any]) -> pd.Series:
        """``data`` (a scalar or series) as a series on ``level``'s index."""
        if isinstance(data, pd.Series):
            return data
        index = next((d.index for d in like if isinstance(d, pd.Series)), None)
        if index is None:
            index = self.scope.index if level == ROW else pd.RangeIndex(1)
        if _is_missing_scalar(data):
            return pd.Series([None] * len(index), index=index, dtype=object)
        if isinstance(data, (bool, np.bool_)):
            return pd.Series(bool(data), index=index, dtype="boolean")
        if isinstance(data, pd.Timestamp):
            return pd.Series(data, index=index, dtype="datetime64[ns]")
        if isinstance(data, (int, float, np.number)):
            return pd.Series(float(data), index=index, dtype="float64")
        return pd.Series(data, index=index, dtype=object)

    # -- operators -----------------------------------------------------------------
    def _numeric(self, data, node: Node, what: str):
        """``data`` as float (true/false count as 1/0); dates and text are errors."""
        if isinstance(data, pd.Series):
            kind = _kind(data)
            if kind == "boolean":
                return data.astype("float64")   # NA -> NaN
            if kind == "number":
                return data.astype("float64")
            if kind == "text" and data.isna().all():
                return pd.Series(np.nan, index=data.index)
            raise self.error(f"{what} needs numbers, not {kind} values", node)
        if _is_missing_scalar(data):
            return math.nan
        kind = _scalar_kind(data)
        if kind in ("number", "boolean"):
            return float(data)
        raise self.error(f"{what} needs numbers, not {kind} {data!r}", node)

    def _unary(self, node: Unary) -> V:
        v = self.eval(node.operand)
        if node.op == "not":
            return V(self._not(self._boolean(v, node.operand)), v.level)
        x = self._numeric(v.data, node, f"unary {node.op}")
        return V(-x if node.op == "-" else x, v.level)

    def _binary(self, node: Binary) -> V:
        left, right = self.eval(node.left), self.eval(node.right)
        (a, b), level = self.align([left, right], node)
        if node.op == "+" and kind_of(left) == "text" and kind_of(right) == "text":
            raise self.error("text cannot be added; use a note's {placeholders} to join text",
                             node)
        a = self._numeric(a, node.left, f"`{node.op}`")
        b = self._numeric(b, node.right, f"`{node.op}`")
        ops = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
               "//": operator.floordiv, "%": operator.mod, "**": operator.pow}
        with np.errstate(all="ignore"):
            if node.op in ("/", "//", "%"):
                if isinstance(b, pd.Series):
                    zero = (b == 0).fillna(False)
                    self.divided_by_zero += int(zero.sum())
                    b = b.where(~zero)
                elif b == 0:
                    self.divided_by_zero += 1
                    b = math.nan
            if level is None:
                try:
                    result = ops[node.op](a, b)
                except (OverflowError, ZeroDivisionError):
                    result = math.nan
            else:
                result = ops[node.op](a, b)
        if isinstance(result, pd.Series):
            result = result.replace([np.inf, -np.inf], np.nan) if node.op == "**" else result
        return V(result, level)

    def _boolean(self, v: V, node: Node):
        """``v`` as nullable boolean (scalars: True/False/None)."""
        if v.is_scalar:
            if _is_missing_scalar(v.data):
                return None
            if isinstance(v.data, (bool, np.bool_)):
                return bool(v.data)
            raise self.error(f"needs true/false, not {v.data!r}; compare first, e.g. x == 1",
                             node)
        data = v.data
        kind = _kind(data)
        if kind == "boolean":
            return data.astype("boolean")
        if data.isna().all():
            return pd.Series(pd.array([None] * len(data), dtype="boolean"), index=data.index)
        raise self.error(f"needs true/false values, not {kind} values; compare first, e.g. "
                         "x == 1", node)

    @staticmethod
    def _not(b):
        if isinstance(b, pd.Series):
            return ~b
        return None if b is None else not b

    def _logic(self, node: Logic) -> V:
        values = [self.eval(n) for n in node.operands]
        data, level = self.align(values, node)
        bools = [self._boolean(V(d, level if isinstance(d, pd.Series) else None), n)
                 for d, n in zip(data, node.operands)]
        if level is None:
            # Kleene logic on scalars
            if node.op == "and":
                if any(b is False for b in bools):
                    return V(False)
                return V(None if any(b is None for b in bools) else True)
            if any(b is True for b in bools):
                return V(True)
            return V(None if any(b is None for b in bools) else False)
        series = [self.full(b if b is not None else None, level, data).astype("boolean")
                  if not isinstance(b, pd.Series) else b for b in bools]
        out = series[0]
        for s in series[1:]:
            out = (out & s) if node.op == "and" else (out | s)
        return V(out, level)

    def _compare(self, node: Compare) -> V:
        values = [self.eval(n) for n in node.operands]
        data, level = self.align(values, node)
        result = None
        for i, op in enumerate(node.ops):
            part = self._compare_pair(op, data[i], data[i + 1], values[i], values[i + 1], node,
                                      level)
            if result is None:
                result = part
            elif isinstance(result, pd.Series) or isinstance(part, pd.Series):
                result = self.full(result, level, data).astype("boolean") & \
                    self.full(part, level, data).astype("boolean")
            else:
                result = None if (result is None or part is None) else (result and part)
        return V(result, level)

    def _compare_pair(self, op, a, b, va: V, vb: V, node: Node, level):
        ka, kb = kind_of(va), kind_of(vb)
        if "missing" not in (ka, kb) and ka != kb and {ka, kb} != {"number", "boolean"}:
            if not ({ka, kb} == {"date", "text"}):
                raise self.error(f"cannot compare {ka} with {kb} values", node)
        fn = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
              ">": operator.gt, ">=": operator.ge}[op]
        if level is None:
            if _is_missing_scalar(a) or _is_missing_scalar(b):
                return None
            return bool(fn(a, b))
        a_s = a if isinstance(a, pd.Series) else None
        b_s = b if isinstance(b, pd.Series) else None
        missing = np.zeros(len((a_s if a_s is not None else b_s)), dtype=bool)
        for x in (a, b):
            if isinstance(x, pd.Series):
                missing |= x.isna().to_numpy()
            elif _is_missing_scalar(x):
                missing[:] = True
        if missing.all():
            index = (a_s if a_s is not None else b_s).index
            return pd.Series(pd.array([None] * len(index), dtype="boolean"), index=index)
        if ka == "date" and kb == "text":
            b = pd.to_datetime(b)
        if kb == "date" and ka == "text":
            a = pd.to_datetime(a)
        if ka == "boolean":
            a = a.astype("float64") if isinstance(a, pd.Series) else float(a)
        if kb == "boolean":
            b = b.astype("float64") if isinstance(b, pd.Series) else float(b)
        if ka == "text" and kb == "text" and op not in ("==", "!="):
            a = a.where(~missing, "") if isinstance(a, pd.Series) else a
            b = b.where(~missing, "") if isinstance(b, pd.Series) else b
        try:
            with np.errstate(invalid="ignore"):
                raw = fn(a, b)
        except TypeError as exc:
            raise self.error(f"cannot compare these values ({exc})", node) from None
        raw = np.asarray(raw, dtype=bool)
        out = pd.array(raw, dtype="boolean")
        out[missing] = pd.NA
        return pd.Series(out, index=(a_s if a_s is not None else b_s).index)

    def _in(self, node: In) -> V:
        v = self.eval(node.operand)
        if v.is_scalar:
            if _is_missing_scalar(v.data):
                return V(None)
            hit = v.data in node.values
            return V(hit != node.negate)
        data = v.data
        values = list(node.values)
        if _kind(data) == "number":
            values = [float(x) for x in values if isinstance(x, (int, float))]
        hit = data.isin(values).to_numpy()
        out = pd.array(hit != node.negate, dtype="boolean")
        out[data.isna().to_numpy()] = pd.NA
        return V(pd.Series(out, index=data.index), v.level)

    # -- calls ---------------------------------------------------------------------
    def _call(self, node: Call) -> V:
        provided = self.scope.call(node.function, node, self.expr, self)
        if provided is not None:
            return provided
        method = getattr(self, f"fn_{node.function}", None)
        if method is None:
            raise self.error(f"{node.function}() cannot be used here", node, node.function)
        return method(node)

    def kwarg(self, node: Call, name: str) -> Node | None:
        return dict(node.kwargs).get(name)

    def _values(self, node: Call) -> tuple[list[Any], str | None, list[V]]:
        values = [self.eval(a) for a in node.args]
        data, level = self.align(values, node)
        return data, level, values

    def fn_if_else(self, node: Call) -> V:
        cond_v = self.eval(node.args[0])
        a_v, b_v = self.eval(node.args[1]), self.eval(node.args[2])
        missing_node = node.args[3] if len(node.args) > 3 else self.kwarg(node, "missing")
        m_v = self.eval(missing_node) if missing_node is not None else V(None)
        kinds = {kind_of(v) for v in (a_v, b_v, m_v)} - {"missing"}
        if len(kinds) > 1 and kinds != {"number", "boolean"}:
            raise self.error("if_else() needs values of one kind, not "
                             + " and ".join(sorted(kinds)), node)
        (c, a, b, m), level = self.align([cond_v, a_v, b_v, m_v], node)
        cond = self._boolean(V(c, level if isinstance(c, pd.Series) else None), node.args[0])
        if level is None:
            return V(m if cond is None else (a if cond else b))
        like = [c, a, b, m]
        cond = self.full(cond, level, like).astype("boolean")
        is_true = cond.fillna(False).to_numpy(dtype=bool)
        is_false = (~cond).fillna(False).to_numpy(dtype=bool)
        kind = next(iter(kinds)) if kinds else "missing"
        a, b, m = (self._typed(self.full(x, level, like), kind) for x in (a, b, m))
        out = m.copy()
        out[is_false] = b[is_false]
        out[is_true] = a[is_true]
        return V(out, level, a_v.meta if a_v.meta == b_v.meta else {})

    @staticmethod
    def _typed(series: pd.Series, kind: str) -> pd.Series:
        if kind == "number":
            return series.astype("float64") if series.dtype != object else \
                pd.to_numeric(series, errors="coerce").astype("float64")
        if kind == "boolean":
            return series.astype("boolean")
        if kind == "date":
            return pd.to_datetime(series).astype("datetime64[ns]")
        return series.astype(object).where(series.notna(), None)

    def fn_coalesce(self, node: Call) -> V:
        data, level, values = self._values(node)
        kinds = {kind_of(v) for v in values} - {"missing"}
        if len(kinds) > 1 and kinds != {"number", "boolean"}:
            raise self.error("coalesce() needs values of one kind, not "
                             + " and ".join(sorted(kinds)), node)
        if level is None:
            return V(next((d for d in data if not _is_missing_scalar(d)), None))
        kind = next(iter(kinds)) if kinds else "missing"
        out = self._typed(self.full(data[0], level, data), kind)
        for d in data[1:]:
            out = out.where(out.notna(), self._typed(self.full(d, level, data), kind))
        return V(out, level, values[0].meta)

    def fn_is_na(self, node: Call) -> V:
        v = self.eval(node.args[0])
        if v.is_scalar:
            return V(_is_missing_scalar(v.data))
        return V(v.data.isna().astype("boolean"), v.level)

    def fn_not_na(self, node: Call) -> V:
        v = self.eval(node.args[0])
        if v.is_scalar:
            return V(not _is_missing_scalar(v.data))
        return V(v.data.notna().astype("boolean"), v.level)

    def fn_round(self, node: Call) -> V:
        v = self.eval(node.args[0])
        digits = 0
        if len(node.args) > 1:
            d = self.eval(node.args[1])
            if not d.is_scalar or not isinstance(d.data, (int, float)) or int(d.data) != d.data:
                raise self.error("round()'s digits must be a whole number", node.args[1])
            digits = int(d.data)
        x = self._numeric(v.data, node, "round()")
        if isinstance(x, pd.Series):
            # half away from zero on the decimal value (2.675 -> 2.68 although its binary
            # value lies below the half): the float noise is removed first, vectorised
            scale = 10.0 ** digits
            shifted = np.round(x.to_numpy(dtype=float) * scale, 9)
            out = np.sign(shifted) * np.floor(np.abs(shifted) + 0.5) / scale
            return V(pd.Series(out + 0.0, index=x.index), v.level)
        return V(round_half_up(x, digits))

    def fn_abs(self, node: Call) -> V:
        v = self.eval(node.args[0])
        x = self._numeric(v.data, node, "abs()")
        return V(x.abs() if isinstance(x, pd.Series) else abs(x), v.level)

    # -- dates ---------------------------------------------------------------------
    def _dates(self, node: Call, count: int) -> tuple[list[Any], str | None]:
        values = [self.eval(a) for a in node.args[:count]]
        for v, a in zip(values, node.args):
            if kind_of(v) not in ("date", "missing") and not (
                    not v.is_scalar and v.data.isna().all()):
                raise self.error(f"{node.function}() needs dates, not {kind_of(v)} values", a)
        data, level = self.align(values, node)
        return [self._as_date(d) for d in data], level

    @staticmethod
    def _as_date(d):
        if isinstance(d, pd.Series):
            return pd.to_datetime(d).astype("datetime64[ns]")
        return pd.NaT if _is_missing_scalar(d) else pd.Timestamp(d)

    def fn_days_between(self, node: Call) -> V:
        (a, b), level = self._dates(node, 2)
        if level is None:
            return V(None if (pd.isna(a) or pd.isna(b)) else float((b - a).days))
        a, b = (self.full(x, level, [a, b]) for x in (a, b))
        return V((pd.to_datetime(b) - pd.to_datetime(a)).dt.days.astype("float64"), level)

    def fn_years_between(self, node: Call) -> V:
        (a, b), level = self._dates(node, 2)
        if level is None:
            if pd.isna(a) or pd.isna(b):
                return V(None)
            return V(float(b.year - a.year - ((b.month, b.day) < (a.month, a.day))))
        a, b = (self.full(x, level, [a, b]) for x in (a, b))
        a, b = pd.to_datetime(a), pd.to_datetime(b)
        before = (b.dt.month < a.dt.month) | ((b.dt.month == a.dt.month) & (b.dt.day < a.dt.day))
        years = (b.dt.year - a.dt.year - before.astype(float)).astype("float64")
        return V(years.where(a.notna() & b.notna()), level)

    def fn_months_between(self, node: Call) -> V:
        (a, b), level = self._dates(node, 2)
        if level is None:
            if pd.isna(a) or pd.isna(b):
                return V(None)
            return V(float((b.year - a.year) * 12 + b.month - a.month))
        a, b = (pd.to_datetime(self.full(x, level, [a, b])) for x in (a, b))
        months = ((b.dt.year - a.dt.year) * 12 + b.dt.month - a.dt.month).astype("float64")
        return V(months, level)

    def fn_month_of(self, node: Call) -> V:
        (d,), level = self._dates(node, 1)
        if level is None:
            return V(None if pd.isna(d) else d.to_period("M").start_time)
        return V(d.dt.to_period("M").dt.start_time.astype("datetime64[ns]"), level)

    def fn_year_of(self, node: Call) -> V:
        (d,), level = self._dates(node, 1)
        if level is None:
            return V(None if pd.isna(d) else float(d.year))
        return V(d.dt.year.astype("float64"), level)

    def fn_year_month(self, node: Call) -> V:
        (d,), level = self._dates(node, 1)
        if level is None:
            return V(None if pd.isna(d) else d.strftime("%Y-%m"))
        out = d.dt.strftime("%Y-%m").astype(object)
        return V(out.where(d.notna(), None), level)

    def fn_date(self, node: Call) -> V:
        v = self.eval(node.args[0])
        if not v.is_scalar or not isinstance(v.data, str):
            raise self.error("date() takes a literal such as date('2018-01-31')", node)
        try:
            return V(pd.Timestamp(v.data))
        except ValueError:
            raise self.error(f"{v.data!r} is not a date (write YYYY-MM-DD)", node) from None

    # -- dictionary ----------------------------------------------------------------
    def fn_label(self, node: Call) -> V:
        v = self.eval(node.args[0])
        choices = v.meta.get("choices")
        if not choices:
            raise self.error("label() needs a coded field (radio, dropdown, yesno, ...) or a "
                             "variable declared with choices", node.args[0])
        mapping = {}
        for code, text in choices:
            mapping[_code_key(code)] = text
        if v.is_scalar:
            return V(None if _is_missing_scalar(v.data) else mapping.get(_code_key(v.data)))
        keys = v.data.map(lambda c: None if _is_missing_scalar(c) else _code_key(c)) \
            if _kind(v.data) != "number" else v.data
        if _kind(v.data) == "number":
            numeric = {float(k): t for k, t in mapping.items() if isinstance(k, float)}
            out = v.data.map(numeric)
        else:
            out = keys.map(mapping)
        return V(out.astype(object).where(out.notna(), None), v.level)

    def _checkbox(self, node: Call) -> tuple[list[tuple[Any, pd.Series]], V]:
        arg = node.args[0]
        if not isinstance(arg, (Ref, FieldRef)):
            raise self.error(f"{node.function}() needs a checkbox field", arg)
        columns, level = self.scope.checkbox(arg, self.expr)
        return columns, V(None, level)

    def fn_n_checked(self, node: Call) -> V:
        columns, v = self._checkbox(node)
        frame = pd.concat([c.astype("float64") for _, c in columns], axis=1)
        return V(frame.sum(axis=1, min_count=1), v.level)

    def fn_any_checked(self, node: Call) -> V:
        columns, v = self._checkbox(node)
        frame = pd.concat([c.astype("boolean") for _, c in columns], axis=1)
        present = frame.notna().any(axis=1)
        out = frame.fillna(False).any(axis=1).astype("boolean")
        out[~present] = pd.NA
        return V(out, v.level)

    def fn_checked(self, node: Call) -> V:
        columns, v = self._checkbox(node)
        code = self.eval(node.args[1])
        if not code.is_scalar:
            raise self.error("checked()'s code must be a literal", node.args[1])
        for c, column in columns:
            if _code_key(c) == _code_key(code.data):
                return V(column.astype("boolean"), v.level)
        raise self.error(f"the checkbox field has no choice {code.data!r} (choices: "
                         + ", ".join(str(c) for c, _ in columns) + ")", node.args[1])

    def fn_has(self, node: Call) -> V:
        arg = node.args[0]
        form, event = _form_of(arg, self.scope)
        if form is None:
            raise self.error("has() takes a form, e.g. has(enrolment) or has(health_questionnaire"
                             "[baseline])", arg)
        rows = self.scope.form_rows(form, event, arg, self.expr)
        if rows.level == ROW:
            return rows
        positions = self.scope.instance_rows(rows.level)
        present = np.zeros(len(self.scope.index), dtype=bool)
        present[positions[positions >= 0]] = True
        return V(pd.Series(present, index=self.scope.index, dtype="boolean"), ROW)

    # -- aggregates ----------------------------------------------------------------
    def _where(self, node: Call, level: str | None, like: pd.Series) -> np.ndarray | None:
        cond_node = self.kwarg(node, "where")
        if cond_node is None:
            return None
        cond = self.eval(cond_node)
        if cond.level not in (None, level) and not (cond.level == ROW and level not in (None, ROW)):
            raise self.error("where= must be about the same rows as the value it filters",
                             cond_node)
        (c, _), _ = self.align([cond, V(like, level)], cond_node)
        b = self._boolean(V(c, level if isinstance(c, pd.Series) else None), cond_node)
        if not isinstance(b, pd.Series):
            return np.full(len(like), bool(b))
        return b.fillna(False).to_numpy(dtype=bool)

    def _aggregate_input(self, node: Call) -> tuple[V, Node]:
        arg = node.args[0]
        form, event = _form_of(arg, self.scope)
        if form is not None and node.function == "count":
            rows = self.scope.form_rows(form, event, arg, self.expr)
            return rows, arg
        return self.eval(arg), arg

    def _reduce_mode(self, node: Call, v: V) -> str:
        """'instances' (instances -> one per record), 'rows' (rows -> one number) or
        'row_wise'."""
        if v.level not in (None, ROW):
            return "instances"
        if v.level == ROW and self.scope.summary:
            return "rows"
        if v.level is None:
            raise self.error(f"{node.function}() of a single value", node)
        if node.function in ROW_WISE:
            return "row_wise"
        raise self.error(f"{node.function}() needs the instances of a repeating instrument here "
                         "(one value per record cannot be aggregated in a derived variable; "
                         "tables and notes aggregate over records)", node.args[0])

    def _aggregate(self, node: Call, reduce: Callable[[pd.Series, Any], Any],
                   empty: Any, group_reduce: Callable | None = None) -> V:
        """Apply ``reduce`` to the values of each record's instances (or, in a summary, to
        all rows); ``empty`` is the result for no values."""
        v, arg = self._aggregate_input(node)
        mode = self._reduce_mode(node, v)
        data = v.data
        mask = self._where(node, v.level, data)
        if mode == "rows":
            if mask is not None:
                data = data[mask]
            return V(reduce(data, None) if len(data) else empty)
        positions = self.scope.instance_rows(v.level)
        keep = positions >= 0
        if mask is not None:
            keep &= mask
        if self.scope.summary:
            data = data[keep]
            return V(reduce(data, None) if len(data) else empty)
        data, positions = data[keep], positions[keep]
        if group_reduce is not None:
            grouped = group_reduce(data, positions)
        else:
            grouped = data.groupby(positions, sort=False).agg(lambda s: reduce(s, None))
        out = spread(grouped, len(self.scope.index), self.scope.index, empty)
        return V(out, ROW)

    def _row_wise(self, node: Call, how: str) -> V:
        data, level, values = self._values(node)
        for v, a in zip(values, node.args):
            if kind_of(v) not in ("number", "boolean", "missing") and not (
                    how in ("min", "max") and kind_of(v) == "date"):
                raise self.error(f"{how}() needs numbers, not {kind_of(v)} values", a)
        frame = pd.concat([self.full(d, level, data).rename(i) for i, d in enumerate(data)],
                          axis=1)
        if any(kind_of(v) == "date" for v in values):
            frame = frame.apply(pd.to_datetime)
            out = frame.min(axis=1) if how == "min" else frame.max(axis=1)
            return V(out, level)
        frame = frame.astype("float64")
        min_count = self._min_count(node, 1)
        present = frame.notna().sum(axis=1)
        if how == "sum":
            out = frame.sum(axis=1).where(present >= max(min_count, 0))
        elif how == "mean":
            out = frame.mean(axis=1).where(present >= max(min_count, 1))
        elif how == "min":
            out = frame.min(axis=1)
        else:
            out = frame.max(axis=1)
        return V(out, level)

    def _min_count(self, node: Call, default: int) -> int:
        n = self.kwarg(node, "min_count")
        if n is None:
            return default
        v = self.eval(n)
        if not v.is_scalar or not isinstance(v.data, int) or isinstance(v.data, bool) or v.data < 0:
            raise self.error("min_count must be a whole number of at least 0", n)
        return v.data

    def _numbers(self, v: V, node: Node, what: str) -> pd.Series:
        if v.is_scalar:
            raise self.error(f"{what} of a single value", node)
        kind = _kind(v.data)
        if kind in ("number", "boolean"):
            return v.data.astype("float64")
        if v.data.isna().all():
            return pd.Series(np.nan, index=v.data.index)
        raise self.error(f"{what} needs numbers, not {kind} values", node)

    def fn_count(self, node: Call) -> V:
        v, arg = self._aggregate_input(node)
        if v.level not in (None, ROW) or self.scope.summary:
            kind = kind_of(v)

            def reduce(s, _):
                if kind == "boolean":
                    return float(s.fillna(False).astype(bool).sum())
                return float(s.notna().sum())

            def group(s, keys):
                values = (s.fillna(False).astype(bool) if kind == "boolean" else s.notna())
                return values.astype("float64").groupby(keys, sort=False).sum()
            return self._aggregate(node, reduce, 0.0, group)
        form, _ = _form_of(arg, self.scope)
        if form is not None:       # a non-repeating form: 0 or 1 per record
            return V(v.data.astype("float64"), ROW)
        self._reduce_mode(node, v)
        raise self.error("count() needs a form or the instances of a repeating instrument",
                         arg)  # pragma: no cover

    def fn_sum(self, node: Call) -> V:
        if len(node.args) > 1:
            return self._row_wise(node, "sum")
        v, arg = self._aggregate_input(node)
        if self._reduce_mode(node, v) == "row_wise":
            return self._row_wise(node, "sum")
        min_count = self._min_count(node, 0)
        self._numbers(v, arg, "sum()")

        def reduce(s, _):
            s = s.astype("float64")
            return exact_sum(s) if s.notna().sum() >= min_count else math.nan

        def group(s, keys):
            return s.astype("float64").groupby(keys, sort=False).sum(min_count=min_count)
        return self._aggregate(node, reduce, 0.0 if min_count == 0 else math.nan, group)

    def fn_mean(self, node: Call) -> V:
        if len(node.args) > 1:
            return self._row_wise(node, "mean")
        v, arg = self._aggregate_input(node)
        if self._reduce_mode(node, v) == "row_wise":
            return self._row_wise(node, "mean")
        self._numbers(v, arg, "mean()")
        min_count = max(self._min_count(node, 1), 1)

        def reduce(s, _):
            s = s.astype("float64")
            return exact_mean_sd(s).mean if s.notna().sum() >= min_count else math.nan

        def group(s, keys):
            g = s.astype("float64").groupby(keys, sort=False)
            return g.mean().where(g.count() >= min_count)
        return self._aggregate(node, reduce, math.nan, group)

    def _extreme(self, node: Call, how: str) -> V:
        if len(node.args) > 1:
            return self._row_wise(node, how)
        v, arg = self._aggregate_input(node)
        if self._reduce_mode(node, v) == "row_wise":
            return self._row_wise(node, how)
        kind = kind_of(v)
        if kind not in ("number", "boolean", "date", "missing"):
            if not v.data.isna().all():
                raise self.error(f"{how}() needs numbers or dates, not {kind} values", arg)

        def prepare(s):
            return s.astype("float64") if kind in ("number", "boolean") else s

        def reduce(s, _):
            s = prepare(s).dropna()
            if s.empty:
                return None
            return s.min() if how == "min" else s.max()

        def group(s, keys):
            g = prepare(s).groupby(keys, sort=False)
            return g.min() if how == "min" else g.max()
        out = self._aggregate(node, reduce, None, group)
        return V(out.data, out.level, v.meta if kind != "boolean" else {})

    def fn_min(self, node: Call) -> V:
        return self._extreme(node, "min")

    def fn_max(self, node: Call) -> V:
        return self._extreme(node, "max")

    def _any_all(self, node: Call, how: str) -> V:
        v, arg = self._aggregate_input(node)
        self._reduce_mode(node, v)
        if kind_of(v) != "boolean" and not (not v.is_scalar and v.data.isna().all()):
            raise self.error(f"{how}() needs true/false values; compare first, e.g. x == 1", arg)

        def reduce(s, _):
            s = s.astype("boolean")
            return bool(s.fillna(False).any()) if how == "any" else bool(s.fillna(True).all())

        def group(s, keys):
            s = s.astype("boolean")
            filled = s.fillna(False) if how == "any" else s.fillna(True)
            g = filled.astype(bool).groupby(keys, sort=False)
            return (g.any() if how == "any" else g.all()).astype("boolean")
        out = self._aggregate(node, reduce, how == "all", group)
        data = out.data.astype("boolean") if isinstance(out.data, pd.Series) else out.data
        return V(data, out.level)

    def fn_any(self, node: Call) -> V:
        return self._any_all(node, "any")

    def fn_all(self, node: Call) -> V:
        return self._any_all(node, "all")

    def _first_last(self, node: Call, how: str) -> V:
        v, arg = self._aggregate_input(node)
        mode = self._reduce_mode(node, v)
        if mode == "row_wise":     # pragma: no cover - first/last are not row-wise
            raise self.error(f"{how}() needs instances", arg)
        order_node = self.kwarg(node, "order_by")
        if order_node is not None:
            order_v = self.eval(order_node)
            (order, _), _ = self.align([order_v, v], order_node)
            if not isinstance(order, pd.Series):
                raise self.error("order_by= must vary between the rows it orders", order_node)
        elif mode == "instances":
            order = pd.Series(self.scope.instance_order(v.level), index=v.data.index)
        else:
            order = pd.Series(np.arange(len(v.data)), index=v.data.index)
        mask = self._where(node, v.level, v.data)
        keep = np.ones(len(v.data), dtype=bool) if mask is None else mask.copy()
        frame = pd.DataFrame({"value": v.data.to_numpy(), "order": order.to_numpy(),
                              "position": np.arange(len(v.data))})
        if mode == "instances":
            frame["record"] = self.scope.instance_rows(v.level)
            keep &= frame["record"].to_numpy() >= 0
        frame = frame[keep]
        ascending = how == "first"
        frame = frame.sort_values(["order", "position"], ascending=[ascending, ascending],
                                  na_position="last", kind="stable")
        if mode == "rows" or self.scope.summary:
            return V(frame["value"].iloc[0] if len(frame) else None, None, v.meta)
        picked = frame.drop_duplicates("record").set_index("record")["value"]
        return V(spread(picked, len(self.scope.index), self.scope.index, None), ROW, v.meta)

    def fn_first(self, node: Call) -> V:
        return self._first_last(node, "first")

    def fn_last(self, node: Call) -> V:
        return self._first_last(node, "last")

    def _centile(self, node: Call, p: float) -> V:
        v, arg = self._aggregate_input(node)
        self._reduce_mode(node, v)
        self._numbers(v, arg, f"{node.function}()")

        def reduce(s, _):
            s = s.astype("float64").dropna()
            return stata_centile(s.to_numpy(), p) if len(s) else math.nan
        return self._aggregate(node, reduce, math.nan)

    def fn_median(self, node: Call) -> V:
        return self._centile(node, 50)

    def fn_quantile(self, node: Call) -> V:
        p = self.eval(node.args[1])
        if not p.is_scalar or not isinstance(p.data, (int, float)) or not 0 <= p.data <= 100:
            raise self.error("quantile()'s p is a centile from 0 to 100", node.args[1])
        return self._centile(Call(node.pos, node.function, node.args[:1], node.kwargs), p.data)

    def fn_sd(self, node: Call) -> V:
        v, arg = self._aggregate_input(node)
        self._reduce_mode(node, v)
        self._numbers(v, arg, "sd()")

        def reduce(s, _):
            s = s.astype("float64").dropna()
            return exact_mean_sd(s).sd if len(s) > 1 else math.nan
        return self._aggregate(node, reduce, math.nan)

    def fn_mode(self, node: Call) -> V:
        v, arg = self._aggregate_input(node)
        self._reduce_mode(node, v)
        kind = kind_of(v)

        def reduce(s, _):
            s = s.dropna()
            if s.empty:
                return None
            counts = s.value_counts()
            top = counts[counts == counts.max()].index
            return sorted(top)[0]

        def group(s, keys):
            frame = pd.DataFrame({"key": keys, "value": s.to_numpy()}).dropna()
            counts = frame.groupby(["key", "value"], sort=False).size().rename("n").reset_index()
            counts = counts.sort_values(["key", "n", "value"], ascending=[True, False, True],
                                        kind="stable")
            first = counts.drop_duplicates("key")
            return pd.Series(first["value"].to_numpy(), index=first["key"].to_numpy())
        out = self._aggregate(node, reduce, None, group)
        data = out.data
        if kind == "number" and isinstance(data, pd.Series):
            data = data.astype("float64")
        return V(data, out.level, v.meta)

    # -- text ----------------------------------------------------------------------
    def fn_concat(self, node: Call) -> V:
        data, level, values = self._values(node)
        parts = []
        for d, v in zip(data, values):
            if kind_of(v) == "number":
                d = d.map(lambda x: None if pd.isna(x) else (f"{x:g}")) if isinstance(
                    d, pd.Series) else (None if _is_missing_scalar(d) else f"{d:g}")
            parts.append(d)
        if level is None:
            if any(_is_missing_scalar(p) for p in parts):
                return V(None)
            return V("".join(str(p) for p in parts))
        series = [self.full(p, level, data).astype(object) for p in parts]
        missing = np.zeros(len(series[0]), dtype=bool)
        for s_ in series:
            missing |= s_.isna().to_numpy()
        out = series[0].where(~missing, "").astype(str)
        for s_ in series[1:]:
            out = out + s_.where(~missing, "").astype(str)
        return V(out.where(~missing, None), level)

    def fn_lower(self, node: Call) -> V:
        v = self.eval(node.args[0])
        if kind_of(v) not in ("text", "missing"):
            raise self.error(f"lower() needs text, not {kind_of(v)} values", node.args[0])
        if v.is_scalar:
            return V(None if _is_missing_scalar(v.data) else str(v.data).lower())
        out = v.data.astype(object)
        present = out.notna()
        out = out.where(~present, out[present].astype(str).str.lower()) if present.any() else out
        return V(out.where(present, None), v.level)

    def _text_test(self, node: Call, test: Callable[[str, str], bool]) -> V:
        v, part = self.eval(node.args[0]), self.eval(node.args[1])
        if not part.is_scalar or not isinstance(part.data, str):
            raise self.error(f"{node.function}()'s second argument is a literal text",
                             node.args[1])
        if kind_of(v) not in ("text", "missing") and not (
                not v.is_scalar and v.data.isna().all()):
            raise self.error(f"{node.function}() needs text, not {kind_of(v)} values "
                             "(label() gives a coded value's text)", node.args[0])
        if v.is_scalar:
            return V(None if _is_missing_scalar(v.data) else test(str(v.data), part.data))
        out = pd.array([None if _is_missing_scalar(x) else test(str(x), part.data)
                        for x in v.data], dtype="boolean")
        return V(pd.Series(out, index=v.data.index), v.level)

    def fn_contains(self, node: Call) -> V:
        return self._text_test(node, lambda text, part: part in text)

    def fn_starts_with(self, node: Call) -> V:
        return self._text_test(node, lambda text, part: text.startswith(part))

    def fn_fmt(self, node: Call) -> V:
        v = self.eval(node.args[0])
        digits = 0
        if len(node.args) > 1:
            d = self.eval(node.args[1])
            if not d.is_scalar or not isinstance(d.data, int):
                raise self.error("fmt()'s decimals must be a whole number", node.args[1])
            digits = d.data
        if not v.is_scalar:
            raise self.error("fmt() formats one number; aggregate first, e.g. fmt(median(x), 1)",
                             node)
        if _is_missing_scalar(v.data):
            return V("")
        return V(format_number(float(v.data), digits))

    def fn_plural(self, node: Call) -> V:
        n, one, many = (self.eval(a) for a in node.args)
        if not n.is_scalar:
            raise self.error("plural() takes one number", node)
        return V(one.data if n.data == 1 else many.data)


def take(values, positions: np.ndarray):
    """``values[positions]`` with -1 giving a missing value (any array type)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.arrays.NumpyExtensionArray) or not isinstance(
            values, pd.api.extensions.ExtensionArray):
        values = np.asarray(values)
    return pd.api.extensions.take(values, np.asarray(positions, dtype=np.int64), allow_fill=True)


def spread(grouped: pd.Series, n: int, index: pd.Index, empty) -> pd.Series:
    """Values keyed by row position (0..n-1) as a series over ``index``; rows without a
    value get ``empty``."""
    where = np.full(n, -1, dtype=np.int64)
    keys = np.asarray(grouped.index, dtype=np.int64)
    where[keys] = np.arange(len(keys))
    out = pd.Series(take(grouped.array, where), index=index)
    if not _is_missing_scalar(empty):
        absent = where < 0
        if absent.any():
            out = out.mask(absent, empty)
    return out


def _form_of(node: Node, scope: "Scope") -> tuple[str | None, str | None]:
    """The form (and event) a ``count``/``has`` argument names, if it names one."""
    if isinstance(node, FormAt):
        return node.form, node.event
    if isinstance(node, Ref) and scope.is_form(node.name):
        return node.name, None
    return None, None


def _code_key(code) -> Any:
    """A choice code as a comparable key: numbers as float, anything else as text."""
    if isinstance(code, (int, float, np.number)) and not isinstance(code, bool):
        return float(code)
    text = str(code).strip()
    try:
        return float(text)
    except ValueError:
        return text


def evaluate(expr: Expression | str, scope: Scope, where: str = "") -> V:
    """Evaluate ``expr`` (parsed or text) in ``scope``."""
    if not isinstance(expr, Expression):
        expr = parse(expr, where)
    return Evaluator(scope, expr).run()


def as_row_series(v: V, scope: Scope, expr: Expression) -> pd.Series:
    """A row-level result as a series over ``scope.index`` (a scalar is repeated)."""
    if v.level not in (None, ROW):
        raise expr.error("gives one value per instance of a repeating instrument; aggregate it, "
                         "e.g. sum(...), count(...), first(..., order_by=...)")
    if v.is_scalar:
        return Evaluator(scope, expr).full(v.data, ROW, [])
    return v.data
