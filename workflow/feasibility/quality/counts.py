"""Records by arm, event and data access group; form completion status by event.

Counts of records (never their IDs) from the validated tables. A record "has data" at an
event when any form has a row for it there (docs/design.md: a row exists where the form has a
non-blank field or a status of Unverified or Complete).

Form completion status is REDCap's ``<form>_complete`` (0 Incomplete, 1 Unverified,
2 Complete), counted per record among the records with data at the event, as REDCap's
record status dashboard shows it: a record with no row of the form there has *no data*. A
repeating form's status for a record is that of its least complete instance (one
incomplete instance makes the record's form incomplete); its instances are counted apart.
Forms not designated for an event are *not designated*, never *no data*.

A *conditional* form - one whose every counted field has branching logic, such as a
questionnaire asked only of those in paid work - is expected only from the records for
which at least one of its fields is shown (the logic evaluated on the record's data at the
event, :mod:`feasibility.quality.missingness`); a record with data at the event whose
every field of the form is hidden there is *not expected* and leaves the denominator
(issue 24.4). A record with a row of the form always counts. Logic that cannot be
evaluated (a reference to a dropped identifier) keeps every record expected.
"""

from __future__ import annotations

import pandas as pd

from feasibility.tables.common import cell, cells_frame

from .data import ARM, EVENT, NO_GROUP, RECORD, QualityData, counted

RECORDS_TABLE = "quality_records"
COMPLETION_TABLE = "quality_completion"
COMPLETION_SITE_TABLE = "quality_completion_site"
TOTAL = "All records"
STATUS_COLUMNS = {
    "complete": "Complete",
    "unverified": "Unverified",
    "incomplete": "Incomplete",
    "no_status": "No status exported",
    "no_data": "No data",
}
_STATUS_OF_CODE = {2: "complete", 1: "unverified", 0: "incomplete"}


def event_group(data: QualityData, arm: int, event: str) -> str:
    """How a table names an event: its label, led by the arm when the project has several."""
    if not data.longitudinal:
        return ""
    label = data.event_label(event)
    return f"{data.arm_label(arm)} · {label}" if len(data.arms) > 1 else label


# ------------------------------------------------------------------------------ records
def records_by_event(data: QualityData) -> pd.DataFrame:
    """Records with data: per arm (``event`` None: any event) and per event, by data access
    group (``dag`` None: all groups). Columns arm, event, dag, records."""
    rows = data.rows[[RECORD, ARM, EVENT]].drop_duplicates()
    if data.has_dags:
        rows = rows.assign(dag=rows[RECORD].map(data.record_dag).astype("string"))
    out = []
    for arm in data.arms:
        in_arm = rows[rows[ARM] == arm]
        scopes = [(None, in_arm)] if data.longitudinal else []
        scopes += [
            (e["unique_name"], in_arm[in_arm[EVENT] == e["unique_name"]]) for e in data.events_of_arm(arm)
        ]
        for event, part in scopes:
            out.append({"arm": arm, "event": event, "dag": None, "records": int(part[RECORD].nunique())})
            if data.has_dags:
                counts = part.groupby("dag", observed=True)[RECORD].nunique()
                out += [
                    {"arm": arm, "event": event, "dag": g, "records": int(counts.get(g, 0))}
                    for g in data.dags
                ]
    return pd.DataFrame(out, columns=["arm", "event", "dag", "records"])


def records_cells(data: QualityData) -> pd.DataFrame:
    """:func:`records_by_event` as tidy cells (``tables.common``): row groups are arms (when
    there are several), rows are events, columns are data access groups and all records."""
    cells = []
    for r in records_by_event(data).itertuples(index=False):
        group = data.arm_label(r.arm) if len(data.arms) > 1 else ""
        if r.event is None:
            label = "Any event"
        elif data.longitudinal:
            label = data.event_label(r.event)
        else:
            label = "Records"
        cells.append(
            cell(
                RECORDS_TABLE,
                group,
                label,
                TOTAL if r.dag is None else r.dag,
                "count",
                decimals=0,
                estimate=float(r.records),
                n=r.records,
            )
        )
    return cells_frame(cells)


# ------------------------------------------------------------------------------ expected
def conditional_forms(data: QualityData) -> dict[str, list[str]]:
    """Form -> the distinct branching logic of its fields, for the forms whose every counted
    field (calculated ones aside, which REDCap computes whether shown or not) has one."""
    from .missingness import counted_fields

    fields: dict[str, list[dict]] = {}
    for f in counted_fields(data):
        if f.get("type") != "calc":
            fields.setdefault(f["form"], []).append(f)
    out = {}
    for form, fs in fields.items():
        if fs and all((f.get("branching") or "").strip() for f in fs):
            out[form] = list(dict.fromkeys(f["branching"].strip() for f in fs))
    return out


def not_expected(data: QualityData) -> pd.DataFrame:
    """(record, event, form) where a conditional form is not expected: the record has data
    at the event, no row of the form, and every field of the form hidden there. Computed
    once per data set."""
    cached = data.__dict__.get("_not_expected")
    if cached is not None:
        return cached
    from feasibility.redcap.logic import Context, NotEvaluated, evaluate, parse

    from .missingness import _check, _Lookup

    columns = [RECORD, EVENT, "form"]
    parts = []
    forms = conditional_forms(data)
    if forms:
        lookup = _Lookup(data)
        present = data.rows[[RECORD, EVENT, "form"]].drop_duplicates()
        at_event = data.rows[[RECORD, EVENT]].drop_duplicates()
        for form, logic in forms.items():
            events = [e for e, fs in data.designations.items() if form in fs]
            cand = at_event[at_event[EVENT].isin(events)]
            have = present[present["form"] == form]
            cand = cand.merge(have[[RECORD, EVENT]], on=[RECORD, EVENT], how="left", indicator=True)
            cand = cand[cand["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)
            if not len(cand):
                continue
            keys = pd.DataFrame(
                {
                    "record": cand[RECORD].astype("string").fillna("").to_numpy(dtype=object),
                    "event": cand[EVENT].astype("string").fillna("").to_numpy(dtype=object),
                    "instance": [""] * len(cand),
                }
            )
            shown = pd.Series(False, index=cand.index)
            try:
                for text in logic:
                    node = parse(text)
                    _check(node, data, lookup)
                    shown |= pd.Series(evaluate(node, Context(None, lookup, keys)), index=cand.index).astype(
                        bool
                    )
            except (NotEvaluated, ValueError):
                continue  # cannot tell: every record stays expected
            hidden = cand.loc[~shown.to_numpy()]
            parts.append(hidden.assign(form=form)[columns])
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    data.__dict__["_not_expected"] = out
    return out


# ------------------------------------------------------------------------------ completion
def completion_status(data: QualityData, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per arm, event and form (every pair, designated or not): the records expected to
    complete the form there (``records``: those with data at the event, ``with_data``, less
    those for whom a conditional form's every field is hidden, ``not_expected``), and how
    many of them have the form Complete, Unverified, Incomplete, without a status, or no
    data; instances of a repeating form; the proportion complete of those expected.
    ``rows``: some of ``data.rows`` (one site's), default all."""
    rows = data.rows if rows is None else rows
    at_event = rows.groupby([ARM, EVENT], observed=True)[RECORD].nunique()
    status = rows.assign(rank=rows["status"].map({0: 0, 1: 1, 2: 2}).astype("Float64").fillna(-1))
    # a record's status for a form at an event: its least complete instance
    per_record = status.groupby([ARM, EVENT, "form", RECORD], observed=True)["rank"].min().reset_index()
    tallies = (
        per_record.assign(
            kind=per_record["rank"].map(
                {-1.0: "no_status", 0.0: "incomplete", 1.0: "unverified", 2.0: "complete"}
            )
        )
        .groupby([ARM, EVENT, "form", "kind"], observed=True)
        .size()
    )
    instances = rows.groupby([ARM, EVENT, "form"], observed=True).size()
    hidden = not_expected(data)
    if len(hidden):
        mine = rows[[RECORD, ARM, EVENT]].drop_duplicates()
        hidden = hidden.merge(mine, on=[RECORD, EVENT], how="inner")
        skipped = hidden.groupby([ARM, EVENT, "form"], observed=True).size()
    else:
        skipped = pd.Series(dtype=int)
    out = []
    for arm in data.arms:
        for e in data.events_of_arm(arm):
            event = e["unique_name"]
            n = int(at_event.get((arm, event), 0))
            for form in data.forms:
                name = form["name"]
                designated = data.designated(event, name)
                skip = int(skipped.get((arm, event, name), 0)) if designated else 0
                expected = n - skip
                rec = {
                    "arm": arm,
                    "event": event,
                    "form": name,
                    "designated": designated,
                    "repeating": (event, name) in data.repeating,
                    "records": expected if designated else pd.NA,
                    "with_data": n if designated else pd.NA,
                    "not_expected": skip if designated else pd.NA,
                }
                counts = {k: int(tallies.get((arm, event, name, k), 0)) for k in _STATUS_OF_CODE.values()}
                counts["no_status"] = int(tallies.get((arm, event, name, "no_status"), 0))
                counts["no_data"] = expected - sum(counts.values())
                for k in STATUS_COLUMNS:
                    rec[k] = counts[k] if designated else pd.NA
                rec["instances"] = int(instances.get((arm, event, name), 0)) if designated else pd.NA
                rec["proportion_complete"] = (
                    counts["complete"] / expected if designated and expected else float("nan")
                )
                out.append(rec)
    frame = pd.DataFrame(out)
    for c in ["records", "with_data", "not_expected", *STATUS_COLUMNS, "instances"]:
        frame[c] = frame[c].astype("Int64")
    return frame


def site_of_rows(data: QualityData) -> pd.Series:
    """Each row of ``data.rows``: its record's data access group (``NO_GROUP`` without DAGs)."""
    if not data.has_dags:
        return pd.Series(NO_GROUP, index=data.rows.index, dtype="string")
    return data.rows[RECORD].astype("string").map(data.record_dag).fillna(NO_GROUP).astype("string")


def completion_by_site(data: QualityData) -> pd.DataFrame:
    """:func:`completion_status` for each data access group (column ``site``; one site,
    ``NO_GROUP``, without DAGs), among the site's records with data at the event."""
    site = site_of_rows(data)
    sites = data.dags if data.has_dags else [NO_GROUP]
    parts = [completion_status(data, data.rows[(site == s).to_numpy()]).assign(site=s) for s in sites]
    return pd.concat(parts, ignore_index=True)


def completion_site_cells(data: QualityData, by_site: pd.DataFrame | None = None) -> pd.DataFrame:
    """Forms Complete, n (%) of the site's records expected to complete the form at the
    event: row groups are events, rows forms (instrument labels), columns sites."""
    by_site = completion_by_site(data) if by_site is None else by_site
    shown = by_site[by_site["designated"].astype(bool)]
    cells = []
    for r in shown.itertuples(index=False):
        group = event_group(data, r.arm, r.event)
        n = int(r.records)
        cells.append(
            cell(
                COMPLETION_SITE_TABLE,
                group,
                data.form_label(r.form),
                r.site,
                "n_pct",
                decimals=0,
                estimate=100.0 * int(r.complete) / n if n else float("nan"),
                n=int(r.complete),
                denominator=n,
            )
        )
    return cells_frame(cells)


def completion_cells(data: QualityData, status: pd.DataFrame | None = None) -> pd.DataFrame:
    """The designated (event, form) pairs of :func:`completion_status` as tidy cells: status
    counts as n (%) of the records expected to complete the form at the event, a repeating
    form's instances, and (when a conditional form left any out) the records not expected."""
    status = completion_status(data) if status is None else status
    shown = status[status["designated"].astype(bool)]
    kinds = [k for k in STATUS_COLUMNS if k != "no_status" or shown["no_status"].fillna(0).sum() > 0]
    conditional = bool(shown["not_expected"].fillna(0).sum() > 0)
    cells = []
    for r in shown.itertuples(index=False):
        group = event_group(data, r.arm, r.event)
        group = f"{group} ({counted(r.with_data, 'record')})" if group else ""
        label = data.form_label(r.form)
        for k in kinds:
            cells.append(
                cell(
                    COMPLETION_TABLE,
                    group,
                    label,
                    k,
                    "n_pct",
                    decimals=0,
                    estimate=100.0 * getattr(r, k) / r.records if r.records else float("nan"),
                    n=int(getattr(r, k)),
                    denominator=int(r.records),
                )
            )
        if r.repeating:
            cells.append(
                cell(
                    COMPLETION_TABLE,
                    group,
                    label,
                    "instances",
                    "count",
                    decimals=0,
                    estimate=float(r.instances),
                    n=int(r.instances),
                )
            )
        if conditional:
            cells.append(
                cell(
                    COMPLETION_TABLE,
                    group,
                    label,
                    "not_expected",
                    "count",
                    decimals=0,
                    estimate=float(r.not_expected),
                    n=int(r.not_expected),
                )
            )
    return cells_frame(cells)


__all__ = [
    "records_by_event",
    "records_cells",
    "completion_status",
    "completion_cells",
    "event_group",
    "completion_by_site",
    "completion_site_cells",
    "site_of_rows",
    "COMPLETION_SITE_TABLE",
    "conditional_forms",
    "not_expected",
    "RECORDS_TABLE",
    "COMPLETION_TABLE",
    "STATUS_COLUMNS",
    "TOTAL",
]
