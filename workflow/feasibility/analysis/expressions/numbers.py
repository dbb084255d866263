"""The expression functions of numbers: ``round``, ``abs``."""

from __future__ import annotations


import numpy as np
import pandas as pd

from feasibility.stats import round_half_up

from .evaluate import Evaluator
from .registry import function
from .syntax import Call
from .values import V


@function("round", 1, 2, help="round(x, digits=0), half away from zero")
def fn_round(ev: Evaluator, node: Call) -> V:
    v = ev.eval(node.args[0])
    digits = 0
    if len(node.args) > 1:
        d = ev.eval(node.args[1])
        if not d.is_scalar or not isinstance(d.data, (int, float)) or int(d.data) != d.data:
            raise ev.error("round()'s digits must be a whole number", node.args[1])
        digits = int(d.data)
    x = ev._numeric(v.data, node, "round()")
    if isinstance(x, pd.Series):
        # half away from zero on the decimal value (2.675 -> 2.68 although its binary
        # value lies below the half): the float noise is removed first, vectorised
        scale = 10.0**digits
        shifted = np.round(x.to_numpy(dtype=float) * scale, 9)
        out = np.sign(shifted) * np.floor(np.abs(shifted) + 0.5) / scale
        return V(pd.Series(out + 0.0, index=x.index), v.level)
    return V(round_half_up(x, digits))


@function("abs", 1, 1)
def fn_abs(ev: Evaluator, node: Call) -> V:
    v = ev.eval(node.args[0])
    x = ev._numeric(v.data, node, "abs()")
    return V(x.abs() if isinstance(x, pd.Series) else abs(x), v.level)
