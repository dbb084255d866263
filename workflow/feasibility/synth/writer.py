"""Write raw exports and the data dictionary exactly as REDCap exports them.

Cells are formatted column by column: each column's distinct values are formatted
once and the formatted text is gathered by position, so a 100,000-row export costs
a few thousand format calls per column rather than one per cell.
"""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from .. import crf
from ..io import write_text


def _fmt(value, fld: crf.Field | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return value.strftime("%Y-%m-%d")
    if fld is not None and fld.validation in ("number_1dp", "number_2dp"):
        return f"{float(value):.{1 if fld.validation == 'number_1dp' else 2}f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_cell(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def column_cells(values: pd.Series, fld: crf.Field | None) -> np.ndarray:
    """CSV cells of one column (an object array of str): blanks for missing values,
    dates as YYYY-MM-DD, whole numbers without a decimal point, 1 or 2 decimals
    for the fields validated as number_1dp / number_2dp, text quoted when needed."""
    positions, distinct = pd.factorize(values, use_na_sentinel=True)
    cells = np.array([_csv_cell(_fmt(v, fld)) for v in distinct] + [""], dtype=object)
    return cells[positions]          # position -1 (missing) takes the last cell, ""


def export_csv_text(export: crf.Export, df: pd.DataFrame) -> str:
    """One export as REDCap's flat CSV: its columns in dictionary order, raw codes."""
    columns = crf.export_columns(export)
    unknown = set(df.columns) - set(columns)
    if unknown:
        raise ValueError(f"{export.file}: columns not in the dictionary: {sorted(unknown)}")
    by_col = {c: f for f in crf.fields() for c in f.columns()}
    blank = np.full(len(df), "", dtype=object)
    cells = [column_cells(df[c], by_col.get(c)) if c in df else blank for c in columns]
    lines = [",".join(columns), *map(",".join, zip(*cells))]
    return "\n".join(lines) + "\n"


def dictionary_csv_text(sites: tuple[tuple[int, str], ...] = crf.SITES) -> str:
    """The REDCap data dictionary (18 columns) for every field of every form.

    ``sites`` is the study's own site list, written as the choices of the site
    fields (``crf.SITE_FIELDS``); validation takes the study's sites from it.
    """
    rows = [crf.DICTIONARY_COLUMNS] + [crf.dictionary_row(fld, sites) for fld in crf.fields()]
    return "\n".join(",".join(_csv_cell(c) for c in r) for r in rows) + "\n"


def write_export(export: crf.Export, df: pd.DataFrame, out: Path) -> Path:
    path = Path(out) / export.file
    write_text(path, export_csv_text(export, df))
    return path


def write_dictionary(out: Path, sites: tuple[tuple[int, str], ...] = crf.SITES) -> Path:
    path = Path(out) / crf.DICTIONARY_FILE
    write_text(path, dictionary_csv_text(sites))
    return path


def write_exports(tables: dict[str, pd.DataFrame], out: Path) -> list[Path]:
    written = [write_export(export, tables[name], out) for name, export in crf.EXPORTS.items()]
    return written + [write_dictionary(out)]
