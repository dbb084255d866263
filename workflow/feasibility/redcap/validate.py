"""One call from REDCap's downloads to validated tidy tables and every failure.

    result = validate("MyStudy_DATA_2024-03-05_1412.csv",
                      dictionary="MyStudy_DataDictionary_2024-03-05.csv",
                      instrument_designations="MyStudy_InstrumentDesignations_2024-03-05.csv",
                      settings={"missing_data_codes": "UNK, Unknown | NASK, Not asked",
                                "rules": [...], "derive": [...]})
    if result.ok:
        write_validated(result, "results/<id>/validated")
    write_report(validation_report(result, files, sha, settings, where), result.failures, where)

Steps: metadata -> Project (its logic read, missing-data codes that are also choice codes
refused); the export read and its columns checked (record IDs differing only in case, data
access groups outside the declared sites); the repeating set-up (declared, from the
project XML, else from the rows); one typed table per form; each validated with its
Pandera schema; branching logic; calculated fields recomputed; declared rules; declared
derivations; identifiers dropped.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .checks import check_severities, with_severities
from .counts import case_duplicate_ids, dag_failures, missing_code_collisions
from .designations import export_has_events, provisional
from .designations import infer as infer_designations
from .dictionary import parse_missing_codes, parse_repeating, read_metadata
from .files import DEFAULT_MAX_BYTES, DEFAULT_MAX_CELL, Limits
from .hints import identifier_hints
from .labels import add_labels
from .identifiers import check_derivations, derive, drop_identifiers
from .logic.calcs import calc_failures, dictionary_failures
from .logic.data import Lookup, hidden_values, shown_rows
from .messages import Failure, RedcapError, capped, errors, fail, missing_code_hint, unique
from .model import Project
from .records import Records, infer_repeating, read_records
from .rules import apply_rules, check_rules
from .schemas import schema_failures
from .tidy import FormTable, missingness, tidy_tables
from .xml import read_clinical_data, read_project_xml


@dataclass
class Settings:
    """What a study file may say about its REDCap data (``redcap`` and ``validation`` blocks)."""

    missing_data_codes: object = None  # "UNK, Unknown | NASK, Not asked" or [[code, label], ...]
    repeating: dict | None = None  # {instruments: [{form, event}], events: [event]}
    export_date: date | None = None  # else from the download's file name or the project XML, else unknown
    branching: str = "warning"  # warning | error | ignore
    out_of_range: str = "warning"  # validation min/max are soft in REDCap: error | warning
    max_file_mb: float = DEFAULT_MAX_BYTES / 1e6  # MB: 10^6 bytes
    max_cell_chars: int = DEFAULT_MAX_CELL
    rules: list = field(default_factory=list)
    derive: list = field(default_factory=list)
    case_sensitive_ids: bool = False  # record IDs that differ only in case are two records
    data_access_groups: list | None = None  # the study's sites as REDCap data access groups
    no_identifiers: bool = False  # the study file says the project has no identifier fields
    labels: bool = False  # the tables also carry labels (feasibility.redcap.labels)
    severities: dict | None = None  # check name -> error | warning | off (feasibility.redcap.checks)

    @classmethod
    def from_dict(cls, d: dict | None) -> "Settings":
        d = dict(d or {})
        limits = d.pop("limits", None) or {}
        if "max_file_mb" in limits:
            d["max_file_mb"] = limits["max_file_mb"]
        if "max_cell_chars" in limits:
            d["max_cell_chars"] = limits["max_cell_chars"]
        if isinstance(d.get("export_date"), str):
            d["export_date"] = date.fromisoformat(d["export_date"])
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown validation setting(s): {', '.join(unknown)}")
        return cls(**d)

    @property
    def limits(self) -> Limits:
        return Limits(max_bytes=int(self.max_file_mb * 1e6), max_cell_chars=int(self.max_cell_chars))


@dataclass
class Result:
    """What validation found: the project, one table per form (identifiers dropped), the
    missing-data codes, every failure and what could not be checked."""

    project: Project | None
    records: Records | None
    tables: dict[str, pd.DataFrame]
    missing: pd.DataFrame
    failures: list[Failure]
    notes: list[str]
    export_date: date | None = None
    derived: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    seconds: float = 0.0
    labels: dict[str, str] = field(default_factory=dict)  # field -> its label column (settings.labels)
    record_ids: list[str] = field(
        default_factory=list
    )  # every record of the export, in its order (issue 25.6)
    designations_inferred: bool = False  # the designations were inferred from the records (issue 25.4)

    @property
    def ok(self) -> bool:
        return self.project is not None and self.records is not None and not errors(self.failures)

    @property
    def errors(self) -> list[Failure]:
        return errors(self.failures)

    @property
    def warnings(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "warning"]

    def raise_for_errors(self) -> "Result":
        """The result itself when it has no error; else RedcapError carrying every failure."""
        if not self.ok:
            raise RedcapError(
                self.failures
                if self.failures
                else [fail("validation", "no metadata or no records could be read")]
            )
        return self


def load_project(
    *,
    dictionary=None,
    instrument_designations=None,
    project_xml=None,
    events=None,
    settings: Settings | None = None,
) -> tuple[Project | None, list[Failure]]:
    """The Project from the dictionary (+ designations) or from the project XML."""
    settings = settings or Settings()
    if project_xml is not None:
        if dictionary is not None or instrument_designations is not None:
            return None, [
                fail(
                    "settings", "give either project_xml or dictionary (+ instrument_designations), not both"
                )
            ]
        project, failures = read_project_xml(
            project_xml, limits=settings.limits, no_identifiers=settings.no_identifiers
        )
        if project is not None:
            overrides = {}
            if settings.missing_data_codes is not None:
                codes, more = parse_missing_codes(settings.missing_data_codes, "settings: missing_data_codes")
                failures += more
                overrides["missing_data_codes"] = codes
            if settings.repeating is not None:
                rep, more = parse_repeating(settings.repeating, "settings: repeating")
                failures += more
                overrides["repeating"] = rep
            project = dataclasses.replace(project, **overrides) if overrides else project
        return project, failures
    if dictionary is None:
        return None, [
            fail(
                "settings",
                "no metadata: give the data dictionary (and, for a longitudinal project, "
                "the instrument designations) or the project XML",
            )
        ]
    return read_metadata(
        dictionary,
        instrument_designations,
        events=events,
        missing_data_codes=settings.missing_data_codes,
        repeating=settings.repeating,
        limits=settings.limits,
        no_identifiers=settings.no_identifiers,
    )


def _sorted(failures: list[Failure], records_file: str | None) -> list[Failure]:
    """Each failure once, at most MAX_PER_RULE of a kind; metadata first, then by line."""

    def key(f: Failure):
        return (f.file == records_file, f.line is None, f.line or 0)

    return sorted(capped(unique(failures)), key=key)


def validate(
    records: str | Path | None,
    *,
    dictionary=None,
    instrument_designations=None,
    project_xml=None,
    events=None,
    settings: Settings | dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Validate an all-records export against its project's own metadata."""
    started = time.perf_counter()
    say = progress or (lambda message: None)
    if not isinstance(settings, Settings):
        settings = Settings.from_dict(settings)
    severities = check_severities(settings)  # each check's severity; an unknown name is refused here
    inferring = (
        records is not None
        and dictionary is not None
        and instrument_designations is None
        and project_xml is None
        and export_has_events(records)
    )
    project, failures = load_project(
        dictionary=dictionary,
        instrument_designations=instrument_designations,
        project_xml=project_xml,
        events=events,
        settings=dataclasses.replace(settings, repeating=None) if inferring else settings,
    )
    notes = list(project.notes) if project else []
    if project is not None:
        failures += dictionary_failures(project)
        failures += missing_code_collisions(
            project,
            "the study file's redcap.missing_data_codes"
            if settings.missing_data_codes is not None
            else "the project's missing-data codes",
        )
    empty = missingness({})
    if project is None or errors(failures):
        return Result(
            project, None, {}, empty, _sorted(failures, None), notes, seconds=time.perf_counter() - started
        )
    say(
        f"metadata: {len(project.fields)} fields, {len(project.forms)} forms"
        + (f", {len(project.events)} events in {len(project.arms)} arm(s)" if project.longitudinal else "")
    )
    settings_ok = True

    def check_settings(project: Project) -> bool:
        ok = True
        for more in (check_rules(project, settings.rules), check_derivations(project, settings.derive)):
            failures.extend(more)
            ok &= not errors(more)
        return ok

    inferring = inferring and not project.longitudinal
    if not inferring:  # else once the designations are inferred from the records
        settings_ok = check_settings(project)
    if inferring:  # a longitudinal export without its designations: read against every event x form
        project = provisional(project, records)
    if records is None and project_xml is not None:  # "CDISC ODM project XML with data"
        rec, more = read_clinical_data(
            project_xml, project, limits=settings.limits, export_date=settings.export_date
        )
        if rec is not None:
            notes.append(
                f"records: read from the project XML's ClinicalData ({Path(project_xml).name}); no "
                "records export was given"
            )
    elif records is None:
        rec, more = (
            None,
            [
                fail(
                    "settings",
                    "no records: give the records export (redcap.records), or the project "
                    "XML with its data (redcap.project_xml)",
                )
            ],
        )
    else:
        rec, more = read_records(records, project, limits=settings.limits, export_date=settings.export_date)
        if project_xml is not None and any(n.endswith("it holds records too (ClinicalData)") for n in notes):
            notes.append(
                f"records: read from {Path(records).name}; the project XML's ClinicalData are not read"
            )
    failures += more
    if inferring and rec is not None:
        project, note = infer_designations(rec)
        notes.append(note)
        if settings.repeating is not None:  # the study's repeating set-up, on the inferred events
            rep, more = parse_repeating(settings.repeating, "settings: repeating")
            failures += more
            if rep is not None:
                failures += [
                    fail(
                        "settings: repeating",
                        "repeating instrument's event is not an event of the export",
                        event=e,
                        value=f,
                    )
                    for e, f in sorted(rep.instruments)
                    if e not in project.event
                ]
                project = dataclasses.replace(project, repeating=rep)
        rec.project = project
        settings_ok = check_settings(project)
    if rec is None:
        return Result(
            project,
            rec,
            {},
            empty,
            _sorted(failures, rec.file if rec else None),
            notes,
            seconds=time.perf_counter() - started,
        )
    notes += rec.notes
    if not settings.case_sensitive_ids:
        failures += case_duplicate_ids(rec)
    failures += dag_failures(rec, settings.data_access_groups)
    if project.repeating is None:
        rep, more_notes = infer_repeating(rec)
        project = dataclasses.replace(project, repeating=rep)
        rec.project = project
        notes += more_notes
    export_date, source = export_date_of(settings, rec, project)
    if export_date is None:
        notes.append(f"export date: {UNKNOWN_DATE}")
    else:
        notes.append(f"export date: {export_date.isoformat()} ({source})")
    say(f"{rec.file}: {len(rec):,} rows")
    tables, more = tidy_tables(rec, export_date=export_date)
    failures += more
    coded = {
        (int(line), fld) for t in tables.values() for line, fld in zip(t.missing["line"], t.missing["field"])
    }
    lookup = Lookup(project, tables)
    hidden, unevaluated = _hidden_required(project, tables, lookup)
    for form, t in tables.items():
        # a blank explained by a missing-data code, or a cell already reported unreadable, is not reported
        # again; a required field's blank where its branching logic hides it is no failure (REDCap's rule B)
        exempt = {
            fld: np.concatenate(
                [
                    t.missing.loc[t.missing["field"] == fld, "line"].to_numpy(dtype=np.int64),
                    t.unreadable.get(fld, np.zeros(0, dtype=np.int64)),
                    hidden.get(fld, np.zeros(0, dtype=np.int64)),
                ]
            )
            for fld in set(t.missing["field"])
            | set(t.unreadable)
            | {f for f in hidden if project.field[f].form == form}
        }
        failures += schema_failures(
            project,
            t,
            rec.file,
            today=export_date,
            exempt=exempt,
            range_severity=settings.out_of_range,
            unevaluated=unevaluated,
        )
    if severities["branching"] != "off":
        found, more_notes = hidden_values(
            project, tables, rec.file, severity=severities["branching"], missing=coded, lookup=lookup
        )
        failures += found
        notes += more_notes
    failures += calc_failures(project, tables, rec.file, lookup=lookup)
    if export_date is None:
        unchecked = [
            r.get("id") or r.get("kind") for r in settings.rules if r.get("kind") == "not_after_export"
        ]
        unchecked += sorted(
            {
                f.name
                for f in project.fields
                if f.min_text.lower() in ("today", "now") or f.max_text.lower() in ("today", "now")
            }
        )
        if unchecked:
            notes.append(
                "not checked, as the export date is unknown: "
                + ", ".join(unchecked)
                + " (limits of 'today' or the export date)"
            )
    # each check's severity as the study sets it; the study's own rules (below) carry their own
    failures = with_severities(failures, severities, rec.file)
    if settings_ok and settings.rules:
        first_lines = _first_lines(tables, rec)
        failures += apply_rules(
            project,
            tables,
            settings.rules,
            rec.file,
            export_date=export_date,
            first_lines=first_lines,
            lookup=lookup,
        ).failures
    failures += identifier_hints(project, tables, rec.file)
    derived = derive(project, tables, settings.derive) if settings_ok and settings.derive else {}
    dropped = drop_identifiers(project, tables)
    if dropped:
        notes.append(f"identifiers dropped after validation: {', '.join(dropped)}")
    hint = missing_code_hint(f.value for f in errors(failures))
    if hint:
        notes.append(hint)
    data = {k: t.data for k, t in tables.items()}
    labelled: dict[str, str] = {}
    if settings.labels:
        labelled, more_notes = add_labels(project, data)
        notes += more_notes
    failures = _sorted(failures, rec.file)
    say(
        f"validated in {time.perf_counter() - started:.1f} s: {len(errors(failures))} error(s), "
        f"{len(failures) - len(errors(failures))} warning(s)"
    )
    record_ids = _record_ids(rec)
    with_data = (
        set().union(*(set(t.data["record_id"].astype(str)) for t in tables.values())) if tables else set()
    )
    no_data = [r for r in record_ids if r not in with_data]
    if no_data:
        notes.append(
            f"{len(no_data):,} record(s) have no data beyond their record ID; they are counted as records "
            "of the export"
        )
    return Result(
        project,
        rec,
        data,
        missingness(tables),
        failures,
        list(dict.fromkeys(notes)),
        export_date,
        derived,
        dropped,
        time.perf_counter() - started,
        labels=labelled,
        record_ids=record_ids,
        designations_inferred=inferring,
    )


UNKNOWN_DATE = (
    "unknown (not in REDCap's file name <Project>_DATA_YYYY-MM-DD_HHMM.csv, not in the project XML's "
    "creation time, not in the study file's validation.export_date)"
)


def export_date_of(
    settings: Settings, records: Records | None, project: Project | None
) -> tuple[date | None, str]:
    """The export's date and where it comes from: the study file, REDCap's download file name,
    or the project XML's creation time; else None (unknown: never the day of the run)."""
    if settings.export_date is not None:
        return settings.export_date, "from the study file"
    if records is not None and records.export_date is not None:
        return records.export_date, "from the file name"
    created = project.created if project is not None else ""
    try:
        day = date.fromisoformat(created[:10]) if created else None
    except ValueError:
        day = None
    if day is not None and 1678 <= day.year <= 2261:
        return day, "from the project XML's creation time"
    return None, ""


def _record_ids(rec: Records) -> list[str]:
    """Every record ID of the export (trimmed, not blank), once each, in the export's order:
    a record with no data beyond its ID counts too (issue 25.6)."""
    import pyarrow.compute as pc

    ids = pc.utf8_trim_whitespace(rec.column(rec.project.record_id_field))
    ids = pc.filter(ids, pc.not_equal(ids, ""))
    return [str(v) for v in pc.unique(ids).to_pylist()]


def _hidden_required(
    project: Project, tables: dict[str, FormTable], lookup: Lookup
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Required fields with branching logic: the lines where the logic hides each (its blank
    there is no failure), and those whose logic cannot be evaluated (field -> why), evaluated by
    the same engine as the branching check."""
    hidden: dict[str, np.ndarray] = {}
    unevaluated: dict[str, str] = {}
    for f in project.fields:
        if not (f.required and f.branching) or f.form not in tables:
            continue
        table = tables[f.form]
        shown, why = shown_rows(project, f, table, lookup)
        if shown is None:
            unevaluated[f.name] = why or "not evaluated"
        elif (~shown).any():
            hidden[f.name] = table.data.index.to_numpy(dtype=np.int64)[~shown]
    return hidden, unevaluated


def _first_lines(tables: dict[str, FormTable], rec: Records | None = None) -> pd.Series:
    """Each record's first line in the export (a row with data); then each record with no data
    beyond its ID, at its first line (issue 25.6: every record counts)."""
    parts = [
        pd.Series(t.data.index.to_numpy(), index=t.data["record_id"].astype(object).to_numpy())
        for t in tables.values()
        if len(t.data)
    ]
    s = (
        pd.concat(parts).groupby(level=0, sort=False).min().sort_values(kind="stable")
        if parts
        else pd.Series(dtype="int64")
    )
    if rec is None:
        return s
    import pyarrow.compute as pc

    ids = np.asarray(
        pc.utf8_trim_whitespace(rec.column(rec.project.record_id_field)).to_numpy(zero_copy_only=False),
        dtype=object,
    )
    every = pd.Series(rec.lines, index=ids)
    every = every[(every.index != "") & ~every.index.isin(s.index)]
    if not len(every):
        return s
    return pd.concat([s, every.groupby(level=0, sort=False).min().sort_values(kind="stable")])


__all__ = ["validate", "load_project", "Settings", "Result"]
