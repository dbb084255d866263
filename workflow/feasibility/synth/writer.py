"""Write raw exports and the data dictionary exactly as REDCap exports them."""
from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

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


def export_csv_text(export: crf.Export, df: pd.DataFrame) -> str:
    """One export as REDCap's flat CSV: its columns in dictionary order, raw codes."""
    columns = crf.export_columns(export)
    by_col = {}
    for fld in crf.fields():
        for col in fld.columns():
            by_col[col] = fld
    unknown = set(df.columns) - set(columns)
    if unknown:
        raise ValueError(f"{export.file}: columns not in the dictionary: {sorted(unknown)}")
    lines = [",".join(columns)]
    frame = df.reindex(columns=columns)
    for row in frame.itertuples(index=False):
        lines.append(",".join(_csv_cell(_fmt(v, by_col.get(c))) for c, v in zip(columns, row)))
    return "\n".join(lines) + "\n"


def dictionary_csv_text() -> str:
    """The REDCap data dictionary (18 columns) for every field of every form."""
    rows = [crf.DICTIONARY_COLUMNS]
    for fld in crf.fields():
        choices = " | ".join(f"{c}, {label}" for c, label in fld.choices) if fld.ftype != "yesno" else ""
        if fld.ftype == "slider":
            choices = "0 | 50 | 100"

        def num(v):
            return "" if v is None else (str(int(v)) if float(v).is_integer() else str(v))

        rows.append([fld.name, fld.form, "", fld.ftype, fld.label, choices, fld.note,
                     fld.validation, num(fld.vmin), num(fld.vmax), "y" if fld.identifier else "",
                     fld.branching, "y" if fld.required else "", "", "", "", "", ""])
    return "\n".join(",".join(_csv_cell(c) for c in r) for r in rows) + "\n"


def write_exports(tables: dict[str, pd.DataFrame], out: Path) -> list[Path]:
    out = Path(out)
    written = []
    for name, export in crf.EXPORTS.items():
        path = out / export.file
        write_text(path, export_csv_text(export, tables[name]))
        written.append(path)
    path = out / crf.DICTIONARY_FILE
    write_text(path, dictionary_csv_text())
    written.append(path)
    return written
