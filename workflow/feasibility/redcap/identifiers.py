"""Identifiers never pass validation (issue 15.6).

Fields marked ``Identifier?`` in the dictionary are dropped from the tidy tables right
after validation. What the analysis needs from them is derived first, as the study file
declares (``validation.derive``)::

    derive:
      - name: age_at_consent          # a new column of the form holding ``at``
        kind: age_years               # whole years between two dates
        birth_date: dob               # usually an identifier
        at: consent_date
        birth_event: baseline_arm_1   # optional: the event holding birth_date

The record ID stays (as ``record_id``): it is the key every table shares.
"""

from __future__ import annotations

import pandas as pd

from .messages import Failure, fail
from .model import Project
from .records import EVENT, REPEAT_INSTANCE
from .tidy import RECORD_ID, FormTable

DERIVE_KINDS = ("age_years",)


def check_derivations(
    project: Project, derivations: list[dict], source: str = "validation.derive"
) -> list[Failure]:
    out = []
    names = set()
    for i, d in enumerate(derivations or []):
        label = d.get("name") or f"derivation {i + 1}"
        if d.get("kind") not in DERIVE_KINDS:
            out.append(
                fail(source, f"{label}: unknown kind {d.get('kind')!r} (one of {', '.join(DERIVE_KINDS)})")
            )
            continue
        name = d.get("name")
        if not name or name in project.field or name in names:
            out.append(
                fail(source, f"{label}: the name must be new (not a field of the project, not used twice)")
            )
        names.add(name)
        for key in ("birth_date", "at"):
            f = project.field.get(d.get(key))
            if f is None or f.kind not in ("date", "datetime"):
                out.append(fail(source, f"{label}: {key} {d.get(key)!r} is not a date field of the project"))
        if d.get("birth_event") is not None and d["birth_event"] not in project.event:
            out.append(
                fail(source, f"{label}: birth_event {d['birth_event']!r} is not an event of the project")
            )
    return out


def whole_years(birth: pd.Series, at: pd.Series) -> pd.Series:
    """Completed years from ``birth`` to ``at`` (a birthday on ``at`` counts)."""
    b, a = pd.to_datetime(birth), pd.to_datetime(at)
    years = a.dt.year - b.dt.year
    before_birthday = (a.dt.month < b.dt.month) | ((a.dt.month == b.dt.month) & (a.dt.day < b.dt.day))
    out = years - before_birthday.astype("Int64")
    return out.where(b.notna() & a.notna()).astype("Int64")


def derive(project: Project, tables: dict[str, FormTable], derivations: list[dict]) -> dict[str, list[str]]:
    """Add each declared derivation to the table of its ``at`` field; returns form -> new columns."""
    added: dict[str, list[str]] = {}
    for d in derivations or []:
        birth_f, at_f = project.field[d["birth_date"]], project.field[d["at"]]
        target = tables[at_f.form].data
        source = tables[birth_f.form].data
        src = source[[RECORD_ID] + ([EVENT] if EVENT in source else []) + [birth_f.name]].copy()
        if REPEAT_INSTANCE in source:
            src["_o"] = source[REPEAT_INSTANCE].fillna(0).to_numpy()
        else:
            src["_o"] = 0
        if d.get("birth_event") is not None and EVENT in src:
            src = src[src[EVENT] == d["birth_event"]]
        same_event = birth_f.form == at_f.form or (
            EVENT in src
            and EVENT in target
            and d.get("birth_event") is None
            and project.longitudinal
            and bool(set(project.events_of(birth_f.form)) & set(project.events_of(at_f.form)))
        )
        if birth_f.form == at_f.form:
            birth = target[birth_f.name]
        else:
            keys = [RECORD_ID] + ([EVENT] if same_event and EVENT in src else [])
            src = src[src[birth_f.name].notna()].sort_values("_o", kind="stable").drop_duplicates(keys)
            merged = (
                target[keys]
                .astype(object)
                .merge(src[keys + [birth_f.name]].astype({RECORD_ID: object}), on=keys, how="left")
            )
            if same_event and merged[birth_f.name].isna().any():
                # the birth date recorded at another event of the record
                any_event = src.drop_duplicates([RECORD_ID]).set_index(RECORD_ID)[birth_f.name]
                fill = target[RECORD_ID].astype(object).map(any_event)
                merged[birth_f.name] = merged[birth_f.name].fillna(
                    pd.Series(fill.to_numpy(), index=merged.index)
                )
            birth = pd.Series(merged[birth_f.name].to_numpy(), index=target.index)
        values = whole_years(birth, target[at_f.name])
        status = f"{at_f.form}_complete"
        if status in target:
            target.insert(target.columns.get_loc(status), d["name"], values)
        else:
            target[d["name"]] = values
        added.setdefault(at_f.form, []).append(d["name"])
    return added


def drop_identifiers(project: Project, tables: dict[str, FormTable]) -> list[str]:
    """Remove every identifier field's columns (the record ID stays as ``record_id``)."""
    dropped = []
    for f in project.fields:
        if not f.identifier or f.name == project.record_id_field or f.form not in tables:
            continue
        t = tables[f.form]
        cols = [c for c in f.export_columns if c in t.data]
        if cols:
            t.data.drop(columns=cols, inplace=True)
        for c in f.export_columns:
            t.text.pop(c, None)
        dropped.append(f.name)
    return dropped


__all__ = ["derive", "drop_identifiers", "check_derivations", "whole_years", "DERIVE_KINDS"]
