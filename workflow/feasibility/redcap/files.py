"""Reading REDCap's CSV downloads safely: what the file is, how it is encoded, where each record starts.

* Anything that is not a regular file is refused before it is opened (a FIFO would block
  for ever), and so is a file over the size limit; the failure names path and size.
* Encoding: UTF-8 with or without a byte-order mark (REDCap's download has one; the API's
  has not). UTF-16 with or without a BOM, and other non-UTF-8 bytes, are refused naming
  the probable encoding and where the first offending byte is.
* CSV shape: a file re-saved with ``;`` or tab separators, a trailing comma on every line,
  empty or duplicate header cells and ragged rows are each named once, with positions.
* Every record keeps the physical line it starts on (a quoted cell may span lines), so a
  failure can say "line 1234" of the file as a person opens it. CRLF and LF both work.
* Large files: Arrow's CSV reader does the work; Python's ``csv`` module is used only to
  pin down ragged rows exactly. A cell longer than ``max_cell_chars`` (the csv module's
  own limit by default) is a failure naming line and column, never a crash.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .messages import MAX_PER_RULE, Failure, fail

DEFAULT_MAX_BYTES = 1_000_000_000  # 1 GB (10^9 bytes)
DEFAULT_MAX_CELL = 131072  # the csv module's default field_size_limit


@dataclass
class Limits:
    """Resource limits for one read (configurable in a study file: ``validation.max_file_mb``, ``validation.max_cell_chars``)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_cell_chars: int = DEFAULT_MAX_CELL


@dataclass
class TextTable:
    """A CSV file as text cells: header, one Arrow string column per header cell, and the
    physical line each record starts on."""

    path: Path
    header: list[str]
    table: pa.Table
    lines: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.name

    def __len__(self) -> int:
        return self.table.num_rows


def describe(t: "TextTable") -> str:
    """How the file was written (REDCap's download has a byte-order mark and CRLF line ends)."""
    bom, crlf = "UTF-8 byte-order mark" in t.notes, "CRLF line ends" in t.notes
    return (
        ("UTF-8 byte-order mark" if bom else "no byte-order mark")
        + ", "
        + ("CRLF line ends" if crlf else "LF line ends")
        + (", as REDCap's download writes them" if bom and crlf else "")
    )


def check_regular_file(path: Path, limits: Limits, what: str) -> list[Failure]:
    """Stat first: a missing path, anything but a regular file, or a file over the size
    limit is refused without being opened."""
    name = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return [fail(name, f"{what} is missing (no such file)")]
    except OSError as exc:
        return [fail(name, f"{what} cannot be read: {exc.strerror or exc}")]
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(st.st_mode)
            else "a named pipe (FIFO)"
            if stat.S_ISFIFO(st.st_mode)
            else "a socket"
            if stat.S_ISSOCK(st.st_mode)
            else "a device"
            if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
            else "not a regular file"
        )
        return [fail(name, f"{what} is {kind}, not a regular file; refused without reading it")]
    if st.st_size > limits.max_bytes:
        return [
            fail(
                name,
                f"{what} is {_size(st.st_size)}, over the size limit of {_size(limits.max_bytes)} "
                "(validation.max_file_mb); refused without reading it",
            )
        ]
    return []


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:,.3g} MB ({n:,} bytes)"
    return f"{n:,} bytes"


def read_bytes(path: Path, limits: Limits, what: str) -> tuple[bytes | None, list[Failure]]:
    failures = check_regular_file(path, limits, what)
    if failures:
        return None, failures
    # O_NONBLOCK: should the path have been swapped for a FIFO since the stat, opening
    # it does not wait for a writer.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None, [fail(str(path), f"{what} is not a regular file; refused")]
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limits.max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > limits.max_bytes:
        return None, [
            fail(str(path), f"{what} grew over the size limit of {_size(limits.max_bytes)} while read")
        ]
    return data, []


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode(data: bytes, name: str) -> tuple[str | None, list[str], list[Failure]]:
    """Text of a UTF-8 file (a byte-order mark is dropped and noted); otherwise a failure
    naming the probable encoding."""
    notes: list[str] = []
    if data.startswith(codecs.BOM_UTF8):
        notes.append("UTF-8 byte-order mark")
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        which = "UTF-16 LE" if data.startswith(codecs.BOM_UTF16_LE) else "UTF-16 BE"
        return (
            None,
            notes,
            [
                fail(
                    name,
                    f"file is {which} (it starts with a UTF-16 byte-order mark), not UTF-8; "
                    "download it from REDCap again, or save it as 'CSV UTF-8'",
                    line=1,
                )
            ],
        )
    else:
        sample = data[:4096]
        if len(sample) >= 4 and sample.count(0) >= len(sample) // 4:
            even, odd = sample[0::2].count(0), sample[1::2].count(0)
            which = "UTF-16 BE" if even > odd else "UTF-16 LE"
            return (
                None,
                notes,
                [
                    fail(
                        name,
                        f"file is probably {which} without a byte-order mark "
                        f"({sample.count(0)} NUL bytes in its first {len(sample)}); "
                        "save it as 'CSV UTF-8'",
                        line=1,
                    )
                ],
            )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        guess = _guess_encoding(data)
        return (
            None,
            notes,
            [
                fail(
                    name,
                    f"file is not UTF-8: byte 0x{data[exc.start]:02X} at byte offset "
                    f"{exc.start} cannot be read; it is probably {guess}. Download it from "
                    "REDCap again, or save it as 'CSV UTF-8'",
                    line=_line_of(data, exc.start),
                )
            ],
        )
    if "\x00" in text:
        pos = text.index("\x00")
        return (
            None,
            notes,
            [
                fail(
                    name,
                    "file contains NUL bytes (binary data or a UTF-16 fragment); save it as 'CSV UTF-8'",
                    line=text.count("\n", 0, pos) + 1,
                )
            ],
        )
    return text, notes, []


def _guess_encoding(data: bytes) -> str:
    high = [b for b in data if b >= 0x80]
    if any(0x80 <= b <= 0x9F for b in high):
        return "Windows-1252 (a file saved by Excel on Windows)"
    if high:
        try:
            data.decode("mac_roman")
        except UnicodeDecodeError:
            pass
        return "ISO-8859-1 (Latin-1) or Windows-1252"
    return "not text"


def _record_starts(text: str) -> tuple[np.ndarray, bool]:
    """Physical line (1-based) each CSV record starts on, skipping empty lines as the
    readers do; and whether the text has CRLF line ends."""
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    n = data.size
    nl_pos = np.flatnonzero(data == ord("\n"))
    nl_char = ord("\n")
    if not nl_pos.size:
        nl_char = ord("\r")
        nl_pos = np.flatnonzero(data == nl_char)
    quote_pos = np.flatnonzero(data == ord('"'))
    quotes_before = np.searchsorted(quote_pos, nl_pos)
    boundary = nl_pos[(quotes_before & 1) == 0]  # newlines outside quotes end a record
    starts = np.concatenate(([0], boundary + 1))
    starts = starts[starts < n]
    first = data[starts]
    starts = starts[(first != ord("\n")) & (first != ord("\r"))]
    line_of_start = np.searchsorted(nl_pos, starts, side="left") + 1
    crlf = bool(nl_char == ord("\n") and nl_pos.size and nl_pos[0] > 0 and data[nl_pos[0] - 1] == ord("\r"))
    return line_of_start.astype(np.int64), crlf


def parse_header(
    text: str, name: str, what: str, max_columns: int | None = None
) -> tuple[list[str] | None, list[Failure]]:
    """The header row, with the shape problems a person can fix named once each; a header
    of more than ``max_columns`` cells is refused at once (its cost would grow with it)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return None, [fail(name, f"{what} is empty (no header)")]
    except csv.Error as exc:
        return None, [fail(name, f"{what}'s header cannot be read as CSV: {exc}", line=1)]
    if max_columns is not None and len(header) > max_columns:
        return None, [
            fail(
                name,
                f"the header has {len(header):,} columns, more than the {max_columns:,} a "
                f"{what} of this project can have; refused without reading further",
                line=1,
                value=", ".join(header[:3]) + ", …",
            )
        ]
    failures: list[Failure] = []
    if len(header) == 1 and any(sep in header[0] for sep in (";", "\t")):
        sep = "';'" if ";" in header[0] else "tab"
        return None, [
            fail(
                name,
                f"the header is one cell holding {sep} separators: the file was re-saved with "
                f"{sep} between columns (a spreadsheet in a comma-decimal locale?); REDCap's CSV "
                "uses commas. Download it again, or save it as 'CSV UTF-8 (comma delimited)'",
                line=1,
                value=header[0],
            )
        ]
    if header and header[-1].strip() == "" and len(header) > 1:
        failures.append(
            fail(
                name,
                f"column {len(header)} of the header is empty, after "
                f"'{header[-2]}': a trailing comma at the end of the line (a file "
                "edited by hand or re-saved?)",
                line=1,
                field=f"column {len(header)}",
            )
        )
    for i, h in enumerate(header[:-1] if failures else header, start=1):
        if h.strip() == "":
            failures.append(fail(name, f"column {i} of the header is empty", line=1, field=f"column {i}"))
    stripped = [h.strip() for h in header]
    seen: dict[str, int] = {}
    for i, h in enumerate(stripped, start=1):
        if h and h in seen:
            failures.append(
                fail(
                    name,
                    f"column '{h}' appears twice in the header (columns {seen[h]} and {i})",
                    line=1,
                    field=h,
                )
            )
        seen.setdefault(h, i)
    for i, (raw, h) in enumerate(zip(header, stripped), start=1):
        if raw != h and h:
            failures.append(
                fail(
                    name,
                    f"header cell {i} has spaces around its name",
                    line=1,
                    field=h,
                    value=raw,
                    severity="warning",
                )
            )
    return stripped, failures


def read_csv_text(
    path: Path,
    what: str,
    limits: Limits | None = None,
    header_hook=None,
    max_columns: int | None = None,
    spreadsheet: bool = False,
) -> tuple[TextTable | None, list[Failure]]:
    """A CSV file as text cells and record lines, or None and the failures that say why.
    ``header_hook(header, name)`` may recognise the file from its header alone (a labels
    export) and return the one failure that says so; a header of more than ``max_columns``
    cells is refused at once. ``spreadsheet``: the file may have been re-saved by a
    spreadsheet (a data dictionary): empty header cells at the end of the line, whose
    columns are empty on every row, are dropped silently (:func:`_drop_empty_tail`)."""
    limits = limits or Limits()
    path = Path(path)
    name = path.name
    data, failures = read_bytes(path, limits, what)
    if data is None:
        return None, failures
    text, notes, failures = decode(data, name)
    if text is None:
        return None, failures
    del data
    if not text.strip():
        return None, [fail(name, f"{what} is empty (no header, no rows)")]
    header, failures = parse_header(text, name, what, max_columns)
    full_header = header
    if spreadsheet and header is not None:
        header, failures = _empty_tail(header, failures)
    if header is not None and header_hook is not None:
        found = header_hook(header, name)
        if found is not None:
            return None, [found]
    if header is None or any(f.severity == "error" for f in failures):
        return None, failures
    starts, crlf = _record_starts(text)
    if crlf:
        notes.append("CRLF line ends")
    table = _arrow_parse(text, full_header)
    if table is None or table.num_rows != len(starts) - 1:
        table, lines, more = _python_parse(text, full_header, name, limits)
        failures += more
    else:
        lines = starts[1:]
    if len(full_header) > len(header):
        table, more = _drop_empty_tail(table, header, lines, name)
        failures += more
    failures += _long_cells(table, header, lines, name, limits)
    return TextTable(path, header, table, lines, notes), failures


def _empty_tail(header: list[str], failures: list[Failure]) -> tuple[list[str], list[Failure]]:
    """The header without its empty cells at the end (a spreadsheet's re-save writes them for
    columns it once saw in use), and the failures without those that named them."""
    keep = len(header)
    while keep > 1 and header[keep - 1] == "":
        keep -= 1
    if keep == len(header):
        return header, failures
    dropped = {f"column {i}" for i in range(keep + 1, len(header) + 1)}
    return header[:keep], [f for f in failures if not (f.line == 1 and f.field in dropped)]


def _drop_empty_tail(
    table: pa.Table, header: list[str], lines: np.ndarray, name: str
) -> tuple[pa.Table, list[Failure]]:
    """The table without its unnamed trailing columns; a value in one is a failure (data in
    a column no header names), at its line."""
    failures = []
    for i in range(len(header), table.num_columns):
        col = table.column(i)
        filled = pc.not_equal(pc.utf8_trim_whitespace(col), "").to_numpy(zero_copy_only=False)
        for r in np.flatnonzero(filled)[:MAX_PER_RULE]:
            failures.append(
                fail(
                    name,
                    f"column {i + 1} has no header but holds a value",
                    line=int(lines[r]),
                    field=f"column {i + 1}",
                    value=col[int(r)].as_py(),
                )
            )
    table = table.select(list(range(len(header)))).rename_columns(header)
    return table, failures


def _arrow_parse(text: str, header: list[str]) -> pa.Table | None:
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table.rename_columns(header).combine_chunks()


def _python_parse(
    text: str, header: list[str], name: str, limits: Limits
) -> tuple[pa.Table, np.ndarray, list[Failure]]:
    """The exact reader: each ragged row is named with its physical line and dropped."""
    failures: list[Failure] = []
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, len(text) + 1))
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        next(reader)
        columns: list[list[str]] = [[] for _ in header]
        lines: list[int] = []
        ragged = 0
        start = reader.line_num + 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                failures.append(fail(name, f"row cannot be read as CSV: {exc}", line=start))
                break
            if not row or row == [""]:
                start = reader.line_num + 1
                continue
            if len(row) != len(header):
                ragged += 1
                if ragged <= MAX_PER_RULE:  # the rest are counted (a file of short lines stays cheap)
                    extra = ""
                    if len(row) == len(header) + 1 and row[-1] == "":
                        extra = " (a trailing comma at the end of the line?)"
                    failures.append(
                        fail(
                            name,
                            f"ragged row: {len(row)} cells where the header has {len(header)}{extra}",
                            line=start,
                            record=row[0] if row else "",
                        )
                    )
            else:
                for col, cell in zip(columns, row):
                    col.append(cell)
                lines.append(start)
            start = reader.line_num + 1
    finally:
        csv.field_size_limit(old)
    if ragged > MAX_PER_RULE:
        failures.append(
            Failure(
                file=name,
                rule=f"ragged rows: {ragged - MAX_PER_RULE:,} more rows whose number of "
                f"cells is not the header's {len(header)} (only the first "
                f"{MAX_PER_RULE:,} are listed)",
            )
        )
    table = pa.Table.from_arrays([pa.array(c, type=pa.string()) for c in columns], names=header)
    return table, np.asarray(lines, dtype=np.int64), failures


def _long_cells(
    table: pa.Table, header: list[str], lines: np.ndarray, name: str, limits: Limits
) -> list[Failure]:
    out = []
    for i, h in enumerate(header):
        col = table.column(i)
        too_long = pc.greater(pc.utf8_length(col), limits.max_cell_chars).to_numpy(zero_copy_only=False)
        for r in np.flatnonzero(too_long):
            value = col[int(r)].as_py()
            out.append(
                fail(
                    name,
                    f"cell is {len(value):,} characters long, over the limit of "
                    f"{limits.max_cell_chars:,} (validation.max_cell_chars)",
                    line=int(lines[r]),
                    record=table.column(0)[int(r)].as_py()[:80],
                    field=h,
                    value=value,
                )
            )
    return out
