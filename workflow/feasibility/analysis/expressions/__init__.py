"""Declared expressions: a small, safe, vectorised expression language over a study's data.

A study file declares derived variables, populations, table rows and notes as
expressions in Python's expression syntax, parsed with :mod:`ast` and checked against a
whitelist of nodes and functions; nothing is ever passed to ``eval``. Every expression is
evaluated on whole columns (pandas/numpy), never row by row.

Names
    ``field`` (any field of the data dictionary), ``form.field`` and
    ``form[event].field`` (``event`` a declared time point or a REDCap unique event name),
    ``var`` (a derived variable, a score or a declared parameter), ``var[timepoint]``
    (a score or per-time-point variable at one time point), ``form`` (as the first argument
    of ``count``/``has``), the literals ``true``/``false`` and ``NA``.
Operators
    ``+ - * / // % **``, ``== != < <= > >=`` (chained too), ``in``/``not in`` a tuple of
    literals, ``and``/``or``/``not`` (three-valued: ``NA and false`` is false, ``NA or true``
    is true, otherwise NA), ``a if cond else b``.
Missing values
    A comparison or arithmetic with a missing value is missing; a filter (``where=``, a
    table's population) keeps only rows where the condition is true. Aggregates skip
    missing values.
Levels
    A value is one per record (the row level), one per instance of a repeating instrument,
    or a single scalar. Aggregates reduce one level: in derived variables the instances of
    a repeating instrument to one value per record; in tables and notes (summary
    expressions) the records of the population to one number.

See :data:`FUNCTIONS` for the functions. Errors are :class:`ExpressionError`, naming
the declaration, the expression, the position and the unknown name, with suggestions.

The package: :mod:`.syntax` (the parser), :mod:`.values` (values and their kinds),
:mod:`.registry` (every function with its arity and help, registered beside its body),
:mod:`.evaluate` (the evaluator) and one module per family of functions.
"""

# the families register their functions when imported, in the order the reference lists them
from . import choices, numbers, dates, dictionary, aggregates, text  # noqa: F401
from .evaluate import Evaluator, Scope, as_row_series, evaluate
from .registry import FUNCTIONS, FunctionSpec, declare, function
from .syntax import (
    LITERALS,
    NA,
    At,
    Binary,
    Call,
    Compare,
    Expression,
    ExpressionError,
    FieldRef,
    FormAt,
    In,
    Lit,
    Logic,
    Node,
    Ref,
    Unary,
    parse,
    suggest,
)
from .values import ROW, V, _code_key, _is_missing_scalar, code_key, kind_of, normalise, spread, take

# a function the dataset's scope provides (its Scope.call), known to the parser
declare(
    "instrument_note",
    2,
    2,
    help="instrument_note('eq5d', 'method'): a note the "
    "instrument's scorer writes (e.g. the EQ-5D valuation method)",
)

__all__ = [
    "FUNCTIONS",
    "FunctionSpec",
    "function",
    "Evaluator",
    "Scope",
    "as_row_series",
    "evaluate",
    "LITERALS",
    "NA",
    "At",
    "Binary",
    "Call",
    "Compare",
    "Expression",
    "ExpressionError",
    "FieldRef",
    "FormAt",
    "In",
    "Lit",
    "Logic",
    "Node",
    "Ref",
    "Unary",
    "parse",
    "suggest",
    "ROW",
    "V",
    "code_key",
    "kind_of",
    "normalise",
    "spread",
    "take",
    "_code_key",
    "_is_missing_scalar",
]
