"""Dummy data for any REDCap project: a valid all-records export made from its own dictionary.

A trial team writes its analysis on dummy data before the first real export. This
generator reads a project through :func:`feasibility.redcap.load_project` (data
dictionary + instrument designations, or the project XML) and writes REDCap's
all-records export (raw values) in which

* every value is within its field's type, validation, range and choices (a date a date,
  an e-mail an e-mail, a code one of the field's codes, a slider 0-100, a calculated
  field its formula's value);
* branching logic is respected: a field its logic hides is blank (evaluated with
  :mod:`feasibility.redcap.logic`, the one REDCap logic engine, which also computes the
  calculated fields; fields in the order their logic needs them);
* events and repeats are as the designations and the repeating set-up say;
* dates are in order: visits follow their events' day offsets, a form's date fields
  follow each other, and the study file's declared ``date_order`` rules hold;
* missing-data codes appear when the project declares them;
* the same project, settings and seed give a byte-identical file.

What the study file's ``dummy_data`` section may add (``schemas/config.dummy.schema.yaml``):
recruitment sites (data access groups) and rates, an allocation field filled in permuted
blocks by site, gates (screening, consent), visits with dropout and response, what a
dropout writes (an end-of-study form), form and item missingness, repeats, per-field
distributions, and effects. There is no difference between groups unless ``effects``
declares one: every value is drawn from a random stream of its own (keyed by the seed
and the field's name), so changing the allocation changes no outcome.

Command line::

    python -m feasibility.synth.dummy --study config/studies/full-trial.yaml --n 240 --seed 7 --out DIR

writes ``DIR/records.csv`` (the file name of the study file's ``redcap.records``).
"""

from __future__ import annotations

import argparse
import difflib
import os
import fnmatch
import math
import sys
import time
import zlib
from dataclasses import dataclass, field as dc_field
from functools import cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml
from scipy.special import ndtr, ndtri

from feasibility.redcap import NotEvaluated, Project, load_project, parse_logic
from feasibility.redcap.logic import Context, check_references
from feasibility.redcap.logic import calculate as calculate_logic
from feasibility.redcap.logic import evaluate as evaluate_logic
from feasibility.redcap.logic import references as logic_references
from feasibility.redcap.model import Field

EPOCH = np.datetime64("1970-01-01", "D")
DAY_MINUTES = 24 * 60
PROGRESS_FROM = 20_000  # records from which progress is shown by default


class DummyError(ValueError):
    """Settings that do not fit the project (unknown field, code, event, form)."""


def day_number(text) -> float:
    return float((np.datetime64(str(text), "D") - EPOCH).astype(np.int64))


def iso(days: float) -> str:
    return str(EPOCH + np.timedelta64(int(math.floor(days)), "D"))


# ----------------------------------------------------------------------------- settings
@cache
def schema() -> dict:
    import feasibility.schemas as package

    return yaml.safe_load(
        (Path(package.__file__).parent / "config.dummy.schema.yaml").read_text(encoding="utf-8")
    )


def check_settings(raw: dict) -> None:
    """Raise DummyError listing where ``raw`` breaks the dummy_data schema."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [
            f"  dummy_data.{'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
            for e in errors[:20]
        ]
        raise DummyError(
            "the study file's dummy_data section does not match the schema:\n" + "\n".join(lines)
        )


@dataclass
class Site:
    name: str
    group_id: int
    rate: float | None
    opens: float


@dataclass
class Settings:
    """The ``dummy_data`` section, with its defaults (``schemas/config.dummy.schema.yaml``)."""

    n: int = 100
    seed: int = 1
    export_date: str | None = None
    start: str = "2024-01-08"
    rate: float | None = None
    sites: list[Site] = dc_field(default_factory=list)
    record_ids: str = "sequential"
    arms: dict[int, float] = dc_field(default_factory=dict)
    event_window: float = 7.0
    date_gap: int = 2
    allocation: dict | None = None
    gates: list[dict] = dc_field(default_factory=list)
    visits: dict[str, dict] = dc_field(default_factory=dict)
    dropout: dict | None = None
    forms: dict[str, dict] = dc_field(default_factory=dict)
    repeating: dict[str, dict] = dc_field(default_factory=dict)
    fields: dict[str, dict] = dc_field(default_factory=dict)
    item_missing: float = 0.02
    missing_codes: float = 0.25
    checked: float = 0.3
    incomplete: float = 0.0
    effects: list[dict] = dc_field(default_factory=list)
    rules: list[dict] = dc_field(default_factory=list)  # validation.rules (date_order)

    @classmethod
    def from_dict(cls, raw: dict | None, *, rules=None, export_date=None) -> "Settings":
        raw = dict(raw or {})
        check_settings(raw)
        rec = raw.pop("recruitment", None) or {}
        sites = [
            Site(s["name"], int(s.get("group_id", i + 1)), s.get("rate"), float(s.get("opens", 0)))
            for i, s in enumerate(rec.get("sites") or [])
        ]
        names = [s.name for s in sites]
        if len(set(names)) != len(names):
            raise DummyError("dummy_data.recruitment.sites: a site name is given twice")
        out = cls(
            start=str(rec.get("start", cls.start)),
            rate=rec.get("rate"),
            sites=sites,
            rules=[r for r in (rules or []) if r.get("kind") == "date_order"],
        )
        for key, value in raw.items():
            if key == "arms":
                value = {int(k): float(v) for k, v in value.items()}
            setattr(out, key, value)
        if out.export_date is None and export_date is not None:
            out.export_date = str(export_date)
        if out.record_ids == "dag" and not out.sites:
            raise DummyError("dummy_data.record_ids: dag needs recruitment.sites (data access groups)")
        return out


# ----------------------------------------------------------------------------- stores
@dataclass
class Store:
    """One form's rows: record, event, repeat instance, the row's date, and each field's
    values (codes as indices into the field's codes, -1 blank; checkboxes as 0/1, -1 blank;
    numbers, dates (days), times (minutes) as floats, NaN blank; text as objects)."""

    form: str
    rec: np.ndarray
    ev: np.ndarray
    inst: np.ndarray
    date: np.ndarray
    cols: dict[str, np.ndarray] = dc_field(default_factory=dict)
    codes: dict[str, np.ndarray] = dc_field(default_factory=dict)  # missing-data codes written
    fixed: dict[str, np.ndarray] = dc_field(default_factory=dict)  # values the settings set
    status: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rec)

    def take(self, keep: np.ndarray) -> None:
        """Keep only the rows where ``keep`` is true."""
        for name in ("rec", "ev", "inst", "date"):
            setattr(self, name, getattr(self, name)[keep])
        self.cols = {k: v[keep] for k, v in self.cols.items()}
        self.codes = {k: v[keep] for k, v in self.codes.items()}
        self.fixed = {k: v[keep] for k, v in self.fixed.items()}
        if self.status is not None:
            self.status = self.status[keep]


def blank_of(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return pd.isna(values) | (values == None)  # noqa: E711
    if values.dtype.kind == "f":
        return np.isnan(values)
    if values.ndim == 2:
        return (values < 0).all(axis=1)
    return values < 0


# ----------------------------------------------------------------------------- text values
def _digits(rng, n, k) -> np.ndarray:
    return rng.integers(0, 10**k, n)


def text_values(
    f: Field, rng: np.random.Generator, n: int, rec_ids: np.ndarray, choices: list[str] | None = None
) -> np.ndarray:
    """Text within the field's validation (fictional identifiers: example.org addresses,
    Ofcom's drama telephone numbers, postcodes of an unused area)."""
    v = f.validation
    if choices:
        return np.array(choices, dtype=object)[rng.integers(0, len(choices), n)]
    if f.type == "file":
        return np.full(n, "[document]", dtype=object)
    if f.type == "sql":
        return np.full(n, None, dtype=object)
    k = rng.integers(0, 10_000, n)
    letters = np.array(list("ABCDEFGHJKLMNPRSTUWY"), dtype=object)
    L = lambda: letters[rng.integers(0, len(letters), n)]  # noqa: E731
    if v == "email":
        return np.array(
            [f"participant{r.lower().replace('-', '')}@example.org" for r in rec_ids], dtype=object
        )
    if v == "phone_uk":
        return np.array([f"01632 960{d:03d}" for d in _digits(rng, n, 3)], dtype=object)
    if v == "phone":
        return np.array([f"(555) 555-01{d:02d}" for d in _digits(rng, n, 2)], dtype=object)
    if v == "phone_australia":
        return np.array([f"(02) 5550 {d:04d}" for d in _digits(rng, n, 4)], dtype=object)
    if v == "postalcode_uk":
        return np.array(
            [
                f"QQ{a} {b}{c}{d}"
                for a, b, c, d in zip(rng.integers(1, 10, n), rng.integers(1, 10, n), L(), L())
            ],
            dtype=object,
        )
    if v == "postalcode_canada":
        return np.array(
            [
                f"{a}{b}{c} {d}{e}{g}"
                for a, b, c, d, e, g in zip(
                    L(), rng.integers(0, 10, n), L(), rng.integers(0, 10, n), L(), rng.integers(0, 10, n)
                )
            ],
            dtype=object,
        )
    if v == "zipcode":
        return np.array([f"9{d:04d}" for d in _digits(rng, n, 4)], dtype=object)
    if v == "postalcode_australia":
        return np.array([f"{d:04d}" for d in _digits(rng, n, 4)], dtype=object)
    if v in ("postalcode_french", "postalcode_germany"):
        return np.array([f"{d:05d}" for d in _digits(rng, n, 5)], dtype=object)
    if v == "alpha_only":
        return np.array([f"{a}{b}" for a, b in zip(L(), L())], dtype=object)
    if v == "ssn":
        return np.array(
            [
                f"9{a:02d}-{b:02d}-{c:04d}"
                for a, b, c in zip(_digits(rng, n, 2), _digits(rng, n, 2), _digits(rng, n, 4))
            ],
            dtype=object,
        )
    if v in ("mrn_10d", "vmrn"):
        return np.array([f"{d:010d}" for d in rng.integers(0, 10**10, n)], dtype=object)
    if v == "mrn_generic":
        return np.array([f"MRN{d:06d}" for d in _digits(rng, n, 6)], dtype=object)
    if f.type == "notes":
        return np.array([f"Dummy note {d}" for d in k], dtype=object)
    if f.identifier:
        return np.array([f"Participant {r}" for r in rec_ids], dtype=object)
    return np.array([f"Dummy text {d}" for d in k], dtype=object)


# ----------------------------------------------------------------------------- the generator
@dataclass
class Dummy:
    """A generated project's data: one Store per form, and what to know about it."""

    project: Project
    settings: Settings
    stores: dict[str, Store]
    record_ids: np.ndarray
    site_of: np.ndarray | None
    sites: list[Site]
    export_date: str
    notes: list[str]
    events: list[str]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Typed per-form tables in the shape ``feasibility.redcap.write_records`` takes."""
        from feasibility.synth.dummy_write import typed_tables

        return typed_tables(self)

    def write(self, path, *, writer: str = "fast", progress=None) -> Path:
        """The all-records export (REDCap's download: BOM, CRLF)."""
        if writer == "redcap":
            from feasibility.redcap import write_records

            return write_records(self.project, self.tables(), path, dag=bool(self.sites))
        from feasibility.synth.dummy_write import write_export

        return write_export(self, path, progress)


class Generator:
    def __init__(
        self,
        project: Project,
        settings: Settings,
        n: int,
        seed: int,
        progress: Callable[[str], None] | None = None,
    ):
        if n < 1:
            raise DummyError("n must be at least 1")
        self.p, self.s, self.n, self.seed = project, settings, int(n), int(seed)
        self.say = progress or (lambda message: None)
        self.notes: list[str] = []
        self.events = [e.unique_name for e in project.events] if project.longitudinal else [""]
        self.event_index = {e: i for i, e in enumerate(self.events)}
        self.E = len(self.events)
        self.stores: dict[str, Store] = {}
        self._latent: dict[str, np.ndarray] = {}
        self._text_cache: dict[tuple, tuple[int, np.ndarray]] = {}
        self._version: dict[str, int] = {}
        self._first: dict[tuple, np.ndarray] = {}
        self.started = time.perf_counter()
        self._check()

    # -- randomness: one stream per purpose, so one setting never reshuffles another ------
    def rng(self, *keys) -> np.random.Generator:
        return np.random.default_rng([self.seed, *(zlib.crc32(str(k).encode()) for k in keys)])

    def latent(self, key: str) -> np.ndarray:
        """A record-level standard normal (persistent across events)."""
        if key not in self._latent:
            self._latent[key] = self.rng("latent", key).standard_normal(self.n)
        return self._latent[key]

    def step(self, message: str) -> None:
        self.say(f"dummy: {message} ({time.perf_counter() - self.started:.1f} s)")

    # -- checks of the settings against the project --------------------------------------
    def suggest(self, name: str) -> str:
        close = difflib.get_close_matches(name, list(self.p.field), n=3, cutoff=0.7)
        return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""

    def field(self, name: str, where: str) -> Field:
        f = self.p.field.get(name)
        if f is None:
            raise DummyError(f"{where}: {name!r} is not a field of the project{self.suggest(name)}")
        return f

    def event(self, name: str, where: str) -> int:
        if name not in self.event_index or name == "":
            raise DummyError(
                f"{where}: {name!r} is not an event of the project "
                f"({', '.join(e for e in self.events if e) or 'a classic project has none'})"
            )
        return self.event_index[name]

    def code_index(self, f: Field, value, where: str) -> int:
        codes = [c for c, _ in f.codes]
        text = str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if text not in codes:
            raise DummyError(f"{where}: {text!r} is not a code of {f.name} ({', '.join(codes)})")
        return codes.index(text)

    def _check_values(self, values: dict, where: str) -> None:
        for name, value in (values or {}).items():
            f = self.field(name, where)
            if f.kind == "code":
                self.code_index(f, value, f"{where}.{name}")
            elif f.kind in ("checkbox", "none"):
                raise DummyError(f"{where}.{name}: a {f.type} field cannot be set")

    def _check(self) -> None:
        s, p = self.s, self.p
        for g in s.gates:
            self.event(g["event"], "dummy_data.gates")
            self._check_values(g.get("pass"), "dummy_data.gates.pass")
            for alt in g.get("fail") or []:
                self._check_values(alt, "dummy_data.gates.fail")
        for e, v in s.visits.items():
            self.event(e, "dummy_data.visits")
            for form in v.get("always") or []:
                if form not in p.form:
                    raise DummyError(f"dummy_data.visits.{e}.always: {form!r} is not a form")
            self._check_values(v.get("responded"), f"dummy_data.visits.{e}.responded")
            self._check_values(v.get("not_responded"), f"dummy_data.visits.{e}.not_responded")
        if s.allocation:
            f = self.field(s.allocation["field"], "dummy_data.allocation")
            if f.type not in ("radio", "dropdown"):
                raise DummyError(
                    f"dummy_data.allocation: {f.name} is a {f.type} field; REDCap's "
                    "randomisation field is a radio or dropdown field"
                )
            ratio = s.allocation.get("ratio") or {c: 1 for c, _ in f.codes}
            for code in ratio:
                self.code_index(f, code, "dummy_data.allocation.ratio")
            total = sum(ratio.values())
            for b in s.allocation.get("blocks") or [2, 4]:
                if b % total:
                    raise DummyError(
                        f"dummy_data.allocation.blocks: {b} is not a multiple of the ratio's sum {total}"
                    )
        if s.dropout:
            form = s.dropout["form"]
            if form not in p.form:
                raise DummyError(f"dummy_data.dropout.form: {form!r} is not a form of the project")
            for alt in s.dropout.get("set") or []:
                self._check_values(alt, "dummy_data.dropout.set")
            self._check_values(s.dropout.get("otherwise"), "dummy_data.dropout.otherwise")
            if s.dropout.get("date"):
                f = self.field(s.dropout["date"], "dummy_data.dropout.date")
                if f.form != form or f.kind not in ("date", "datetime"):
                    raise DummyError("dummy_data.dropout.date: a date field of the dropout form")
        for form, v in s.forms.items():
            if form not in p.form:
                raise DummyError(f"dummy_data.forms: {form!r} is not a form of the project")
            if v.get("when"):
                self.logic(v["when"], f"dummy_data.forms.{form}.when")
        for name, v in s.repeating.items():
            if name not in p.form and name not in self.event_index:
                raise DummyError(f"dummy_data.repeating: {name!r} is neither a form nor an event")
            for e in v.get("window") or []:
                self.event(e, f"dummy_data.repeating.{name}.window")
        for pattern in s.fields:
            if not self.matching(pattern):
                raise DummyError(
                    f"dummy_data.fields: {pattern!r} matches no field of the project" + self.suggest(pattern)
                )
        for i, eff in enumerate(s.effects):
            if not self.matching(eff["field"]):
                raise DummyError(f"dummy_data.effects[{i}]: {eff['field']!r} matches no field")
            self.logic(eff["when"], f"dummy_data.effects[{i}].when")
            for e in eff.get("events") or []:
                self.event(e, f"dummy_data.effects[{i}].events")
        if len(self.s.arms) and not p.longitudinal:
            raise DummyError("dummy_data.arms: a classic project has no arms")

    def matching(self, pattern: str) -> list[Field]:
        if any(ch in pattern for ch in "*?["):
            return [f for f in self.p.fields[1:] if fnmatch.fnmatchcase(f.name, pattern)]
        f = self.p.field.get(pattern)
        return [f] if f is not None and f.name != self.p.record_id_field else []

    def options(self, f: Field) -> dict:
        out: dict = {}
        for pattern, opts in self.s.fields.items():
            if pattern == f.name or fnmatch.fnmatchcase(f.name, pattern):
                out.update(opts)
        return out

    def logic(self, text: str, where: str):
        try:
            node = parse_logic(text)
            check_references(node, self.p)
        except NotEvaluated as exc:
            raise DummyError(f"{where}: REDCap logic {text!r} cannot be evaluated ({exc})") from None
        return node

    # -- 1. records, sites, arms --------------------------------------------------------
    def records(self) -> None:
        s, n = self.s, self.n
        rng = self.rng("recruitment")
        sites = s.sites or [Site("", 1, None, 0.0)]
        default_rate = s.rate or s.n / 12 / len(sites)
        # rates are for the study's n: another n is recruited over the same calendar
        scale = n / s.n
        if scale != 1 and (s.rate or any(site.rate for site in sites)):
            self.notes.append(
                f"recruitment rates scaled by {scale:g} for {n:,} records (the study "
                f"file's rates are for {s.n:,})"
            )
        arrivals, owners = [], []
        for i, site in enumerate(sites):
            rate = (site.rate or default_rate) * scale  # records a month
            gaps = rng.exponential(30.4375 / rate, n)
            times = site.opens * 30.4375 + np.cumsum(gaps)
            arrivals.append(times)
            owners.append(np.full(n, i))
        times = np.concatenate(arrivals)
        owner = np.concatenate(owners)
        order = np.lexsort((owner, times))[:n]
        self.start = day_number(s.start) + np.floor(times[order])
        self.site = owner[order] if s.sites else None
        if s.record_ids == "dag":
            ids = np.empty(n, dtype=object)
            for i, site in enumerate(sites):
                where = np.flatnonzero(self.site == i)
                ids[where] = [f"{site.group_id}-{k}" for k in range(1, len(where) + 1)]
            self.ids = ids
        else:
            self.ids = np.array([str(k) for k in range(1, n + 1)], dtype=object)
        arms = sorted({a.num for a in self.p.arms}) or [1]
        weights = np.array([s.arms.get(a, 1.0 if not s.arms else 0.0) for a in arms], float)
        if weights.sum() <= 0:
            raise DummyError("dummy_data.arms: every weight is 0")
        self.arm = np.array(arms)[self.rng("arms").choice(len(arms), n, p=weights / weights.sum())]

    # -- 2. the schedule: who has which event, when ------------------------------------------
    def arm_events(self, arm: int) -> list[int]:
        if not self.p.longitudinal:
            return [0]
        return [i for i, e in enumerate(self.p.events) if e.arm == arm]

    def schedule(self) -> None:
        s, n, E = self.s, self.n, self.E
        self.edate = np.full((n, E), np.nan)
        self.present = np.zeros((n, E), dtype=bool)
        self.responded = np.zeros((n, E), dtype=bool)
        rng = self.rng("schedule")
        jitter = rng.uniform(0, s.event_window, (n, E))
        for arm in np.unique(self.arm):
            rows = np.flatnonzero(self.arm == arm)
            evs = self.arm_events(int(arm))
            offsets = []
            for k, e in enumerate(evs):
                off = self.p.events[e].day_offset if self.p.longitudinal else 0.0
                offsets.append(float(k * 30) if off is None else float(off))
            base = offsets[0] if offsets else 0.0
            dates = self.start[rows, None] + (np.array(offsets) - base)[None, :]
            dates[:, 1:] += np.floor(jitter[np.ix_(rows, evs[1:])])
            dates = np.maximum.accumulate(dates, axis=1)
            self.edate[np.ix_(rows, evs)] = dates
            self.present[np.ix_(rows, evs)] = True
        self.dropped = np.full(n, -1)
        self.drop_date = np.full(n, np.nan)
        self.gate_pass: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        gates = {self.event_index[g["event"]]: g for g in s.gates}
        visits = {self.event_index[e]: v for e, v in s.visits.items()}
        # walk the events in project order: gates stop records, visits lose them
        for e in range(E):
            if e in visits and visits[e].get("dropout", 0) > 0:
                at_risk = self.present[:, e] & (self.dropped < 0)
                leave = at_risk & (self.rng("dropout", self.events[e]).random(n) < visits[e]["dropout"])
                if leave.any():
                    rows = np.flatnonzero(leave)
                    self.dropped[rows] = e
                    for x in visits:
                        if x == e or x in self.later_events(e):
                            self.present[rows, x] = False
                    prev = self._previous_date(rows, e)
                    u = self.rng("dropout date", self.events[e]).random(len(rows))
                    self.drop_date[rows] = np.floor(prev + u * np.maximum(self.edate[rows, e] - prev, 0))
            if e in gates:
                g = gates[e]
                here = self.present[:, e]
                ok = self.rng("gate", self.events[e]).random(n) < g["rate"]
                passed, failed = here & ok, here & ~ok
                self.gate_pass[e] = (passed, failed)
                rows = np.flatnonzero(failed)
                for x in self.later_events(e):
                    self.present[rows, x] = False
        self.responded[:] = self.present
        for e, v in visits.items():
            resp = self.rng("response", self.events[e]).random(n) < v.get("response", 1.0)
            self.responded[:, e] = self.present[:, e] & resp
        # the export date: nothing dated after it exists yet
        last = np.nanmax(np.where(self.present, self.edate, np.nan))
        self.export_day = day_number(s.export_date) if s.export_date else float(last)
        late = self.present & (self.edate > self.export_day)
        if late.any():
            self.present &= ~late
            self.responded &= ~late
            self.dropped[(self.dropped >= 0) & (self.drop_date > self.export_day)] = -1
        self.step(f"{n:,} records scheduled over {E} event(s)")

    def later_events(self, e: int) -> list[int]:
        """The events of e's arm after e."""
        if not self.p.longitudinal:
            return []
        evs = self.arm_events(self.p.events[e].arm)
        return evs[evs.index(e) + 1 :]

    def _previous_date(self, rows: np.ndarray, e: int) -> np.ndarray:
        out = np.full(len(rows), np.nan)
        for x in range(e - 1, -1, -1):
            fill = np.isnan(out) & self.present[rows, x] & ~np.isnan(self.edate[rows, x])
            out[fill] = self.edate[rows[fill], x]
        return np.where(np.isnan(out), self.edate[rows, e], out)

    # -- 3. rows of each form ------------------------------------------------------------
    def instances(self, key: str, n_rows: int, stream: str) -> np.ndarray:
        opts = self.s.repeating.get(key, {})
        lo, hi = int(opts.get("min", 1)), int(opts.get("max", 4))
        mean = float(opts.get("mean", 2))
        extra = self.rng("instances", stream).poisson(max(mean - lo, 0.0), n_rows)
        return np.clip(lo + extra, lo, max(hi, lo))

    def rows(self) -> None:
        p, s = self.p, self.s
        event_counts: dict[int, np.ndarray] = {}
        for form in p.forms:
            name = form.name
            parts = []
            for ev_name in p.events_of(name):
                e = self.event_index[ev_name]
                visit = s.visits.get(ev_name, {})
                here = self.present[:, e] & (self.responded[:, e] | (name in (visit.get("always") or [])))
                miss = s.forms.get(name, {}).get("missing", 0)
                if miss and name not in (visit.get("always") or []):
                    here &= self.rng("form missing", name, ev_name).random(self.n) >= miss
                recs = np.flatnonzero(here)
                how = p.repeats(name, ev_name)
                if how == "instrument":
                    k = self.instances(name, len(recs), f"{name}@{ev_name}")
                elif how == "event":
                    if e not in event_counts:
                        event_counts[e] = self.instances(ev_name, self.n, ev_name)
                    k = event_counts[e][recs]
                else:
                    k = None
                if k is None:
                    rec, inst = recs, np.zeros(len(recs), dtype=np.int64)
                    date = self.edate[recs, e]
                else:
                    rec = np.repeat(recs, k)
                    starts = np.cumsum(k) - k
                    inst = np.arange(len(rec)) - np.repeat(starts, k) + 1
                    date = self.instance_dates(name if how == "instrument" else ev_name, e, rec, inst, k)
                parts.append((rec, np.full(len(rec), e), inst.astype(np.int64), date))
            if parts:
                rec, ev, inst, date = (np.concatenate(x) for x in zip(*parts))
            else:
                rec = ev = inst = np.zeros(0, dtype=np.int64)
                date = np.zeros(0)
            order = np.lexsort((inst, ev, rec))
            self.stores[name] = Store(name, rec[order], ev[order], inst[order], date[order])
        self.step(f"{sum(len(x) for x in self.stores.values()):,} form rows")

    def instance_dates(
        self, key: str, e: int, rec: np.ndarray, inst: np.ndarray, k: np.ndarray
    ) -> np.ndarray:
        window = self.s.repeating.get(key, {}).get("window")
        if window:
            a, b = self.event_index[window[0]], self.event_index[window[1]]
            lo, hi = self.edate[rec, a], self.edate[rec, b]
        else:
            lo = self.edate[rec, e]
            nxt = np.full(len(rec), np.nan)
            for x in range(self.E - 1, e, -1):
                ok = ~np.isnan(self.edate[rec, x])
                nxt[ok] = self.edate[rec[ok], x]
            hi = np.where(np.isnan(nxt), lo + 30, nxt)
        hi = np.minimum(np.maximum(hi, lo), self.export_day)
        u = self.rng("instance dates", key).random(len(rec))
        days = np.floor(lo + u * (hi - lo))
        # rows come grouped by record with instances 1, 2, ...: give them their dates in order
        return days[np.lexsort((days, rec))]

    # -- 4. values ---------------------------------------------------------------------
    def uniform(self, f: Field, st: Store, key: str | None = None) -> np.ndarray:
        """Correlated uniforms: a record-level latent per matrix group and per field, so the
        items of a scale agree and a field agrees with itself across events."""
        eps = self.rng("noise", f.name, key or "").standard_normal(len(st))
        if f.matrix_group:
            z = (
                0.7 * self.latent("group:" + f.form + ":" + f.matrix_group)[st.rec]
                + 0.4 * self.latent("field:" + f.name + (key or ""))[st.rec]
                + math.sqrt(1 - 0.49 - 0.16) * eps
            )
        else:
            z = 0.6 * self.latent("field:" + f.name + (key or ""))[st.rec] + 0.8 * eps
        return ndtr(z)

    def values(self) -> None:
        for form in self.p.forms:
            st = self.stores[form.name]
            for f in self.p.form_fields(form.name):
                if f.kind != "none":
                    st.cols[f.name] = self.draw(f, st)
            self.bump_all(form.name)
        self.step("values drawn")

    def draw(self, f: Field, st: Store) -> np.ndarray:
        opts = self.options(f)
        n = len(st)
        kind = f.kind
        if kind == "code":
            if f.type == "sql" or not f.codes:
                return np.full(n, -1, dtype=np.int16)
            return self.coded(f, self.uniform(f, st), opts.get("weights"))
        if kind == "checkbox":
            p = float(opts.get("checked", self.s.checked))
            out = np.zeros((n, len(f.choices)), dtype=np.int8)
            for j, (code, _) in enumerate(f.choices):
                out[:, j] = self.uniform(f, st, f"__{code}") < p
            if f.required and len(f.choices):
                none = out.sum(axis=1) == 0
                pick = self.rng("checkbox pick", f.name).integers(0, len(f.choices), n)
                out[none, pick[none]] = 1
            return out
        if kind in ("integer", "number"):
            return self.number(f, st, opts)
        if kind in ("date", "datetime"):
            return np.full(n, np.nan)  # dates are made per row in dates()
        if kind == "time":
            rng = self.rng("time", f.name)
            if f.validation == "time_mm_ss":
                return rng.integers(0, 60 * 60, n).astype(float)  # seconds
            minutes = rng.integers(8 * 60, 18 * 60, n).astype(float)
            if f.validation == "time_hh_mm_ss":
                return minutes * 60 + rng.integers(0, 60, n)
            return minutes
        return text_values(f, self.rng("text", f.name), n, self.ids[st.rec], opts.get("values"))

    def coded(self, f: Field, u: np.ndarray, weights: dict | None) -> np.ndarray:
        codes = [c for c, _ in f.codes]
        w = np.ones(len(codes))
        if weights:
            w = np.zeros(len(codes))
            for code, value in weights.items():
                w[self.code_index(f, code, f"dummy_data.fields.{f.name}.weights")] = float(value)
            if w.sum() <= 0:
                raise DummyError(f"dummy_data.fields.{f.name}.weights: every weight is 0")
        cum = np.cumsum(w) / w.sum()
        return np.minimum(np.searchsorted(cum, u, side="right"), len(codes) - 1).astype(np.int16)

    def limits(self, f: Field, opts: dict) -> tuple[float, float]:
        lo = f.minimum if isinstance(f.minimum, (int, float)) else None
        hi = f.maximum if isinstance(f.maximum, (int, float)) else None
        if f.type == "slider":
            lo = 0.0 if lo is None else lo
            hi = 100.0 if hi is None else hi
        if "range" in opts:
            a, b = (float(x) for x in opts["range"])
            lo = a if lo is None else max(lo, a)
            hi = b if hi is None else min(hi, b)
        lo = 0.0 if lo is None else float(lo)
        hi = (lo + 100.0) if hi is None else float(hi)
        if hi < lo:
            raise DummyError(f"dummy_data.fields.{f.name}.range is outside the field's validation range")
        return lo, hi

    def decimals(self, f: Field) -> int | None:
        if f.kind == "integer":
            return 0
        spec = f.spec
        if spec is not None and spec.decimals is not None:
            return spec.decimals
        return 1

    def number(self, f: Field, st: Store, opts: dict) -> np.ndarray:
        lo, hi = self.limits(f, opts)
        u = self.uniform(f, st)
        if "mean" in opts:
            sd = float(opts.get("sd", (hi - lo) / 6 or 1.0))
            x = float(opts["mean"]) + sd * ndtri(np.clip(u, 1e-9, 1 - 1e-9))
        else:
            x = lo + u * (hi - lo)
        return self.fit(f, x, lo, hi)

    def fit(self, f: Field, x: np.ndarray, lo: float, hi: float) -> np.ndarray:
        d = self.decimals(f)
        x = np.clip(x, lo, hi)
        x = np.round(x, d)
        step = 10.0**-d
        x = np.where(x < lo, x + step, np.where(x > hi, x - step, x))
        return np.round(x, d)

    # -- 5. what the settings set --------------------------------------------------------
    def assign(self, values: dict, rec_mask: np.ndarray, e: int | None, where: str) -> None:
        """Set field values on the rows (at event e, else any event) of records in rec_mask."""
        for name, value in (values or {}).items():
            f = self.p.field[name]
            st = self.stores[f.form]
            rows = rec_mask[st.rec]
            if e is not None:
                rows &= st.ev == e
            if not rows.any():
                continue
            if f.kind == "code":
                st.cols[name][rows] = self.code_index(f, value, where)
            elif f.kind in ("date", "datetime"):
                st.cols[name][rows] = day_number(value)
            elif f.kind in ("integer", "number", "time"):
                st.cols[name][rows] = float(value)
            else:
                st.cols[name][rows] = str(value)
            self.fix(st, name, rows)
            self.bump(f.name)

    @staticmethod
    def fix(st: Store, name: str, rows: np.ndarray) -> None:
        """Mark values the settings set: item missingness never blanks them."""
        st.fixed[name] = st.fixed.get(name, np.zeros(len(st), dtype=bool)) | rows

    def settings_values(self) -> None:
        s = self.s
        for g in s.gates:
            e = self.event_index[g["event"]]
            passed, failed = self.gate_pass[e]
            self.assign(g.get("pass"), passed, e, "dummy_data.gates.pass")
            alts = g.get("fail") or []
            if alts:
                w = np.array(g.get("fail_weights") or [1.0] * len(alts), float)
                pick = self.rng("gate fail", g["event"]).choice(len(alts), self.n, p=w / w.sum())
                for i, alt in enumerate(alts):
                    self.assign(alt, failed & (pick == i), e, "dummy_data.gates.fail")
        for ev_name, v in s.visits.items():
            e = self.event_index[ev_name]
            self.assign(v.get("responded"), self.responded[:, e], e, f"dummy_data.visits.{ev_name}")
            self.assign(
                v.get("not_responded"),
                self.present[:, e] & ~self.responded[:, e],
                e,
                f"dummy_data.visits.{ev_name}",
            )
        if s.dropout:
            self.dropout_values()
        if s.allocation:
            self.allocate()

    def dropout_values(self) -> None:
        d = self.s.dropout
        form = d["form"]
        st = self.stores[form]
        out = self.dropped >= 0
        alts = d.get("set") or []
        if alts:
            w = np.array(d.get("weights") or [1.0] * len(alts), float)
            pick = self.rng("dropout kind").choice(len(alts), self.n, p=w / w.sum())
            for i, alt in enumerate(alts):
                self.assign(alt, out & (pick == i), None, "dummy_data.dropout.set")
        self.assign(d.get("otherwise"), ~out, None, "dummy_data.dropout.otherwise")
        if d.get("date"):
            rows = out[st.rec]
            st.cols[d["date"]][rows] = self.drop_date[st.rec[rows]]
            self.fix(st, d["date"], rows)
            self.bump(d["date"])

    def allocate(self) -> None:
        a = self.s.allocation
        f = self.p.field[a["field"]]
        st = self.stores[f.form]
        ratio = {str(k): int(v) for k, v in (a.get("ratio") or {c: 1 for c, _ in f.codes}).items()}
        unit = [self.code_index(f, c, "dummy_data.allocation") for c, r in ratio.items() for _ in range(r)]
        blocks = a.get("blocks") or [2, 4]
        rng = self.rng("allocation")
        rows = np.flatnonzero(st.inst <= 1)
        by = (
            self.site[st.rec[rows]]
            if (a.get("by_site", True) and self.site is not None)
            else np.zeros(len(rows), int)
        )
        for stratum in np.unique(by):
            here = rows[by == stratum]
            here = here[np.lexsort((self.start[st.rec[here]],))]
            seq: list[int] = []
            while len(seq) < len(here):
                size = int(rng.choice(blocks))
                block = unit * (size // len(unit))
                seq += list(rng.permutation(block))
            st.cols[f.name][here] = np.array(seq[: len(here)], dtype=np.int16)
        self.fix(st, f.name, np.isin(np.arange(len(st)), rows))
        self.bump(f.name)

    def effects(self) -> None:
        for i, eff in enumerate(self.s.effects):
            node = self.logic(eff["when"], f"dummy_data.effects[{i}].when")
            events = {self.event_index[e] for e in eff.get("events") or []}
            for f in self.matching(eff["field"]):
                st = self.stores[f.form]
                rows = np.ones(len(st), bool) if not events else np.isin(st.ev, list(events))
                if not rows.any():
                    continue
                idx = np.flatnonzero(rows)
                hit = self.evaluate(node, st, idx)
                idx = idx[hit]
                if not len(idx):
                    continue
                col = st.cols[f.name]
                if "weights" in eff and f.kind == "code":
                    u = self.uniform(f, st)[idx]
                    col[idx] = self.coded(f, u, eff["weights"])
                elif "shift" in eff:
                    shift = float(eff["shift"])
                    if f.kind == "code" and f.integer_codes:
                        codes = np.array([int(c) for c, _ in f.codes], float)
                        have = col[idx] >= 0
                        now = codes[col[idx][have]] + shift
                        frac = now - np.floor(now)
                        now = np.floor(now) + (self.rng("effect", i, f.name).random(len(now)) < frac)
                        nearest = np.abs(codes[None, :] - now[:, None]).argmin(axis=1)
                        col[idx[have]] = nearest.astype(np.int16)
                    elif f.kind in ("integer", "number"):
                        lo, hi = self.limits(f, self.options(f))
                        col[idx] = self.fit(f, col[idx] + shift, lo, hi)
                    else:
                        raise DummyError(
                            f"dummy_data.effects[{i}]: shift needs a number or a "
                            f"field with whole-number codes, not {f.name}"
                        )
                else:
                    raise DummyError(f"dummy_data.effects[{i}]: weights need a coded field, not {f.name}")
                self.bump(f.name)
        for form, opts in self.s.forms.items():
            if opts.get("when"):
                st = self.stores[form]
                node = self.logic(opts["when"], f"dummy_data.forms.{form}.when")
                keep = self.evaluate(node, st, np.arange(len(st)))
                st.take(keep)
                self.bump_all(form)

    # -- text of values, for REDCap logic -------------------------------------------------
    def bump(self, name: str) -> None:
        self._version[name] = self._version.get(name, 0) + 1

    def bump_all(self, form: str) -> None:
        for f in self.p.form_fields(form):
            self.bump(f.name)
        self._first = {k: v for k, v in self._first.items() if k[0] != form}

    def text(self, f: Field, code: str | None = None) -> np.ndarray:
        """A field's values as the export writes them ("" blank), over its form's rows."""
        key = (f.name, code)
        version = self._version.get(f.name, 0)
        hit = self._text_cache.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        st = self.stores[f.form]
        from feasibility.synth.dummy_write import column_text

        if code is not None:
            j = [c for c, _ in f.choices].index(code)
            col = st.cols[f.name][:, j]
            out = np.where(col < 0, "", np.where(col > 0, "1", "0")).astype(object)
        else:
            out = column_text(self, f, st)[f.name] if f.kind != "checkbox" else None
        self._text_cache[key] = (version, out)
        return out

    def first_rows(self, form: str) -> np.ndarray:
        """For each record x event, the row of the form's first instance (-1: none)."""
        key = (form, len(self.stores[form]))
        if key not in self._first:
            st = self.stores[form]
            table = np.full(self.n * self.E, -1, dtype=np.int64)
            flat = st.rec * self.E + st.ev
            order = np.lexsort((st.inst, flat))[::-1]  # first instance written last
            table[flat[order]] = order
            self._first[key] = table
        return self._first[key]

    def same_instance_rows(self, form: str, rec, ev, inst) -> np.ndarray:
        st = self.stores[form]
        K = int(max(st.inst.max(initial=0), np.max(inst, initial=0))) + 1
        keys = (st.rec * self.E + st.ev) * K + st.inst
        order = np.argsort(keys, kind="stable")
        want = (rec * self.E + ev) * K + inst
        pos = np.searchsorted(keys[order], want)
        pos = np.minimum(pos, len(order) - 1) if len(order) else pos
        found = len(order) > 0
        out = np.full(len(want), -1, dtype=np.int64)
        if found:
            ok = keys[order][pos] == want
            out[ok] = order[pos[ok]]
        return out

    def evaluate(self, node, st: Store, idx: np.ndarray) -> np.ndarray:
        """REDCap logic over rows ``idx`` of store ``st`` (true/false each)."""
        return np.asarray(evaluate_logic(node, self.context(st, idx)), dtype=bool)

    def context(self, st: Store, idx: np.ndarray, calc: bool = False) -> Context:
        """The logic engine's view of rows ``idx`` of store ``st``: each reference's values
        as the export writes them, resolved as REDCap resolves them."""
        keys = pd.DataFrame(
            {
                "record": self.ids[st.rec[idx]],
                "event": np.array(self.events, dtype=object)[st.ev[idx]],
                "instance": st.inst[idx],
            }
        )
        rec, ev, inst = st.rec[idx], st.ev[idx], st.inst[idx]

        def lookup(ref, _keys):
            f = self.p.field[ref.field]
            values = self.text(f, ref.code)
            target = self.stores[f.form]
            if ref.event is None and f.form == st.form:
                return values[idx]
            if ref.event is not None:
                where = self.first_rows(f.form)[rec * self.E + self.event_index[ref.event]]
            elif (
                self.p.longitudinal
                and self.p.repeating
                and self.p.repeating.events
                and np.isin(ev, [self.event_index[x] for x in self.p.repeating.events]).any()
            ):
                where = self.same_instance_rows(f.form, rec, ev, inst)
                first = self.first_rows(f.form)[rec * self.E + ev]
                where = np.where(where >= 0, where, first)
            else:
                where = self.first_rows(f.form)[rec * self.E + ev]
            out = np.full(len(idx), "", dtype=object)
            ok = where >= 0
            if ok.any() and len(target):
                out[ok] = values[where[ok]]
            return out

        return Context(self.p, lookup, keys, calc=calc)

    # -- 6. calculations, branching and item missingness, in dependency order -------------
    def order(self) -> list[Field]:
        fields = [f for f in self.p.fields[1:] if f.kind != "none"]
        deps: dict[str, set[str]] = {f.name: set() for f in fields}
        self.calcs: dict[str, Any] = {}
        self.branches: dict[str, Any] = {}
        for f in fields:
            if f.type == "calc":
                try:
                    node = parse_logic(f.calculation)
                    check_references(node, self.p)
                    self.calcs[f.name] = node
                    deps[f.name] |= {r.field for r in logic_references(node) if hasattr(r, "field")}
                except NotEvaluated as exc:
                    self.notes.append(
                        f"calculation of {f.name} not evaluated ({exc}); left blank: {f.calculation}"
                    )
                    self.calcs[f.name] = None
            if f.branching:
                try:
                    node = parse_logic(f.branching)
                    check_references(node, self.p)
                    self.branches[f.name] = node
                    deps[f.name] |= {r.field for r in logic_references(node) if hasattr(r, "field")}
                except NotEvaluated as exc:
                    self.notes.append(
                        f"branching logic of {f.name} not evaluated ({exc}); the field "
                        f"is filled wherever its form is: {f.branching}"
                    )
        position = {f.name: i for i, f in enumerate(fields)}
        done: list[Field] = []
        state: dict[str, int] = {}

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2 or name not in deps:
                return
            if state.get(name) == 1:
                self.notes.append(
                    "fields depend on each other in a cycle ("
                    + " -> ".join(path[path.index(name) :] + [name])
                    + "); taken in dictionary order"
                )
                return
            state[name] = 1
            for d in sorted(deps[name] - {name}, key=lambda x: position.get(x, -1)):
                visit(d, path + [name])
            state[name] = 2
            done.append(self.p.field[name])

        for f in fields:
            visit(f.name, [])
        return done

    def finish_fields(self) -> None:
        s = self.s
        has_codes = bool(self.p.missing_data_codes)
        codes = np.array([c for c, _ in self.p.missing_data_codes], dtype=object)
        shown_cache: dict[tuple, np.ndarray] = {}
        for f in self.order():
            st = self.stores[f.form]
            col = st.cols[f.name]
            if f.type == "calc":
                node = self.calcs.get(f.name)
                col[:] = np.nan if node is None else self.calculate(node, st)
            node = (
                self.branches.get(f.name) if f.type != "calc" else None
            )  # REDCap computes a calc shown or not
            if node is not None and len(st):
                key = (f.form, f.branching)
                if key not in shown_cache:
                    shown_cache[key] = self.evaluate(node, st, np.arange(len(st)))
                hidden = ~shown_cache[key]
                self.blank(col, hidden)
            rate = float(self.options(f).get("missing", s.item_missing))
            if rate > 0 and not f.required and f.kind != "checkbox" and f.type != "calc" and len(st):
                u = self.rng("item missing", f.name).random(len(st))
                gone = (u < rate) & ~blank_of(col)
                if f.name in st.fixed:
                    gone &= ~st.fixed[f.name]
                if has_codes and s.missing_codes > 0 and f.type not in ("file", "sql"):
                    coded = gone & (self.rng("missing code", f.name).random(len(st)) < s.missing_codes)
                    if coded.any():
                        st.codes[f.name] = np.where(
                            coded,
                            codes[self.rng("which code", f.name).integers(0, len(codes), len(st))],
                            None,
                        ).astype(object)
                self.blank(col, gone)
            self.bump(f.name)
        self.step("calculations, branching logic and missing values applied")

    @staticmethod
    def blank(col: np.ndarray, mask: np.ndarray) -> None:
        if not mask.any():
            return
        if col.dtype == object:
            col[mask] = None
        elif col.dtype.kind == "f":
            col[mask] = np.nan
        else:
            col[mask] = -1

    def calculate(self, node, st: Store) -> np.ndarray:
        """A calculated field over the rows of ``st``, computed from the values as the export
        writes them (so that validation, computing it again, finds the same number)."""
        try:
            out = calculate_logic(node, self.context(st, np.arange(len(st)), calc=True))
        except NotEvaluated as exc:
            self.notes.append(f"a calculation on {st.form} not evaluated ({exc}); left blank")
            return np.full(len(st), np.nan)
        out = np.broadcast_to(np.asarray(out, float), (len(st),)).copy()
        out[~np.isfinite(out)] = np.nan
        return out

    # -- 7. dates ------------------------------------------------------------------------
    def date_limits(self, f: Field) -> tuple[float, float]:
        lo, hi = -math.inf, self.export_day + (0.9999 if f.kind == "datetime" else 0)
        for bound, which in ((f.minimum, "lo"), (f.maximum, "hi")):
            if bound is None:
                continue
            if isinstance(bound, str):
                value = self.export_day
            else:
                value = day_number(pd.Timestamp(bound).date())
            if which == "lo":
                lo = max(lo, value)
            else:
                hi = min(hi, value + (0.9999 if f.kind == "datetime" else 0))
        return lo, hi

    def dates(self) -> None:
        """Each row's dates: the form's date fields follow each other from the row's date
        (its event's date, or its instance's), unless the settings say otherwise; a date
        the settings set (the date of dropping out) is kept."""
        gap = self.s.date_gap
        for form in self.p.forms:
            st = self.stores[form.name]
            if not len(st):
                continue
            chain = st.date.copy()
            made: dict[str, np.ndarray] = {}
            for f in self.p.form_fields(form.name):
                if f.kind not in ("date", "datetime"):
                    continue
                opts = self.options(f)
                rng = self.rng("dates", f.name)
                if "days" in opts:
                    a, b = (float(x) for x in opts["days"])
                    after = opts.get("after")
                    if after and after not in made:
                        raise DummyError(
                            f"dummy_data.fields.{f.name}.after: {after!r} is not a "
                            f"date field before it on form {form.name}"
                        )
                    base = made[after] if after else st.date
                    value = np.floor(base) + np.floor(a + rng.random(len(st)) * (b - a + 1))
                else:
                    value = chain + rng.integers(0, gap + 1, len(st))
                    chain = value
                if f.kind == "datetime":
                    minutes = rng.integers(8 * 60, 18 * 60, len(st))
                    if "seconds" in f.validation:
                        value = value + (minutes * 60 + rng.integers(0, 60, len(st))) / 86400
                    else:
                        value = value + minutes / DAY_MINUTES
                lo, hi = self.date_limits(f)
                value = np.clip(value, lo, hi)
                made[f.name] = value
                col = st.cols[f.name]
                st.cols[f.name] = np.where(np.isnan(col), value, col)
                self.bump(f.name)
        self.step("dates made")

    def date_rules(self) -> None:
        """The study file's date_order rules made true (later dates moved after earlier ones)."""
        rules = self.s.rules
        if not rules:
            return
        for _ in range(6):
            changed = 0
            for rule in rules:
                changed += self.one_rule(rule)
            if not changed:
                return
        self.notes.append("declared date rules could not all be made true in 6 passes")

    def one_rule(self, rule: dict) -> int:
        early, late = rule["earlier"], rule["later"]
        fe, fl = self.p.field.get(early["field"]), self.p.field.get(late["field"])
        if fe is None or fl is None:
            raise DummyError(f"validation rule {rule.get('id', '')}: unknown field")
        se, sl = self.stores[fe.form], self.stores[fl.form]
        if not len(sl) or not len(se):
            return 0
        rows = np.arange(len(sl))
        if late.get("event"):
            rows = rows[sl.ev[rows] == self.event_index[late["event"]]]
        if early.get("event"):
            where = self.first_rows(fe.form)[sl.rec[rows] * self.E + self.event_index[early["event"]]]
        elif fe.form == fl.form:
            where = rows
        else:
            where = self.first_rows(fe.form)[sl.rec[rows] * self.E + sl.ev[rows]]
        ok = where >= 0
        a = np.full(len(rows), np.nan)
        a[ok] = se.cols[fe.name][where[ok]]
        b = sl.cols[fl.name][rows]
        strict = rule.get("allow_equal", True) is False
        if fe.kind == "datetime" and fl.kind == "date":
            a = np.floor(a)
        bad = ~np.isnan(a) & ~np.isnan(b) & ((b <= a) if strict else (b < a))
        if not bad.any():
            return 0
        fix = rows[bad]
        lo, hi = self.date_limits(fl)
        new = (
            np.ceil(a[bad]) + (1 if strict else 0) + self.rng("rule", fl.name).integers(0, 3, int(bad.sum()))
        )
        if fl.kind == "datetime":
            new = a[bad] + (1 if strict else 0) + 1 / 24
        sl.cols[fl.name][fix] = np.minimum(new, hi)
        self.bump(fl.name)
        return int(bad.sum())

    # -- 8. rows with no data, form status ------------------------------------------------
    def statuses(self) -> None:
        for form in self.p.forms:
            st = self.stores[form.name]
            fields = [f for f in self.p.form_fields(form.name) if f.kind != "none"]
            has = np.zeros(len(st), bool)
            for f in fields:
                col = st.cols[f.name]
                if f.kind == "checkbox":
                    has |= (col > 0).any(axis=1) if col.size else False
                else:
                    has |= ~blank_of(col)
                if f.name in st.codes:
                    has |= st.codes[f.name] != None  # noqa: E711
            st.take(has)
            status = np.full(len(st), 2, dtype=np.int8)
            if self.s.incomplete > 0:
                u = self.rng("status", form.name).random(len(st))
                status[u < self.s.incomplete] = np.where(
                    self.rng("status kind", form.name).random(int((u < self.s.incomplete).sum())) < 0.5, 0, 1
                )
            for f in fields:
                if f.required:
                    col = st.cols[f.name]
                    blank = (col <= 0).all(axis=1) if f.kind == "checkbox" else blank_of(col)
                    if f.name in st.codes:
                        blank &= st.codes[f.name] == None  # noqa: E711
                    # REDCap does not require a field its branching hides; the form is saved
                    # as Unverified rather than Complete then
                    status[blank & (status == 2)] = 1
            st.status = status
            self.bump_all(form.name)
        self.step("form status set")

    def run(self) -> Dummy:
        self.records()
        self.schedule()
        self.rows()
        self.values()
        self.settings_values()
        self.effects()
        self.dates()
        self.date_rules()
        self.finish_fields()
        self.statuses()
        self.date_rules()
        return Dummy(
            self.p,
            self.s,
            self.stores,
            self.ids,
            self.site,
            self.s.sites,
            iso(self.export_day),
            list(dict.fromkeys(self.notes)),
            self.events,
        )


def generate(
    project: Project,
    n: int,
    seed: int,
    settings: Settings | dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> Dummy:
    """Dummy data for ``project``: ``n`` records from ``seed`` (see the module docstring)."""
    if not isinstance(settings, Settings):
        settings = Settings.from_dict(settings)
    return Generator(project, settings, n, seed, progress).run()


# ----------------------------------------------------------------------------- study files
def _path(base: Path, value) -> Path | None:
    if value in (None, ""):
        return None
    p = Path(value)
    return p if p.is_absolute() else Path(os.path.normpath(base / p))


def study_project(study: dict, base: Path) -> Project:
    """The study file's REDCap project (its ``redcap`` block, paths relative to ``base``)."""
    from feasibility.redcap import Settings as RedcapSettings

    rc = study.get("redcap") or {}
    settings = RedcapSettings(
        missing_data_codes=rc.get("missing_data_codes"),
        repeating=rc.get("repeating"),
        no_identifiers=bool(rc.get("no_identifiers")),
    )
    project, failures = load_project(
        dictionary=_path(base, rc.get("dictionary")),
        instrument_designations=_path(base, rc.get("instrument_designations")),
        project_xml=_path(base, rc.get("project_xml")),
        events=_path(base, rc.get("events")),
        settings=settings,
    )
    errors = [f for f in failures if f.severity == "error"]
    if project is None or errors:
        raise DummyError(
            "the study's REDCap project cannot be read:\n"
            + "\n".join(f"  {f.message()}" for f in (errors or failures)[:20])
        )
    return project


def from_study(
    study_path,
    n: int | None = None,
    seed: int | None = None,
    out=None,
    *,
    progress: Callable[[str], None] | None = None,
    writer: str = "fast",
    force: bool = False,
    study_id: str | None = None,
) -> Path:
    """Generate the export a study file describes; returns the path written.

    With ``out`` (a folder): ``out/<records file name>``, its ``provenance.json`` and
    ``out/study.yaml``, the study file pointed at that export (see :func:`write_study`).
    Without ``out``, only with ``force``: the study's own records export, overwritten.
    A file already there is never overwritten without ``force``."""
    study_path = Path(study_path)
    study = yaml.safe_load(study_path.read_text(encoding="utf-8")) or {}
    base = study_path.parent
    records = (study.get("redcap") or {}).get("records") or "records.csv"
    if out is None and not force:
        raise DummyError(
            f"give --out DIR (a folder for the dummy data and a study file that reads it); "
            f"--force without --out overwrites the study's own records export "
            f"{_path(base, records)}"
        )
    target = (Path(out) / Path(records).name) if out is not None else _path(base, records)
    project = study_project(study, base)
    written = [target, target.parent / "provenance.json"] + (
        [Path(out) / STUDY_FILE] if out is not None else []
    )
    existing = [str(p) for p in written if p.exists()]
    if existing and not force:
        raise DummyError(
            f"{', '.join(existing)} exist{'s' if len(existing) == 1 else ''}: not overwritten "
            "(give another --out folder, or --force to overwrite)"
        )
    validation = study.get("validation") or {}
    settings = Settings.from_dict(
        study.get("dummy_data"), rules=validation.get("rules"), export_date=validation.get("export_date")
    )
    n = settings.n if n is None else n
    seed = settings.seed if seed is None else seed
    dummy = generate(project, n, seed, settings, progress)
    path = dummy.write(target, writer=writer, progress=progress)
    write_dummy_provenance(path, study_path, n, seed, settings, own=out is None)
    if out is not None:
        write_study(study_path, Path(out), path, study_id, export_date=dummy.export_date)
    for note in dummy.notes:
        print(f"dummy: note: {note}", file=sys.stderr)
    if progress:
        progress(f"dummy: wrote {path}")
    return path


STUDY_FILE = "study.yaml"


def write_study(
    study_path: Path, out: Path, records: Path, study_id: str | None = None, export_date: str | None = None
) -> Path:
    """``out/study.yaml``: the study file ``study_path`` as a study file in ``out`` whose
    records export is the dummy one (every other path names the same file as before) and
    whose id is ``study_id`` (default ``<the study's id>-dummy``), so that
    ``snakemake --configfile out/study.yaml`` builds it into ``results/<that id>/``,
    beside the study's own results. A study file that states no export date gets the
    generated export's (``export_date``), since nothing in it is dated later."""
    from feasibility.config import _StudyLoader, default_study_id, moved_study

    data = yaml.load(study_path.read_text(encoding="utf-8"), Loader=_StudyLoader) or {}
    data = moved_study(data, study_path.parent, out)
    data.setdefault("redcap", {})["records"] = records.name
    if export_date and not (data.get("validation") or {}).get("export_date"):
        data.setdefault("validation", {})["export_date"] = export_date
    study = data.setdefault("study", {})
    original = study.get("id") or default_study_id(study_path)
    study["id"] = study_id or f"{original}-dummy"
    from feasibility.config import relative_to_cwd

    head = (
        f"# Dummy data of the study {Path(relative_to_cwd(study_path)).as_posix()} (study.id "
        f"{original}), made by feasibility.synth.dummy:\n# the study file with its records export "
        f"replaced by {records.name} beside this file. Build it with\n#     snakemake --configfile "
        f"{Path(relative_to_cwd(out / STUDY_FILE)).as_posix()}\n# into results/{study['id']}/.\n"
    )
    path = out / STUDY_FILE
    path.write_text(
        head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8"
    )
    return path


def write_dummy_provenance(
    records: Path, study_path: Path, n: int, seed: int, settings: Settings, own: bool = True
) -> Path:
    """``provenance.json`` beside the export (``feasibility.provenance``): the report then
    says on its first page, in its source notes and in its provenance appendix that the
    data are dummy data, never the study's."""
    from feasibility import __version__
    from feasibility.provenance import write_provenance

    effects = (
        "with the between-group effects the study file's dummy_data.effects declares"
        if settings.effects
        else "with no treatment effect"
    )
    statement = (
        f"Dummy data made from the project's REDCap data dictionary by this project's "
        f"generator ({n:,} records, {effects}): no record describes a real person."
    )
    study = os.path.relpath(study_path, Path.cwd()) if study_path.is_absolute() else str(study_path)
    return write_provenance(
        Path(records).parent,
        [Path(records)],
        synthetic=True,
        generator="feasibility.synth.dummy",
        generator_version=__version__,
        cohort="dummy",
        seed=int(seed),
        statement=statement,
        invented=[
            "every value of every record: drawn from the data dictionary's types, "
            "ranges and choices and the study file's dummy_data settings"
        ],
        command=f"python -m feasibility.synth.dummy --study {Path(study).as_posix()} "
        f"--n {n} --seed {seed} " + ("--force" if own else "--out DIR"),
    )


def main(argv: list[str] | None = None, prog: str = "python -m feasibility.synth.dummy") -> int:
    ap = argparse.ArgumentParser(
        prog=prog,
        description="Dummy REDCap data (an all-records export) from a study file's data "
        "dictionary and designations, with a study file that reads it: "
        "DIR/records.csv, DIR/provenance.json and DIR/study.yaml. Build its reports "
        "with `snakemake --configfile DIR/study.yaml` (into results/<id>/).",
    )
    ap.add_argument(
        "--study",
        required=True,
        metavar="STUDY.yaml",
        help="the study file (YAML) whose REDCap "
        "project (data dictionary and designations, or project XML) the data follow",
    )
    ap.add_argument(
        "--out",
        metavar="DIR",
        help="the folder for the dummy data and their study file "
        "(required unless --force: without --out, --force overwrites the study's own records export)",
    )
    ap.add_argument(
        "--force",
        action="store_true",
        help="overwrite files that are already there (without "
        "--out: the study's own records export, redcap.records of the study file)",
    )
    ap.add_argument(
        "--id",
        dest="study_id",
        metavar="ID",
        help="the id of the study file written in DIR "
        "(its results folder, results/ID/); default: the study's id followed by -dummy",
    )
    ap.add_argument(
        "--n", type=int, help="number of records (default: dummy_data.n of the study file, else 100)"
    )
    ap.add_argument(
        "--seed",
        type=int,
        help="the random seed (default: dummy_data.seed); the same seed gives byte-identical files",
    )
    ap.add_argument(
        "--writer",
        choices=("fast", "redcap"),
        default="fast",
        help="fast (default) or feasibility.redcap.write_records: byte-identical output",
    )
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    ap.add_argument("--progress", action="store_true", help="progress on stderr even for small n")
    args = ap.parse_args(argv)
    study = Path(args.study)
    try:
        raw = yaml.safe_load(study.read_text(encoding="utf-8")) or {}
        n = args.n if args.n is not None else (raw.get("dummy_data") or {}).get("n", 100)
        show = not args.quiet and (args.progress or n >= PROGRESS_FROM)
        path = from_study(
            study,
            args.n,
            args.seed,
            args.out,
            progress=(lambda m: print(m, file=sys.stderr, flush=True)) if show else None,
            writer=args.writer,
            force=args.force,
            study_id=args.study_id,
        )
    except (DummyError, FileNotFoundError, OSError, yaml.YAMLError) as exc:
        print(f"dummy: error: {exc}", file=sys.stderr)
        return 1
    files = [path, path.parent / "provenance.json"] + ([Path(args.out) / STUDY_FILE] if args.out else [])
    if not args.quiet:
        print(f"dummy: wrote {len(files)} files: {', '.join(str(f) for f in files)}", file=sys.stderr)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["generate", "from_study", "study_project", "Settings", "Dummy", "DummyError", "main"]
