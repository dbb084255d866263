"""Named values: every number the report states, computed once, with its n and denominator.

``results/values/values.json`` maps a name to one value: its kind, its numbers
(``parts``: e.g. ``mean``, ``sd``, ``n``; ``count``, ``denominator``, ``pct``), the
decimals each is printed with, where it sits in the paper (``label``), how it was
computed (``source``) and the published keys it reproduces (``published``: key -> the
parts that key prints, in the paper's order). The narrative templates
(``feasibility.narrative``) and the comparison with the paper
(``feasibility.reproduction``) read only this file, so a number has one definition:

* a table cell that carries a published key *is* that key's value (the tables are
  computed once, in ``feasibility.tables``);
* every other value is computed here from the analysis dataset and the validated
  exports, sums in exact arithmetic (whole minutes, recorded decimals);
* each published key is claimed by exactly one value (:func:`build_values` raises
  otherwise).

Names are the published key where there is one (``placements.total_hours.mean_sd``,
``follow_up_response_rate_pct.six_weeks``), else a dotted name of the same style.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from . import crf, eq5d_method
from .audit import resolve
from .derive import employment_known, exact_mean_sd, hours_from_minutes, main_case_manager
from .paper import location, part_names
from .stats import median_iqr

FOLLOW_UP_END = pd.Timestamp("2019-02-28")   # "planned end date in February 2019" (Results)
EQ5D_KEY = "eq5d_5l_to_3l"

# A table cell that also gives another published number (the same count, one definition).
ALSO = {"flow.obtained_employment_known": {"economics.rtw_with_intervention_pct": ["pct"]}}


@dataclass
class Value:
    name: str
    kind: str
    parts: dict[str, Any]
    decimals: dict[str, int]
    label: str
    source: str
    published: dict[str, list[str]] = field(default_factory=dict)
    method: dict | None = None       # EQ-5D index: the method used and the paper's
    suppressed: bool = False         # withheld by the small-cell rule (the table prints <k)
    paper: dict[str, Any] = field(default_factory=dict)   # published key -> the paper's value

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("name")
        out["parts"] = {k: _plain(v) for k, v in self.parts.items()}
        if not self.paper:
            out.pop("paper")
        if self.method is None:
            out.pop("method")
        if not self.suppressed:
            out.pop("suppressed")
        return out


def _plain(v):
    """JSON-safe scalar: numpy numbers to Python, NaN to None."""
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (bool,)):
        return v
    f = float(v)
    if math.isnan(f):
        return None
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return int(f) if float(f).is_integer() and not isinstance(v, float) else f


# ----------------------------------------------------------------------------- table cells
CELL_PARTS = {   # statistic -> (value kind, parts from the cell's columns)
    "n_pct": ("proportion", {"count": "n", "pct": "estimate", "denominator": "denominator"}),
    "mean_sd": ("mean_sd", {"mean": "estimate", "sd": "sd", "n": "n"}),
    "median_iqr": ("median_iqr", {"median": "estimate", "q1": "lower", "q3": "upper", "n": "n"}),
    "change_ci": ("change_ci", {"estimate": "estimate", "lower": "lower", "upper": "upper",
                                "n": "n", "sd": "sd"}),
    "count": ("total", {"value": "estimate", "n": "n"}),
    "proportion_ci": ("proportion", {"count": "n", "pct": "estimate", "lower": "lower",
                                     "upper": "upper", "denominator": "denominator"}),
    "nnt_ci": ("nnt", {"value": "estimate", "lower": "lower", "upper": "upper"}),
    "rate": ("rate", {"value": "estimate", "n": "n", "denominator": "denominator"}),
}
COUNT_PARTS = {"count", "n", "denominator"}


def _claims_for_cell(key: str, statistic: str, published: Mapping) -> dict[str, list[str]]:
    """Published keys a keyed cell gives, each with the cell parts in the paper's order."""
    try:
        node = resolve(published, key)
    except (KeyError, IndexError, TypeError):
        raise ValueError(f"table cell names the published key {key!r}, which "
                         "published_values.yaml does not have") from None
    if isinstance(node, Mapping):            # e.g. final_follow_up_days_from_start: median, q1, q3
        return {f"{key}.{k}": [k] for k in node}
    names = part_names(key, node)
    if len(names) > 1:
        return {key: names}
    if statistic == "proportion_ci":
        return {key: ["pct" if key.rsplit(".", 1)[-1].endswith("pct") or "_pct." in key
                      else "count"]}
    return {key: ["value"]}


def cell_values(cells: pd.DataFrame, published: Mapping, eq5d_cfg: Mapping | None = None
                ) -> list[Value]:
    """One value per table cell that carries a published key (tables are computed once)."""
    out: list[Value] = []
    group_n_claimed: set[str] = set()
    text_columns = ["table", "row_group", "row_label", "column", "statistic", "text", "published_key"]
    cells = cells.assign(**{c: cells[c].fillna("").astype(str) for c in text_columns})
    keyed = cells[cells["published_key"] != ""]
    for c in keyed.to_dict("records"):
        key, statistic = c["published_key"], c["statistic"]
        kind, columns = CELL_PARTS[statistic]
        parts = {name: (None if pd.isna(c[col]) else int(c[col]) if name in COUNT_PARTS
                        else float(c[col])) for name, col in columns.items()}
        decimals = {name: (0 if name in COUNT_PARTS or (statistic == "n_pct" and name == "count")
                           else int(c["decimals"])) for name in parts}
        claims = _claims_for_cell(key, statistic, published)
        # Table 4: the n of a block of answers or of a score is printed once, beside it
        parent = key.rsplit(".", 1)[0]
        if key.startswith("table4_") and statistic in ("n_pct", "mean_sd"):
            n_key = f"{parent}.n"
            if n_key not in group_n_claimed and _exists(published, n_key):
                claims[n_key] = ["denominator" if statistic == "n_pct" else "n"]
                group_n_claimed.add(n_key)
        claims.update(ALSO.get(key, {}))
        where = " · ".join(p for p in (c["row_group"], c["row_label"]) if p)
        column = "" if c["column"] in ("overall", "value", "week6") else f" ({c['column']})"
        value = Value(key, kind, parts, decimals, location(key),
                      f"table {c['table']}: {where}{column}", claims)
        if EQ5D_KEY in key:
            value.method = eq5d_method.describe(eq5d_cfg)
        value.suppressed = str(c["text"]).startswith("<")
        out.append(value)
    return out


def _exists(published: Mapping, key: str) -> bool:
    try:
        resolve(published, key)
        return True
    except (KeyError, IndexError, TypeError):
        return False


# ----------------------------------------------------------------------------- from the data
def _count(name: str, count: int, source: str, denominator: int | None = None,
           claims: dict | None = None) -> Value:
    parts: dict[str, Any] = {"count": int(count)}
    decimals = {"count": 0}
    if denominator is not None:
        parts.update(denominator=int(denominator),
                     pct=100 * count / denominator if denominator else None)
        decimals.update(denominator=0, pct=0)
    return Value(name, "count", parts, decimals, location(name), source,
                 claims if claims is not None else {name: ["count"]})


def _pct_claim(name: str) -> dict:
    return {name: ["pct"]}


def session_sites() -> dict[int, str]:
    """Where each work-preparation session was held, as its CRF label names it
    (``Group session 1 (Birmingham)`` -> Birmingham)."""
    return {code: text.rpartition("(")[2].rstrip(")")
            for code, text in crf.fields_by_name()["wp_session"].choices}


def data_values(f: Mapping[str, pd.DataFrame]) -> list[Value]:
    """Values outside the tables, from the analysis dataset (``participants``) and the
    validated ``screening``, ``status_changes``, ``work_preparation`` and
    ``case_management`` exports."""
    p, scr = f["participants"], f["screening"]
    sc, wp, cm = f["status_changes"], f["work_preparation"], f["case_management"]
    n = len(p)
    placed = p["placed"].astype(bool)
    reasons = p["excluded_after_recruitment"].fillna("") + "|" + p["not_placed_reason"].fillna("")
    starters = [r for c in ("jobs_started_week14", "jobs_started_month6") if c in p
                for r in p.loc[p[c].fillna(0) > 0, "record_id"]]
    out: list[Value] = []
    add = out.append

    # --- recruitment calendar
    months = p["consent_date"].dt.strftime("%Y-%m")
    add(Value("study.recruitment_window", "months", {"first": months.min(), "last": months.max()},
              {}, location("study.recruitment_window"),
              "first and last month of consent (enrolment)",
              {"study.recruitment_window": ["first", "last"]}))
    first = scr.groupby("scr_source")["scr_date"].min()
    for code, key in ((1, "nhs_pain_clinics"), (2, "council_employment_services"),
                      (3, "posters_and_direct_contact"), (4, "private_employment_services")):
        name = f"study.recruitment_sources_started.{key}"
        month = first[code].strftime("%Y-%m") if code in first.index else None
        add(Value(name, "month", {"month": month}, {}, location(name),
                  "month of the source's first screening (screening log)", {name: ["month"]}))

    # --- flow
    def starts(column: str, text: str) -> int:
        return int(p[column].str.startswith(text, na=False).sum())

    add(_count("flow.ineligible_after_recruitment",
               starts("excluded_after_recruitment", "Found ineligible"),
               "status changes: found ineligible after recruitment", n))
    add(_count("flow.unable_to_place_language_or_learning",
               int(reasons.str.contains("Language", na=False).sum()),
               "could not be placed: language or learning difficulties", n))
    add(_count("flow.withdrew_after_baseline", starts("dropout_reason", "Withdrew"),
               "status changes: withdrew (before or during work preparation)", n))
    add(_count("flow.did_not_complete_placement",
               int((placed & ~p["completed_placement"].fillna(True).astype(bool)).sum()),
               "placements: placed and did not complete six weeks", int(placed.sum())))
    add(_count("flow.offered_placement_but_disengaged", starts("dropout_reason", "Disengaged"),
               "status changes: disengaged after a placement offer", n))
    during = employment_known(p, sc, starters, by=FOLLOW_UP_END)
    add(_count("flow.started_jobs_during_study", len(during),
               "employment reported by follow-up, status change or placement ending, "
               "by the planned end of follow-up (February 2019)", n))
    groups = p["source_group"]
    add(_count("flow.recruited_from_nhs_sites", int((groups == "NHS sites").sum()),
               "recruitment source (enrolment)", n))
    for key, grp in (("nhs", "NHS sites"), ("non_nhs", "Non-NHS sites"),
                     ("direct_contact", "Direct contact")):
        name = f"flow.recruitment_source_pct.{key}"
        add(_count(name, int((groups == grp).sum()), f"recruitment source: {grp}", n,
                   _pct_claim(name)))
    two = int((p["n_pain_areas"] >= 2).sum())
    add(_count("flow.pain_two_or_more_areas", two, "pain drawing (baseline)", n,
               {"flow.pain_two_or_more_areas": ["count", "pct"]}))
    add(_count("flow.previously_worked", int(p["previously_worked"].sum()),
               "baseline: has previously worked", n))
    add(_count("flow.additional_health_concerns", int(p["additional_health_concerns"].sum()),
               "baseline: any additional health concern ticked", n))

    # --- placements (the placed; sums and means of recorded decimals in exact arithmetic)
    pl = p[placed]
    for key, col, d in (("days_recruitment_to_placement", "days_recruitment_to_placement", 1),
                        ("total_hours", "placement_hours", 1),
                        ("weeks_attended", "placement_weeks", 1)):
        mean, sd, k = exact_mean_sd(pl[col])
        name = f"placements.{key}.mean_sd"
        add(Value(name, "mean_sd", {"mean": mean, "sd": sd, "n": k},
                  {"mean": d, "sd": d, "n": 0}, location(name), f"placements: {col}",
                  {name: ["mean", "sd"]}))
    hpw = _hours_per_week(pl)
    mean, sd, k = exact_mean_sd(hpw)
    add(Value("placements.hours_per_week.mean_sd", "mean_sd", {"mean": mean, "sd": sd, "n": k},
              {"mean": 1, "sd": 1, "n": 0}, location("placements.hours_per_week.mean_sd"),
              "placements: total hours / weeks attended, per person",
              {"placements.hours_per_week.mean_sd": ["mean", "sd"]}))
    add(Value("placements.hours_per_week.range", "range",
              {"min": float(hpw.min()), "max": float(hpw.max()), "n": int(hpw.size)},
              {"min": 1, "max": 1, "n": 0}, location("placements.hours_per_week.range"),
              "placements: total hours / weeks attended, per person",
              {"placements.hours_per_week.range": ["min", "max"]}))

    # --- work preparation
    att = wp[wp["wp_attended"] == 1]
    sizes = att.groupby("wp_session").size()
    one_to_one = [code for code, site in session_sites().items() if "home" in site]
    group = sizes[~sizes.index.isin(one_to_one)]
    add(_count("work_preparation.attended", len(att), "work preparation: attended", n,
               {"work_preparation.attended": ["count"], "flow.attended_work_preparation": ["count"]}))
    add(_count("work_preparation.group_sessions", len(group),
               "work preparation: group sessions with an attender"))
    held_in = session_sites()
    for site in ("Birmingham", "Coventry"):
        name = f"work_preparation.group_sessions_by_site.{site.lower()}"
        add(_count(name, int(sum(held_in[s] == site for s in group.index)),
                   f"work preparation: group sessions held in {site}"))
    m = median_iqr(group.to_numpy(dtype=float))
    add(Value("work_preparation.group_size", "min_median_max",
              {"min": int(group.min()), "median": m.median, "max": int(group.max()),
               "n": int(group.size)}, {"min": 0, "median": 0, "max": 0, "n": 0},
              location("work_preparation.group_size"), "work preparation: attenders per group session",
              {f"work_preparation.group_size.{k}": [k] for k in ("min", "median", "max")}))
    add(_count("work_preparation.one_to_one_sessions", int(sizes[sizes.index.isin(one_to_one)].sum()),
               "work preparation: one-to-one sessions"))

    # --- case management (whole minutes from the contact log, summed exactly)
    minutes = cm.groupby("record_id")["cm_minutes"].sum().reindex(p["record_id"])
    managed = minutes.notna().to_numpy()
    pm = placed.to_numpy()
    add(_count("case_management.placed.n", int(pm.sum()), "placements: placed"))
    for key, mask, d in (("placed", pm, 2), ("unplaced", ~pm, 1)):   # as the paper prints them
        name = f"case_management.{key}.total_hours"
        add(Value(name, "total", {"value": hours_from_minutes(minutes[mask & managed]),
                                  "n": int((mask & managed).sum())},
                  {"value": d, "n": 0}, location(name),
                  f"case-management contacts: minutes of the {key}, summed", {name: ["value"]}))
    mgr = main_case_manager(cm)
    for code, key in ((1, "occupational_health_nurse"), (2, "employment_specialist"),
                      (3, "occupational_therapist_stand_in")):
        ids = mgr.index[mgr == code]
        name = f"case_management.by_case_manager.{key}"
        total = minutes.reindex(ids)
        mean = hours_from_minutes(total) / len(ids) if len(ids) else None
        add(Value(name, "mean", {"participants": int(len(ids)), "mean_hours": mean},
                  {"participants": 0, "mean_hours": 1}, location(name),
                  "case-management contacts: hours per participant of each main case manager",
                  {f"{name}.participants": ["participants"], f"{name}.mean_hours": ["mean_hours"]}))

    # --- safety
    add(_count("safety.adverse_events", int(p["adverse_events"].sum()), "adverse events log"))
    add(_count("safety.deaths_unrelated", starts("dropout_reason", "Died"), "status changes: died"))
    add(_count("safety.healthcare_referrals", int(p["healthcare_referrals"].sum()),
               "case-management contacts: referrals to existing healthcare"))
    return out


def _hours_per_week(placed: pd.DataFrame) -> pd.Series:
    """Hours per week of each placed participant, total hours / weeks attended, exactly."""
    from .derive import exact
    values = [float(exact(h) / exact(w)) for h, w in
              zip(placed["placement_hours"], placed["placement_weeks"]) if pd.notna(h) and w]
    return pd.Series(values, dtype="float64")


# ----------------------------------------------------------------------------- the registry
def build_values(cells: pd.DataFrame, frames: Mapping[str, pd.DataFrame], published: Mapping,
                 eq5d_cfg: Mapping | None = None) -> dict[str, Value]:
    """Every named value; raises ``ValueError`` when two values claim one published key
    or two values share a name."""
    values = registry(cell_values(cells, published, eq5d_cfg) + data_values(frames))
    for value in values.values():
        for key in value.published:
            value.paper[key] = resolve(published, key)
    return values


def registry(found: list[Value]) -> dict[str, Value]:
    """Values by name; ``ValueError`` when two share a name or claim one published key."""
    values: dict[str, Value] = {}
    owner: dict[str, str] = {}
    for value in found:
        if value.name in values:
            raise ValueError(f"two values are named {value.name!r} ({values[value.name].source}; "
                             f"{value.source})")
        for key in value.published:
            if key in owner:
                raise ValueError(f"published key {key!r} has two definitions: {owner[key]!r} "
                                 f"and {value.name!r}")
            owner[key] = value.name
        values[value.name] = value
    return values


def values_json(values: Mapping[str, Value]) -> str:
    """The registry as JSON text (names sorted; byte-stable)."""
    body = {"values": {name: values[name].as_dict() for name in sorted(values)}}
    return json.dumps(body, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def load_values(path) -> dict[str, dict]:
    """``values.json`` as name -> dict (kind, parts, decimals, label, source, published)."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)["values"]
