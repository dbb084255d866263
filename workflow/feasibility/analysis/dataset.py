"""The analysis dataset of a study: fields, scores, derived variables and flow, by record.

:class:`Analysis` is built from a :class:`~feasibility.analysis.study.StudyData` and an
:class:`~feasibility.analysis.spec.AnalysisSpec`. It computes what a table asks for,
lazily and once: a derived variable when it is first named (its dependencies first; a
cycle is an error), an instrument's scores at every time point when one of them is first
named. Values are one per record (``Series`` over :attr:`Analysis.records`) or one per
record and time point (a ``Series`` per time point).

Name resolution in an expression (:class:`DatasetScope`):

* ``x`` - a derived variable or population, else a score, else a field of the data
  dictionary (or an export column such as ``dem_pain_area___1``), else a parameter, else
  the built-ins ``record_id``, ``redcap_arm``, ``redcap_data_access_group``;
* ``form.field`` - the field at the form's one event (per arm), else at the scope's time
  point; ``form[tp].field`` - at time point (or event) ``tp``;
* ``x[tp]`` - a score or per-time-point variable at time point ``tp``; bare, it is read at
  the scope's time point, or at its only time point.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from feasibility.analysis.expressions import (
    ROW,
    At,
    Call,
    Evaluator,
    Expression,
    ExpressionError,
    FieldRef,
    Node,
    Ref,
    Scope,
    V,
    as_row_series,
    normalise,
    suggest,
    take,
)
from feasibility.analysis.spec import DUE_DAYS, AnalysisSpec, DerivedSpec
from feasibility.analysis.study import DESIGN_COLUMNS, StudyData
from feasibility.io import write_parquet, write_text
from feasibility.scoring import registry
from feasibility.scoring.items import empty_log

BUILTINS = ("record_id", "redcap_arm", "redcap_data_access_group")
log = logging.getLogger("feasibility.analysis")


@dataclass
class Variable:
    """A computed variable: one series over the records, or one per time point."""

    name: str
    by_timepoint: dict[str, pd.Series] | None = None
    values: pd.Series | None = None
    meta: dict = field(default_factory=dict)

    @property
    def per_timepoint(self) -> bool:
        return self.by_timepoint is not None


@dataclass
class Instances:
    """The rows of a repeating instrument (at some events): values, record id, order
    (``redcap_repeat_instance``) and the record's position in :attr:`Analysis.records`."""

    frame: pd.DataFrame
    records: np.ndarray
    order: np.ndarray
    positions: np.ndarray


@dataclass
class FormRows:
    """A non-repeating form's rows at some events: the rows, each row's record position,
    and for each record its row (-1: none)."""

    frame: pd.DataFrame
    positions: np.ndarray
    where: np.ndarray


class Analysis:
    """A study's data and its analysis declaration, computed on demand."""

    def __init__(self, study: StudyData, spec: AnalysisSpec, provenance=None):
        self.study, self.spec, self.book = study, spec, study.codebook
        # the data folder's provenance file (feasibility.provenance), when a generator made
        # the data: the notes and source notes then say they are synthetic
        self.provenance = provenance
        self.records = study.record_ids()
        self._variables: dict[str, Variable] = {}
        self._computing: list[str] = []
        self._rows: dict[tuple, pd.DataFrame] = {}
        self._columns: dict[tuple, pd.Series] = {}
        self._instances: dict[str, Instances] = {}
        self._positions: dict[int, tuple[pd.Index, np.ndarray]] = {}
        self._scored: dict[str, Any] = {}
        self.scoring_logs: list[pd.DataFrame] = []
        self.warnings: list[str] = []  # derived variables that divide by zero or are all missing
        # missing-data codes (issue 23.6): the records whose value a code made missing, per
        # derived variable and time point, and what the report says of them
        self._coded: dict[tuple, np.ndarray] = {}
        self.code_log: list[dict] = []
        self.instrument_notes: dict[str, dict] = {}
        self.instrument_methods: dict[str, dict] = {}  # e.g. how the EQ-5D index is valued
        self.score_owner: dict[str, str] = {}
        for name, inst in spec.instruments.items():
            for score in inst.score_names():
                if score in self.score_owner:
                    raise ValueError(
                        f"instruments {self.score_owner[score]!r} and {name!r} both "
                        f"make the score {score!r}; rename one (instruments.{name}"
                        ".rename)"
                    )
                self.score_owner[score] = name
        self._check_names()

    # -- names ---------------------------------------------------------------------
    def _check_names(self) -> None:
        fields = set(self.book.fields) | set(self.book.columns)
        for name in self.spec.derived:
            for kind, names in (
                ("field", fields),
                ("score", self.score_owner),
                ("parameter", self.spec.parameters),
            ):
                if name in names:
                    raise ValueError(
                        f"derived variable {name!r} has the name of a {kind}; give it another name"
                    )
        for name in self.spec.parameters:
            if name in fields or name in self.score_owner:
                raise ValueError(f"parameter {name!r} has the name of a field or score; give it another name")

    def known_names(self) -> list[str]:
        return sorted(
            {
                *self.spec.derived,
                *self.score_owner,
                *self.book.fields,
                *self.book.columns,
                *self.spec.parameters,
                *BUILTINS,
            }
        )

    @property
    def timepoints(self):
        return self.spec.timepoints

    # -- forms ---------------------------------------------------------------------
    def form_events(
        self, form: str, event: str | None, timepoint: str | None, expr: Expression, node: Node
    ) -> list[str]:
        """The events a reference to ``form`` reads (see the module docstring)."""
        if form not in self.book.forms:
            raise expr.error(f"unknown form {form!r}{suggest(form, self.book.forms)}", node, form)
        designated = self.book.events_of(form)
        if event is not None:
            if event in self.timepoints.points:
                events = [e for e in self.timepoints.points[event].events if e in designated]
                if not events:
                    raise expr.error(
                        f"form {form!r} is not collected at time point {event!r} "
                        f"(events {', '.join(self.timepoints.points[event].events)})",
                        node,
                        event,
                    )
                return events
            if event in self.book.events:
                if event not in designated:
                    raise expr.error(f"form {form!r} is not designated for event {event!r}", node, event)
                return [event]
            known = [*self.timepoints.points, *self.book.events]
            raise expr.error(f"unknown time point or event {event!r}{suggest(event, known)}", node, event)
        per_arm: dict[int, list[str]] = {}
        for e in designated:
            per_arm.setdefault(self.book.arm_of(e), []).append(e)
        if all(len(v) <= 1 for v in per_arm.values()):
            return designated
        if timepoint is not None:
            events = [e for e in self.timepoints.points[timepoint].events if e in designated]
            if events:
                return events
        where = self._timepoints_of_events(designated)
        raise expr.error(
            f"form {form!r} is collected at several events ({where}): say which, "
            f"e.g. {form}[{next(iter(self._tp_names(designated)), designated[0])}]"
            ".field",
            node,
            form,
        )

    def _tp_names(self, events: list[str]) -> list[str]:
        return [tp for tp, p in self.timepoints.points.items() if set(p.events) & set(events)]

    def _timepoints_of_events(self, events: list[str]) -> str:
        tps = self._tp_names(events)
        return "time points " + ", ".join(tps) if tps else "events " + ", ".join(events)

    def form_rows(self, form: str, events: list[str]) -> "FormRows":
        """A non-repeating form's rows at ``events``: at most one per record."""
        key = (form, tuple(events))
        if key not in self._rows:
            table = self.study.table(form)
            rows = table[table["redcap_event_name"].isin(events)].reset_index(drop=True)
            ids = rows["record_id"].astype(str)
            if ids.duplicated().any():
                dup = ids[ids.duplicated()].iloc[0]
                raise ValueError(
                    f"form {form!r} has more than one row for record {dup!r} at "
                    f"{', '.join(events)}; a repeating instrument must be "
                    "aggregated, e.g. count(form), sum(form.field)"
                )
            positions = self.records.get_indexer(pd.Index(ids))
            where = np.full(len(self.records), -1, dtype=np.int64)
            where[positions] = np.arange(len(rows))
            self._rows[key] = FormRows(rows, positions, where)
        return self._rows[key]

    def instances(self, form: str, events: list[str]) -> tuple[str, Instances]:
        """A repeating form's rows at ``events``, with their level key."""
        designated = self.book.events_of(form)
        key = form if list(events) == designated else f"{form}[{','.join(events)}]"
        if key not in self._instances:
            table = self.study.table(form)
            rows = table[table["redcap_event_name"].isin(events)].reset_index(drop=True)
            records = rows["record_id"].astype(str)
            positions = self.records.get_indexer(pd.Index(records))
            if "redcap_repeat_instance" in rows:
                order = pd.to_numeric(rows["redcap_repeat_instance"]).astype("float64").to_numpy()
            else:
                order = np.arange(len(rows), dtype=float)
            self._instances[key] = Instances(rows, records.to_numpy(), order, positions)
        return key, self._instances[key]

    def positions(self, index: pd.Index) -> np.ndarray:
        """Where each record of ``index`` is in :attr:`records` (computed once per index)."""
        key = id(index)
        if key not in self._positions or self._positions[key][0] is not index:
            self._positions[key] = (index, self.records.get_indexer(index))
        return self._positions[key][1]

    def field_value(self, form: str, column: str, events: list[str]) -> V:
        """``form.column`` at ``events``: one per record, or one per instance."""
        info = self.book.field_of_column(column)
        meta = {}
        if info is not None:
            meta = {"field": info.name, "label": info.label}
            if info.is_coded:
                meta["choices"] = info.choices
        if self.book.repeats(form, events):
            key, inst = self.instances(form, events)
            ckey = ("instances", key, column)
            if ckey not in self._columns:
                self._columns[ckey] = (
                    normalise(inst.frame[column])
                    if column in inst.frame
                    else pd.Series([None] * len(inst.frame), dtype=object)
                )
            return V(self._columns[ckey], key, meta)
        ckey = ("rows", form, tuple(events), column)
        if ckey not in self._columns:
            rows = self.form_rows(form, events)
            if column in rows.frame:
                values = take(normalise(rows.frame[column]).array, rows.where)
                self._columns[ckey] = normalise(pd.Series(values, index=self.records))
            else:  # a form with no rows here: every value missing
                self._columns[ckey] = pd.Series([None] * len(self.records), index=self.records, dtype=object)
        return V(self._columns[ckey], ROW, meta)

    def has_form(self, form: str, events: list[str]) -> V:
        rows = self.form_rows(form, events)
        return V(pd.Series(rows.where >= 0, index=self.records, dtype="boolean"), ROW)

    # -- variables -----------------------------------------------------------------
    def variable(self, name: str) -> Variable:
        """A derived variable, population, flow variable or score, computed once."""
        if name in self._variables:
            return self._variables[name]
        if name in self._computing:
            cycle = " -> ".join([*self._computing[self._computing.index(name) :], name])
            raise ValueError(f"derived variables depend on each other in a cycle: {cycle}")
        self._computing.append(name)
        try:
            if name == DUE_DAYS and name in self.spec.derived:
                var = self._due_days(self.spec.derived[name])
            elif name in self.spec.derived:
                var = self._derive(self.spec.derived[name])
            elif name in self.score_owner:
                self._score(self.score_owner[name])
                var = self._variables[name]
            else:
                raise KeyError(name)
        finally:
            self._computing.pop()
        self._variables[name] = var
        return var

    def _due_days(self, d: DerivedSpec) -> Variable:
        """Days from the start date to each follow-up time point (issue 23.5):
        ``flow.follow_up.due_days``, else the REDCap events' day offsets (the time point's
        first event minus the baseline's)."""
        declared = ((self.spec.raw.get("flow") or {}).get("follow_up") or {}).get("due_days") or {}
        base = self.timepoints.baseline
        by = {}
        for tp in d.timepoints:
            if tp in declared:
                days = float(declared[tp])
            else:

                def offset(point):
                    event = self.timepoints.points[point].events[0]
                    value = (self.book.events.get(event) or {}).get("day_offset")
                    if value is None or (isinstance(value, float) and math.isnan(value)):
                        raise ValueError(
                            f"flow.follow_up.due_days: no day offset for event "
                            f"{event!r} (time point {point!r}) in the project's "
                            "events; give flow.follow_up.due_days."
                            f"{tp}"
                        )
                    return float(value)

                days = offset(tp) - offset(base)
            by[tp] = pd.Series(days, index=self.records, dtype="float64")
        return Variable(d.name, by_timepoint=by, meta={"label": "Days to the time point"})

    def has_variable(self, name: str) -> bool:
        return name in self.spec.derived or name in self.score_owner

    def _derive(self, d: DerivedSpec) -> Variable:
        """A derived variable; a coded value (a field, ``first(...)`` of one) keeps its
        choices unless the declaration gives its own."""
        meta = {"label": d.label or d.name}

        def run(timepoint):
            scope = self.scope(timepoint)
            evaluator = Evaluator(scope, d.expr)
            v = evaluator.run()
            if not d.choices and v.meta.get("choices") and "choices" not in meta:
                meta["choices"] = v.meta["choices"]
            values = as_row_series(v, scope, d.expr)
            if d.missing_codes != "ignore" and not _asks_missing(d.expr):
                values = self._codes_missing(d.name, timepoint, values, scope.reads)
            self._check_derived(d, timepoint, values, evaluator.divided_by_zero)
            return values

        if d.choices:
            meta["choices"] = d.choices
        arms = self.spec.arms
        if d.timepoints is None and arms is not None and d.name == arms.name and not d.choices:
            values = run(None)
            by_redcap_arm = arms.allocation.text.strip() == "redcap_arm"
            if not meta.get("choices") and by_redcap_arm and self.book.arms:
                meta["choices"] = tuple(sorted(self.book.arms.items()))
            if not meta.get("choices"):
                raise ValueError(
                    f"arms.allocation {arms.allocation.text!r} is not a coded field "
                    "(nor redcap_arm); give arms.levels ([[code, label], ...])"
                )
            return Variable(d.name, values=values, meta=meta)
        if d.timepoints is None:
            return Variable(d.name, values=run(None), meta=meta)
        tps = list(self.timepoints.points) if d.timepoints == "all" else list(d.timepoints)
        return Variable(d.name, by_timepoint={tp: run(tp) for tp in tps}, meta=meta)

    # -- missing-data codes (issue 23.6) ----------------------------------------------
    def _field_codes(self, form: str, field: str, events: tuple) -> pd.DataFrame:
        """The missing-data codes found in ``form.field`` at ``events`` (record, code)."""
        key = ("codes", form, field, events)
        if key not in self._columns:
            mc = self.study.missing_codes
            if mc is None or not len(mc):
                hit = pd.DataFrame({"record_id": pd.Series(dtype=str), "code": pd.Series(dtype=str)})
            else:
                sel = (
                    (mc["form"] == form) & (mc["field"] == field) & mc["redcap_event_name"].isin(list(events))
                )
                hit = mc.loc[sel, ["record_id", "code"]].astype(str).reset_index(drop=True)
            self._columns[key] = hit
        return self._columns[key]

    def _coded_mask(self, reads) -> tuple[np.ndarray, dict[str, int]]:
        """The records with a missing-data code in any field read (or in a derived variable
        a code made missing), and the codes counted."""
        mask = np.zeros(len(self.records), dtype=bool)
        counts: dict[str, int] = {}
        for read in dict.fromkeys(reads):
            if read[0] == "variable":
                got = self._coded.get(read[1:])
                if got is not None:
                    mask |= got
                continue
            _, form, field, events = read
            hit = self._field_codes(form, field, events)
            if not len(hit):
                continue
            where = self.records.get_indexer(pd.Index(hit["record_id"]))
            mask[where[where >= 0]] = True
            for code in hit["code"]:
                counts[code] = counts.get(code, 0) + 1
        return mask, counts

    def _codes_missing(self, name: str, timepoint, values: pd.Series, reads) -> pd.Series:
        """``values`` missing wherever a field the expression read holds a missing-data code
        (never "no", 0 or a skipped instance), logged for the report."""
        mask, counts = self._coded_mask(reads)
        if not mask.any():
            return values
        self._coded[(name, timepoint)] = mask
        changed = int((mask & values.notna().to_numpy()).sum())
        if counts:
            self.code_log.append(
                {
                    "variable": name,
                    "timepoint": timepoint or "",
                    "participants": int(mask.sum()),
                    "changed": changed,
                    "codes": dict(sorted(counts.items())),
                }
            )
        out = values.copy()
        if out.dtype == object:
            out[mask] = None
        else:
            out[mask] = pd.NA if out.dtype.name in ("boolean", "string", "Int64") else np.nan
        return normalise(out)

    def _check_derived(self, d: DerivedSpec, timepoint: str | None, values: pd.Series, zeros: int) -> None:
        """A warning (logged, and kept with the analysis dataset) for a derived variable that
        divides by zero or is missing for every participant: a count that could be silently
        wrong."""
        at = f" at time point {timepoint}" if timepoint else ""
        where = f"derived variable {d.name}{at} ({d.expr.text})"
        if zeros:
            self._warn(f"{where} divides by zero for {zeros:,} value(s); each gives a missing value")
        if len(values) and not values.notna().any():
            self._warn(f"{where} is missing for every participant ({len(values):,})")

    def _warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)
            log.warning(message)

    def scope(
        self,
        timepoint: str | None = None,
        *,
        summary: bool = False,
        index: pd.Index | None = None,
        bound: dict[str, Any] | None = None,
        functions: dict[str, Callable] | None = None,
    ) -> "DatasetScope":
        return DatasetScope(self, timepoint, summary, index, bound or {}, functions or {})

    def evaluate_rows(
        self, expr: Expression, timepoint: str | None = None, index: pd.Index | None = None
    ) -> pd.Series:
        """A row-level expression as a series over the records (or ``index``)."""
        scope = self.scope(timepoint, index=index)
        return as_row_series(Evaluator(scope, expr).run(), scope, expr)

    def evaluate(
        self, expr: Expression, timepoint: str | None = None, index: pd.Index | None = None, **bound
    ) -> V:
        return Evaluator(self.scope(timepoint, index=index, bound=bound), expr).run()

    def summarise(
        self,
        expr: Expression,
        index: pd.Index,
        timepoint: str | None = None,
        bound: dict | None = None,
        functions: dict | None = None,
    ) -> Any:
        """A summary expression (aggregates over the records of ``index``) -> one value."""
        scope = self.scope(timepoint, summary=True, index=index, bound=bound, functions=functions)
        v = Evaluator(scope, expr).run()
        if not v.is_scalar:
            raise expr.error(
                "gives one value per record; a summary needs one number, e.g. "
                "count(...), sum(...), median(...)"
            )
        return v.data

    def population(self, expr: Expression | None, timepoint: str | None = None) -> pd.Index:
        """The records for which ``expr`` is true (every record when None)."""
        if expr is None:
            return self.records
        values = self.evaluate_rows(expr, timepoint)
        if values.dtype.name != "boolean" and not pd.api.types.is_bool_dtype(values.dtype):
            raise expr.error("a population is a condition (true/false), e.g. has(enrolment)")
        return self.records[values.fillna(False).to_numpy(dtype=bool)]

    # -- scores --------------------------------------------------------------------
    def _score(self, name: str) -> None:
        """Score instrument ``name`` at each of its time points."""
        if name in self._scored:
            return
        inst = self.spec.instruments[name]
        spec = inst.scorer
        params = inst.params
        prov = self.provenance
        calibrated = prov.calibrated_to if prov is not None and prov.synthetic else {}
        described = spec.describe(params, calibrated) if spec.describe else {}
        self.instrument_notes[name] = dict(described.get("notes", {}))
        if described.get("method"):
            self.instrument_methods[name] = dict(described["method"])
        labels = {
            **spec.scores,
            **described.get("labels", {}),
            **{s: self.variable_label(f) for s, f in inst.single_scores.items()},
        }
        labels.update(inst.labels_raw)
        tps = (
            inst.timepoints
            if inst.timepoints is not None
            else [
                tp
                for tp, p in self.timepoints.points.items()
                if set(p.events) & set(self.book.events_of(inst.form))
            ]
        )
        if not tps:
            raise ValueError(
                f"instrument {name!r}: form {inst.form!r} is not collected at any declared time point"
            )
        demographics = None
        if spec.needs:
            demographics = pd.DataFrame({"record_id": self.records.astype(str)})
            for need in spec.needs:
                expr = inst.inputs.get(need)
                demographics[need] = self.evaluate_rows(expr).to_numpy() if expr is not None else None
        items = inst.item_fields()
        missing_fields = [f for f in items.values() if f not in self.book.columns]
        if missing_fields:
            raise ValueError(
                f"instrument {name!r}: no field(s) {', '.join(missing_fields)} in "
                f"the data dictionary (form {inst.form!r})"
            )
        by_score: dict[str, dict[str, pd.Series]] = {}
        for tp in tps:
            if tp not in self.timepoints.points:
                raise ValueError(f"instrument {name!r}: unknown time point {tp!r}")
            events = [e for e in self.timepoints.points[tp].events if e in self.book.events_of(inst.form)]
            if not events:
                raise ValueError(
                    f"instrument {name!r}: form {inst.form!r} is not collected at time point {tp!r}"
                )
            rows = self.form_rows(inst.form, events)
            present = rows.frame
            frame = pd.DataFrame({"record_id": present["record_id"].astype(str).to_numpy()})
            for canonical, fld in items.items():
                frame[canonical] = (
                    pd.to_numeric(present[fld], errors="coerce").astype("float64").to_numpy()
                    if fld in present
                    else np.nan
                )
            self._check_items(name, inst, frame, items, tp)
            scored = registry.run_scorer(spec, frame, params, demographics)
            for score in spec.scores or inst.single_scores:
                if score not in scored.scores:
                    continue
                out = inst.rename.get(score, score)
                by_score.setdefault(out, {})[tp] = pd.Series(
                    take(scored.scores[score].to_numpy(), rows.where), index=self.records
                )
            log = scored.log
            if len(log):
                answered = frame[list(items)].notna().any(axis=1)
                log = log[answered.loc[log.index].to_numpy()]
                self.scoring_logs.append(log.assign(timepoint=tp, instrument_name=name))
        for score, by in by_score.items():
            original = next((k for k, v in inst.rename.items() if v == score), score)
            meta = {"label": labels.get(original, score), "instrument": name}
            single = inst.single_scores.get(original)
            if single and self.book.choices(single):
                meta["choices"] = self.book.choices(single)
            self._variables[score] = Variable(
                score,
                by_timepoint={
                    tp: (normalise(by[tp]) if tp in by else pd.Series(np.nan, index=self.records))
                    for tp in tps
                },
                meta=meta,
            )
        self._scored[name] = True

    def _check_items(self, name, inst, frame: pd.DataFrame, items: dict, tp: str) -> None:
        """Every answer within the instrument's coding, else an error naming the field, the
        time point and the record."""
        spec = inst.scorer
        for canonical, fld in items.items():
            values = frame[canonical]
            answered = values.notna().to_numpy()
            if not answered.any():
                continue
            coding = spec.item_coding(canonical)
            v = values.to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                if coding.choices:
                    codes = [c for c, _ in coding.choices]
                    bad = answered & ~np.isin(v, codes)
                    allowed = "codes " + ", ".join(str(c) for c in codes)
                else:
                    lo = -math.inf if coding.vmin is None else coding.vmin
                    hi = math.inf if coding.vmax is None else coding.vmax
                    bad = answered & ~((v >= lo) & (v <= hi))
                    if coding.validation == "integer":
                        bad |= answered & (v % 1 != 0)
                    allowed = f"{lo:g} to {hi:g}" + (
                        ", whole numbers" if coding.validation == "integer" else ""
                    )
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(
                    f"instrument {name!r} ({spec.title}): {inst.form}.{fld} = {v[i]:g} at "
                    f"{tp} for record {frame['record_id'].iat[i]!r} is outside the item's coding "
                    f"({allowed}); {int(bad.sum())} such value(s). Correct the data; answers "
                    "outside an instrument's coding are never scored."
                )

    def scoring_log(self) -> pd.DataFrame:
        """Every imputation and dropped score of the instruments scored so far."""
        if not self.scoring_logs:
            return empty_log().assign(timepoint=pd.Series(dtype=str))
        return pd.concat(self.scoring_logs, ignore_index=True)

    def score_all(self) -> None:
        """Every instrument at each of its time points."""
        for name in self.spec.instruments:
            self._score(name)

    # -- the analysis dataset, saved and loaded ---------------------------------------
    def compute_all(self) -> None:
        """Every instrument and every derived variable (in dependency order)."""
        self.score_all()
        for name in self.spec.derived:
            self.variable(name)

    def save(self, folder: str | Path) -> Path:
        """Write the analysis dataset to ``folder``: ``records.parquet`` (one row per record,
        each per-record variable), ``timepoints.parquet`` (one row per record and time point,
        each score and per-time-point variable), ``scoring_log.parquet`` and
        ``variables.json`` (labels, choices, instrument notes). Table jobs then
        :meth:`load` it instead of deriving and scoring again."""
        self.compute_all()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        public = {n: v for n, v in self._variables.items() if not n.startswith("_")}
        records = pd.DataFrame({"record_id": self.records.astype(str)})
        long_parts: dict[str, pd.DataFrame] = {}
        for name, var in public.items():
            if var.per_timepoint:
                for tp, values in var.by_timepoint.items():
                    part = long_parts.setdefault(
                        tp, pd.DataFrame({"record_id": self.records.astype(str), "timepoint": tp})
                    )
                    part[name] = values.array
            else:
                records[name] = var.values.array
        long = (
            pd.concat(long_parts.values(), ignore_index=True)
            if long_parts
            else pd.DataFrame({"record_id": pd.Series(dtype=str), "timepoint": pd.Series(dtype=str)})
        )
        for frame in (records, long):
            for c in frame.columns:
                if frame[c].dtype == object:
                    frame[c] = frame[c].astype("string")
        # each file written whole or not at all (a build stopped midway leaves no half file)
        write_parquet(folder / "records.parquet", records)
        write_parquet(folder / "timepoints.parquet", long)
        write_parquet(folder / "scoring_log.parquet", self.scoring_log())
        meta = {
            "variables": {
                n: {
                    "per_timepoint": v.per_timepoint,
                    "timepoints": list(v.by_timepoint or []),
                    "label": v.meta.get("label"),
                    "choices": [list(c) for c in v.meta.get("choices") or []],
                    "instrument": v.meta.get("instrument"),
                }
                for n, v in public.items()
            },
            "instrument_notes": self.instrument_notes,
            "instrument_methods": self.instrument_methods,
            "warnings": self.warnings,
            "missing_codes": self.code_log,
            "records": len(self.records),
            "data_date": self.data_date(),
        }
        write_text(
            folder / "variables.json", json.dumps(meta, indent=1, ensure_ascii=False, default=str) + "\n"
        )
        return folder

    def data_date(self) -> str | None:
        """The latest follow-up return (``flow.follow_up.date``), else the latest date of any
        variable, as YYYY-MM-DD: the report's build date is the first of its month."""
        names = (
            ["_flow_date"]
            if "_flow_date" in self.spec.derived
            else [n for n in self._variables if not n.startswith("_")]
        )
        latest = None
        for name in names:
            var = self.variable(name)
            for values in (var.by_timepoint or {}).values() if var.per_timepoint else [var.values]:
                if pd.api.types.is_datetime64_any_dtype(values.dtype) and values.notna().any():
                    top = values.max()
                    latest = top if latest is None or top > latest else latest
        return None if latest is None else pd.Timestamp(latest).strftime("%Y-%m-%d")

    @classmethod
    def load(cls, study: StudyData, spec: AnalysisSpec, folder: str | Path, provenance=None) -> "Analysis":
        """An analysis whose variables and scores come from :meth:`save`'s folder."""
        folder = Path(folder)
        analysis = cls(study, spec, provenance)
        meta = json.loads((folder / "variables.json").read_text(encoding="utf-8"))
        records = pd.read_parquet(folder / "records.parquet").set_index("record_id")
        if list(records.index) != list(analysis.records.astype(str)):
            raise ValueError(
                f"{folder}: the saved analysis dataset is of other records than "
                "the validated data; derive it again"
            )
        long = pd.read_parquet(folder / "timepoints.parquet")
        by_tp = _by_timepoint(long, records.index)
        for name, info in meta["variables"].items():
            var_meta = {k: info[k] for k in ("label", "instrument") if info.get(k)}
            if info.get("choices"):
                var_meta["choices"] = tuple((c, str(t)) for c, t in info["choices"])
            if info["per_timepoint"]:
                by = {
                    tp: normalise(by_tp[tp][name].set_axis(analysis.records, copy=False))
                    for tp in info["timepoints"]
                }
                analysis._variables[name] = Variable(name, by_timepoint=by, meta=var_meta)
            else:
                analysis._variables[name] = Variable(
                    name,
                    values=normalise(records[name].set_axis(analysis.records, copy=False)),
                    meta=var_meta,
                )
        analysis.instrument_notes = meta["instrument_notes"]
        analysis.instrument_methods = meta.get("instrument_methods", {})
        analysis.warnings = list(meta.get("warnings", []))
        analysis.code_log = list(meta.get("missing_codes", []))
        analysis._scored = {name: True for name in spec.instruments}
        log = pd.read_parquet(folder / "scoring_log.parquet")
        analysis.scoring_logs = [log] if len(log) else []
        return analysis

    def arm_levels(self) -> tuple[tuple[Any, str], ...]:
        """The arms' codes and labels (the allocation's choices)."""
        if self.spec.arms is None:
            raise ValueError("the study file has no arms section (the allocation)")
        return tuple(self.variable(self.spec.arms.name).meta["choices"])

    def compared_arms(self) -> tuple[Any, Any]:
        """(intervention, control): the levels a difference compares, first minus second."""
        arms = self.spec.arms
        codes = [c for c, _ in self.arm_levels()]
        first = arms.intervention if arms.intervention is not None else codes[0]
        second = arms.control if arms.control is not None else (codes[1] if len(codes) > 1 else None)
        from feasibility.analysis.expressions import _code_key

        keys = {_code_key(c): c for c in codes}
        for key, value in (("intervention", first), ("control", second)):
            if value is None or _code_key(value) not in keys:
                raise ValueError(
                    f"arms.{key} {value!r} is not a level of the allocation "
                    f"({', '.join(str(c) for c in codes)})"
                )
        return keys[_code_key(first)], keys[_code_key(second)]

    def variable_label(self, name: str) -> str:
        if self.has_variable(name):
            return self.variable(name).meta.get("label", name)
        info = self.book.field_of_column(name) or self.book.fields.get(name)
        return info.label if info else name


class DatasetScope(Scope):
    """Names in an expression, resolved against an :class:`Analysis`."""

    def __init__(
        self,
        analysis: Analysis,
        timepoint: str | None,
        summary: bool,
        index: pd.Index | None,
        bound: dict[str, Any],
        functions: dict[str, Callable],
    ):
        self.analysis, self.timepoint, self.summary = analysis, timepoint, summary
        self.index = analysis.records if index is None else index
        self._subset = index is not None and not index.equals(analysis.records)
        self.bound, self.functions = bound, functions
        self._cache: dict = {}
        # what the expression read: fields (form, field, events) and variables, whose
        # missing-data codes make a derived value missing (Analysis._codes_missing)
        self.reads: list[tuple] = []

    def _rows(self, v: V) -> V:
        if v.level == ROW and self._subset:
            positions = self.analysis.positions(self.index)
            return V(pd.Series(take(v.data.array, positions), index=self.index), ROW, v.meta)
        return v

    # -- names ---------------------------------------------------------------------
    def name(self, node: Ref, expr: Expression) -> V:
        a, name = self.analysis, node.name
        if name in self.bound:
            value = self.bound[name]
            return value if isinstance(value, V) else V(value)
        if a.has_variable(name):
            return self._variable(name, self.timepoint, node, expr)
        owner = a.book.field_of_column(name)
        if owner is None and name in a.book.fields:
            owner = a.book.fields[name]
        if owner is not None:
            return self.field(FieldRef(node.pos, owner.form, None, name), expr)
        if name in a.spec.parameters:
            return V(a.spec.parameters[name])
        if name == "record_id":
            return V(pd.Series(self.index.astype(str), index=self.index, dtype=object), ROW)
        if name in ("redcap_arm", "redcap_data_access_group"):
            return self._rows(V(self._builtin(name, node, expr), ROW))
        if name in a.book.forms:
            raise expr.error(
                f"{name!r} is a form: use has({name}), count({name}) or {name}.<field>", node, name
            )
        raise expr.error(f"unknown name {name!r}{suggest(name, [*a.known_names(), *self.bound])}", node, name)

    def is_form(self, name: str) -> bool:
        a = self.analysis
        return (
            name in a.book.forms
            and name not in self.bound
            and not a.has_variable(name)
            and name not in a.book.columns
            and name not in a.book.fields
            and name not in a.spec.parameters
        )

    def _builtin(self, name: str, node: Node | None = None, expr: Expression | None = None) -> pd.Series:
        a = self.analysis
        key = ("builtin", name)
        if key not in a._columns:
            parts = [t[["record_id", name]] for t in a.study.forms.values() if name in t]
            if not parts and name == "redcap_data_access_group":
                message = (
                    "the study uses the records' data access groups (redcap_data_access_group, its "
                    "sites) but the export has no redcap_data_access_group column: export the records "
                    "with their data access groups"
                )
                if expr is not None:
                    raise expr.error(message, node, name)
                raise ValueError(message)
            if not parts:
                values = pd.Series(
                    1 if name == "redcap_arm" else None,
                    index=a.records,
                    dtype="float64" if name == "redcap_arm" else object,
                )
            else:
                both = pd.concat(parts).dropna().drop_duplicates("record_id")
                where = np.full(len(a.records), -1, dtype=np.int64)
                where[a.records.get_indexer(pd.Index(both["record_id"].astype(str)))] = np.arange(len(both))
                values = pd.Series(take(both[name].array, where), index=a.records)
            a._columns[key] = normalise(values)
        return a._columns[key]

    def _variable(self, name: str, timepoint: str | None, node: Node, expr: Expression) -> V:
        try:
            var = self.analysis.variable(name)
        except ExpressionError:
            raise
        except ValueError as exc:
            raise ExpressionError(
                str(exc), where=expr.where, expression=expr.text, name=name, position=node.pos
            ) from None
        if not var.per_timepoint:
            self.reads.append(("variable", name, None))
            return self._rows(V(var.values, ROW, var.meta))
        tps = list(var.by_timepoint)
        if timepoint is None or timepoint not in var.by_timepoint:
            if timepoint is None and len(tps) == 1:
                timepoint = tps[0]
            elif timepoint is not None:
                raise expr.error(
                    f"{name!r} has no value at time point {timepoint!r} (it has {', '.join(tps)})", node, name
                )
            else:
                raise expr.error(
                    f"{name!r} has a value at each of {', '.join(tps)}: say which, e.g. {name}[{tps[0]}]",
                    node,
                    name,
                )
        self.reads.append(("variable", name, timepoint))
        return self._rows(V(var.by_timepoint[timepoint], ROW, var.meta))

    def at(self, node: At, expr: Expression) -> V:
        a = self.analysis
        if node.timepoint not in a.timepoints.points:
            raise expr.error(
                f"unknown time point {node.timepoint!r}{suggest(node.timepoint, a.timepoints.points)}",
                node,
                node.timepoint,
            )
        if a.has_variable(node.name):
            var = a.variable(node.name)
            if not var.per_timepoint:
                raise expr.error(
                    f"{node.name!r} is one value per record; [time point] is for "
                    "scores and per-time-point variables",
                    node,
                    node.name,
                )
            return self._variable(node.name, node.timepoint, node, expr)
        owner = a.book.field_of_column(node.name) or a.book.fields.get(node.name)
        if owner is not None:
            return self.field(FieldRef(node.pos, owner.form, node.timepoint, node.name), expr)
        if node.name in a.book.forms:
            raise expr.error(
                f"{node.name}[{node.timepoint}] is a form: use has(), count() or "
                f"{node.name}[{node.timepoint}].<field>",
                node,
                node.name,
            )
        raise expr.error(f"unknown name {node.name!r}{suggest(node.name, a.known_names())}", node, node.name)

    def field(self, node: FieldRef, expr: Expression) -> V:
        a = self.analysis
        events = a.form_events(node.form, node.event, self.timepoint, expr, node)
        form_columns = {c for f in a.book.fields.values() if f.form == node.form for c in f.columns} | {
            f"{node.form}_complete"
        }
        info = a.book.fields.get(node.field)
        if info is not None and info.form == node.form and info.is_checkbox:
            raise expr.error(
                f"{node.field!r} is a checkbox field: use n_checked({node.field}), "
                f"any_checked({node.field}), checked({node.field}, code) or a "
                f"column such as {info.columns[0]}",
                node,
                node.field,
            )
        if node.field not in form_columns:
            if node.field in DESIGN_COLUMNS:
                return self._rows(V(self._builtin(node.field, node, expr), ROW))
            raise expr.error(
                f"form {node.form!r} has no field {node.field!r}{suggest(node.field, form_columns)}",
                node,
                node.field,
            )
        owner = a.book.field_of_column(node.field)
        self.reads.append(("field", node.form, owner.name if owner else node.field, tuple(events)))
        return self._rows(a.field_value(node.form, node.field, events))

    def checkbox(self, node: Node, expr: Expression):
        a = self.analysis
        if isinstance(node, Ref):
            info = a.book.fields.get(node.name)
            form, event, name = (info.form if info else None), None, node.name
        else:
            form, event, name = node.form, node.event, node.field
            info = a.book.fields.get(name)
        if info is None or not info.is_checkbox or info.form != form:
            raise expr.error(f"{name!r} is not a checkbox field", node, name)
        events = a.form_events(form, event, self.timepoint, expr, node)
        self.reads.append(("field", form, name, tuple(events)))
        columns = []
        level = ROW
        for (code, _), column in zip(info.choices, info.columns):
            v = self._rows(a.field_value(form, column, events))
            level = v.level
            columns.append((code, v.data))
        return columns, level

    def form_rows(self, form: str, event: str | None, node: Node, expr: Expression) -> V:
        a = self.analysis
        events = a.form_events(form, event, self.timepoint, expr, node)
        if a.book.repeats(form, events):
            key, inst = a.instances(form, events)
            return V(pd.Series(True, index=inst.frame.index, dtype="boolean"), key)
        return self._rows(a.has_form(form, events))

    def _instrument_note(self, node: Call, expr: Expression, ev: Evaluator) -> V:
        a = self.analysis
        name, key = (ev.eval(arg) for arg in node.args)
        if not (name.is_scalar and key.is_scalar):
            raise expr.error("instrument_note() takes an instrument name and a note name", node)
        if name.data not in a.spec.instruments:
            known = suggest(str(name.data), a.spec.instruments)
            raise expr.error(f"no instrument {name.data!r}{known}", node, str(name.data))
        a._score(name.data)
        notes = a.instrument_notes.get(name.data, {})
        if key.data not in notes:
            raise expr.error(
                f"instrument {name.data!r} has no note {key.data!r} (notes: {', '.join(notes) or 'none'})",
                node,
                str(key.data),
            )
        return V(notes[key.data])

    def instance_rows(self, level: str) -> np.ndarray:
        positions = self.analysis._instances[level].positions
        if not self._subset:
            return positions
        key = ("rows", level, id(self.index))
        cached = self._cache.get(key)
        if cached is None:
            inverse = np.full(len(self.analysis.records), -1, dtype=np.int64)
            inverse[self.analysis.positions(self.index)] = np.arange(len(self.index))
            cached = np.where(positions >= 0, inverse[np.maximum(positions, 0)], -1)
            self._cache[key] = cached
        return cached

    def instance_order(self, level: str) -> np.ndarray:
        return self.analysis._instances[level].order

    def call(self, name: str, node: Call, expr: Expression, ev: Evaluator) -> V | None:
        if name == "instrument_note":
            return self._instrument_note(node, expr, ev)
        if name in self.functions:
            args = [ev.eval(a) for a in node.args]
            return self.functions[name](*args, node=node, expr=expr)
        return None


MISSINGNESS = ("is_na", "not_na", "has")


def _asks_missing(expr: Expression) -> bool:
    """Whether an expression asks whether a value is missing (is_na, not_na, has): it reads
    a missing-data code as the missing value it is, and keeps its answer (issue 23.6)."""

    def walk(node) -> bool:
        if isinstance(node, Call) and node.function in MISSINGNESS:
            return True
        for value in vars(node).values():
            items = value if isinstance(value, tuple) else (value,)
            for item in items:
                if isinstance(item, tuple) and len(item) == 2:
                    item = item[1]
                if isinstance(item, Node) and walk(item):
                    return True
        return False

    return walk(expr.root)


def _by_timepoint(long: pd.DataFrame, records: pd.Index) -> dict[str, pd.DataFrame]:
    """The saved time-point rows split by time point, each indexed by ``records``.
    :meth:`Analysis.save` writes each time point as one block of every record in order,
    which is taken as it is (at n = 100,000 a group-by and reindex cost seconds of every
    table job); anything else is reindexed."""
    out = {}
    points = long["timepoint"].to_numpy()
    starts = np.flatnonzero(np.r_[True, points[1:] != points[:-1]]) if len(points) else []
    ends = list(starts[1:]) + [len(points)]
    blocks = {}
    for start, end in zip(starts, ends):
        blocks.setdefault(points[start], []).append((start, end))
    ids = records.to_numpy()
    for tp, spans in blocks.items():
        ((start, end),) = spans if len(spans) == 1 else [(None, None)]
        if (
            start is not None
            and end - start == len(ids)
            and (long["record_id"].to_numpy()[start:end] == ids).all()
        ):
            out[tp] = long.iloc[start:end].set_index("record_id")
        else:
            part = long[long["timepoint"] == tp]
            out[tp] = part.set_index("record_id").reindex(records)
    return out
