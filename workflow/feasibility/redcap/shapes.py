"""REDCap's metadata downloads recognised by their header before anything else reads them:
a file that is not one (another program's file named by mistake) is refused on that alone,
and nothing of its content is read further or shown."""

from __future__ import annotations

import csv
import io as _io
import os
from pathlib import Path

from .messages import fail

# The shape of REDCap's metadata downloads, by their header: a file without it (another
# program's file named by mistake, /etc/passwd) is refused on that alone, and nothing of its
# content is read further or shown. (key: what it is not, the columns its header needs,
# whether the first column must be one of them.)
SHAPES = {
    "dictionary": (
        "a REDCap data dictionary",
        ("Variable / Field Name", "field_name"),
        True,
        "whose first column is headed 'Variable / Field Name' (the download) or "
        "'field_name' (the API's metadata)",
    ),
    "instrument_designations": (
        "REDCap's instrument designations",
        ("arm_num", "unique_event_name", "form"),
        False,
        "whose header names arm_num, unique_event_name and form",
    ),
    "events": (
        "REDCap's events export",
        ("arm_num", "unique_event_name"),
        False,
        "whose header names arm_num and unique_event_name",
    ),
}
HEADER_BYTES = 1 << 16


def _header_cells(path: str) -> list[str] | None:
    """The cells of a CSV file's first line (read at most HEADER_BYTES); None for an empty file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        head = os.read(fd, HEADER_BYTES)
    finally:
        os.close(fd)
    if not head.strip():
        return None
    line = head.decode("utf-8-sig", errors="replace").splitlines()[0] if head.strip() else ""
    try:
        return [c.strip() for c in next(csv.reader(_io.StringIO(line)), [])]
    except csv.Error:
        return []


def shape_failures(files: dict[str, str]) -> list:
    """A failure (line 1, no value shown) for each metadata download whose header is not
    REDCap's (:data:`SHAPES`); an empty file is left to validation, which names it."""
    out = []
    for key, (what, columns, first, expect) in SHAPES.items():
        if key not in files:
            continue
        try:
            cells = _header_cells(files[key])
        except OSError:
            continue  # validation names what cannot be read
        if cells is None:
            continue
        ok = (cells[:1] and cells[0] in columns) if first else set(columns) <= set(cells)
        if not ok:
            out.append(
                fail(
                    Path(files[key]).name,
                    f"not {what}, {expect}: the file is not read further and its content is not shown",
                    line=1,
                )
            )
    return out
