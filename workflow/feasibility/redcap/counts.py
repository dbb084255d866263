"""Checks that keep counts from being silently wrong (issue 20.7).

* A missing-data code that is also a choice code of a field (``1`` in a project where a
  radio field has the choice ``1``) would turn every such answer into "missing": refused,
  naming the code and the field.
* Two record IDs that differ only in letter case (``S002`` and ``s002``) are far more
  often one participant typed twice than two people: a failure, unless the study file
  says the project truly has such IDs (``redcap.case_sensitive_ids: true``). IDs with
  spaces around them are refused row by row already (:mod:`.tidy`).
* When the study declares its sites as REDCap data access groups
  (``redcap.data_access_groups``), a group outside them is a failure naming it, and an
  export without the ``redcap_data_access_group`` column is refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from .messages import MAX_PER_RULE, Failure, fail, more_of
from .model import Project
from .records import DAG, EVENT, Records


def _same_code(a: str, b: str) -> bool:
    if a.strip() == b.strip():
        return True
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def missing_code_collisions(project: Project, codes_from: str) -> list[Failure]:
    """A failure for each missing-data code that is also one of a field's choice codes."""
    codes = [c for c, _ in project.missing_data_codes]
    if not codes:
        return []
    source = project.sources[0] if project.sources else "data dictionary"
    out: list[Failure] = []
    for f in project.fields:
        if f.type not in ("radio", "dropdown", "checkbox", "yesno", "truefalse"):
            continue
        for code in codes:
            hit = next(((c, label) for c, label in f.codes if _same_code(c, code)), None)
            if hit is None:
                continue
            out.append(
                fail(
                    source,
                    f"the missing-data code {code} ({codes_from}) is also the choice "
                    f"{hit[0]} ('{hit[1]}') of field {f.name}: every answer {hit[0]} would be "
                    "read as missing. Give the missing data another code",
                    line=f.line,
                    field=f.name,
                    value=code,
                )
            )
    return out


def case_duplicate_ids(records: Records) -> list[Failure]:
    """Record IDs that differ only in letter case, each named once at its first line."""
    p = records.project
    ids = np.asarray(
        pc.utf8_trim_whitespace(records.column(p.record_id_field)).to_numpy(zero_copy_only=False),
        dtype=object,
    )
    frame = pd.DataFrame({"id": ids, "line": records.lines})
    frame = frame[frame["id"] != ""]
    firsts = frame.drop_duplicates("id", keep="first")
    firsts = firsts.assign(key=firsts["id"].str.casefold())
    clash = firsts[firsts.duplicated("key", keep=False)]
    if not len(clash):
        return []
    first_of = clash.drop_duplicates("key", keep="first").set_index("key")
    later = clash[clash.duplicated("key", keep="first")]
    out: list[Failure] = []
    rule = (
        "record ID differs only in letter case from record {other} (line {line}): one participant typed "
        "twice? (a project whose record IDs truly differ only in case says so in its study file: "
        "redcap.case_sensitive_ids: true)"
    )
    if len(later) > MAX_PER_RULE:
        out.append(
            more_of(
                records.file,
                p.record_id_field,
                "record IDs differ only in letter case",
                len(later) - MAX_PER_RULE,
            )
        )
    for rec, line, key in later[["id", "line", "key"]].head(MAX_PER_RULE).itertuples(index=False):
        other = first_of.loc[key]
        out.append(
            fail(
                records.file,
                rule.format(other=other["id"], line=int(other["line"])),
                line=line,
                record=rec,
                field=p.record_id_field,
                value=rec,
            )
        )
    return out


def dag_failures(records: Records, groups) -> list[Failure]:
    """Data access groups outside the declared ones; no data-access-group column at all."""
    if not groups:
        return []
    declared = [str(g) for g in groups]
    if not records.has(DAG):
        return [
            fail(
                records.file,
                "the study declares its sites as data access groups (redcap.data_access_groups: "
                f"{', '.join(declared)}) but the export has no {DAG} column: export the records "
                "with their data access groups",
                line=1,
                field=DAG,
            )
        ]
    values = np.asarray(
        pc.utf8_trim_whitespace(records.column(DAG)).to_numpy(zero_copy_only=False), dtype=object
    )
    p = records.project
    rec = np.asarray(
        pc.utf8_trim_whitespace(records.column(p.record_id_field)).to_numpy(zero_copy_only=False),
        dtype=object,
    )
    event = (
        np.asarray(
            pc.utf8_trim_whitespace(records.column(EVENT)).to_numpy(zero_copy_only=False), dtype=object
        )
        if records.has(EVENT)
        else np.full(len(values), "", dtype=object)
    )
    outside = (values != "") & ~np.isin(values, declared)
    out: list[Failure] = []
    if not outside.any():
        return out
    frame = pd.DataFrame(
        {
            "group": values[outside],
            "line": records.lines[outside],
            "record": rec[outside],
            "event": event[outside],
        }
    )
    counts = frame["group"].value_counts(sort=False)
    for group, line, record, ev in frame.drop_duplicates("group")[
        ["group", "line", "record", "event"]
    ].itertuples(index=False):
        n = int(counts[group])
        out.append(
            fail(
                records.file,
                f"data access group {group} is not one of the study's sites "
                f"(redcap.data_access_groups: {', '.join(declared)})"
                + (f"; {n:,} rows hold it" if n > 1 else ""),
                line=line,
                record=record,
                event=ev,
                field=DAG,
                value=group,
            )
        )
    return out


__all__ = ["missing_code_collisions", "case_duplicate_ids", "dag_failures"]
