"""Estimands (ICH E9(R1), issue 23.1): what each outcome's analysis estimates.

The study file's ``estimands`` section names, for each outcome, the five attributes of
ICH E9(R1):

* **population** - the participants (an expression; default ``flow.participants``), and
  its description (``population_text``);
* **variable** - the measure (``variable``) and its time point (``timepoint``), binary or
  continuous (``type``);
* **treatment conditions** - ``treatments`` (default: the arms compared, "A versus B");
* **intercurrent events** - each with its strategy: ``treatment_policy`` (the default: the
  outcome as observed, whatever happened), ``composite`` (the event is part of the
  outcome: where ``when`` holds the outcome is ``value``), ``while_on_treatment`` (the
  outcome before the event: where ``when`` holds it is ``value``, an expression such as an
  earlier time point's value) or ``hypothetical`` (the outcome had the event not
  happened: where ``when`` holds the observed outcome is set aside and, with multiple
  imputation, imputed);
* **population-level summary** - ``summary`` (default by type: risk difference, risk ratio
  and odds ratio for a binary outcome; difference in means for a continuous one).

Each estimand is ``primary``, ``secondary`` or ``exploratory`` (``role``), and carries its
adjustment set (``covariates``, ``baseline``) for the adjusted analyses. An adjusted table
row names it (``{estimand: id}``); its label then says which estimand the result is of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import pandas as pd

STRATEGIES = ("treatment_policy", "composite", "while_on_treatment", "hypothetical")
STRATEGY_TEXT = {
    "treatment_policy": "treatment policy",
    "composite": "composite",
    "while_on_treatment": "while on treatment",
    "hypothetical": "hypothetical",
}
ROLES = ("primary", "secondary", "exploratory")
SUMMARY = {"binary": ["risk difference", "risk ratio", "odds ratio"], "continuous": ["difference in means"]}


@dataclass(frozen=True)
class IntercurrentEvent:
    event: str
    strategy: str = "treatment_policy"
    when: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Estimand:
    id: str
    number: int
    label: str
    role: str
    variable: str
    timepoint: str | None
    type: str | None
    population: str | None
    population_text: str | None
    treatments: str | None
    events: tuple[IntercurrentEvent, ...] = ()
    summary: tuple[str, ...] = ()
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def code(self) -> str:
        """Its short name in the report: E1, E2, ..."""
        return f"E{self.number}"

    def summary_text(self) -> str:
        return "; ".join(self.summary or SUMMARY.get(self.type or "", []))


def load_estimands(config: Mapping) -> dict[str, Estimand]:
    """The declared estimands, in declaration order (numbered E1, E2, ...)."""
    out = {}
    for i, (eid, raw) in enumerate(((config or {}).get("estimands") or {}).items(), start=1):
        where = f"estimands.{eid}"
        events = []
        for j, ev in enumerate(raw.get("intercurrent_events") or []):
            strategy = ev.get("strategy", "treatment_policy")
            if strategy not in STRATEGIES:
                raise ValueError(
                    f"{where}.intercurrent_events[{j}]: strategy {strategy!r} is "
                    f"not one of {', '.join(STRATEGIES)}"
                )
            if strategy in ("composite", "while_on_treatment") and ev.get("value") is None:
                raise ValueError(
                    f"{where}.intercurrent_events[{j}] ({ev['event']!r}): the "
                    f"{STRATEGY_TEXT[strategy]} strategy needs `value`: the "
                    "outcome where the event happened"
                )
            if strategy != "treatment_policy" and ev.get("when") is None:
                raise ValueError(
                    f"{where}.intercurrent_events[{j}] ({ev['event']!r}): the "
                    f"{STRATEGY_TEXT[strategy]} strategy needs `when`: who had "
                    "the event"
                )
            events.append(
                IntercurrentEvent(
                    ev["event"],
                    strategy,
                    ev.get("when"),
                    None if ev.get("value") is None else str(ev.get("value")),
                )
            )
        out[eid] = Estimand(
            eid,
            i,
            raw.get("label", eid),
            raw.get("role", "secondary"),
            str(raw["variable"]),
            raw.get("timepoint"),
            raw.get("type"),
            raw.get("population"),
            raw.get("population_text"),
            raw.get("treatments"),
            tuple(events),
            tuple(raw.get("summary") or ()),
            dict(raw),
        )
    return out


def apply_strategies(ctx, estimand: Estimand, y: pd.Series, where: str) -> tuple[pd.Series, dict[str, int]]:
    """The outcome ``y`` (over the table's records) with each intercurrent event's strategy
    applied, and how many records each event changed."""
    changed = {}
    tp = estimand.timepoint
    for ev in estimand.events:
        if ev.strategy == "treatment_policy" or ev.when is None:
            continue
        hit = ctx.values(ev.when, f"{where}, intercurrent event {ev.event!r}", timepoint=tp, index=ctx.index)
        hit = hit.astype("boolean").fillna(False).astype(bool).to_numpy()
        y = y.copy()
        if ev.strategy == "hypothetical":
            changed[ev.event] = int((hit & y.notna().to_numpy()).sum())
            y[hit] = pd.NA if y.dtype.name == "boolean" else float("nan")
        else:
            value = ctx.values(
                ev.value, f"{where}, intercurrent event {ev.event!r}", timepoint=tp, index=ctx.index
            )
            if y.dtype.name == "boolean" or value.dtype.name == "boolean":
                y, value = y.astype("float64"), value.astype("float64")
            else:
                value = pd.to_numeric(value, errors="coerce").astype("float64")
                y = y.astype("float64")
            changed[ev.event] = int(hit.sum())
            y[hit] = value[hit]
    return y, changed


def _arms_text(config: Mapping) -> str:
    arms = (config or {}).get("arms") or {}
    levels = arms.get("levels") or []
    names = {str(c): t for c, t in levels}
    first, second = arms.get("intervention"), arms.get("control")
    if first is not None and second is not None and str(first) in names:
        return f"{names[str(first)]} versus {names.get(str(second), second)}"
    return "the allocated interventions"


def estimands_frame(config: Mapping, arms_text: str | None = None) -> pd.DataFrame:
    """The estimands table of the report's methods: one row per estimand and its five
    attributes."""
    rows = []
    participants = ((config or {}).get("flow") or {}).get("participants")
    tps = ((config or {}).get("timepoints") or {}).get("schedule") or {}
    for e in load_estimands(config).values():
        tp = tps.get(e.timepoint, {}).get("label", e.timepoint) if e.timepoint else ""
        events = "; ".join(f"{ev.event}: {STRATEGY_TEXT[ev.strategy]}" for ev in e.events)
        rows.append(
            {
                "Estimand": f"{e.code} ({e.role})",
                "Population": e.population_text or (e.population or participants or "everyone"),
                "Variable": f"{e.label}" + (f" ({tp})" if tp and tp not in e.label else ""),
                "Treatment conditions": e.treatments or arms_text or _arms_text(config),
                "Intercurrent events and strategies": events or "none declared",
                "Population-level summary": e.summary_text(),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "Estimand",
            "Population",
            "Variable",
            "Treatment conditions",
            "Intercurrent events and strategies",
            "Population-level summary",
        ],
    )


__all__ = [
    "Estimand",
    "IntercurrentEvent",
    "STRATEGIES",
    "ROLES",
    "load_estimands",
    "apply_strategies",
    "estimands_frame",
]
