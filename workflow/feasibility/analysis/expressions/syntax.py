"""The expression language's syntax: errors, the syntax tree, and the parser (Python's
expression syntax read with :mod:`ast`, checked against a whitelist of nodes and the
registered functions; nothing is ever passed to ``eval``)."""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd


from .registry import FUNCTIONS

NA = pd.NA
LITERALS = {
    "true": True,
    "True": True,
    "false": False,
    "False": False,
    "NA": None,
    "None": None,
    "null": None,
}


# ----------------------------------------------------------------------------- errors
class ExpressionError(ValueError):
    """An expression that cannot be parsed or evaluated.

    ``where`` names the declaration (e.g. "derived variable 'placed'"), ``expression`` is
    its text, ``name`` the unknown or misused name and ``position`` its column (0-based).
    """

    def __init__(
        self,
        message: str,
        *,
        where: str = "",
        expression: str = "",
        name: str | None = None,
        position: int | None = None,
    ):
        self.message, self.where, self.expression = message, where, expression
        self.name, self.position = name, position
        super().__init__(self._text())

    def _text(self) -> str:
        head = f"{self.where}: " if self.where else ""
        text = f"{head}{self.message}"
        if self.expression:
            text += f"\n    {self.expression}"
            if self.position is not None:
                text += "\n    " + " " * self.position + "^"
        return text

    def located(self, where: str, expression: str) -> "ExpressionError":
        """The same error with the declaration and expression filled in (if not yet)."""
        return ExpressionError(
            self.message,
            where=self.where or where,
            expression=self.expression or expression,
            name=self.name,
            position=self.position,
        )


def suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""


# ----------------------------------------------------------------------------- syntax tree
@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Lit(Node):
    value: Any


@dataclass(frozen=True)
class Ref(Node):
    """A bare name: a variable, score, field, parameter or (as an argument) a form."""

    name: str


@dataclass(frozen=True)
class At(Node):
    """``name[timepoint]``: a per-time-point variable at one time point."""

    name: str
    timepoint: str


@dataclass(frozen=True)
class FieldRef(Node):
    """``form.field`` or ``form[event].field``."""

    form: str
    event: str | None
    field: str


@dataclass(frozen=True)
class FormAt(Node):
    """``form[event]`` as an argument of ``count`` or ``has``."""

    form: str
    event: str


@dataclass(frozen=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logic(Node):
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Compare(Node):
    ops: tuple[str, ...]
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class In(Node):
    operand: Node
    values: tuple
    negate: bool


@dataclass(frozen=True)
class Call(Node):
    function: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...] = ()


_BINOPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text and syntax tree."""

    text: str
    root: Node
    where: str = ""

    def names(self) -> set[str]:
        """Bare names and ``name[timepoint]`` names it refers to (for dependency order)."""
        out: set[str] = set()

        def walk(node):
            if isinstance(node, (Ref, At)):
                out.add(node.name)
            for value in vars(node).values():
                if isinstance(value, Node):
                    walk(value)
                elif isinstance(value, tuple):
                    for item in value:
                        if isinstance(item, Node):
                            walk(item)
                        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Node):
                            walk(item[1])

        walk(self.root)
        return out

    def error(self, message: str, node: Node | None = None, name: str | None = None):
        return ExpressionError(
            message,
            where=self.where,
            expression=self.text,
            name=name,
            position=None if node is None else node.pos,
        )


def parse(text: str, where: str = "", functions: Iterable[str] = ()) -> Expression:
    """Parse and check an expression (``where`` names the declaration, for errors).

    ``functions`` are extra function names a context provides (e.g. ``cell`` in notes).
    """
    if isinstance(text, bool) or text is None:
        text = {True: "true", False: "false", None: "NA"}[text]
    if isinstance(text, (int, float)):
        text = repr(text)
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression must be a non-empty text", where=where, expression=str(text))
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(
            f"is not a valid expression ({exc.msg})",
            where=where,
            expression=source,
            position=None if exc.offset is None else max(exc.offset - 1, 0),
        ) from None
    known = set(FUNCTIONS) | set(functions)
    return Expression(source, _Builder(source, where, known).build(tree.body), where)


class _Builder:
    """ast -> the whitelisted syntax tree; anything else is an error."""

    def __init__(self, text: str, where: str, functions: set[str]):
        self.text, self.where, self.functions = text, where, functions

    def fail(self, message: str, node: ast.AST, name: str | None = None):
        return ExpressionError(
            message,
            where=self.where,
            expression=self.text,
            name=name,
            position=getattr(node, "col_offset", None),
        )

    def build(self, node: ast.AST) -> Node:
        pos = getattr(node, "col_offset", 0)
        if isinstance(node, ast.Constant):
            if node.value is None or isinstance(node.value, (bool, int, float, str)):
                return Lit(pos, node.value)
            raise self.fail(f"the literal {node.value!r} is not allowed", node)
        if isinstance(node, ast.Name):
            if node.id in LITERALS:
                return Lit(pos, LITERALS[node.id])
            return Ref(pos, node.id)
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Subscript):
            target, index = node.value, self._event(node.slice)
            if not isinstance(target, ast.Name):
                raise self.fail("only a name can be followed by [time point]", node)
            return At(pos, target.id, index)
        if isinstance(node, ast.UnaryOp):
            ops = {ast.Not: "not", ast.USub: "-", ast.UAdd: "+"}
            if type(node.op) not in ops:
                raise self.fail("the operator ~ is not allowed (use not)", node)
            return Unary(pos, ops[type(node.op)], self.build(node.operand))
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _BINOPS:
                raise self.fail(
                    f"the operator {type(node.op).__name__} is not allowed (allowed: + - * / // % **)", node
                )
            return Binary(pos, _BINOPS[type(node.op)], self.build(node.left), self.build(node.right))
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return Logic(pos, op, tuple(self.build(v) for v in node.values))
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.IfExp):
            return Call(
                pos, "if_else", (self.build(node.test), self.build(node.body), self.build(node.orelse))
            )
        if isinstance(node, ast.Call):
            return self._call(node)
        kind = type(node).__name__
        raise self.fail(
            f"{kind} is not allowed in an expression (allowed: names, form.field, "
            "literals, arithmetic, comparisons, and/or/not, if-else and the "
            "listed functions)",
            node,
        )

    def _event(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        raise self.fail("[...] takes a time point or event name", node)

    def _attribute(self, node: ast.Attribute) -> Node:
        target = node.value
        if isinstance(target, ast.Name):
            return FieldRef(target.col_offset, target.id, None, node.attr)
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            return FieldRef(target.col_offset, target.value.id, self._event(target.slice), node.attr)
        raise self.fail("only form.field or form[event].field may use a dot", node)

    def _literal(self, node: ast.AST):
        if isinstance(node, ast.Constant) and (
            node.value is None or isinstance(node.value, (bool, int, float, str))
        ):
            return node.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))
        ):
            return -node.operand.value
        raise self.fail("the values after `in` must be literals, e.g. x in (1, 2)", node)

    def _compare(self, node: ast.Compare) -> Node:
        pos = node.col_offset
        if len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            values = node.comparators[0]
            if not isinstance(values, (ast.Tuple, ast.List, ast.Set)):
                raise self.fail("`in` needs a tuple of literals, e.g. x in (1, 2)", values)
            return In(
                pos,
                self.build(node.left),
                tuple(self._literal(v) for v in values.elts),
                isinstance(node.ops[0], ast.NotIn),
            )
        ops = []
        for op in node.ops:
            if type(op) not in _CMPOPS:
                raise self.fail(
                    f"the comparison {type(op).__name__} is not allowed here "
                    "(use == != < <= > >=, or a single `in`)",
                    node,
                )
            ops.append(_CMPOPS[type(op)])
        operands = tuple(self.build(n) for n in (node.left, *node.comparators))
        return Compare(pos, tuple(ops), operands)

    def _call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name):
            raise self.fail("only the listed functions can be called, e.g. sum(...)", node)
        name = node.func.id
        if name not in self.functions:
            raise self.fail(f"unknown function {name!r}{suggest(name, self.functions)}", node, name)
        spec = FUNCTIONS.get(name)
        kwargs = []
        for kw in node.keywords:
            if kw.arg is None:
                raise self.fail("**arguments are not allowed", node)
            if spec is not None and kw.arg not in spec.keywords:
                allowed = ", ".join(spec.keywords) or "none"
                raise self.fail(
                    f"{name}() takes no argument {kw.arg!r} (keywords: {allowed})", kw.value, kw.arg
                )
            kwargs.append((kw.arg, self.build(kw.value)))
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.fail("*arguments are not allowed", node)
        args = []
        for a in node.args:
            if (
                isinstance(a, ast.Subscript)
                and isinstance(a.value, ast.Name)
                and spec is not None
                and spec.form_argument
            ):
                args.append(FormAt(a.col_offset, a.value.id, self._event(a.slice)))
            else:
                args.append(self.build(a))
        if spec is not None:
            too_many = spec.max_args is not None and len(args) > spec.max_args
            if len(args) < spec.min_args or too_many:
                want = (
                    f"{spec.min_args}"
                    if spec.max_args == spec.min_args
                    else f"{spec.min_args} or more"
                    if spec.max_args is None
                    else f"{spec.min_args} to {spec.max_args}"
                )
                raise self.fail(f"{name}() takes {want} argument(s), not {len(args)}", node, name)
        return Call(node.col_offset, name, tuple(args), tuple(kwargs))
