"""What the figures read from the analysis dataset: conditions, dates and coded levels of
declared expressions, one value per record (``feasibility.analysis``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from feasibility.analysis.expressions import Expression, _code_key, parse

NOT_RECORDED = "Not recorded"  # the panel of records without a level


def _rows(analysis, expr: Expression, where: str, timepoint: str | None = None) -> pd.Series:
    try:
        return analysis.evaluate_rows(expr, timepoint)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def condition(analysis, expr: Expression | None, where: str, timepoint: str | None = None) -> np.ndarray:
    """Records for which ``expr`` is true (missing counts as false); every record when None."""
    if expr is None:
        return np.ones(len(analysis.records), dtype=bool)
    values = _rows(analysis, expr, where, timepoint)
    if values.dtype.name != "boolean" and not pd.api.types.is_bool_dtype(values.dtype):
        raise ValueError(f"{where}: {expr.text!r} is not a condition (true/false)")
    return values.fillna(False).to_numpy(dtype=bool)


def population(analysis, expr: Expression | None, where: str) -> np.ndarray:
    """The declared population, else the study's participants (``flow.participants``), else
    everyone."""
    if expr is None and analysis.spec.participants:
        expr = parse(analysis.spec.participants, "flow.participants")
    return condition(analysis, expr, where)


def dates(analysis, expr: Expression, where: str) -> pd.Series:
    """A date per record (missing where there is none)."""
    values = _rows(analysis, expr, where)
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        if values.isna().all():
            return pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        raise ValueError(f"{where}: {expr.text!r} is not a date")
    return values


def levels(
    analysis, expr: Expression, where: str, among: np.ndarray | None = None
) -> tuple[pd.Series, list[str]]:
    """Each record's level as its label (missing stays missing) and the levels in order: a
    coded value's choices (every one, present or not), then any other values alphabetically;
    otherwise the values present (among the records ``among``), alphabetically."""
    try:
        v = analysis.evaluate(expr)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if v.is_scalar or v.level not in (None, "row"):
        raise ValueError(f"{where}: {expr.text!r} must give one value per record")
    data = v.data
    choices = v.meta.get("choices") or ()
    labels = {_code_key(c): str(t) for c, t in choices}
    text = pd.Series(
        [None if pd.isna(x) else labels.get(_code_key(x), str(x)) for x in data],
        index=data.index,
        dtype=object,
    )
    order = [str(t) for _, t in choices]
    present = text if among is None else text[among]
    order += sorted(set(present.dropna()) - set(order))
    return text, order


__all__ = ["condition", "population", "dates", "levels", "NOT_RECORDED"]
