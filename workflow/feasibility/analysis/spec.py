"""The analysis declaration of a study file, checked and with its defaults.

:func:`load_spec` takes the study file's mapping (its ``parameters``, ``statistics``,
``timepoints``, ``instruments``, ``derived``, ``flow`` and ``tables`` sections), checks it
against their part of ``schemas/config.schema.yaml``, parses every expression (so a typo is
reported before any data are read) and returns an :class:`AnalysisSpec`.

The ``flow`` section becomes derived variables: each population (true/false per record),
``dropout``, and per follow-up time point ``follow_up_status`` ("returned", "not
returned", "not expected") and ``follow_up_days`` (days from ``timepoints.start_date`` to
the return date); its ``consort`` boxes are checked here and counted by
:mod:`feasibility.analysis.flow`.

The ``arms`` section (a randomised study) makes the coded variable ``arm`` (or the name
it gives) from the allocation: a randomisation field, or ``redcap_arm`` when the trial's
arms are REDCap arms. Tables use it as ``columns: {by: arm}`` and compare its
``intervention`` level with its ``control`` level (``difference``).
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml

from feasibility.analysis.expressions import Expression, ExpressionError, parse
from feasibility.scoring import registry

SECTIONS = (
    "parameters",
    "statistics",
    "timepoints",
    "instruments",
    "derived",
    "flow",
    "arms",
    "tables",
    "estimands",
)
FLOW_VARIABLES = ("dropout", "follow_up_status", "follow_up_days")
DUE_DAYS = "_flow_due_days"  # days from the start date to each follow-up time point


@cache
def schema() -> dict:
    """The JSON Schema of the analysis sections: their part of the study file's schema
    (``schemas/config.schema.yaml``, a table's properties chosen by its kind), with its
    definitions."""
    from feasibility.config import schema as study_schema

    root = study_schema()
    return {
        "$schema": root["$schema"],
        "title": "Analysis sections of a study file",
        "type": "object",
        "$defs": root["$defs"],
        "properties": {k: root["properties"][k] for k in SECTIONS},
    }


def check_schema(config: Mapping) -> None:
    """Raise ``ValueError`` listing every place ``config`` breaks the schema."""
    from feasibility.config import check_against

    check_against(
        {k: config[k] for k in SECTIONS if k in config},
        schema(),
        "the study file's analysis sections do not match the schema",
    )


# ----------------------------------------------------------------------------- time points
@dataclass(frozen=True)
class Timepoint:
    name: str
    label: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class Timepoints:
    points: dict[str, Timepoint]
    baseline: str | None
    start_date: Expression | None

    def label(self, name: str) -> str:
        return self.points[name].label if name in self.points else name

    def follow_ups(self) -> list[str]:
        return [tp for tp in self.points if tp != self.baseline]


def _timepoints(raw: Mapping | None) -> Timepoints:
    if not raw:
        return Timepoints({}, None, None)
    points = {}
    for name, value in raw["schedule"].items():
        if isinstance(value, str):
            value = {"event": value}
        events = value["event"]
        events = (events,) if isinstance(events, str) else tuple(events)
        points[name] = Timepoint(name, value.get("label", name), events)
    seen: dict[str, str] = {}
    for tp in points.values():
        for e in tp.events:
            if e in seen:
                raise ValueError(f"timepoints.schedule: event {e!r} is in both {seen[e]!r} and {tp.name!r}")
            seen[e] = tp.name
    baseline = raw.get("baseline") or next(iter(points))
    if baseline not in points:
        raise ValueError(
            f"timepoints.baseline {baseline!r} is not a time point of the schedule ({', '.join(points)})"
        )
    start = raw.get("start_date")
    return Timepoints(points, baseline, parse(start, "timepoints.start_date") if start is not None else None)


# ----------------------------------------------------------------------------- derived
@dataclass(frozen=True)
class DerivedSpec:
    name: str
    expr: Expression
    label: str | None = None
    choices: tuple | None = None
    timepoints: tuple[str, ...] | str | None = None
    missing_codes: str = "missing"  # a missing-data code read: the value is missing


def _derived(name: str, raw, where: str, timepoints=None, label=None) -> DerivedSpec:
    if isinstance(raw, Mapping):
        choices = raw.get("choices")
        tps = raw.get("timepoints")
        return DerivedSpec(
            name,
            parse(raw["expr"], where),
            raw.get("label"),
            tuple((c, str(t)) for c, t in choices) if choices else None,
            tps if tps == "all" or tps is None else tuple(tps),
            raw.get("missing_codes", "missing"),
        )
    return DerivedSpec(name, parse(raw, where), label, None, timepoints)


# ----------------------------------------------------------------------------- instruments
@dataclass(frozen=True)
class InstrumentSpec:
    name: str
    scorer: registry.Scorer
    form: str
    timepoints: tuple[str, ...] | None
    items: dict[str, str]
    single_scores: dict[str, str]
    params: dict
    inputs: dict[str, Expression]
    labels_raw: dict[str, str]
    rename: dict[str, str]

    def item_fields(self) -> dict[str, str]:
        """Canonical item (or single score) -> field."""
        if self.scorer.single_items:
            return dict(self.single_scores)
        return {c: self.items.get(c, c) for c in self.scorer.items}

    def score_names(self) -> list[str]:
        names = list(self.single_scores) if self.scorer.single_items else list(self.scorer.scores)
        return [self.rename.get(n, n) for n in names]


def _instrument(name: str, raw: Mapping) -> InstrumentSpec:
    where = f"instruments.{name}"
    try:
        spec = registry.scorer(raw["scorer"])
        params = spec.parameters(raw.get("parameters"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    items = dict(raw.get("items") or {})
    unknown = set(items) - set(spec.items)
    if unknown:
        raise ValueError(
            f"{where}.items: scorer {spec.name!r} has no item(s) "
            f"{', '.join(sorted(unknown))} (items: {', '.join(spec.items)})"
        )
    single = dict(raw.get("scores") or {})
    if spec.single_items and not single:
        raise ValueError(
            f"{where}: scorer {spec.name!r} scores single items; list them as scores: {{score name: field}}"
        )
    if single and not spec.single_items:
        raise ValueError(
            f"{where}: scorer {spec.name!r} makes its own scores "
            f"({', '.join(spec.scores)}); use items: and rename:, not scores:"
        )
    known = set(single) if spec.single_items else set(spec.scores)
    for key in ("labels", "rename"):
        extra = set(raw.get(key) or {}) - known
        if extra:
            raise ValueError(
                f"{where}.{key}: no score(s) {', '.join(sorted(extra))} (scores: {', '.join(sorted(known))})"
            )
    inputs = {k: parse(v, f"{where}.inputs.{k}") for k, v in (raw.get("inputs") or {}).items()}
    tps = raw.get("timepoints")
    return InstrumentSpec(
        name,
        spec,
        raw["form"],
        tuple(tps) if tps else None,
        items,
        single,
        params,
        inputs,
        dict(raw.get("labels") or {}),
        dict(raw.get("rename") or {}),
    )


# ----------------------------------------------------------------------------- arms
@dataclass(frozen=True)
class ArmsSpec:
    """The allocation of a randomised study: the variable it makes, its levels (None: the
    allocation field's choices, or the REDCap arms' names), which level is the
    intervention and which the control."""

    name: str
    allocation: Expression
    levels: tuple[tuple[Any, str], ...] | None
    intervention: Any
    control: Any
    label: str


def _arms(raw: Mapping | None, derived: dict[str, DerivedSpec]) -> ArmsSpec | None:
    if not raw:
        return None
    name = raw.get("name") or "arm"
    if name in derived:
        raise ValueError(
            f"arms.name: a derived variable is already called {name!r}; give the "
            "arms' variable another name (arms.name)"
        )
    levels = raw.get("levels")
    levels = tuple((c, str(t)) for c, t in levels) if levels else None
    codes = [c for c, _ in levels] if levels else None
    intervention = raw.get("intervention")
    intervention = intervention if intervention is not None else (codes[0] if codes else None)
    control = raw.get("control")
    control = control if control is not None else (codes[1] if codes and len(codes) > 1 else None)
    if codes is not None:
        for key, value in (("intervention", intervention), ("control", control)):
            if value not in codes:
                raise ValueError(
                    f"arms.{key} {value!r} is not one of the levels ({', '.join(str(c) for c in codes)})"
                )
    if intervention is not None and intervention == control:
        raise ValueError("arms.intervention and arms.control are the same level")
    label = raw.get("label") or "Allocated arm"
    expr = parse(raw["allocation"], "arms.allocation")
    derived[name] = DerivedSpec(name, expr, label, levels, None)
    return ArmsSpec(name, expr, levels, intervention, control, label)


# ----------------------------------------------------------------------------- CONSORT
CONSORT_STAGES = ("enrolment", "allocation", "follow_up", "analysis")


@dataclass(frozen=True)
class ConsortBox:
    """One box of a CONSORT 2010 flow diagram: who it counts (``count``, a record-level
    condition), why (``reasons``: a record-level value whose levels break the count down),
    per arm or not, and the box its records are a part of (the parts of a box add up to
    it, record by record)."""

    id: str
    stage: str
    label: str
    count: Expression
    reasons: Expression | None
    reason_levels: tuple | None
    per_arm: bool
    part_of: str | None


def _consort(raw: list | None) -> tuple[ConsortBox, ...]:
    boxes: list[ConsortBox] = []
    for i, b in enumerate(raw or []):
        bid = b["id"]
        where = f"flow.consort[{i}] ({bid})"
        if bid in {x.id for x in boxes}:
            raise ValueError(f"{where}: box id {bid!r} is used twice")
        stage = b["stage"]
        part_of = b.get("part_of")
        if part_of is not None and part_of not in {x.id for x in boxes}:
            raise ValueError(f"{where}: part_of {part_of!r} is not a box declared before it")
        per_arm = b.get("per_arm", stage != "enrolment")
        parent = next((x for x in boxes if x.id == part_of), None)
        if parent is not None and parent.per_arm and not per_arm:
            raise ValueError(
                f"{where}: a box counted overall cannot be part of {part_of!r}, which is counted per arm"
            )
        reasons = b.get("reasons")
        boxes.append(
            ConsortBox(
                bid,
                stage,
                b.get("label", bid),
                parse(b["count"], f"{where}, count"),
                parse(reasons, f"{where}, reasons") if reasons is not None else None,
                tuple(b["reason_levels"]) if b.get("reason_levels") else None,
                per_arm,
                part_of,
            )
        )
    return tuple(boxes)


# ----------------------------------------------------------------------------- the spec
@dataclass(frozen=True)
class AnalysisSpec:
    parameters: dict[str, Any]
    confidence: float
    timepoints: Timepoints
    instruments: dict[str, InstrumentSpec]
    derived: dict[str, DerivedSpec]
    populations: tuple[str, ...]
    participants: str | None
    tables: dict[str, dict]
    raw: dict = field(default_factory=dict, repr=False)
    arms: ArmsSpec | None = None
    consort: tuple[ConsortBox, ...] = ()

    def participants_expr(self) -> Expression | None:
        return parse(self.participants, "flow.participants") if self.participants else None


def _flow(
    raw: Mapping | None, timepoints: Timepoints, derived: dict[str, DerivedSpec]
) -> tuple[tuple[str, ...], str | None]:
    """Add the flow's variables to ``derived``; return the populations and the participants."""
    raw = raw or {}
    populations = []
    for name, expr in (raw.get("populations") or {}).items():
        if name in derived:
            raise ValueError(f"flow.populations.{name}: a derived variable has that name")
        derived[name] = _derived(name, expr, f"flow.populations.{name}", label=name)
        populations.append(name)
    participants = raw.get("participants")
    if participants is not None and participants not in derived:
        raise ValueError(
            f"flow.participants {participants!r} is not a population "
            f"({', '.join(populations) or 'none declared'})"
        )
    for name in FLOW_VARIABLES:
        if name in derived and (raw.get("dropout") is not None or raw.get("follow_up")):
            raise ValueError(f"derived.{name}: the flow section makes this variable; rename it")
    if raw.get("dropout") is not None:
        expr = raw["dropout"]
        derived["_flow_dropout"] = _derived("_flow_dropout", expr, "flow.dropout")
        who = f"({participants})" if participants else "true"
        derived["dropout"] = _derived(
            "dropout", f"if_else({who}, coalesce(_flow_dropout, false), NA)", "flow.dropout", label="Dropout"
        )
    follow = raw.get("follow_up")
    if follow:
        tps = tuple(follow["timepoints"])
        unknown = [tp for tp in tps if tp not in timepoints.points]
        if unknown:
            raise ValueError(f"flow.follow_up.timepoints: unknown time point(s) {', '.join(unknown)}")
        derived["_flow_returned"] = _derived(
            "_flow_returned", follow["returned"], "flow.follow_up.returned", timepoints=tps
        )
        who = f"({participants})" if participants else "true"
        dropout = "dropout" if raw.get("dropout") is not None else "false"
        if follow.get("left_date") is not None:
            # issue 23.5: returned wherever the questionnaire exists; not expected only at
            # the time points due after the participant left (DUE_DAYS: Analysis.variable)
            if timepoints.start_date is None:
                raise ValueError(
                    "flow.follow_up.left_date: the time points fall due from "
                    "timepoints.start_date, which is not set"
                )
            derived["_flow_left_date"] = _derived(
                "_flow_left_date", follow["left_date"], "flow.follow_up.left_date"
            )
            derived[DUE_DAYS] = _derived(DUE_DAYS, "NA", "flow.follow_up.due_days", timepoints=tps)
            derived["_flow_start"] = DerivedSpec("_flow_start", timepoints.start_date, "Start date")
            derived["follow_up_status"] = _derived(
                "follow_up_status",
                f"if_else({who}, if_else(coalesce(_flow_returned, false), 'returned', "
                f"if_else(coalesce({dropout}, false) and coalesce("
                f"days_between(_flow_start, _flow_left_date) < {DUE_DAYS}, true), "
                "'not expected', 'not returned')), NA)",
                "flow.follow_up",
                timepoints=tps,
                label="Follow-up status",
            )
        else:
            derived["follow_up_status"] = _derived(
                "follow_up_status",
                f"if_else({who}, if_else({dropout}, 'not expected', if_else("
                "coalesce(_flow_returned, false), 'returned', 'not returned')), NA)",
                "flow.follow_up",
                timepoints=tps,
                label="Follow-up status",
            )
        if follow.get("date") is not None:
            if timepoints.start_date is None:
                raise ValueError(
                    "flow.follow_up.date: the days to follow-up are counted from "
                    "timepoints.start_date, which is not set"
                )
            derived["_flow_date"] = _derived(
                "_flow_date", follow["date"], "flow.follow_up.date", timepoints=tps
            )
            derived["_flow_start"] = DerivedSpec("_flow_start", timepoints.start_date, "Start date")
            derived["follow_up_days"] = _derived(
                "follow_up_days",
                "if_else(follow_up_status == 'returned', days_between(_flow_start, _flow_date), NA)",
                "flow.follow_up",
                timepoints=tps,
                label="Days from start date to follow-up",
            )
    return tuple(populations), participants


def load_spec(config: Mapping, checked: bool = False) -> AnalysisSpec:
    """The analysis declaration of a study file (its mapping), checked (``checked``: the
    whole study file was checked against its schema already, ``feasibility.config``)."""
    if not checked:
        check_schema(config)
    config = copy.deepcopy(dict(config))
    timepoints = _timepoints(config.get("timepoints"))
    parameters = parameter_values(config)
    confidence = float((config.get("statistics") or {}).get("confidence_level", 0.95))
    derived: dict[str, DerivedSpec] = {}
    for name, raw in (config.get("derived") or {}).items():
        derived[name] = _derived(name, raw, f"derived variable {name!r}")
        tps = derived[name].timepoints
        if tps not in (None, "all"):
            unknown = [tp for tp in tps if tp not in timepoints.points]
            if unknown:
                raise ValueError(f"derived.{name}.timepoints: unknown time point(s) {', '.join(unknown)}")
    arms = _arms(config.get("arms"), derived)
    populations, participants = _flow(config.get("flow"), timepoints, derived)
    consort = _consort((config.get("flow") or {}).get("consort"))
    if consort and any(b.per_arm for b in consort) and arms is None:
        raise ValueError("flow.consort: boxes counted per arm need the arms section (the allocation)")
    instruments = {name: _instrument(name, raw) for name, raw in (config.get("instruments") or {}).items()}
    for name, inst in instruments.items():
        for tp in inst.timepoints or ():
            if tp not in timepoints.points:
                raise ValueError(
                    f"instruments.{name}.timepoints: unknown time point {tp!r} "
                    f"(time points: {', '.join(timepoints.points)})"
                )
    tables = dict(config.get("tables") or {})
    return AnalysisSpec(
        parameters,
        confidence,
        timepoints,
        instruments,
        derived,
        populations,
        participants,
        tables,
        config,
        arms,
        consort,
    )


def parameter_values(config: Mapping) -> dict[str, Any]:
    """The study's named parameters, name -> value (a parameter is a value, or
    ``{value, minimum, maximum, description}``)."""
    return {
        name: (p["value"] if isinstance(p, Mapping) else p)
        for name, p in (config.get("parameters") or {}).items()
    }


# ----------------------------------------------------------------------------- dependencies
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _tokens(obj) -> set[str]:
    """Every word of the strings in ``obj`` (a declaration: mappings, lists, text)."""
    if isinstance(obj, str):
        return set(_TOKEN.findall(obj))
    if isinstance(obj, Mapping):
        return set().union(*(_tokens(v) for v in obj.values())) if obj else set()
    if isinstance(obj, (list, tuple)):
        return set().union(*(_tokens(v) for v in obj)) if obj else set()
    return set()


def dependencies(spec: AnalysisSpec, *declarations, every_timepoint: bool = False) -> dict:
    """The parts of the analysis declaration that ``declarations`` (a table's, a value's)
    depend on: the derived variables, populations and flow variables they name, and those
    these name in turn; the instruments whose scores (or notes) they name; the parameters,
    the time points (the baseline, the start date and the time points named, or every one
    with ``every_timepoint``), the confidence level and the arms.

    A table job's rerun trigger (Snakemake params): a change to any of these reruns it, and
    a change to anything else (another table, a variable it does not use, a new time point
    or instrument) does not. Words are matched generously (a label that happens to name a
    variable counts it in): a dependency too many costs a rerun, one too few a stale table.
    """
    owner = {score: name for name, inst in spec.instruments.items() for score in inst.score_names()}
    queue = list(_tokens(list(declarations)))
    if spec.participants:
        queue.append(spec.participants)
    derived: dict[str, list] = {}
    instruments: dict[str, dict] = {}
    parameters: dict[str, Any] = {}
    timepoints: set[str] = set()
    seen: set[str] = set()
    raw_instruments = spec.raw.get("instruments") or {}
    while queue:
        name = queue.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in spec.derived:
            d = spec.derived[name]
            tps = d.timepoints if d.timepoints in (None, "all") else list(d.timepoints)
            derived[name] = [d.expr.text, d.label, [list(c) for c in d.choices or ()], tps]
            queue += _tokens(d.expr.text) | _tokens(tps if isinstance(tps, list) else [])
        inst = owner.get(name, name if name in spec.instruments else None)
        if inst is not None and inst not in instruments:
            instruments[inst] = copy.deepcopy(dict(raw_instruments.get(inst) or {}))
            queue += _tokens(instruments[inst].get("inputs") or {})
            queue += list(instruments[inst].get("timepoints") or [])
        if name in spec.parameters:
            parameters[name] = spec.parameters[name]
        if name in spec.timepoints.points:
            timepoints.add(name)
    tp = spec.timepoints
    if tp.baseline:
        timepoints.add(tp.baseline)
    if every_timepoint:
        timepoints |= set(tp.points)
    schedule = {
        name: [tp.points[name].label, list(tp.points[name].events)]
        for name in tp.points
        if name in timepoints
    }
    return {
        "derived": dict(sorted(derived.items())),
        "instruments": dict(sorted(instruments.items())),
        "parameters": dict(sorted(parameters.items())),
        "timepoints": {
            "baseline": tp.baseline,
            "start_date": tp.start_date.text if tp.start_date else None,
            "schedule": schedule,
        },
        "confidence": spec.confidence,
        "arms": copy.deepcopy(spec.raw.get("arms")),
    }


def analysis_settings(config: Mapping) -> dict:
    """What the analysis job computes from: the study file's time points, instruments,
    derived variables, flow, arms and confidence level, and the parameters these name (a
    parameter only a table or a value uses does not make the analysis dataset again)."""
    sections = {
        k: copy.deepcopy(config.get(k)) for k in ("timepoints", "instruments", "derived", "flow", "arms")
    }
    words = _tokens(list(sections.values()))
    parameters = {k: v for k, v in parameter_values(config).items() if k in words}
    return {
        **sections,
        "parameters": parameters,
        "confidence": (config.get("statistics") or {}).get("confidence_level"),
    }


def table_dependencies(spec: AnalysisSpec, table_id: str) -> dict:
    """What table ``table_id`` depends on (:func:`dependencies`): its own declaration and
    the parts of the analysis it reads. A table whose columns are left to default (every
    follow-up time point) depends on every time point."""
    from feasibility.config import table_kinds

    raw = spec.tables[table_id]
    reads = (table_kinds().get(raw.get("kind")) or {}).get("reads") or {}
    every = raw.get("columns") is None and reads.get("every_timepoint_by_default", False)
    out = {"table": copy.deepcopy(dict(raw)), **dependencies(spec, raw, every_timepoint=every)}
    if reads.get("adjustment"):
        # an adjusted table reads the adjustment settings and, through its covariates and
        # baseline values, every time point
        adjustment = (spec.raw.get("statistics") or {}).get("adjustment") or {}
        out["adjustment"] = copy.deepcopy(adjustment)
        estimands = copy.deepcopy(spec.raw.get("estimands") or {})
        out["estimands"] = estimands
        out.update(
            {
                k: v
                for k, v in dependencies(spec, raw, adjustment, estimands, every_timepoint=True).items()
                if k != "table"
            }
        )
    return out


def load_spec_file(path: str | Path) -> AnalysisSpec:
    """:func:`load_spec` of a YAML study file."""
    with open(path, encoding="utf-8") as fh:
        return load_spec(yaml.safe_load(fh) or {})


__all__ = [
    "AnalysisSpec",
    "ArmsSpec",
    "ConsortBox",
    "DerivedSpec",
    "ExpressionError",
    "InstrumentSpec",
    "Timepoints",
    "load_spec",
    "load_spec_file",
    "check_schema",
    "dependencies",
    "table_dependencies",
    "analysis_settings",
    "parameter_values",
    "check_declarations",
]


# ------------------------------------------------------------------ checked before any job
# What an analysis declaration's error names: "derived variable 'x'" is the key derived.x.
_DECLARED = {
    "derived variable": "derived",
    "instrument": "instruments",
    "parameter": "parameters",
    "table": "tables",
    "figure": "figures",
    "value": "values",
}


def _culprit(config: Mapping) -> str:
    """ "derived variable 'x': " for the first derived expression that cannot be parsed at all
    (too deep or too large for the parser), else ""."""
    for name, raw in (config.get("derived") or {}).items():
        text = raw.get("expr") if isinstance(raw, Mapping) else raw
        try:
            parse(text, name)
        except (MemoryError, RecursionError):
            return f"derived variable {name!r}: "
        except Exception:  # noqa: BLE001 - another kind of error: not this one
            continue
    return ""


def check_declarations(config: dict, files: Sequence[str | os.PathLike]) -> None:
    """The study's analysis declarations read as the analysis reads them
    (:func:`load_spec`: expressions parsed, time points and instruments
    resolved), before any job: an error is a :class:`ConfigError` naming the study file,
    the line of the key when it can be found, and the problem, not a traceback. Any error
    counts, a pathological expression's ``MemoryError`` or ``RecursionError`` included."""
    try:
        load_spec(config, checked=True)
        return
    except (ValueError, KeyError, TypeError, MemoryError, RecursionError) as error:
        if isinstance(error, (MemoryError, RecursionError)):
            message = (
                f"{_culprit(config)}an expression is too deeply nested or too large to be read "
                f"({type(error).__name__})"
            )
        else:
            lines = str(error).splitlines()[:5] or [type(error).__name__]
            message = "\n    ".join(line if len(line) <= 300 else line[:297] + "..." for line in lines)
    from feasibility.config import ConfigError, _read_study_file, _where

    where = ", ".join(str(f) for f in files)
    sources = []
    for f in files:
        try:
            sources.append(_read_study_file(Path(f)))
        except ConfigError:
            pass
    candidates = [
        (_DECLARED[m[1]], m[2])
        for m in re.finditer(
            r"\b(derived variable|instrument|parameter|table|figure|value) '([^']+)'", message
        )
    ]
    candidates += [tuple(m[0].split(".")) for m in re.finditer(r"\b[a-z_]+(?:\.[\w-]+)+", message)]
    for path in candidates:
        label, line = _where(tuple(path), sources)
        if line:
            where = f"{label} line {line}"
            break
    raise ConfigError(
        f"The study file {', '.join(str(f) for f in files)} is not valid; nothing was run:\n"
        f"  {where}: {message}"
    )
