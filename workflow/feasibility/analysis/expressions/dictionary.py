"""The expression functions of the data dictionary: ``label``, checkbox choices, ``has``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


from .evaluate import Evaluator, _form_of
from .registry import function
from .syntax import Call, FieldRef, Ref
from .values import ROW, V, _is_missing_scalar, code_key, _kind


@function("label", 1, 1, help="the choice label of a coded field's value")
def fn_label(ev: Evaluator, node: Call) -> V:
    v = ev.eval(node.args[0])
    choices = v.meta.get("choices")
    if not choices:
        raise ev.error(
            "label() needs a coded field (radio, dropdown, yesno, ...) or a variable declared with choices",
            node.args[0],
        )
    mapping = {}
    for code, text in choices:
        mapping[code_key(code)] = text
    if v.is_scalar:
        return V(None if _is_missing_scalar(v.data) else mapping.get(code_key(v.data)))
    keys = (
        v.data.map(lambda c: None if _is_missing_scalar(c) else code_key(c))
        if _kind(v.data) != "number"
        else v.data
    )
    if _kind(v.data) == "number":
        numeric = {float(k): t for k, t in mapping.items() if isinstance(k, float)}
        out = v.data.map(numeric)
    else:
        out = keys.map(mapping)
    return V(out.astype(object).where(out.notna(), None), v.level)


def _checkbox(ev: Evaluator, node: Call) -> tuple[list[tuple[Any, pd.Series]], V]:
    arg = node.args[0]
    if not isinstance(arg, (Ref, FieldRef)):
        raise ev.error(f"{node.function}() needs a checkbox field", arg)
    columns, level = ev.scope.checkbox(arg, ev.expr)
    return columns, V(None, level)


@function("n_checked", 1, 1, help="how many choices of a checkbox field are ticked")
def fn_n_checked(ev: Evaluator, node: Call) -> V:
    columns, v = _checkbox(ev, node)
    frame = pd.concat([c.astype("float64") for _, c in columns], axis=1)
    return V(frame.sum(axis=1, min_count=1), v.level)


@function("any_checked", 1, 1, help="whether any choice of a checkbox field is ticked")
def fn_any_checked(ev: Evaluator, node: Call) -> V:
    columns, v = _checkbox(ev, node)
    frame = pd.concat([c.astype("boolean") for _, c in columns], axis=1)
    present = frame.notna().any(axis=1)
    out = frame.fillna(False).any(axis=1).astype("boolean")
    out[~present] = pd.NA
    return V(out, v.level)


@function("checked", 2, 2, help="checked(field, code): whether that choice is ticked")
def fn_checked(ev: Evaluator, node: Call) -> V:
    columns, v = _checkbox(ev, node)
    code = ev.eval(node.args[1])
    if not code.is_scalar:
        raise ev.error("checked()'s code must be a literal", node.args[1])
    for c, column in columns:
        if code_key(c) == code_key(code.data):
            return V(column.astype("boolean"), v.level)
    raise ev.error(
        f"the checkbox field has no choice {code.data!r} (choices: "
        + ", ".join(str(c) for c, _ in columns)
        + ")",
        node.args[1],
    )


@function(
    "has", 1, 1, form_argument=True, help="has(form) / has(form[event]): whether the record has that form"
)
def fn_has(ev: Evaluator, node: Call) -> V:
    arg = node.args[0]
    form, event = _form_of(arg, ev.scope)
    if form is None:
        raise ev.error("has() takes a form, e.g. has(enrolment) or has(health_questionnaire[baseline])", arg)
    rows = ev.scope.form_rows(form, event, arg, ev.expr)
    if rows.level == ROW:
        return rows
    positions = ev.scope.instance_rows(rows.level)
    present = np.zeros(len(ev.scope.index), dtype=bool)
    present[positions[positions >= 0]] = True
    return V(pd.Series(present, index=ev.scope.index, dtype="boolean"), ROW)
