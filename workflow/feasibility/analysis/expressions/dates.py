"""The expression functions of dates: ``days_between``, ``years_between``, ``months_between``, ``month_of``, ``year_of``, ``year_month``, ``date``."""

from __future__ import annotations

from typing import Any

import pandas as pd


from .evaluate import Evaluator
from .registry import function
from .syntax import Call
from .values import V, _is_missing_scalar, kind_of


def _dates(ev: Evaluator, node: Call, count: int) -> tuple[list[Any], str | None]:
    values = [ev.eval(a) for a in node.args[:count]]
    for v, a in zip(values, node.args):
        if kind_of(v) not in ("date", "missing") and not (not v.is_scalar and v.data.isna().all()):
            raise ev.error(f"{node.function}() needs dates, not {kind_of(v)} values", a)
    data, level = ev.align(values, node)
    return [_as_date(d) for d in data], level


def _as_date(d):
    if isinstance(d, pd.Series):
        return pd.to_datetime(d).astype("datetime64[ns]")
    return pd.NaT if _is_missing_scalar(d) else pd.Timestamp(d)


@function("days_between", 2, 2, help="days_between(a, b): days from date a to date b")
def fn_days_between(ev: Evaluator, node: Call) -> V:
    (a, b), level = _dates(ev, node, 2)
    if level is None:
        return V(None if (pd.isna(a) or pd.isna(b)) else float((b - a).days))
    a, b = (ev.full(x, level, [a, b]) for x in (a, b))
    return V((pd.to_datetime(b) - pd.to_datetime(a)).dt.days.astype("float64"), level)


@function(
    "years_between", 2, 2, help="years_between(a, b): whole years from a to b (age at b of someone born on a)"
)
def fn_years_between(ev: Evaluator, node: Call) -> V:
    (a, b), level = _dates(ev, node, 2)
    if level is None:
        if pd.isna(a) or pd.isna(b):
            return V(None)
        return V(float(b.year - a.year - ((b.month, b.day) < (a.month, a.day))))
    a, b = (ev.full(x, level, [a, b]) for x in (a, b))
    a, b = pd.to_datetime(a), pd.to_datetime(b)
    before = (b.dt.month < a.dt.month) | ((b.dt.month == a.dt.month) & (b.dt.day < a.dt.day))
    years = (b.dt.year - a.dt.year - before.astype(float)).astype("float64")
    return V(years.where(a.notna() & b.notna()), level)


@function("months_between", 2, 2, help="calendar months from a's month to b's month")
def fn_months_between(ev: Evaluator, node: Call) -> V:
    (a, b), level = _dates(ev, node, 2)
    if level is None:
        if pd.isna(a) or pd.isna(b):
            return V(None)
        return V(float((b.year - a.year) * 12 + b.month - a.month))
    a, b = (pd.to_datetime(ev.full(x, level, [a, b])) for x in (a, b))
    months = ((b.dt.year - a.dt.year) * 12 + b.dt.month - a.dt.month).astype("float64")
    return V(months, level)


@function("month_of", 1, 1, help="the first day of the date's month")
def fn_month_of(ev: Evaluator, node: Call) -> V:
    (d,), level = _dates(ev, node, 1)
    if level is None:
        return V(None if pd.isna(d) else d.to_period("M").start_time)
    return V(d.dt.to_period("M").dt.start_time.astype("datetime64[ns]"), level)


@function("year_of", 1, 1, help="the date's year")
def fn_year_of(ev: Evaluator, node: Call) -> V:
    (d,), level = _dates(ev, node, 1)
    if level is None:
        return V(None if pd.isna(d) else float(d.year))
    return V(d.dt.year.astype("float64"), level)


@function(
    "year_month",
    1,
    1,
    help="the date's month as text, YYYY-MM (the report prints it as the month's name and year)",
)
def fn_year_month(ev: Evaluator, node: Call) -> V:
    (d,), level = _dates(ev, node, 1)
    if level is None:
        return V(None if pd.isna(d) else d.strftime("%Y-%m"))
    out = d.dt.strftime("%Y-%m").astype(object)
    return V(out.where(d.notna(), None), level)


@function("date", 1, 1, help="date('2018-01-31')")
def fn_date(ev: Evaluator, node: Call) -> V:
    v = ev.eval(node.args[0])
    if not v.is_scalar or not isinstance(v.data, str):
        raise ev.error("date() takes a literal such as date('2018-01-31')", node)
    try:
        return V(pd.Timestamp(v.data))
    except ValueError:
        raise ev.error(f"{v.data!r} is not a date (write YYYY-MM-DD)", node) from None
