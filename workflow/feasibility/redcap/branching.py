"""REDCap branching logic: a small parser and a vectorised evaluator.

What it reads (REDCap's logic syntax): field references ``[field]``, checkbox choices
``[field(code)]``, fields of another event of the same record ``[event][field]``, the smart
variable ``[event-name]``; literals quoted with ``'`` or ``"`` (``''`` is blank) or bare
numbers; comparisons ``=``, ``==``, ``<>``, ``!=``, ``<``, ``<=``, ``>``, ``>=``; ``and``,
``or`` (any case; also ``&&`` and ``||``), ``not`` / ``!``, and parentheses.

Comparisons follow REDCap: two numbers compare as numbers, anything else as text; an
ordering comparison (``<``, ``>``, …) with a blank side is false; an unticked or absent
checkbox choice is ``0``. Anything else (functions such as ``datediff``, arithmetic,
other smart variables, instance references) raises :class:`NotEvaluated` with the
reason, so the caller lists the expression once as "not evaluated".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import Project, checkbox_column


class NotEvaluated(Exception):
    """An expression this evaluator does not handle; the message says what."""


# ------------------------------------------------------------------------------------ AST
@dataclass(frozen=True)
class Ref:
    field: str
    event: str | None = None
    code: str | None = None

    def __str__(self) -> str:
        ev = f"[{self.event}]" if self.event else ""
        return f"{ev}[{self.field}{'(' + self.code + ')' if self.code is not None else ''}]"


@dataclass(frozen=True)
class EventName:
    pass


@dataclass(frozen=True)
class Lit:
    text: str


@dataclass(frozen=True)
class Cmp:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Truthy:
    operand: object


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class And:
    parts: tuple


@dataclass(frozen=True)
class Or:
    parts: tuple


# -------------------------------------------------------------------------------- tokenizer
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<ref>\[[^\[\]]*\])
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<op><>|!=|<=|>=|==|=|<|>)
  | (?P<andop>&&)
  | (?P<orop>\|\|)
  | (?P<bang>!)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<minus>-)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        value = m.group()
        if kind == "ws":
            continue
        out.append((kind, value))
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, k: int = 0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, kind: str):
        tok = self.take()
        if tok[0] != kind:
            raise NotEvaluated(f"cannot read the expression at '{tok[1] or 'its end'}'")
        return tok

    def parse(self):
        node = self.or_expr()
        if self.peek()[0] != "end":
            tok = self.peek()
            if tok[0] in ("other", "minus") and tok[1] in "+-*/^":
                raise NotEvaluated("arithmetic is not evaluated")
            raise NotEvaluated(f"cannot read the expression at '{tok[1]}'")
        return node

    def or_expr(self):
        parts = [self.and_expr()]
        while self.peek()[0] == "orop" or (self.peek()[0] == "word" and self.peek()[1].lower() == "or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self):
        parts = [self.not_expr()]
        while self.peek()[0] == "andop" or (self.peek()[0] == "word" and self.peek()[1].lower() == "and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self):
        tok = self.peek()
        if tok[0] == "bang" or (tok[0] == "word" and tok[1].lower() == "not"):
            self.take()
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self):
        left = self.operand()
        if self.peek()[0] == "op":
            op = self.take()[1]
            right = self.operand()
            if isinstance(left, (And, Or, Not, Cmp, Truthy)) or isinstance(right, (And, Or, Not, Cmp, Truthy)):
                raise NotEvaluated("a comparison of a condition's result is not evaluated")
            return Cmp({"==": "=", "!=": "<>"}.get(op, op), left, right)
        if self.peek()[0] in ("other", "minus") and self.peek()[1] in "+-*/^":
            raise NotEvaluated("arithmetic is not evaluated")
        if isinstance(left, (And, Or, Not, Cmp, Truthy)):
            return left
        return Truthy(left)

    def operand(self):
        kind, value = self.peek()
        if kind == "lp":
            self.take()
            node = self.or_expr()
            self.expect("rp")
            return node
        if kind == "str":
            self.take()
            return Lit(value[1:-1])
        if kind == "num":
            self.take()
            return Lit(value)
        if kind == "minus" and self.peek(1)[0] == "num":
            self.take()
            return Lit("-" + self.take()[1])
        if kind == "ref":
            return self.reference()
        if kind == "word":
            if self.peek(1)[0] == "lp":
                raise NotEvaluated(f"function {value}() is not evaluated")
            raise NotEvaluated(f"'{value}' is not a field reference (write [{value}])")
        raise NotEvaluated(f"cannot read the expression at '{value or 'its end'}'")

    def reference(self):
        first = self.take()[1][1:-1].strip()
        parts = [first]
        while self.peek()[0] == "ref":
            parts.append(self.take()[1][1:-1].strip())
        if len(parts) > 2:
            raise NotEvaluated(f"reference {''.join('[' + p + ']' for p in parts)} (with a repeat instance) "
                               "is not evaluated")
        if len(parts) == 2:
            event, fld = parts
            if re.fullmatch(r"\d+", fld) or fld in ("current-instance", "previous-instance", "first-instance",
                                                     "last-instance", "next-instance"):
                raise NotEvaluated(f"instance reference [{event}][{fld}] is not evaluated")
            if "-" in event and not re.fullmatch(r"[a-z0-9_]+", event):
                raise NotEvaluated(f"smart variable [{event}] is not evaluated")
            return self._field_ref(fld, event)
        if first == "event-name":
            return EventName()
        if "-" in first and not re.fullmatch(r"[a-z0-9_]+\(.*\)", first):
            raise NotEvaluated(f"smart variable [{first}] is not evaluated")
        return self._field_ref(first, None)

    @staticmethod
    def _field_ref(text: str, event: str | None) -> Ref:
        m = re.fullmatch(r"([a-z][a-z0-9_]*)(?:\(([^()]*)\))?", text)
        if not m:
            if ":" in text:
                raise NotEvaluated(f"[{text}] (a piping option) is not evaluated")
            raise NotEvaluated(f"[{text}] is not a field reference")
        return Ref(m.group(1), event, m.group(2))


def parse(text: str):
    """The expression's syntax tree; :class:`NotEvaluated` if it uses what is not supported."""
    if not text or not text.strip():
        raise NotEvaluated("empty expression")
    return _Parser(text).parse()


def references(node) -> list:
    """Field references and smart variables of a tree, in order."""
    if isinstance(node, (Ref, EventName)):
        return [node]
    if isinstance(node, Lit):
        return []
    if isinstance(node, Cmp):
        return references(node.left) + references(node.right)
    if isinstance(node, (Truthy, Not)):
        return references(node.operand)
    return [r for p in node.parts for r in references(p)]


def check_references(node, project: Project) -> None:
    """Every reference must name a field (and a choice, an event) of the project."""
    for ref in references(node):
        if isinstance(ref, EventName):
            continue
        f = project.field.get(ref.field)
        if f is None:
            raise NotEvaluated(f"[{ref.field}] is not a field of the project")
        if ref.code is not None:
            if f.type != "checkbox":
                raise NotEvaluated(f"[{ref.field}({ref.code})] names a choice of a field that is not a checkbox")
            if ref.code not in {c for c, _ in f.choices}:
                raise NotEvaluated(f"[{ref.field}({ref.code})]: {ref.code} is not a choice of {ref.field}")
        elif f.type == "checkbox":
            raise NotEvaluated(f"[{ref.field}] is a checkbox: write [{ref.field}(code)]")
        if ref.event is not None and ref.event not in project.event:
            raise NotEvaluated(f"[{ref.event}] is not an event of the project")


# ------------------------------------------------------------------------------- evaluation
def _text_series(values, n: int) -> pd.Series:
    if isinstance(values, str):
        return pd.Series([values] * n, dtype=object)
    return pd.Series(values, dtype=object).fillna("").astype(str)


def _compare(op: str, left: pd.Series, right: pd.Series) -> np.ndarray:
    ln = pd.to_numeric(left.where(left.str.strip() != ""), errors="coerce")
    rn = pd.to_numeric(right.where(right.str.strip() != ""), errors="coerce")
    both = (ln.notna() & rn.notna()).to_numpy()
    lv, rv = ln.to_numpy(dtype=float), rn.to_numpy(dtype=float)
    ls, rs = left.to_numpy(dtype=object), right.to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        if op == "=":
            return np.where(both, lv == rv, ls == rs)
        if op == "<>":
            return np.where(both, lv != rv, ls != rs)
        blank = (left.str.strip() == "").to_numpy() | (right.str.strip() == "").to_numpy()
        num = {"<": lv < rv, "<=": lv <= rv, ">": lv > rv, ">=": lv >= rv}[op]
        txt = {"<": ls < rs, "<=": ls <= rs, ">": ls > rs, ">=": ls >= rs}[op] if len(ls) else np.zeros(0, bool)
        return np.where(blank, False, np.where(both, num, txt)).astype(bool)


class Context:
    """Values of references for a set of rows (keys: record, event, instance as text)."""

    def __init__(self, project: Project, lookup, keys: pd.DataFrame, own: dict | None = None):
        self.project = project
        self.lookup = lookup        # callable(ref, keys) -> np.ndarray of text
        self.keys = keys
        self.own = {} if own is None else own   # column -> text cells of the context rows themselves

    def value(self, node) -> pd.Series:
        n = len(self.keys)
        if isinstance(node, Lit):
            return _text_series(node.text, n)
        if isinstance(node, EventName):
            return self.keys["event"].astype(str).reset_index(drop=True)
        if isinstance(node, Ref):
            col = checkbox_column(node.field, node.code) if node.code is not None else node.field
            if node.event is None and col in self.own:
                values = _text_series(self.own[col], n)
            else:
                values = _text_series(self.lookup(node, self.keys), n)
            if node.code is not None:
                values = values.where(values != "", "0")
            return values
        raise NotEvaluated("a condition's result used as a value is not evaluated")


def evaluate(node, ctx: Context) -> np.ndarray:
    """The expression's truth for each context row."""
    n = len(ctx.keys)
    if isinstance(node, Or):
        out = np.zeros(n, dtype=bool)
        for p in node.parts:
            out |= evaluate(p, ctx)
        return out
    if isinstance(node, And):
        out = np.ones(n, dtype=bool)
        for p in node.parts:
            out &= evaluate(p, ctx)
        return out
    if isinstance(node, Not):
        return ~evaluate(node.operand, ctx)
    if isinstance(node, Cmp):
        return _compare(node.op, ctx.value(node.left), ctx.value(node.right))
    if isinstance(node, Truthy):
        v = ctx.value(node.operand)
        s = v.str.strip()
        num = pd.to_numeric(s.where(s != ""), errors="coerce")
        return ((s != "") & ~(num == 0)).to_numpy()
    raise NotEvaluated("cannot evaluate this expression")


__all__ = ["parse", "evaluate", "references", "check_references", "Context", "NotEvaluated", "Ref"]
