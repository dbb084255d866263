"""REDCap's logic language: the tokenizer, the syntax tree and the one parser.

Branching logic, calculated fields, the validation rules' ``when:`` and the dummy-data
generator all read the same language (REDCap's "logic"):

* references ``[field]``, checkbox choices ``[field(code)]``, another event of the same
  record ``[event][field]``, the smart variable ``[event-name]``;
* literals: numbers (``12``, ``0.5``), text quoted with ``'`` or ``"`` (``''`` is blank),
  ``true`` and ``false``;
* arithmetic ``+ - * / ^`` (``^`` binds tightest and to the right; unary minus);
* comparisons ``=``, ``==``, ``<>``, ``!=``, ``<``, ``<=``, ``>``, ``>=``;
* ``and`` / ``&&``, ``or`` / ``||``, ``not`` / ``!`` (any case), parentheses;
* functions ``name(arg, ...)`` (see :mod:`.functions` for the ones evaluated).

Precedence, lowest first: ``or``; ``and``; ``not``; a comparison; ``+ -``; ``* /``;
``^``; unary minus. ``not`` applies to the comparison that follows it (``not [a] = '1'``
is ``not ([a] = '1')``), as the branching-logic parser always read it.

What cannot be read is a :class:`LogicSyntaxError` (REDCap itself would refuse it); what
is read but not evaluated here (smart variables, repeat-instance references, piping
options) is :class:`NotEvaluated`, with the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class NotEvaluated(Exception):
    """An expression this engine does not evaluate; the message says what."""


class LogicSyntaxError(NotEvaluated):
    """An expression that is not REDCap logic at all (unbalanced, a dangling operator, ...)."""


# ------------------------------------------------------------------------------------ tree
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
    """The smart variable ``[event-name]``: the unique name of the row's event."""


@dataclass(frozen=True)
class Lit:
    """A literal as written: quoted text, or a number's digits (``number`` set)."""

    text: str
    number: bool = False


@dataclass(frozen=True)
class Bool:
    value: bool


@dataclass(frozen=True)
class Neg:
    operand: object


@dataclass(frozen=True)
class Arith:
    op: str  # + - * / ^
    left: object
    right: object


@dataclass(frozen=True)
class Cmp:
    op: str  # = <> < <= > >=
    left: object
    right: object


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class And:
    parts: tuple


@dataclass(frozen=True)
class Or:
    parts: tuple


@dataclass(frozen=True)
class Call:
    name: str  # lower case
    args: tuple


CONDITIONS = (Cmp, Not, And, Or)


# ------------------------------------------------------------------------------- tokenizer
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<ref>\[[^\[\]]*\])
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<num>\d+(?:\.\d*)?|\.\d+)
  | (?P<cmp><>|!=|<=|>=|==|=|<|>)
  | (?P<andop>&&)
  | (?P<orop>\|\|)
  | (?P<bang>!)
  | (?P<arith>[-+*/^])
  | (?P<comma>,)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
""",
    re.VERBOSE | re.DOTALL,
)


def tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            continue
        if kind == "other":
            what = m.group()
            if what in "'\"":
                raise LogicSyntaxError(f"a quote {what} is not closed")
            if what in "[]":
                raise LogicSyntaxError(f"a square bracket {what} is not matched")
            raise LogicSyntaxError(f"cannot read {what!r}")
        out.append((kind, m.group()))
    return out


SMART_INSTANCE = ("current-instance", "previous-instance", "first-instance", "last-instance", "next-instance")


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokens(text)
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def word(self, *names: str) -> bool:
        kind, value = self.peek()
        return kind == "word" and value.lower() in names

    def fail(self, tok: tuple[str, str] | None = None):
        kind, value = tok or self.peek()
        raise LogicSyntaxError(
            f"cannot read the expression at '{value}'" if kind != "end" else "the expression ends too early"
        )

    def expect(self, kind: str) -> tuple[str, str]:
        tok = self.take()
        if tok[0] != kind:
            if kind == "rp":
                raise LogicSyntaxError(
                    "a parenthesis ( is not closed" if tok[0] == "end" else f"expected ')' at '{tok[1]}'"
                )
            self.fail(tok)
        return tok

    def parse(self):
        node = self.or_expr()
        if self.peek()[0] != "end":
            if self.peek()[0] == "rp":
                raise LogicSyntaxError("a parenthesis ) has no opening (")
            self.fail()
        return node

    def or_expr(self):
        parts = [self.and_expr()]
        while self.peek()[0] == "orop" or self.word("or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self):
        parts = [self.not_expr()]
        while self.peek()[0] == "andop" or self.word("and"):
            self.take()
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_expr(self):
        if self.peek()[0] == "bang" or self.word("not"):
            self.take()
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self):
        left = self.additive()
        if self.peek()[0] == "cmp":
            op = self.take()[1]
            right = self.additive()
            return Cmp({"==": "=", "!=": "<>"}.get(op, op), left, right)
        return left

    def additive(self):
        node = self.multiplicative()
        while self.peek() in (("arith", "+"), ("arith", "-")):
            op = self.take()[1]
            node = Arith(op, node, self.multiplicative())
        return node

    def multiplicative(self):
        node = self.power()
        while self.peek() in (("arith", "*"), ("arith", "/")):
            op = self.take()[1]
            node = Arith(op, node, self.power())
        return node

    def power(self):
        node = self.unary()
        if self.peek() == ("arith", "^"):
            self.take()
            return Arith("^", node, self.power_operand())
        return node

    def power_operand(self):
        if self.peek() == ("arith", "-"):
            self.take()
            return Neg(self.power_operand())
        return self.power()

    def unary(self):
        if self.peek() == ("arith", "-"):
            self.take()
            operand = self.unary()
            if isinstance(operand, Lit) and operand.number:
                return Lit("-" + operand.text, number=True)
            return Neg(operand)
        if self.peek() == ("arith", "+"):
            self.take()
            return self.unary()
        return self.atom()

    def atom(self):
        kind, value = self.peek()
        if kind == "lp":
            self.take()
            if self.peek()[0] == "rp":
                raise LogicSyntaxError("empty parentheses ()")
            node = self.or_expr()
            self.expect("rp")
            return node
        if kind == "str":
            self.take()
            return Lit(value[1:-1])
        if kind == "num":
            self.take()
            return Lit(value, number=True)
        if kind == "ref":
            return self.reference()
        if kind == "word":
            self.take()
            if self.peek()[0] == "lp":
                return self.call(value.lower())
            if value.lower() in ("true", "false"):
                return Bool(value.lower() == "true")
            raise LogicSyntaxError(f"'{value}' is not a field reference (write [{value}])")
        self.fail()

    def call(self, name: str) -> Call:
        self.expect("lp")
        args = []
        if self.peek()[0] != "rp":
            args.append(self.or_expr())
            while self.peek()[0] == "comma":
                self.take()
                args.append(self.or_expr())
        self.expect("rp")
        return Call(name, tuple(args))

    def reference(self):
        parts = [self.take()[1][1:-1].strip()]
        while self.peek()[0] == "ref":
            parts.append(self.take()[1][1:-1].strip())
        shown = "".join(f"[{p}]" for p in parts)
        if any(not p for p in parts):
            raise LogicSyntaxError(f"empty square brackets in {shown}")
        if len(parts) > 2:
            raise NotEvaluated(f"reference {shown} (with a repeat instance) is not evaluated")
        if len(parts) == 2:
            event, fld = parts
            if re.fullmatch(r"\d+", fld) or fld in SMART_INSTANCE:
                raise NotEvaluated(f"instance reference [{event}][{fld}] is not evaluated")
            if "-" in event and not re.fullmatch(r"[a-z0-9_]+", event):
                raise NotEvaluated(f"smart variable [{event}] is not evaluated")
            return _field_ref(fld, event)
        first = parts[0]
        if first == "event-name":
            return EventName()
        if "-" in first and not re.fullmatch(r"[a-z0-9_]+\(.*\)", first):
            raise NotEvaluated(f"smart variable [{first}] is not evaluated")
        return _field_ref(first, None)


def _field_ref(text: str, event: str | None) -> Ref:
    m = re.fullmatch(r"([A-Za-z][A-Za-z0-9_]*)(?:\(([^()]*)\))?", text)
    if not m:
        if ":" in text:
            raise NotEvaluated(f"[{text}] (a piping option) is not evaluated")
        raise LogicSyntaxError(f"[{text}] is not a field reference")
    return Ref(m.group(1), event, m.group(2).strip() if m.group(2) is not None else None)


def parse(text: str):
    """The expression's syntax tree: :class:`LogicSyntaxError` if it cannot be read,
    :class:`NotEvaluated` if it uses what is not evaluated."""
    if not text or not text.strip():
        raise LogicSyntaxError("empty expression")
    return _Parser(text).parse()


def children(node) -> tuple:
    if isinstance(node, (Neg, Not)):
        return (node.operand,)
    if isinstance(node, (Arith, Cmp)):
        return (node.left, node.right)
    if isinstance(node, (And, Or)):
        return node.parts
    if isinstance(node, Call):
        return node.args
    return ()


def references(node) -> list:
    """Field references and smart variables of a tree, in order."""
    if isinstance(node, (Ref, EventName)):
        return [node]
    return [r for c in children(node) for r in references(c)]


__all__ = [
    "parse",
    "references",
    "children",
    "NotEvaluated",
    "LogicSyntaxError",
    "Ref",
    "EventName",
    "Lit",
    "Bool",
    "Neg",
    "Arith",
    "Cmp",
    "Not",
    "And",
    "Or",
    "Call",
    "CONDITIONS",
]
