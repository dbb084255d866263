"""The query list's files and its table in the quality report.

:func:`write_queries` makes the query list (:func:`feasibility.quality.queries.query_list`),
marks it against the previous export (:mod:`feasibility.quality.tracking`), and writes
``queries.csv`` (every open query and every query resolved since the previous export, with
its status), ``queries.xlsx`` (summary and one sheet per site) and the report's table of
queries by rule and by site and status (counts only: the report shows no record ID).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
from feasibility.tables.model import from_frame

from feasibility.io import write_csv, write_text

from .data import QualityData
from .queries import FOR_WHOM, OUTLIER_RULE, OVERDUE, QUERY_COLUMNS, RULE_NAMES, query_list
from .settings import QualitySettings
from .tables import Caption, QualityTable, _aligned, _html_id, _left_stub, _report_style, _source_note
from .tracking import Tracked, export_hash, track
from .workbook import STATUSES, site_slug, write_workbook

QUERIES_TABLE = "quality_queries"
SUMMARY_COLUMNS = ["group", "label", *STATUSES, "open"]


def tracked_queries(
    data: QualityData, settings: QualitySettings, history: str | os.PathLike
) -> tuple[Tracked, list[str]]:
    queries, notes = query_list(
        data, settings.checks, branching=settings.missingness.branching, schedule=settings.schedule
    )
    digest = export_hash(data.validation, queries)
    return track(queries, history, data.export.get("export_date"), digest), notes


def all_rows(t: Tracked) -> pd.DataFrame:
    """Open queries, then those resolved since the previous export."""
    return pd.concat([t.queries, t.resolved], ignore_index=True)[QUERY_COLUMNS]


def summary_frame(t: Tracked) -> pd.DataFrame:
    """Queries by rule and by site (rows), by status (columns): counts."""
    rows = all_rows(t)
    out = []

    def add(group: str, label: str, part: pd.DataFrame) -> None:
        counts = {s: int((part["status"] == s).sum()) for s in STATUSES}
        out.append(
            {
                "group": group,
                "label": label,
                **counts,
                "open": counts["new"] + counts["pending"] + counts["changed"],
            }
        )

    rules = list(dict.fromkeys(rows["rule"]))
    for rule in (
        [r for r in RULE_NAMES if r in rules]
        + [OVERDUE] * (OVERDUE in rules)
        + sorted(r for r in rules if r not in RULE_NAMES and r != OVERDUE)
    ):
        part = rows[rows["rule"] == rule]
        name = RULE_NAMES.get(rule) or part["rule_name"].iat[0] or rule
        label = (
            f"{rule}: {name}"
            if rule in RULE_NAMES
            else "Overdue form"
            if rule == OVERDUE
            else f"{rule} ({name.lower()})"
        )
        add("By rule", label, part)
    for site in dict.fromkeys(rows["site"]):
        add("By site", str(site), rows[rows["site"] == site])
    add("All queries", "All", rows)
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


def queries_table(data: QualityData, caption: Caption, t: Tracked, notes: list[str] = ()) -> QualityTable:
    frame = summary_frame(t)
    display = frame.copy()
    table_id = _html_id(QUERIES_TABLE)
    gt = from_frame(display, rowname_col="label", groupname_col="group", table_id=table_id)
    gt = gt.tab_header(caption.title, label=caption.label).tab_stubhead("Rule or site")
    gt = gt.cols_label(new="New", pending="Pending", changed="Changed", resolved="Resolved", open="Open")
    gt = _aligned(gt.fmt_integer(list(STATUSES) + ["open"]), [], list(STATUSES) + ["open"])
    previous = t.previous.get("export_date") if t.previous else None
    gt = gt.tab_source_note(
        "Queries of this export compared with "
        + (f"those of the export of {previous}" if previous else "none (no earlier export was built)")
        + ": new (not in the earlier list), pending (still there, same value), changed (same cell, new value), "
        "resolved (gone). Open: new, pending and changed."
    )
    gt = gt.tab_source_note(
        "Rules A to I are REDCap's data-quality rules, computed from the data dictionary and the validated data; "
        f"outliers (E): {OUTLIER_RULE}, a check, never a failure. Other rules: the study's validation rules and "
        "checks (quality.checks) by their IDs."
    )
    for note in notes:
        gt = gt.tab_source_note(note)
    gt = gt.tab_source_note(
        _source_note(data) + " The list of queries with record IDs is in queries.csv and "
        "queries.xlsx, for the study team only."
    )
    gt = _report_style(_left_stub(gt, table_id), table_id)
    return QualityTable(QUERIES_TABLE, caption, frame, gt, cells=False)


def write_queries(
    data: QualityData,
    settings: QualitySettings,
    caption: Caption,
    history: str | os.PathLike,
    csv: str | os.PathLike,
    xlsx: str | os.PathLike,
    table_html: str | os.PathLike,
    table_csv: str | os.PathLike,
    parquet: str | os.PathLike,
    meta_json: str | os.PathLike,
) -> Tracked:
    """Every query file of one build (see the module's docstring); ``parquet`` and ``meta_json``
    keep the list as it is, for a site's own workbook (:func:`write_site_workbook`)."""
    from feasibility.io import write_parquet

    t, notes = tracked_queries(data, settings, history)
    rows = all_rows(t)
    meta = workbook_meta(data, settings, t)
    write_csv(csv, rows.rename(columns={"record_id": data.codebook.get("record_id_field") or "record_id"}))
    write_parquet(parquet, rows.astype("string"))
    write_workbook(xlsx, t.queries, t.resolved, meta)
    queries_table(data, caption, t, notes).write(table_html, table_csv)
    write_text(
        meta_json,
        json.dumps(
            {
                "workbook": meta,
                "previous": t.previous,
                "open": int(len(t.queries)),
                "by_status": {s: int((rows["status"] == s).sum()) for s in STATUSES},
                "notes": notes,
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
    )
    return t


def workbook_meta(data: QualityData, settings: QualitySettings, t: Tracked) -> dict:
    meta = {
        "title": settings.title or data.title,
        "export_date": data.export.get("export_date"),
        "export_hash": t.export_hash,
        "previous_date": (t.previous or {}).get("export_date"),
    }
    if data.synthetic:
        meta["synthetic"] = data.data_statement
    if data.validation and not data.validation.get("ok", True):  # issue 25.2: said plainly
        from .settings import DID_NOT_PASS

        meta["did_not_pass"] = DID_NOT_PASS
    return meta


def write_site_workbook(
    parquet: str | os.PathLike, meta_json: str | os.PathLike, slug: str, xlsx: str | os.PathLike
) -> None:
    """``queries-<slug>.xlsx``: the summary and the sheet of the one site whose name gives ``slug``
    (:func:`site_slug`), from the build's ``queries.parquet`` and ``queries.json``."""
    rows = pd.read_parquet(parquet)
    meta = json.loads(Path(meta_json).read_text(encoding="utf-8"))
    sites = {site_slug(s): s for s in dict.fromkeys(rows["site"])}
    if slug not in sites:
        raise ValueError(
            f"{parquet}: no site whose file name is queries-{slug}.xlsx; the sites are: "
            + ", ".join(f"{k} ({v})" for k, v in sites.items())
        )
    part = rows[rows["site"] == sites[slug]]
    write_workbook(
        xlsx,
        part[part["status"] != "resolved"],
        part[part["status"] == "resolved"],
        meta["workbook"],
        sites=[sites[slug]],
    )


__all__ = [
    "write_queries",
    "queries_table",
    "summary_frame",
    "tracked_queries",
    "QUERIES_TABLE",
    "site_slug",
    "FOR_WHOM",
    "write_site_workbook",
]
