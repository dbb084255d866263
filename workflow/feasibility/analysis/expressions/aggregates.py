"""The expression functions of aggregates (and row-wise with several arguments): ``count``, ``sum``, ``mean``, ``min``, ``max``, ``any``, ``all``, ``first``, ``last``, ``median``, ``quantile``, ``sd``, ``mode``."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from feasibility.stats import exact_mean_sd, exact_sum, stata_centile

from .evaluate import Evaluator, _form_of
from .registry import FUNCTIONS, function
from .syntax import Call, Node
from .values import ROW, V, kind_of, spread, _kind


def _where(ev: Evaluator, node: Call, level: str | None, like: pd.Series) -> np.ndarray | None:
    cond_node = ev.kwarg(node, "where")
    if cond_node is None:
        return None
    cond = ev.eval(cond_node)
    if cond.level not in (None, level) and not (cond.level == ROW and level not in (None, ROW)):
        raise ev.error("where= must be about the same rows as the value it filters", cond_node)
    (c, _), _ = ev.align([cond, V(like, level)], cond_node)
    b = ev._boolean(V(c, level if isinstance(c, pd.Series) else None), cond_node)
    if not isinstance(b, pd.Series):
        return np.full(len(like), bool(b))
    return b.fillna(False).to_numpy(dtype=bool)


def _aggregate_input(ev: Evaluator, node: Call) -> tuple[V, Node]:
    arg = node.args[0]
    form, event = _form_of(arg, ev.scope)
    if form is not None and node.function == "count":
        rows = ev.scope.form_rows(form, event, arg, ev.expr)
        return rows, arg
    return ev.eval(arg), arg


def _reduce_mode(ev: Evaluator, node: Call, v: V) -> str:
    """'instances' (instances -> one per record), 'rows' (rows -> one number) or
    'row_wise'."""
    if v.level not in (None, ROW):
        return "instances"
    if v.level == ROW and ev.scope.summary:
        return "rows"
    if v.level is None:
        raise ev.error(f"{node.function}() of a single value", node)
    if FUNCTIONS[node.function].row_wise:
        return "row_wise"
    raise ev.error(
        f"{node.function}() needs the instances of a repeating instrument here "
        "(one value per record cannot be aggregated in a derived variable; "
        "tables and notes aggregate over records)",
        node.args[0],
    )


def _aggregate(
    ev: Evaluator,
    node: Call,
    reduce: Callable[[pd.Series, Any], Any],
    empty: Any,
    group_reduce: Callable | None = None,
) -> V:
    """Apply ``reduce`` to the values of each record's instances (or, in a summary, to
    all rows); ``empty`` is the result for no values."""
    v, arg = _aggregate_input(ev, node)
    mode = _reduce_mode(ev, node, v)
    data = v.data
    mask = _where(ev, node, v.level, data)
    if mode == "rows":
        if mask is not None:
            data = data[mask]
        return V(reduce(data, None) if len(data) else empty)
    positions = ev.scope.instance_rows(v.level)
    keep = positions >= 0
    if mask is not None:
        keep &= mask
    if ev.scope.summary:
        data = data[keep]
        return V(reduce(data, None) if len(data) else empty)
    data, positions = data[keep], positions[keep]
    if group_reduce is not None:
        grouped = group_reduce(data, positions)
    else:
        grouped = data.groupby(positions, sort=False).agg(lambda s: reduce(s, None))
    out = spread(grouped, len(ev.scope.index), ev.scope.index, empty)
    return V(out, ROW)


def _row_wise(ev: Evaluator, node: Call, how: str) -> V:
    data, level, values = ev._values(node)
    for v, a in zip(values, node.args):
        if kind_of(v) not in ("number", "boolean", "missing") and not (
            how in ("min", "max") and kind_of(v) == "date"
        ):
            raise ev.error(f"{how}() needs numbers, not {kind_of(v)} values", a)
    frame = pd.concat([ev.full(d, level, data).rename(i) for i, d in enumerate(data)], axis=1)
    if any(kind_of(v) == "date" for v in values):
        frame = frame.apply(pd.to_datetime)
        out = frame.min(axis=1) if how == "min" else frame.max(axis=1)
        return V(out, level)
    frame = frame.astype("float64")
    min_count = _min_count(ev, node, 1)
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


def _min_count(ev: Evaluator, node: Call, default: int) -> int:
    n = ev.kwarg(node, "min_count")
    if n is None:
        return default
    v = ev.eval(n)
    if not v.is_scalar or not isinstance(v.data, int) or isinstance(v.data, bool) or v.data < 0:
        raise ev.error("min_count must be a whole number of at least 0", n)
    return v.data


def _numbers(ev: Evaluator, v: V, node: Node, what: str) -> pd.Series:
    if v.is_scalar:
        raise ev.error(f"{what} of a single value", node)
    kind = _kind(v.data)
    if kind in ("number", "boolean"):
        return v.data.astype("float64")
    if v.data.isna().all():
        return pd.Series(np.nan, index=v.data.index)
    raise ev.error(f"{what} needs numbers, not {kind} values", node)


@function(
    "count",
    1,
    1,
    ("where",),
    form_argument=True,
    help="count(form), count(condition) or count(x): instances, true values or present values",
    aggregate=True,
)
def fn_count(ev: Evaluator, node: Call) -> V:
    v, arg = _aggregate_input(ev, node)
    if v.level not in (None, ROW) or ev.scope.summary:
        kind = kind_of(v)

        def reduce(s, _):
            if kind == "boolean":
                return float(s.fillna(False).astype(bool).sum())
            return float(s.notna().sum())

        def group(s, keys):
            values = s.fillna(False).astype(bool) if kind == "boolean" else s.notna()
            return values.astype("float64").groupby(keys, sort=False).sum()

        return _aggregate(ev, node, reduce, 0.0, group)
    form, _ = _form_of(arg, ev.scope)
    if form is not None:  # a non-repeating form: 0 or 1 per record
        return V(v.data.astype("float64"), ROW)
    _reduce_mode(ev, node, v)
    raise ev.error("count() needs a form or the instances of a repeating instrument", arg)  # pragma: no cover


@function("sum", 1, None, ("where", "min_count"), aggregate=True, row_wise=True)
def fn_sum(ev: Evaluator, node: Call) -> V:
    if len(node.args) > 1:
        return _row_wise(ev, node, "sum")
    v, arg = _aggregate_input(ev, node)
    if _reduce_mode(ev, node, v) == "row_wise":
        return _row_wise(ev, node, "sum")
    min_count = _min_count(ev, node, 0)
    _numbers(ev, v, arg, "sum()")

    def reduce(s, _):
        s = s.astype("float64")
        return exact_sum(s) if s.notna().sum() >= min_count else math.nan

    def group(s, keys):
        return s.astype("float64").groupby(keys, sort=False).sum(min_count=min_count)

    return _aggregate(ev, node, reduce, 0.0 if min_count == 0 else math.nan, group)


@function("mean", 1, None, ("where", "min_count"), aggregate=True, row_wise=True)
def fn_mean(ev: Evaluator, node: Call) -> V:
    if len(node.args) > 1:
        return _row_wise(ev, node, "mean")
    v, arg = _aggregate_input(ev, node)
    if _reduce_mode(ev, node, v) == "row_wise":
        return _row_wise(ev, node, "mean")
    _numbers(ev, v, arg, "mean()")
    min_count = max(_min_count(ev, node, 1), 1)

    def reduce(s, _):
        s = s.astype("float64")
        return exact_mean_sd(s).mean if s.notna().sum() >= min_count else math.nan

    def group(s, keys):
        g = s.astype("float64").groupby(keys, sort=False)
        return g.mean().where(g.count() >= min_count)

    return _aggregate(ev, node, reduce, math.nan, group)


def _extreme(ev: Evaluator, node: Call, how: str) -> V:
    if len(node.args) > 1:
        return _row_wise(ev, node, how)
    v, arg = _aggregate_input(ev, node)
    if _reduce_mode(ev, node, v) == "row_wise":
        return _row_wise(ev, node, how)
    kind = kind_of(v)
    if kind not in ("number", "boolean", "date", "missing"):
        if not v.data.isna().all():
            raise ev.error(f"{how}() needs numbers or dates, not {kind} values", arg)

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

    out = _aggregate(ev, node, reduce, None, group)
    return V(out.data, out.level, v.meta if kind != "boolean" else {})


@function("min", 1, None, ("where",), aggregate=True, row_wise=True)
def fn_min(ev: Evaluator, node: Call) -> V:
    return _extreme(ev, node, "min")


@function("max", 1, None, ("where",), aggregate=True, row_wise=True)
def fn_max(ev: Evaluator, node: Call) -> V:
    return _extreme(ev, node, "max")


def _any_all(ev: Evaluator, node: Call, how: str) -> V:
    v, arg = _aggregate_input(ev, node)
    _reduce_mode(ev, node, v)
    if kind_of(v) != "boolean" and not (not v.is_scalar and v.data.isna().all()):
        raise ev.error(f"{how}() needs true/false values; compare first, e.g. x == 1", arg)

    def reduce(s, _):
        s = s.astype("boolean")
        return bool(s.fillna(False).any()) if how == "any" else bool(s.fillna(True).all())

    def group(s, keys):
        s = s.astype("boolean")
        filled = s.fillna(False) if how == "any" else s.fillna(True)
        g = filled.astype(bool).groupby(keys, sort=False)
        return (g.any() if how == "any" else g.all()).astype("boolean")

    out = _aggregate(ev, node, reduce, how == "all", group)
    data = out.data.astype("boolean") if isinstance(out.data, pd.Series) else out.data
    return V(data, out.level)


@function("any", 1, 1, ("where",), aggregate=True)
def fn_any(ev: Evaluator, node: Call) -> V:
    return _any_all(ev, node, "any")


@function("all", 1, 1, ("where",), aggregate=True)
def fn_all(ev: Evaluator, node: Call) -> V:
    return _any_all(ev, node, "all")


def _first_last(ev: Evaluator, node: Call, how: str) -> V:
    v, arg = _aggregate_input(ev, node)
    mode = _reduce_mode(ev, node, v)
    if mode == "row_wise":  # pragma: no cover - first/last are not row-wise
        raise ev.error(f"{how}() needs instances", arg)
    order_node = ev.kwarg(node, "order_by")
    if order_node is not None:
        order_v = ev.eval(order_node)
        (order, _), _ = ev.align([order_v, v], order_node)
        if not isinstance(order, pd.Series):
            raise ev.error("order_by= must vary between the rows it orders", order_node)
    elif mode == "instances":
        order = pd.Series(ev.scope.instance_order(v.level), index=v.data.index)
    else:
        order = pd.Series(np.arange(len(v.data)), index=v.data.index)
    mask = _where(ev, node, v.level, v.data)
    keep = np.ones(len(v.data), dtype=bool) if mask is None else mask.copy()
    frame = pd.DataFrame(
        {"value": v.data.to_numpy(), "order": order.to_numpy(), "position": np.arange(len(v.data))}
    )
    if mode == "instances":
        frame["record"] = ev.scope.instance_rows(v.level)
        keep &= frame["record"].to_numpy() >= 0
    frame = frame[keep]
    ascending = how == "first"
    frame = frame.sort_values(
        ["order", "position"], ascending=[ascending, ascending], na_position="last", kind="stable"
    )
    if mode == "rows" or ev.scope.summary:
        return V(frame["value"].iloc[0] if len(frame) else None, None, v.meta)
    picked = frame.drop_duplicates("record").set_index("record")["value"]
    return V(spread(picked, len(ev.scope.index), ev.scope.index, None), ROW, v.meta)


@function("first", 1, 1, ("order_by", "where"), aggregate=True)
def fn_first(ev: Evaluator, node: Call) -> V:
    return _first_last(ev, node, "first")


@function("last", 1, 1, ("order_by", "where"), aggregate=True)
def fn_last(ev: Evaluator, node: Call) -> V:
    return _first_last(ev, node, "last")


def _centile(ev: Evaluator, node: Call, p: float) -> V:
    v, arg = _aggregate_input(ev, node)
    _reduce_mode(ev, node, v)
    _numbers(ev, v, arg, f"{node.function}()")

    def reduce(s, _):
        s = s.astype("float64").dropna()
        return stata_centile(s.to_numpy(), p) if len(s) else math.nan

    return _aggregate(ev, node, reduce, math.nan)


@function("median", 1, 1, ("where",), aggregate=True)
def fn_median(ev: Evaluator, node: Call) -> V:
    return _centile(ev, node, 50)


@function(
    "quantile",
    2,
    2,
    ("where",),
    help="quantile(x, p): the p-th centile (Stata summarize, detail)",
    aggregate=True,
)
def fn_quantile(ev: Evaluator, node: Call) -> V:
    p = ev.eval(node.args[1])
    if not p.is_scalar or not isinstance(p.data, (int, float)) or not 0 <= p.data <= 100:
        raise ev.error("quantile()'s p is a centile from 0 to 100", node.args[1])
    return _centile(ev, Call(node.pos, node.function, node.args[:1], node.kwargs), p.data)


@function("sd", 1, 1, ("where",), aggregate=True)
def fn_sd(ev: Evaluator, node: Call) -> V:
    v, arg = _aggregate_input(ev, node)
    _reduce_mode(ev, node, v)
    _numbers(ev, v, arg, "sd()")

    def reduce(s, _):
        s = s.astype("float64").dropna()
        return exact_mean_sd(s).sd if len(s) > 1 else math.nan

    return _aggregate(ev, node, reduce, math.nan)


@function("mode", 1, 1, ("where",), help="the most frequent value (ties: the lowest)", aggregate=True)
def fn_mode(ev: Evaluator, node: Call) -> V:
    v, arg = _aggregate_input(ev, node)
    _reduce_mode(ev, node, v)
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
        counts = counts.sort_values(["key", "n", "value"], ascending=[True, False, True], kind="stable")
        first = counts.drop_duplicates("key")
        return pd.Series(first["value"].to_numpy(), index=first["key"].to_numpy())

    out = _aggregate(ev, node, reduce, None, group)
    data = out.data
    if kind == "number" and isinstance(data, pd.Series):
        data = data.astype("float64")
    return V(data, out.level, v.meta)
