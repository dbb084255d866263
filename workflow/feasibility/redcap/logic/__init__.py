"""REDCap's logic language: one parser, one vectorised evaluator, and what uses them.

* :mod:`.syntax` - the tokenizer, the syntax tree and the parser (comparisons, ``and``/
  ``or``/``not``, arithmetic, functions, ``[event][field]``, ``[field(code)]``);
* :mod:`.evaluate` - values over rows, REDCap's semantics for blanks, and the functions
  (:data:`~.evaluate.FUNCTIONS`: ``if``, ``datediff``, ``sum``, ``round``, ...);
* :mod:`.data` - references resolved across a project's tidy tables, and values present
  where a field's branching logic hides it;
* :mod:`.calcs` - calculated fields recomputed and compared with the stored values.

Branching logic, calculated fields, the validation rules' ``when:`` and the dummy-data
generator (:mod:`feasibility.synth.dummy`) all use this one engine.
"""

from .evaluate import FUNCTIONS, Context, Value, calculate, check, check_references, evaluate, value
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
    parse,
    references,
)

__all__ = [
    "parse",
    "references",
    "value",
    "evaluate",
    "calculate",
    "check",
    "check_references",
    "Context",
    "Value",
    "FUNCTIONS",
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
]
