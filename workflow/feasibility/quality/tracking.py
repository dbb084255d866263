"""Queries tracked from one export to the next (issue 24.3).

Each build keeps its query list in a history folder (``QUERY_HISTORY`` of
``workflow/rules/quality.smk``, under the study's results folder but outside what a failed
validation withdraws): one file per export, named by
the export's date and the SHA-256 of its records export, and ``exports.json`` listing the
exports in the order they were first built. A build compares its list with the previous
export's (the one listed before it; building the same export again compares with the same
one, so two builds are byte-identical) and marks each query:

* **new**: not in the previous export's list;
* **pending**: still there, with the same value;
* **changed**: the same cell (rule, record, event, instance, field), a new value, still a query;
* **resolved**: in the previous export's list and gone from this one (kept with its last value).

A query keeps the export date where it was first seen while it stays open; one that
was resolved and comes back is new again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from feasibility.io import write_parquet, write_text

from .queries import QUERY_COLUMNS

INDEX = "exports.json"
OPEN = ("new", "pending", "changed")


@dataclass
class Tracked:
    queries: pd.DataFrame  # this export's queries, status and first seen filled in
    resolved: pd.DataFrame  # the previous export's queries that are gone
    previous: dict | None  # the previous export's entry (export_date, export_hash, file)
    export_hash: str


def export_hash(validation: dict | None, queries: pd.DataFrame) -> str:
    """The SHA-256 of the records export (from validation's report), else of the query list."""
    for entry in (validation or {}).get("inputs") or []:
        if entry.get("what") == "records export" and entry.get("sha256"):
            return str(entry["sha256"])
    text = queries[["query_id", "value"]].to_csv(index=False) if len(queries) else ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_index(history: Path) -> list[dict]:
    path = history / INDEX
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ValueError(
            f"{path}: the query history's index is not valid JSON ({err}); move the folder "
            "away to start the history afresh"
        ) from None
    return [e for e in entries if isinstance(e, dict) and e.get("export_hash") and e.get("file")]


def _read_list(path: Path) -> pd.DataFrame:
    if not path.is_file():
        return pd.DataFrame(columns=QUERY_COLUMNS, dtype="string")
    frame = pd.read_parquet(path).fillna("").astype(str)
    for c in QUERY_COLUMNS:
        if c not in frame.columns:
            frame[c] = ""
    return frame[QUERY_COLUMNS]


def _write_list(path: Path, frame: pd.DataFrame) -> None:
    """An export's query list, kept as Parquet: read back exactly (a CSV would have to
    neutralise record IDs and values that look like spreadsheet formulas, io.write_csv)."""
    write_parquet(path, frame.fillna("").astype(str))


def track(queries: pd.DataFrame, history: str | os.PathLike, export_date: str | None, digest: str) -> Tracked:
    """Mark ``queries`` against the previous export in ``history`` and keep this export's list there."""
    history = Path(history)
    index = _read_index(history)
    hashes = [e["export_hash"] for e in index]
    date = export_date or ""
    if digest in hashes:
        pos = hashes.index(digest)
        previous = index[pos - 1] if pos > 0 else None
    else:
        previous = index[-1] if index else None
        index.append(
            {"export_date": date, "export_hash": digest, "file": f"{date or 'undated'}_{digest[:12]}.parquet"}
        )
    entry = index[hashes.index(digest)] if digest in hashes else index[-1]
    before = _read_list(history / previous["file"]) if previous else _read_list(history / "-")
    before = before[before["status"].isin(OPEN)]
    old = before.set_index("query_id")
    out = queries.copy()
    known = out["query_id"].isin(old.index)
    old_value = out["query_id"].map(old["value"]) if len(old) else pd.Series("", index=out.index)
    old_first = out["query_id"].map(old["first_seen"]) if len(old) else pd.Series("", index=out.index)
    out["status"] = "new"
    out.loc[known & (out["value"].astype(str) == old_value.astype(str)), "status"] = "pending"
    out.loc[known & (out["value"].astype(str) != old_value.astype(str)), "status"] = "changed"
    out["first_seen"] = date
    out.loc[known, "first_seen"] = old_first[known]
    resolved = before[~before["query_id"].isin(out["query_id"])].copy()
    resolved["status"] = "resolved"
    _write_list(history / entry["file"], out)
    write_text(history / INDEX, json.dumps(index, indent=2) + "\n")
    return Tracked(out.reset_index(drop=True), resolved.reset_index(drop=True), previous, digest)


__all__ = ["track", "Tracked", "export_hash", "INDEX", "OPEN"]
