"""REDCap calculated fields for the dummy-data generator: a small parser and a vectorised
evaluator of the arithmetic a ``calc`` field's formula holds.

What it reads (REDCap's calculation syntax): numbers, ``[field]`` and ``[event][field]``,
``+ - * / ^``, parentheses, unary minus, and the functions ``round(x, d)``,
``roundup(x, d)``, ``rounddown(x, d)``, ``abs``, ``sqrt``, ``min``, ``max``, ``sum`` and
``mean`` (the last four skip blank values, as REDCap's do). Arithmetic with a blank value
is blank, as in REDCap. Anything else (``if``, ``datediff``, smart variables) raises
:class:`~feasibility.redcap.NotEvaluated`; the generator then leaves the field blank and
says so once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from feasibility.redcap import NotEvaluated

FUNCTIONS = ("round", "roundup", "rounddown", "abs", "sqrt", "min", "max", "sum", "mean")
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<ref>(?:\[[a-z0-9_]+\])?\[[a-z][a-z0-9_]*\])
  | (?P<num>\d+(?:\.\d*)?|\.\d+)
  | (?P<op>[-+*/^(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
""", re.VERBOSE)


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Ref:
    field: str
    event: str | None = None


@dataclass(frozen=True)
class Op:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Neg:
    operand: object


@dataclass(frozen=True)
class Fn:
    name: str
    args: tuple


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(text):
        if m.lastgroup == "ws":
            continue
        if m.lastgroup == "other":
            raise NotEvaluated(f"cannot read the calculation at {m.group()!r}")
        out.append((m.lastgroup, m.group()))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, value: str):
        tok = self.take()
        if tok[1] != value:
            raise NotEvaluated(f"expected {value!r} in the calculation, found {tok[1] or 'its end'!r}")

    def parse(self):
        node = self.sum()
        if self.peek()[0] != "end":
            raise NotEvaluated(f"cannot read the calculation at {self.peek()[1]!r}")
        return node

    def sum(self):
        node = self.product()
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            node = Op(op, node, self.product())
        return node

    def product(self):
        node = self.power()
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            node = Op(op, node, self.power())
        return node

    def power(self):
        node = self.unary()
        if self.peek()[1] == "^":
            self.take()
            return Op("^", node, self.power())
        return node

    def unary(self):
        if self.peek()[1] == "-":
            self.take()
            return Neg(self.unary())
        if self.peek()[1] == "+":
            self.take()
            return self.unary()
        return self.atom()

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return Num(float(value))
        if kind == "ref":
            parts = re.findall(r"\[([^\]]+)\]", value)
            return Ref(parts[-1], parts[0] if len(parts) == 2 else None)
        if value == "(":
            node = self.sum()
            self.expect(")")
            return node
        if kind == "word":
            name = value.lower()
            if name not in FUNCTIONS or self.peek()[1] != "(":
                raise NotEvaluated(f"function or name {value!r} is not evaluated")
            self.take()
            args = [self.sum()]
            while self.peek()[1] == ",":
                self.take()
                args.append(self.sum())
            self.expect(")")
            return Fn(name, tuple(args))
        raise NotEvaluated(f"cannot read the calculation at {value or 'its end'!r}")


def parse(text: str):
    """The calculation's syntax tree; NotEvaluated for what is not supported."""
    if not text or not text.strip():
        raise NotEvaluated("empty calculation")
    return _Parser(text).parse()


def references(node) -> list[Ref]:
    if isinstance(node, Ref):
        return [node]
    if isinstance(node, Num):
        return []
    if isinstance(node, Neg):
        return references(node.operand)
    if isinstance(node, Op):
        return references(node.left) + references(node.right)
    return [r for a in node.args for r in references(a)]


def _round(x, d, how):
    scale = 10.0 ** d
    if how == "round":       # half away from zero, as REDCap's (PHP's) round
        return np.sign(x) * np.floor(np.abs(x) * scale + 0.5) / scale
    if how == "roundup":
        return np.sign(x) * np.ceil(np.abs(x) * scale) / scale
    return np.sign(x) * np.floor(np.abs(x) * scale) / scale


def evaluate(node, value) -> np.ndarray:
    """The calculation over rows; ``value(ref)`` gives a reference's numbers (NaN blank)."""
    if isinstance(node, Num):
        return np.float64(node.value)
    if isinstance(node, Ref):
        return value(node)
    if isinstance(node, Neg):
        return -evaluate(node.operand, value)
    if isinstance(node, Op):
        a, b = evaluate(node.left, value), evaluate(node.right, value)
        with np.errstate(all="ignore"):
            if node.op == "+":
                return a + b
            if node.op == "-":
                return a - b
            if node.op == "*":
                return a * b
            if node.op == "/":
                return np.where(b == 0, np.nan, a / np.where(b == 0, 1, b))
            return np.power(a, b)
    args = [evaluate(a, value) for a in node.args]
    name = node.name
    with np.errstate(all="ignore"):
        if name in ("round", "roundup", "rounddown"):
            digits = args[1] if len(args) > 1 else np.float64(0)
            if np.ndim(digits):
                raise NotEvaluated(f"{name}() with digits from a field is not evaluated")
            return _round(args[0], int(digits), name)
        if name == "abs":
            return np.abs(args[0])
        if name == "sqrt":
            return np.where(args[0] < 0, np.nan, np.sqrt(np.abs(args[0])))
        stack = np.vstack([np.broadcast_to(a, np.broadcast(*args).shape) for a in args]) \
            if args else np.zeros((0, 0))
        present = ~np.isnan(stack)
        any_present = present.any(axis=0)
        if name == "sum":
            return np.where(any_present, np.nansum(stack, axis=0), np.nan)
        if name == "mean":
            return np.where(any_present, np.nansum(stack, axis=0) / np.maximum(present.sum(axis=0), 1),
                            np.nan)
        if name == "min":
            return np.where(any_present, np.nanmin(np.where(present, stack, np.inf), axis=0), np.nan)
        return np.where(any_present, np.nanmax(np.where(present, stack, -np.inf), axis=0), np.nan)


__all__ = ["parse", "evaluate", "references", "Ref", "FUNCTIONS"]
