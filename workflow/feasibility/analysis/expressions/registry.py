"""The expression language's functions: each registered once, by the decorator
:func:`function` on its body, with its arity, keywords and help (one module per family:
``choices``, ``numbers``, ``dates``, ``dictionary``, ``aggregates``, ``text``).

The parser checks a call's arity and keywords against :data:`FUNCTIONS`; the evaluator
calls the function's body with itself and the call's node.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class FunctionSpec:
    min_args: int
    max_args: int | None
    keywords: tuple[str, ...] = ()
    form_argument: bool = False  # the first argument may be a form
    help: str = ""
    aggregate: bool = False  # reduces the instances of a record, or the rows of a summary
    row_wise: bool = False  # with several arguments, one value per row
    impl: Callable[[Any, Any], Any] | None = None  # (evaluator, call node) -> value; None: the scope's


FUNCTIONS: dict[str, FunctionSpec] = {}


def function(
    name: str,
    min_args: int,
    max_args: int | None,
    keywords: tuple[str, ...] = (),
    *,
    form_argument: bool = False,
    help: str = "",
    aggregate: bool = False,
    row_wise: bool = False,
):
    """Register the decorated body as the function ``name`` of the language."""

    def register(impl):
        if name in FUNCTIONS:
            raise ValueError(f"the expression function {name}() is registered twice")
        FUNCTIONS[name] = FunctionSpec(
            min_args, max_args, keywords, form_argument, help, aggregate, row_wise, impl
        )
        return impl

    return register


def declare(name: str, min_args: int, max_args: int | None, *, help: str = "") -> None:
    """A function the scope provides (its body is the scope's ``call``), registered for the
    parser."""
    if name in FUNCTIONS:
        raise ValueError(f"the expression function {name}() is registered twice")
    FUNCTIONS[name] = FunctionSpec(min_args, max_args, help=help)
