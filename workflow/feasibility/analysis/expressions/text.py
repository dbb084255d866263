"""The expression functions of text: ``concat``, ``lower``, ``contains``, ``starts_with``, ``fmt``, ``plural``."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from feasibility.stats import format_number

from .evaluate import Evaluator
from .registry import function
from .syntax import Call
from .values import V, _is_missing_scalar, kind_of


@function("concat", 1, None, help="concat(a, ': ', b): text joined; missing if any part is missing")
def fn_concat(ev: Evaluator, node: Call) -> V:
    data, level, values = ev._values(node)
    parts = []
    for d, v in zip(data, values):
        if kind_of(v) == "number":
            d = (
                d.map(lambda x: None if pd.isna(x) else (f"{x:g}"))
                if isinstance(d, pd.Series)
                else (None if _is_missing_scalar(d) else f"{d:g}")
            )
        parts.append(d)
    if level is None:
        if any(_is_missing_scalar(p) for p in parts):
            return V(None)
        return V("".join(str(p) for p in parts))
    series = [ev.full(p, level, data).astype(object) for p in parts]
    missing = np.zeros(len(series[0]), dtype=bool)
    for s_ in series:
        missing |= s_.isna().to_numpy()
    out = series[0].where(~missing, "").astype(str)
    for s_ in series[1:]:
        out = out + s_.where(~missing, "").astype(str)
    return V(out.where(~missing, None), level)


@function("lower", 1, 1, help="text in lower case")
def fn_lower(ev: Evaluator, node: Call) -> V:
    v = ev.eval(node.args[0])
    if kind_of(v) not in ("text", "missing"):
        raise ev.error(f"lower() needs text, not {kind_of(v)} values", node.args[0])
    if v.is_scalar:
        return V(None if _is_missing_scalar(v.data) else str(v.data).lower())
    out = v.data.astype(object)
    present = out.notna()
    out = out.where(~present, out[present].astype(str).str.lower()) if present.any() else out
    return V(out.where(present, None), v.level)


def _text_test(ev: Evaluator, node: Call, test: Callable[[str, str], bool]) -> V:
    v, part = ev.eval(node.args[0]), ev.eval(node.args[1])
    if not part.is_scalar or not isinstance(part.data, str):
        raise ev.error(f"{node.function}()'s second argument is a literal text", node.args[1])
    if kind_of(v) not in ("text", "missing") and not (not v.is_scalar and v.data.isna().all()):
        raise ev.error(
            f"{node.function}() needs text, not {kind_of(v)} values (label() gives a coded value's text)",
            node.args[0],
        )
    if v.is_scalar:
        return V(None if _is_missing_scalar(v.data) else test(str(v.data), part.data))
    out = pd.array(
        [None if _is_missing_scalar(x) else test(str(x), part.data) for x in v.data], dtype="boolean"
    )
    return V(pd.Series(out, index=v.data.index), v.level)


@function(
    "contains",
    2,
    2,
    help="contains(text, 'part'): whether the text holds that "
    "part (case-sensitive; missing text gives missing)",
)
def fn_contains(ev: Evaluator, node: Call) -> V:
    return _text_test(ev, node, lambda text, part: part in text)


@function(
    "starts_with",
    2,
    2,
    help="starts_with(text, 'prefix'): whether the text begins so (missing text gives missing)",
)
def fn_starts_with(ev: Evaluator, node: Call) -> V:
    return _text_test(ev, node, lambda text, part: text.startswith(part))


@function("fmt", 1, 2, help="fmt(x, decimals=0): x as printed (rounded half up, true minus sign)")
def fn_fmt(ev: Evaluator, node: Call) -> V:
    v = ev.eval(node.args[0])
    digits = 0
    if len(node.args) > 1:
        d = ev.eval(node.args[1])
        if not d.is_scalar or not isinstance(d.data, int):
            raise ev.error("fmt()'s decimals must be a whole number", node.args[1])
        digits = d.data
    if not v.is_scalar:
        raise ev.error("fmt() formats one number; aggregate first, e.g. fmt(median(x), 1)", node)
    if _is_missing_scalar(v.data):
        return V("")
    return V(format_number(float(v.data), digits))


@function("plural", 3, 3, help="plural(n, 'person', 'people')")
def fn_plural(ev: Evaluator, node: Call) -> V:
    n, one, many = (ev.eval(a) for a in node.args)
    if not n.is_scalar:
        raise ev.error("plural() takes one number", node)
    return V(one.data if n.data == 1 else many.data)
