"""Recruitment over time: records by the month of a named date field, by group.

Each record is counted once, in the month of its recruitment date (the study file's
``quality.recruitment.date_field``, at ``event`` when named, else its earliest value), by
data access group and by a declared source field (a coded field: site, clinic, referral
route). Dates are used at month precision only; records without a date are counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .data import EVENT, NO_GROUP, RECORD, QualityData
from .settings import Recruitment

ALL = "All records"
NOT_RECORDED = "Not recorded"
COLUMNS = ["panel", "group", "month", "recruited", "cumulative"]


class RecruitmentError(ValueError):
    """The study file's recruitment settings do not fit the project."""


@dataclass(frozen=True)
class RecruitmentData:
    frame: pd.DataFrame  # COLUMNS: one row per panel, group and month
    date_field: str
    date_label: str
    event: str | None
    without_date: int  # records with data but no recruitment date
    source_field: str | None = None
    source_label: str | None = None

    @property
    def recruited(self) -> int:
        part = self.frame[(self.frame["panel"] == "all")]
        return int(part["recruited"].sum())


def _field(data: QualityData, name: str, what: str) -> dict:
    f = data.fields.get(name)
    if f is None:
        raise RecruitmentError(f"quality.recruitment.{what}: {name!r} is not a field of the project")
    if name in data.identifiers_dropped:
        raise RecruitmentError(
            f"quality.recruitment.{what}: {name!r} is an identifier, dropped after validation; "
            "name a field that is not an identifier (for example the date of consent)"
        )
    if what == "date_field" and not (f.get("validation") or "").startswith(("date", "datetime")):
        raise RecruitmentError(
            f"quality.recruitment.date_field: {name!r} is not a date or datetime field "
            f"(its validation is {f.get('validation') or 'none'})"
        )
    if what == "source_field" and (not f.get("choices") or f.get("type") == "checkbox"):
        raise RecruitmentError(
            f"quality.recruitment.source_field: {name!r} is not a coded field "
            "(radio, dropdown, yesno or truefalse)"
        )
    if f["form"] not in data.tables or name not in data.tables[f["form"]].columns:
        raise RecruitmentError(f"quality.recruitment.{what}: {name!r} has no column in the validated data")
    return f


def _first_per_record(data: QualityData, f: dict, event: str | None) -> pd.Series:
    t = data.tables[f["form"]]
    if event is not None:
        if EVENT not in t.columns:
            raise RecruitmentError(
                f"quality.recruitment.event: {event!r} given, but the project has no events"
            )
        if event not in {e["unique_name"] for e in data.events}:
            raise RecruitmentError(f"quality.recruitment.event: {event!r} is not an event of the project")
        t = t[t[EVENT] == event]
    values = t[[RECORD, f["name"]]].dropna()
    values = values.sort_values(f["name"], kind="stable").drop_duplicates(RECORD, keep="first")
    return values.set_index(values[RECORD].astype("string"))[f["name"]]


def recruitment_by_month(data: QualityData, settings: Recruitment) -> RecruitmentData | None:
    """Records recruited per month (and cumulatively) in all, by data access group and by
    source; None when no date field is named."""
    if not settings.date_field:
        return None
    f = _field(data, settings.date_field, "date_field")
    dates = pd.to_datetime(_first_per_record(data, f, settings.event))
    months = dates.dt.to_period("M")
    everyone = pd.Index(data.rows[RECORD].unique()).astype("string")
    groups: dict[str, pd.Series] = {"all": pd.Series(ALL, index=months.index, dtype="string")}
    if settings.by_dag and data.has_dags:
        groups["dag"] = months.index.to_series().map(data.record_dag).fillna(NO_GROUP).astype("string")
    source_label = None
    if settings.source_field:
        s = _field(data, settings.source_field, "source_field")
        labels = {str(code): label for code, label in s["choices"]}
        first = _first_per_record(data, s, None).astype("string")
        groups["source"] = (
            months.index.to_series().map(first).map(labels).fillna(NOT_RECORDED).astype("string")
        )
        source_label = s.get("label") or s["name"]
    rows = []
    if len(months):
        span = pd.period_range(months.min(), months.max(), freq="M")
        for panel, group in groups.items():
            counts = pd.crosstab(group, months).reindex(columns=span, fill_value=0)
            order = _group_order(panel, counts, data, s["choices"] if panel == "source" else None)
            for g in order:
                running = 0
                for month in span:
                    n = int(counts.loc[g, month])
                    running += n
                    rows.append(
                        {
                            "panel": panel,
                            "group": g,
                            "month": str(month),
                            "recruited": n,
                            "cumulative": running,
                        }
                    )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return RecruitmentData(
        frame,
        f["name"],
        f.get("label") or f["name"],
        settings.event,
        int(len(everyone.difference(months.index))),
        settings.source_field,
        source_label,
    )


def _group_order(panel: str, counts: pd.DataFrame, data: QualityData, choices) -> list[str]:
    # each group once: two codes may share a label (REDCap allows it, a validation warning),
    # and their records are then one line of the figure
    present = list(dict.fromkeys(counts.index))
    if panel == "dag":
        return [g for g in dict.fromkeys(data.dags) if g in present]
    if panel == "source":
        order = [label for _, label in choices] + [NOT_RECORDED]
        return [g for g in dict.fromkeys(order) if g in present]
    return present


__all__ = ["recruitment_by_month", "RecruitmentData", "RecruitmentError", "ALL", "NOT_RECORDED"]
