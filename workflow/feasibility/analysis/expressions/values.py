"""The expression language's values: :class:`V` (a scalar, one per row, or one per
instance of a repeating instrument), their kinds and dtypes, and helpers on arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field as dc_field
from typing import Any

import numpy as np
import pandas as pd


ROW = "row"


@dataclass
class V:
    """A value: a scalar (``level`` None), one per row of the scope (``"row"``) or one per
    instance of a repeating instrument (``level`` = that instrument's key).

    ``meta`` carries what a field or variable knows about itself (``choices``, ``label``,
    ``field``, ``checkbox`` columns)."""

    data: Any
    level: str | None = None
    meta: dict = dc_field(default_factory=dict)

    @property
    def is_scalar(self) -> bool:
        return self.level is None


def _is_missing_scalar(x) -> bool:
    return x is None or x is pd.NA or x is pd.NaT or (isinstance(x, float) and math.isnan(x))


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    return "text"


def _scalar_kind(x) -> str:
    if _is_missing_scalar(x):
        return "missing"
    if isinstance(x, (bool, np.bool_)):
        return "boolean"
    if isinstance(x, (pd.Timestamp, np.datetime64)):
        return "date"
    if isinstance(x, (int, float, np.number)):
        return "number"
    return "text"


def kind_of(v: V) -> str:
    """boolean, number, date, text (or missing, for a scalar NA)."""
    return _scalar_kind(v.data) if v.is_scalar else _kind(v.data)


def normalise(series: pd.Series) -> pd.Series:
    """A column in the language's dtypes: numbers float64, true/false nullable boolean,
    dates datetime64[ns], text object (missing None)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return series.astype("boolean")
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return series.astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(dtype):
        return series.astype("float64")
    out = series.astype(object)
    return out.where(series.notna(), None)


def take(values, positions: np.ndarray):
    """``values[positions]`` with -1 giving a missing value (any array type)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.arrays.NumpyExtensionArray) or not isinstance(
        values, pd.api.extensions.ExtensionArray
    ):
        values = np.asarray(values)
    return pd.api.extensions.take(values, np.asarray(positions, dtype=np.int64), allow_fill=True)


def spread(grouped: pd.Series, n: int, index: pd.Index, empty) -> pd.Series:
    """Values keyed by row position (0..n-1) as a series over ``index``; rows without a
    value get ``empty``."""
    where = np.full(n, -1, dtype=np.int64)
    keys = np.asarray(grouped.index, dtype=np.int64)
    where[keys] = np.arange(len(keys))
    out = pd.Series(take(grouped.array, where), index=index)
    if not _is_missing_scalar(empty):
        absent = where < 0
        if absent.any():
            out = out.mask(absent, empty)
    return out


def code_key(code) -> Any:
    """A choice code as a comparable key: numbers as float, anything else as text."""
    if isinstance(code, (int, float, np.number)) and not isinstance(code, bool):
        return float(code)
    text = str(code).strip()
    try:
        return float(text)
    except ValueError:
        return text


_code_key = code_key  # the name six modules import
