"""The vectorised evaluator of REDCap logic (one parser: :mod:`.syntax`).

A value is a column over the context's rows, holding text, numbers or a condition's
truth. REDCap's semantics, as its own calculation code (``base.js``) and documentation
give them:

* A field's value is its text as exported. Two values compare as numbers when both are
  numbers, otherwise as text; an ordering comparison (``<``, ``>``, ...) with a blank side
  is false; an unticked or absent checkbox choice is ``0``.
* Arithmetic with a blank (or a value that is not a number) is blank; so is a division by
  zero, ``sqrt`` of a negative number, and ``min``/``max``/``mean``/``median`` of a list
  holding text that is not a number.
* ``sum``, ``mean``, ``min``, ``max`` and ``median`` ignore blanks; all blank gives blank.
* A condition used as a value is 1 or 0; a value used as a condition is true when it is
  not blank and not the number 0.
* In a calculated field (``Context(calc=True)``) a missing-data code is blank, as
  REDCap's calculations treat it; in branching logic it is a value like any other.

The functions, each with its arity and REDCap's meaning, are :data:`FUNCTIONS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Callable

import numpy as np
import pandas as pd

from ..model import Project, checkbox_column
from .syntax import (
    And,
    Arith,
    Bool,
    Call,
    Cmp,
    EventName,
    Lit,
    LogicSyntaxError,
    Neg,
    Not,
    NotEvaluated,
    Or,
    Ref,
    children,
    references,
)

_COMMA_NUMBER = re.compile(r"^[-+]?\d+,\d+$")


def _format(x: float) -> str:
    if np.isnan(x):
        return ""
    if x == int(x) and abs(x) < 1e15:
        return str(int(x))
    return np.format_float_positional(x, trim="-")


def _to_number(text: np.ndarray) -> np.ndarray:
    s = pd.Series(text, dtype=object).fillna("").astype(str).str.strip()
    comma = s.str.match(_COMMA_NUMBER)
    if comma.any():
        s = s.where(~comma, s.str.replace(",", ".", regex=False))
    return pd.to_numeric(s.where(s != ""), errors="coerce").to_numpy(dtype=float)


class Value:
    """A column of logic values: text, numbers (NaN: blank or not a number) or a condition."""

    __slots__ = ("n", "_text", "_num", "cond")

    def __init__(self, n: int, text=None, num=None, cond=None):
        self.n, self._text, self._num, self.cond = n, text, num, cond

    @classmethod
    def of_text(cls, text, n: int) -> "Value":
        if isinstance(text, str):
            return cls(n, text=np.full(n, text, dtype=object))
        arr = pd.Series(text, dtype=object).fillna("").astype(str).to_numpy(dtype=object)
        return cls(n, text=arr)

    @classmethod
    def of_num(cls, num, n: int) -> "Value":
        return cls(n, num=np.broadcast_to(np.asarray(num, dtype=float), (n,)).copy())

    @property
    def text(self) -> np.ndarray:
        if self._text is None:
            if self.cond is not None:
                self._text = np.where(self.cond, "1", "0").astype(object)
            else:
                self._text = np.array([_format(x) for x in self._num], dtype=object)
        return self._text

    @property
    def num(self) -> np.ndarray:
        if self._num is None:
            if self.cond is not None:
                self._num = self.cond.astype(float)
            else:
                self._num = _to_number(self._text)
        return self._num

    @property
    def blank(self) -> np.ndarray:
        if self.cond is not None:
            return np.zeros(self.n, dtype=bool)
        if self._text is None:
            return np.isnan(self._num)
        return pd.Series(self._text, dtype=object).str.strip().eq("").to_numpy()

    @property
    def truth(self) -> np.ndarray:
        if self.cond is not None:
            return self.cond
        if self._text is None:
            return ~np.isnan(self._num) & (self._num != 0)
        num = self.num
        return ~self.blank & ~(num == 0)


class Context:
    """Values of references for a set of rows (``keys``: record, event, instance as text).

    ``lookup(ref, keys)`` gives a reference's text for the rows; ``own`` holds the text
    cells of the rows themselves (column -> array), read first for a reference without
    an event. ``calc``: evaluate as a calculated field (missing-data codes are blank)."""

    def __init__(
        self,
        project: Project | None,
        lookup,
        keys: pd.DataFrame,
        own: dict | None = None,
        *,
        calc: bool = False,
        missing_codes=None,
    ):
        self.project = project
        self.lookup = lookup
        self.keys = keys
        self.own = {} if own is None else own
        self.calc = calc
        codes = missing_codes if missing_codes is not None else (project.missing_codes if project else ())
        self.missing_codes = frozenset(codes)

    @property
    def n(self) -> int:
        return len(self.keys)

    def reference(self, node: Ref) -> Value:
        n = self.n
        col = checkbox_column(node.field, node.code) if node.code is not None else node.field
        if node.event is None and col in self.own:
            raw = self.own[col]
        else:
            raw = self.lookup(node, self.keys)
        v = Value.of_text(raw, n)
        text = v.text
        if self.missing_codes and self.calc:
            coded = np.isin(text, list(self.missing_codes))
            if coded.any():
                text = np.where(coded, "", text).astype(object)
        if node.code is not None:
            text = np.where(text == "", "0", text).astype(object)
        return Value(n, text=text)


# ------------------------------------------------------------------------------ evaluation
def value(node, ctx: Context) -> Value:
    """The expression's value for each context row."""
    n = ctx.n
    if isinstance(node, Lit):
        return Value.of_text(node.text, n)
    if isinstance(node, Bool):
        return Value(n, cond=np.full(n, node.value))
    if isinstance(node, Ref):
        return ctx.reference(node)
    if isinstance(node, EventName):
        return Value.of_text(ctx.keys["event"].astype(str).to_numpy(dtype=object), n)
    if isinstance(node, Neg):
        return Value.of_num(-value(node.operand, ctx).num, n)
    if isinstance(node, Arith):
        return Value.of_num(_arith(node.op, value(node.left, ctx).num, value(node.right, ctx).num), n)
    if isinstance(node, Cmp):
        return Value(n, cond=_compare(node.op, value(node.left, ctx), value(node.right, ctx)))
    if isinstance(node, Not):
        return Value(n, cond=~value(node.operand, ctx).truth)
    if isinstance(node, And):
        out = np.ones(n, dtype=bool)
        for p in node.parts:
            out &= value(p, ctx).truth
        return Value(n, cond=out)
    if isinstance(node, Or):
        out = np.zeros(n, dtype=bool)
        for p in node.parts:
            out |= value(p, ctx).truth
        return Value(n, cond=out)
    if isinstance(node, Call):
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise NotEvaluated(f"function {node.name}() is not evaluated")
        spec.check_arity(len(node.args))
        return spec.impl(node, ctx)
    raise NotEvaluated("cannot evaluate this expression")


def evaluate(node, ctx: Context) -> np.ndarray:
    """The expression's truth for each context row (branching logic, conditions)."""
    return np.asarray(value(node, ctx).truth, dtype=bool)


def calculate(node, ctx: Context) -> np.ndarray:
    """The expression's number for each context row (a calculated field; NaN: blank)."""
    v = value(node, ctx)
    out = np.array(v.num, dtype=float)
    out[~np.isfinite(out)] = np.nan
    return out


def _arith(op: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            return np.where(b == 0, np.nan, a / np.where(b == 0, 1, b))
        out = np.power(a, b)
        return np.where(np.isfinite(out), out, np.nan)


def _compare(op: str, left: Value, right: Value) -> np.ndarray:
    ln, rn = left.num, right.num
    both = ~np.isnan(ln) & ~np.isnan(rn)
    if both.all():  # numbers on every row: no text needed
        with np.errstate(invalid="ignore"):
            return {
                "=": ln == rn,
                "<>": ln != rn,
                "<": ln < rn,
                "<=": ln <= rn,
                ">": ln > rn,
                ">=": ln >= rn,
            }[op]
    ls, rs = left.text, right.text
    with np.errstate(invalid="ignore"):
        if op == "=":
            return np.where(both, ln == rn, ls == rs)
        if op == "<>":
            return np.where(both, ln != rn, ls != rs)
        blank = left.blank | right.blank
        num = {"<": ln < rn, "<=": ln <= rn, ">": ln > rn, ">=": ln >= rn}[op]
        if len(ls):
            lt, rt = ls.astype(str), rs.astype(str)
            txt = {"<": lt < rt, "<=": lt <= rt, ">": lt > rt, ">=": lt >= rt}[op]
        else:
            txt = np.zeros(0, dtype=bool)
        return np.where(blank, False, np.where(both, num, txt)).astype(bool)


# ------------------------------------------------------------------------------- functions
@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    impl: Callable[[Call, Context], Value]
    help: str

    def check_arity(self, k: int) -> None:
        if k < self.min_args or (self.max_args is not None and k > self.max_args):
            want = (
                f"{self.min_args}"
                if self.max_args == self.min_args
                else f"{self.min_args} or more"
                if self.max_args is None
                else f"{self.min_args} to {self.max_args}"
            )
            raise LogicSyntaxError(f"{self.name}() takes {want} argument(s), not {k}")


FUNCTIONS: dict[str, Function] = {}


def _function(name: str, min_args: int, max_args: int | None, help: str):
    def register(impl):
        FUNCTIONS[name] = Function(name, min_args, max_args, impl, help)
        return impl

    return register


def _args(node: Call, ctx: Context) -> list[Value]:
    return [value(a, ctx) for a in node.args]


@_function("if", 3, 3, "if(condition, value if true, value if false)")
def _if(node: Call, ctx: Context) -> Value:
    cond, a, b = _args(node, ctx)
    t = cond.truth
    if a.cond is not None and b.cond is not None:
        return Value(ctx.n, cond=np.where(t, a.cond, b.cond))
    if a._text is None and b._text is None and a.cond is None and b.cond is None:
        return Value.of_num(np.where(t, a.num, b.num), ctx.n)
    return Value(ctx.n, text=np.where(t, a.text, b.text).astype(object), num=np.where(t, a.num, b.num))


def _round_digits(node: Call, ctx: Context) -> np.ndarray:
    return value(node.args[1], ctx).num if len(node.args) > 1 else np.float64(0)


def _round(x, d, how: str) -> np.ndarray:
    scale = np.power(10.0, d)
    with np.errstate(all="ignore"):
        if how == "round":  # half away from zero, as REDCap's (PHP's) round
            return np.sign(x) * np.floor(np.abs(x) * scale + 0.5) / scale
        if how == "roundup":
            return np.sign(x) * np.ceil(np.abs(x) * scale) / scale
        return np.sign(x) * np.floor(np.abs(x) * scale) / scale


@_function("round", 1, 2, "round(number, decimal places): half away from zero; 0 places when not given")
def _fn_round(node, ctx):
    return Value.of_num(_round(value(node.args[0], ctx).num, _round_digits(node, ctx), "round"), ctx.n)


@_function("roundup", 1, 2, "roundup(number, decimal places): away from zero")
def _fn_roundup(node, ctx):
    return Value.of_num(_round(value(node.args[0], ctx).num, _round_digits(node, ctx), "roundup"), ctx.n)


@_function("rounddown", 1, 2, "rounddown(number, decimal places): towards zero")
def _fn_rounddown(node, ctx):
    return Value.of_num(_round(value(node.args[0], ctx).num, _round_digits(node, ctx), "rounddown"), ctx.n)


@_function("abs", 1, 1, "abs(number): the absolute value")
def _fn_abs(node, ctx):
    return Value.of_num(np.abs(value(node.args[0], ctx).num), ctx.n)


@_function("sqrt", 1, 1, "sqrt(number): the square root; blank for a negative number")
def _fn_sqrt(node, ctx):
    x = value(node.args[0], ctx).num
    with np.errstate(all="ignore"):
        return Value.of_num(np.where(x < 0, np.nan, np.sqrt(np.abs(x))), ctx.n)


def _stack(node: Call, ctx: Context) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(numbers, present, text that is not a number) of a list's arguments, one row per argument."""
    vals = _args(node, ctx)
    nums = np.vstack([v.num for v in vals]) if vals else np.zeros((0, ctx.n))
    present = ~np.isnan(nums)
    other = np.vstack([~v.blank for v in vals]) & ~present if vals else np.zeros((0, ctx.n), dtype=bool)
    return nums, present, other


@_function("sum", 1, None, "sum(a, b, ...): the sum of the numbers given, blanks ignored")
def _fn_sum(node, ctx):
    nums, present, _ = _stack(node, ctx)
    return Value.of_num(
        np.where(present.any(axis=0), np.nansum(np.where(present, nums, 0), axis=0), np.nan), ctx.n
    )


def _listed(node, ctx, reduce) -> Value:
    nums, present, other = _stack(node, ctx)
    ok = present.any(axis=0) & ~other.any(axis=0)
    with np.errstate(all="ignore"):
        out = reduce(nums, present) if nums.size else np.full(ctx.n, np.nan)
    return Value.of_num(np.where(ok, out, np.nan), ctx.n)


@_function("mean", 1, None, "mean(a, b, ...): the mean of the numbers given, blanks ignored")
def _fn_mean(node, ctx):
    return _listed(node, ctx, lambda x, p: np.where(p, x, 0).sum(axis=0) / np.maximum(p.sum(axis=0), 1))


@_function("min", 1, None, "min(a, b, ...): the smallest number given, blanks ignored")
def _fn_min(node, ctx):
    return _listed(node, ctx, lambda x, p: np.where(p, x, np.inf).min(axis=0))


@_function("max", 1, None, "max(a, b, ...): the largest number given, blanks ignored")
def _fn_max(node, ctx):
    return _listed(node, ctx, lambda x, p: np.where(p, x, -np.inf).max(axis=0))


@_function("median", 1, None, "median(a, b, ...): the median of the numbers given, blanks ignored")
def _fn_median(node, ctx):
    return _listed(node, ctx, lambda x, p: np.nanmedian(np.where(p, x, np.nan), axis=0))


@_function(
    "stdev",
    1,
    None,
    "stdev(a, b, ...): the sample standard deviation of the numbers given, "
    "blanks ignored; blank for fewer than two",
)
def _fn_stdev(node, ctx):
    def sd(x, p):
        k = p.sum(axis=0)
        mean = np.where(p, x, 0).sum(axis=0) / np.maximum(k, 1)
        ss = np.where(p, (x - mean) ** 2, 0).sum(axis=0)
        return np.where(k > 1, np.sqrt(ss / np.maximum(k - 1, 1)), np.nan)

    return _listed(node, ctx, sd)


@_function(
    "log",
    1,
    2,
    "log(number, base): the logarithm (base e when not given); blank for a number that is not positive",
)
def _fn_log(node, ctx):
    x = value(node.args[0], ctx).num
    base = value(node.args[1], ctx).num if len(node.args) > 1 else np.float64(np.e)
    with np.errstate(all="ignore"):
        out = np.log(x) / np.log(base)
    return Value.of_num(np.where((x > 0) & (base > 0) & (base != 1), out, np.nan), ctx.n)


@_function("mod", 2, 2, "mod(dividend, divisor): the remainder of the division; blank for a divisor of 0")
def _fn_mod(node, ctx):
    a, b = (value(arg, ctx).num for arg in node.args)
    with np.errstate(all="ignore"):
        return Value.of_num(np.where(b == 0, np.nan, np.fmod(a, b)), ctx.n)


# ---------------------------------------------------------------------------- text functions
def _texts(node: Call, ctx: Context) -> list[np.ndarray]:
    return [np.asarray(v.text, dtype=object).astype(str) for v in _args(node, ctx)]


def _text_value(values, n: int) -> Value:
    return Value(n, text=np.asarray(values, dtype=object))


@_function("contains", 2, 2, "contains(text, part): true when the text holds the part (any case)")
def _fn_contains(node, ctx):
    hay, needle = _texts(node, ctx)
    return Value(ctx.n, cond=np.array([b.lower() in a.lower() for a, b in zip(hay, needle)], dtype=bool))


@_function(
    "not_contain", 2, 2, "not_contain(text, part): true when the text does not hold the part (any case)"
)
def _fn_not_contain(node, ctx):
    return Value(ctx.n, cond=~_fn_contains(node, ctx).cond)


@_function("starts_with", 2, 2, "starts_with(text, part): true when the text begins with the part (any case)")
def _fn_starts_with(node, ctx):
    hay, needle = _texts(node, ctx)
    return Value(
        ctx.n, cond=np.array([a.lower().startswith(b.lower()) for a, b in zip(hay, needle)], dtype=bool)
    )


@_function("ends_with", 2, 2, "ends_with(text, part): true when the text ends with the part (any case)")
def _fn_ends_with(node, ctx):
    hay, needle = _texts(node, ctx)
    return Value(
        ctx.n, cond=np.array([a.lower().endswith(b.lower()) for a, b in zip(hay, needle)], dtype=bool)
    )


def _counts(node: Call, ctx: Context, i: int) -> np.ndarray:
    return value(node.args[i], ctx).num


@_function("left", 2, 2, "left(text, n): the first n characters")
def _fn_left(node, ctx):
    (text,), k = _texts(Call(node.name, node.args[:1]), ctx), _counts(node, ctx, 1)
    return _text_value([t[: int(c)] if c == c and c >= 0 else "" for t, c in zip(text, k)], ctx.n)


@_function("right", 2, 2, "right(text, n): the last n characters")
def _fn_right(node, ctx):
    (text,), k = _texts(Call(node.name, node.args[:1]), ctx), _counts(node, ctx, 1)
    return _text_value([t[-int(c) :] if c == c and c >= 1 else "" for t, c in zip(text, k)], ctx.n)


@_function("mid", 3, 3, "mid(text, start, n): n characters from position start (the first is 1)")
def _fn_mid(node, ctx):
    (text,) = _texts(Call(node.name, node.args[:1]), ctx)
    start, k = _counts(node, ctx, 1), _counts(node, ctx, 2)
    return _text_value(
        [
            t[int(a) - 1 : int(a) - 1 + int(c)] if a == a and c == c and a >= 1 and c >= 0 else ""
            for t, a, c in zip(text, start, k)
        ],
        ctx.n,
    )


@_function("length", 1, 1, "length(text): the number of characters")
def _fn_length(node, ctx):
    (text,) = _texts(node, ctx)
    return Value.of_num(np.array([len(t) for t in text], dtype=float), ctx.n)


@_function(
    "find",
    2,
    2,
    "find(part, text): the position of the part in the text (the first is 1; 0 when absent; any case)",
)
def _fn_find(node, ctx):
    needle, hay = _texts(node, ctx)
    return Value.of_num(
        np.array([a.lower().find(b.lower()) + 1 for b, a in zip(needle, hay)], dtype=float), ctx.n
    )


@_function("concat", 1, None, "concat(a, b, ...): the texts joined")
def _fn_concat(node, ctx):
    texts = _texts(node, ctx)
    return _text_value(["".join(parts) for parts in zip(*texts)], ctx.n)


@_function("upper", 1, 1, "upper(text): in capitals")
def _fn_upper(node, ctx):
    return _text_value([t.upper() for t in _texts(node, ctx)[0]], ctx.n)


@_function("lower", 1, 1, "lower(text): in small letters")
def _fn_lower(node, ctx):
    return _text_value([t.lower() for t in _texts(node, ctx)[0]], ctx.n)


@_function("trim", 1, 1, "trim(text): without the spaces at either end")
def _fn_trim(node, ctx):
    return _text_value([t.strip() for t in _texts(node, ctx)[0]], ctx.n)


@_function("isnumber", 1, 1, "isnumber(value): true when the value is a number")
def _fn_isnumber(node, ctx):
    return Value(ctx.n, cond=~np.isnan(value(node.args[0], ctx).num))


@_function("isinteger", 1, 1, "isinteger(value): true when the value is a whole number")
def _fn_isinteger(node, ctx):
    x = value(node.args[0], ctx).num
    with np.errstate(invalid="ignore"):
        return Value(ctx.n, cond=~np.isnan(x) & (np.mod(x, 1) == 0))


@_function(
    "isblankormissingcode", 1, 1, "isblankormissingcode(value): true when blank or a missing-data code"
)
def _fn_isblankormissingcode(node, ctx):
    arg = node.args[0]
    if isinstance(arg, Ref) and ctx.calc:  # the code itself, not the blank a calculation sees
        raw = Context(ctx.project, ctx.lookup, ctx.keys, ctx.own, missing_codes=ctx.missing_codes)
        v = raw.reference(arg)
    else:
        v = value(arg, ctx)
    text = pd.Series(v.text, dtype=object).str.strip().to_numpy(dtype=object)
    return Value(ctx.n, cond=(text == "") | np.isin(text, list(ctx.missing_codes)))


# --------------------------------------------------------------------------------- datediff
UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "M": 2630016.0, "y": 31556952.0}
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_XY = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _constant(node, what: str) -> str:
    if isinstance(node, Lit):
        return node.text
    if isinstance(node, Bool):
        return "true" if node.value else "false"
    raise NotEvaluated(f"datediff()'s {what} from a field is not evaluated")


def _moment(text: str, order: str) -> tuple[float, str]:
    """(seconds, kind) of one date, datetime or time; kind date, datetime, time; NaN unreadable."""
    t = text.strip().replace("/", "-")
    if not t:
        return np.nan, ""
    m = _TIME.match(t)
    if m:
        h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
        return float(h * 3600 + mi * 60 + s), "time"
    m = _YMD.match(t)
    if m:
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = _XY.match(t)
        if not m or order == "ymd":
            return np.nan, ""
        a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        mo, d = (a, b) if order == "mdy" else (b, a)
    try:
        day = date(y, mo, d).toordinal()
    except ValueError:
        return np.nan, ""
    secs = 0
    kind = "date"
    if m.group(4) is not None:
        secs = int(m.group(4)) * 3600 + int(m.group(5)) * 60 + int(m.group(6) or 0)
        kind = "datetime"
    return float(day) * 86400.0 + secs, kind


def _moments(text: np.ndarray, order: str) -> tuple[np.ndarray, np.ndarray]:
    uniq, inverse = np.unique(text.astype(str), return_inverse=True)
    parsed = [_moment(u, order) for u in uniq]
    secs = np.array([p[0] for p in parsed], dtype=float)[inverse]
    kinds = np.array([p[1] for p in parsed], dtype=object)[inverse]
    return secs, kinds


def datediff_options(node: Call) -> tuple[str, str, bool]:
    """(unit, date order, signed) of a datediff() call, read from its constant arguments."""
    for side in node.args[:2]:
        if isinstance(side, Lit) and side.text.strip().lower() in ("today", "now"):
            raise NotEvaluated(f"datediff() with '{side.text}' depends on the day it was computed")
    unit = _constant(node.args[2], "unit")
    if unit not in UNIT_SECONDS:
        raise LogicSyntaxError(f"datediff() unit {unit!r} is not one of y, M, d, h, m, s")
    order, signed = "ymd", False
    for extra in node.args[3:]:
        word = _constant(extra, "fourth or fifth argument").strip().lower()
        if word in ("ymd", "mdy", "dmy"):
            order = word
        elif word in ("true", "false"):
            signed = word == "true"
        else:
            raise LogicSyntaxError(
                f"datediff() argument {word!r} is neither a date format (ymd, mdy, dmy) nor true/false"
            )
    return unit, order, signed


@_function(
    "datediff",
    3,
    5,
    "datediff(date1, date2, unit, [date format], [signed]): date2 - date1 in "
    "y (365.2425 days), M (30.44 days), d, h, m or s; unsigned unless signed is true",
)
def _fn_datediff(node, ctx):
    a, b = node.args[0], node.args[1]
    unit, order, signed = datediff_options(node)
    va, vb = value(a, ctx), value(b, ctx)
    s1, k1 = _moments(va.text, order)
    s2, k2 = _moments(vb.text, order)
    ok = (k1 != "") & (k2 != "") & ((k1 == "time") == (k2 == "time"))
    with np.errstate(invalid="ignore"):
        sec = np.where(ok, s2 - s1, np.nan)
    if not signed:
        sec = np.abs(sec)
    out = sec / UNIT_SECONDS[unit]
    if unit == "d":  # two dates differ by whole days: REDCap rounds them
        dates = (k1 == "date") & (k2 == "date")
        out = np.where(dates, np.round(out), out)
    return Value.of_num(out, ctx.n)


def _date_part(node: Call, ctx: Context, part: str) -> Value:
    """The year, month or day of a date or datetime (Y-M-D, as REDCap stores them); blank
    for a blank, a time or text that is not a date."""
    secs, kinds = _moments(np.asarray(value(node.args[0], ctx).text, dtype=object), "ymd")
    ok = (kinds == "date") | (kinds == "datetime")
    out = np.full(len(secs), np.nan)
    for i in np.flatnonzero(ok):
        d = date.fromordinal(int(secs[i] // 86400.0))
        out[i] = getattr(d, part)
    return Value.of_num(out, ctx.n)


@_function("year", 1, 1, "year(date): the year of a date or datetime, as a number")
def _fn_year(node, ctx):
    return _date_part(node, ctx, "year")


@_function("month", 1, 1, "month(date): the month (1-12) of a date or datetime, as a number")
def _fn_month(node, ctx):
    return _date_part(node, ctx, "month")


@_function("day", 1, 1, "day(date): the day of the month (1-31) of a date or datetime, as a number")
def _fn_day(node, ctx):
    return _date_part(node, ctx, "day")


@_function("exponential", 1, 1, "exponential(number): e raised to the number")
def _fn_exponential(node, ctx):
    with np.errstate(all="ignore"):
        return Value.of_num(np.exp(value(node.args[0], ctx).num), ctx.n)


# ---------------------------------------------------------------------------------- checks
def check(node, project: Project) -> None:
    """Every reference names a field (a choice, an event) of the project; every function is
    one evaluated here, with a fitting number of arguments."""
    for ref in references(node):
        if isinstance(ref, EventName):
            continue
        f = project.field.get(ref.field)
        if f is None:
            raise NotEvaluated(f"[{ref.field}] is not a field of the project")
        if ref.code is not None:
            if f.type != "checkbox":
                raise NotEvaluated(
                    f"[{ref.field}({ref.code})] names a choice of a field that is not a checkbox"
                )
            if ref.code not in {c for c, _ in f.choices}:
                raise NotEvaluated(f"[{ref.field}({ref.code})]: {ref.code} is not a choice of {ref.field}")
        elif f.type == "checkbox":
            raise NotEvaluated(f"[{ref.field}] is a checkbox: write [{ref.field}(code)]")
        if ref.event is not None and ref.event not in project.event:
            raise NotEvaluated(f"[{ref.event}] is not an event of the project")
    _check_calls(node)


def _check_calls(node) -> None:
    if isinstance(node, Call):
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise NotEvaluated(f"function {node.name}() is not evaluated")
        spec.check_arity(len(node.args))
        if node.name == "datediff":
            datediff_options(node)
    for c in children(node):
        _check_calls(c)


check_references = check

__all__ = [
    "Context",
    "Value",
    "value",
    "evaluate",
    "calculate",
    "check",
    "check_references",
    "FUNCTIONS",
    "UNIT_SECONDS",
]
