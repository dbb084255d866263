"""The expression functions of choices and missing values: ``if_else``, ``coalesce``, ``is_na``, ``not_na``."""

from __future__ import annotations


import pandas as pd


from .evaluate import Evaluator
from .registry import function
from .syntax import Call
from .values import V, _is_missing_scalar, kind_of


@function(
    "if_else",
    3,
    4,
    ("missing",),
    help="if_else(cond, a, b, missing=NA): a where "
    "cond is true, b where false, `missing` where cond is missing",
)
def fn_if_else(ev: Evaluator, node: Call) -> V:
    cond_v = ev.eval(node.args[0])
    a_v, b_v = ev.eval(node.args[1]), ev.eval(node.args[2])
    missing_node = node.args[3] if len(node.args) > 3 else ev.kwarg(node, "missing")
    m_v = ev.eval(missing_node) if missing_node is not None else V(None)
    kinds = {kind_of(v) for v in (a_v, b_v, m_v)} - {"missing"}
    if len(kinds) > 1 and kinds != {"number", "boolean"}:
        raise ev.error("if_else() needs values of one kind, not " + " and ".join(sorted(kinds)), node)
    (c, a, b, m), level = ev.align([cond_v, a_v, b_v, m_v], node)
    cond = ev._boolean(V(c, level if isinstance(c, pd.Series) else None), node.args[0])
    if level is None:
        return V(m if cond is None else (a if cond else b))
    like = [c, a, b, m]
    cond = ev.full(cond, level, like).astype("boolean")
    is_true = cond.fillna(False).to_numpy(dtype=bool)
    is_false = (~cond).fillna(False).to_numpy(dtype=bool)
    kind = next(iter(kinds)) if kinds else "missing"
    a, b, m = (_typed(ev.full(x, level, like), kind) for x in (a, b, m))
    out = m.copy()
    out[is_false] = b[is_false]
    out[is_true] = a[is_true]
    return V(out, level, a_v.meta if a_v.meta == b_v.meta else {})


def _typed(series: pd.Series, kind: str) -> pd.Series:
    if kind == "number":
        return (
            series.astype("float64")
            if series.dtype != object
            else pd.to_numeric(series, errors="coerce").astype("float64")
        )
    if kind == "boolean":
        return series.astype("boolean")
    if kind == "date":
        return pd.to_datetime(series).astype("datetime64[ns]")
    return series.astype(object).where(series.notna(), None)


@function("coalesce", 1, None, help="the first non-missing value")
def fn_coalesce(ev: Evaluator, node: Call) -> V:
    data, level, values = ev._values(node)
    kinds = {kind_of(v) for v in values} - {"missing"}
    if len(kinds) > 1 and kinds != {"number", "boolean"}:
        raise ev.error("coalesce() needs values of one kind, not " + " and ".join(sorted(kinds)), node)
    if level is None:
        return V(next((d for d in data if not _is_missing_scalar(d)), None))
    kind = next(iter(kinds)) if kinds else "missing"
    out = _typed(ev.full(data[0], level, data), kind)
    for d in data[1:]:
        out = out.where(out.notna(), _typed(ev.full(d, level, data), kind))
    return V(out, level, values[0].meta)


@function("is_na", 1, 1, help="true where the value is missing")
def fn_is_na(ev: Evaluator, node: Call) -> V:
    v = ev.eval(node.args[0])
    if v.is_scalar:
        return V(_is_missing_scalar(v.data))
    return V(v.data.isna().astype("boolean"), v.level)


@function("not_na", 1, 1, help="true where the value is present")
def fn_not_na(ev: Evaluator, node: Call) -> V:
    v = ev.eval(node.args[0])
    if v.is_scalar:
        return V(not _is_missing_scalar(v.data))
    return V(v.data.notna().astype("boolean"), v.level)
