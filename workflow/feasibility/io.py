"""File input and output at the edges of the pipeline.

Every file the pipeline writes goes through these functions, so that

* writes are atomic (a temporary file in the same folder, then ``os.replace``):
  an interrupted job never leaves a partial file that looks complete;
* CSV output is safe to open in a spreadsheet: text cells that begin with
  ``=``, ``+``, ``-``, ``@``, tab or carriage return get a leading apostrophe
  (OWASP "CSV injection"), while numbers, including negative ones, stay numbers;
* output is deterministic: fixed column order, ``\\n`` line endings, UTF-8, and no
  timestamps in Parquet metadata.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.part"):  # left by a killed run
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600; give the usual permissions
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def neutralise_formula(value):
    """Return ``value`` made safe for spreadsheets if it is text starting like a formula.

    >>> neutralise_formula("=cmd|' /C calc'!A0")
    "'=cmd|' /C calc'!A0"
    >>> neutralise_formula("-0.4 (-2.9 to 2.0)")
    "'-0.4 (-2.9 to 2.0)"
    >>> neutralise_formula(-0.4)
    -0.4
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells cannot be taken for spreadsheet formulas."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_formula)
    out.columns = [neutralise_formula(str(c)) for c in out.columns]
    return out


def csv_text(rows, line_end: str = "\n") -> str:
    """Rows as CSV text the way REDCap writes its downloads: a cell is quoted when it holds
    a comma, a quote or a line break of either kind. (Python's csv writer with a "\\n" line
    end leaves a cell holding a lone CR unquoted, which a reader then takes for a line
    break; each row is written with a "\\r\\n" end, which quotes CR and LF alike.)"""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    parts = []
    for row in rows:
        writer.writerow(row)
        parts.append(buf.getvalue()[:-2] + line_end)
        buf.seek(0)
        buf.truncate()
    return "".join(parts)


def write_csv(path: str | os.PathLike, df: pd.DataFrame, **kwargs) -> None:
    """Write ``df`` as a spreadsheet-safe, deterministic UTF-8 CSV."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    with atomic_path(path) as tmp:
        safe_csv_frame(df).to_csv(tmp, **kwargs)


def write_parquet(path: str | os.PathLike, df: pd.DataFrame) -> None:
    """Write ``df`` as Parquet without the index and without volatile metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def read_parquet(path: str | os.PathLike) -> pd.DataFrame:
    return pd.read_parquet(path)
