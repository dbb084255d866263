"""The evaluator: a parsed expression evaluated in a :class:`Scope` (what names mean,
implemented by the dataset), on whole columns; the functions' bodies are in their family's
module (:mod:`.registry`)."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
import pandas as pd


from .registry import FUNCTIONS
from .syntax import (
    At,
    Binary,
    Call,
    Compare,
    Expression,
    ExpressionError,
    FieldRef,
    FormAt,
    In,
    Lit,
    Logic,
    Node,
    Ref,
    Unary,
    parse,
)
from .values import ROW, V, _is_missing_scalar, _kind, _scalar_kind, kind_of, take


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
        self.divided_by_zero = 0  # values divided by zero (each gave a missing value)

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
            raise self.error(f"{node.form}[{node.event}] is a form: use it in count() or has()", node)
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
        raise self.error(f"cannot evaluate {type(node).__name__}", node)  # pragma: no cover

    # -- alignment -----------------------------------------------------------------
    def align(self, values: list[V], node: Node) -> tuple[list[Any], str | None]:
        """The values' data on one level (a row value is repeated for each instance of its
        record); scalars stay scalars."""
        levels = {v.level for v in values if v.level is not None}
        instance = [lv for lv in levels if lv != ROW]
        if len(instance) > 1:
            raise self.error(
                "cannot combine instances of different repeating instruments ("
                + ", ".join(sorted(instance))
                + "); aggregate each one first",
                node,
            )
        if instance:
            level = instance[0]
            rows = self.scope.instance_rows(level)
            out = []
            for v in values:
                if v.level == ROW:
                    out.append(pd.Series(take(v.data.array, rows), index=self._instance_index(values, level)))
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
                return data.astype("float64")  # NA -> NaN
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
            raise self.error("text cannot be added; use a note's {placeholders} to join text", node)
        a = self._numeric(a, node.left, f"`{node.op}`")
        b = self._numeric(b, node.right, f"`{node.op}`")
        ops = {
            "+": operator.add,
            "-": operator.sub,
            "*": operator.mul,
            "/": operator.truediv,
            "//": operator.floordiv,
            "%": operator.mod,
            "**": operator.pow,
        }
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
            raise self.error(f"needs true/false, not {v.data!r}; compare first, e.g. x == 1", node)
        data = v.data
        kind = _kind(data)
        if kind == "boolean":
            return data.astype("boolean")
        if data.isna().all():
            return pd.Series(pd.array([None] * len(data), dtype="boolean"), index=data.index)
        raise self.error(f"needs true/false values, not {kind} values; compare first, e.g. x == 1", node)

    @staticmethod
    def _not(b):
        if isinstance(b, pd.Series):
            return ~b
        return None if b is None else not b

    def _logic(self, node: Logic) -> V:
        values = [self.eval(n) for n in node.operands]
        data, level = self.align(values, node)
        bools = [
            self._boolean(V(d, level if isinstance(d, pd.Series) else None), n)
            for d, n in zip(data, node.operands)
        ]
        if level is None:
            # Kleene logic on scalars
            if node.op == "and":
                if any(b is False for b in bools):
                    return V(False)
                return V(None if any(b is None for b in bools) else True)
            if any(b is True for b in bools):
                return V(True)
            return V(None if any(b is None for b in bools) else False)
        series = [
            self.full(b if b is not None else None, level, data).astype("boolean")
            if not isinstance(b, pd.Series)
            else b
            for b in bools
        ]
        out = series[0]
        for s in series[1:]:
            out = (out & s) if node.op == "and" else (out | s)
        return V(out, level)

    def _compare(self, node: Compare) -> V:
        values = [self.eval(n) for n in node.operands]
        data, level = self.align(values, node)
        result = None
        for i, op in enumerate(node.ops):
            part = self._compare_pair(op, data[i], data[i + 1], values[i], values[i + 1], node, level)
            if result is None:
                result = part
            elif isinstance(result, pd.Series) or isinstance(part, pd.Series):
                result = self.full(result, level, data).astype("boolean") & self.full(
                    part, level, data
                ).astype("boolean")
            else:
                result = None if (result is None or part is None) else (result and part)
        return V(result, level)

    def _compare_pair(self, op, a, b, va: V, vb: V, node: Node, level):
        ka, kb = kind_of(va), kind_of(vb)
        if "missing" not in (ka, kb) and ka != kb and {ka, kb} != {"number", "boolean"}:
            if not ({ka, kb} == {"date", "text"}):
                raise self.error(f"cannot compare {ka} with {kb} values", node)
        fn = {
            "==": operator.eq,
            "!=": operator.ne,
            "<": operator.lt,
            "<=": operator.le,
            ">": operator.gt,
            ">=": operator.ge,
        }[op]
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
        spec = FUNCTIONS.get(node.function)
        if spec is None or spec.impl is None:
            raise self.error(f"{node.function}() cannot be used here", node, node.function)
        return spec.impl(self, node)

    def kwarg(self, node: Call, name: str) -> Node | None:
        return dict(node.kwargs).get(name)

    def _values(self, node: Call) -> tuple[list[Any], str | None, list[V]]:
        values = [self.eval(a) for a in node.args]
        data, level = self.align(values, node)
        return data, level, values


def _form_of(node: Node, scope: "Scope") -> tuple[str | None, str | None]:
    """The form (and event) a ``count``/``has`` argument names, if it names one."""
    if isinstance(node, FormAt):
        return node.form, node.event
    if isinstance(node, Ref) and scope.is_form(node.name):
        return node.name, None
    return None, None


def evaluate(expr: Expression | str, scope: Scope, where: str = "") -> V:
    """Evaluate ``expr`` (parsed or text) in ``scope``."""
    if not isinstance(expr, Expression):
        expr = parse(expr, where)
    return Evaluator(scope, expr).run()


def as_row_series(v: V, scope: Scope, expr: Expression) -> pd.Series:
    """A row-level result as a series over ``scope.index`` (a scalar is repeated)."""
    if v.level not in (None, ROW):
        raise expr.error(
            "gives one value per instance of a repeating instrument; aggregate it, "
            "e.g. sum(...), count(...), first(..., order_by=...)"
        )
    if v.is_scalar:
        return Evaluator(scope, expr).full(v.data, ROW, [])
    return v.data
