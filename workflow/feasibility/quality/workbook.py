"""The query workbook (Excel, with openpyxl): a summary sheet, then one sheet per site.

Each site's sheet lists its queries (record ID, event, instance, instrument, field, value,
rule, message, severity, status, first seen), columns sized to their content and filtered,
the header row frozen. :func:`site_workbook` writes one site's own file
(``queries-<site>.xlsx``). The files are byte-identical from one build to the next:
the document properties and every zip entry are dated the export date.

Text that a spreadsheet would take for a formula (``=…``) is stored as text, and characters
a workbook cannot hold (control characters) are shown by their code.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import datetime

import pandas as pd

from feasibility.io import atomic_path

from .queries import FOR_WHOM, RULE_NAMES

SHEET_COLUMNS = [
    ("query_id", "Query ID"),
    ("status", "Status"),
    ("site", "Site"),
    ("record_id", "Record ID"),
    ("event_label", "Event"),
    ("instance", "Instance"),
    ("instrument", "Instrument"),
    ("field_label", "Field"),
    ("field", "Field name"),
    ("value", "Value"),
    ("rule", "Rule"),
    ("rule_name", "Rule name"),
    ("message", "Message"),
    ("severity", "Severity"),
    ("first_seen", "First seen"),
]
STATUSES = ("new", "pending", "changed", "resolved")
MAX_WIDTH = 60
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def site_slug(site: str) -> str:
    """The site's name in a file name: ``queries-<slug>.xlsx`` (letters, digits, ``-`` and ``_``)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", str(site)).strip("-").lower()
    return slug or "site"


def _sheet_name(site: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("-", str(site)).strip("'")[:31] or "Site"
    name, k = base, 2
    while name.lower() in taken:
        suffix = f" ({k})"
        name, k = base[: 31 - len(suffix)] + suffix, k + 1
    taken.add(name.lower())
    return name


def _text(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return _ILLEGAL.sub(lambda m: f"<U+{ord(m.group()):04X}>", str(value))


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


def _write_rows(ws, rows: list[list], *, header: bool = True, widths: dict[int, float] | None = None) -> None:
    """Rows of text or numbers, strings never taken as formulas; widths fitted to the content."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    widths = widths if widths is not None else {}
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row, start=1):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cell = WriteOnlyCell(ws, value=value)
                shown = f"{value:,}"
            else:
                text = _text(value)
                cell = WriteOnlyCell(ws, value=text)
                cell.data_type = "s"
                shown = text
            if header and r == 0:
                cell.font = bold
            widths[c] = max(
                widths.get(c, 0), min(MAX_WIDTH, max((len(x) for x in shown.split("\n")), default=0))
            )
            cells.append(cell)
        ws.append(cells)


def _sized(ws, widths: dict[int, float]) -> None:
    for c, w in widths.items():
        ws.column_dimensions[_letter(c)].width = max(8, w + 2)


def _site_sheet(wb, name: str, frame: pd.DataFrame) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    ws = wb.create_sheet(name)
    cols = []
    for c, _ in SHEET_COLUMNS:
        values = (
            frame[c].astype("string").fillna("")
            if c in frame
            else pd.Series([""] * len(frame), dtype="string")
        )
        cols.append(values.str.replace(_ILLEGAL, lambda m: f"<U+{ord(m.group()):04X}>", regex=True).tolist())
    widths = {
        c: min(MAX_WIDTH, max(len(label), max((len(v) for v in cols[c - 1]), default=0)))
        for c, (_, label) in enumerate(SHEET_COLUMNS, start=1)
    }
    _sized(ws, widths)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{_letter(len(SHEET_COLUMNS))}{len(frame) + 1}"
    bold = Font(bold=True)
    header = []
    for _, label in SHEET_COLUMNS:
        cell = WriteOnlyCell(ws, value=label)
        cell.font = bold
        header.append(cell)
    ws.append(header)

    def text(value: str):
        if not value.startswith("="):
            return value
        cell = WriteOnlyCell(ws, value=value)  # text, never a formula
        cell.data_type = "s"
        return cell

    for row in zip(*cols):
        ws.append([text(v) for v in row])


def _summary_sheet(wb, frame: pd.DataFrame, resolved: pd.DataFrame, meta: dict) -> None:
    ws = wb.create_sheet("Summary")
    rows: list[list] = [
        [f"Queries: {meta.get('title') or 'REDCap project'}"],
        [FOR_WHOM],
        [
            f"Export of {meta.get('export_date') or 'an unknown date'}"
            + (f" (SHA-256 {meta['export_hash'][:12]}…)" if meta.get("export_hash") else "")
            + (
                f"; compared with the export of {meta['previous_date']}"
                if meta.get("previous_date")
                else "; no earlier export to compare with"
            )
        ],
        [],
    ]
    if meta.get("synthetic"):
        rows.insert(1, [meta["synthetic"]])
    if meta.get("did_not_pass"):
        rows.insert(1, [meta["did_not_pass"]])
    everything = pd.concat([frame, resolved], ignore_index=True)
    statuses = [s for s in STATUSES]
    rows.append(["Site", *[s.title() for s in statuses], "Open"])
    sites = list(dict.fromkeys(everything["site"].tolist()))
    for site in sites:
        part = everything[everything["site"] == site]
        counts = [int((part["status"] == s).sum()) for s in statuses]
        rows.append([site, *counts, int(sum(counts[:3]))])
    counts = [int((everything["status"] == s).sum()) for s in statuses]
    rows.append(["All sites", *counts, int(sum(counts[:3]))])
    rows += [[], ["Rule", "Name", "Open queries"]]
    by_rule = frame.groupby("rule", sort=False).size()
    order = [r for r in RULE_NAMES if r in by_rule.index] + sorted(
        r for r in by_rule.index if r not in RULE_NAMES
    )
    for rule in order:
        name = frame.loc[frame["rule"] == rule, "rule_name"].iat[0]
        rows.append([rule, name, int(by_rule[rule])])
    rows += [
        [],
        [
            "Status: new (not in the previous export's list), pending (still there, same value), changed "
            "(same cell, new value, still a query), resolved (gone from this export's list: listed on the "
            "site sheets with its last value)."
        ],
    ]
    widths: dict[int, float] = {1: 14, 2: 12, 3: 12, 4: 12, 5: 12, 6: 12}
    _sized(ws, widths)
    _write_rows(ws, rows, header=False, widths={})


def write_workbook(
    path: str | os.PathLike,
    frame: pd.DataFrame,
    resolved: pd.DataFrame,
    meta: dict,
    sites: list[str] | None = None,
) -> None:
    """The workbook: summary, then one sheet per site (``sites``: those sites only, in that
    order; default every site of the list). ``frame``: the open queries; ``resolved``: the
    previous export's queries that are gone."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    everything = pd.concat([frame, resolved], ignore_index=True)
    if sites is None:
        sites = list(dict.fromkeys(everything["site"].tolist()))
    _summary_sheet(wb, frame[frame["site"].isin(sites)], resolved[resolved["site"].isin(sites)], meta)
    taken = {"summary"}
    for site in sites:
        _site_sheet(wb, _sheet_name(site, taken), everything[everything["site"] == site])
    when = datetime.fromisoformat(meta.get("export_date") or "2000-01-01")
    wb.properties.creator = "feasibility-report"
    wb.properties.lastModifiedBy = "feasibility-report"
    wb.properties.title = "Queries"
    wb.properties.created = wb.properties.modified = when
    buffer = io.BytesIO()
    wb.save(buffer)
    _write_fixed(path, buffer.getvalue(), when)


def _write_fixed(path, data: bytes, when: datetime) -> None:
    """The workbook's zip again, every entry dated ``when``, and so the document's last
    modification (openpyxl dates both now, whatever the properties say)."""
    stamp = (max(when.year, 1980), when.month, when.day, 0, 0, 0)
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
                fixed.compress_type = zipfile.ZIP_DEFLATED
                fixed.external_attr = 0o600 << 16
                body = src.read(info.filename)
                if info.filename == "docProps/core.xml":
                    body = re.sub(
                        rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                        lambda m: m.group(1) + iso + m.group(2),
                        body,
                    )
                dst.writestr(fixed, body)


__all__ = ["write_workbook", "site_slug", "SHEET_COLUMNS", "STATUSES"]
