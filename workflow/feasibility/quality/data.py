"""The validated data of a REDCap project as the quality report reads them.

docs/design.md, "Validated data": ``<form>.parquet`` (one tidy table per instrument, identifiers
dropped), ``codebook.json`` (the project's metadata) and ``missing_codes.parquet``; plus the
validation report (``report.json`` of ``feasibility.redcap.write_report``). :class:`QualityData`
holds them and answers what every output asks: the arms, events and forms in the project's
order, designations, data access groups, and one row per form instance (:meth:`QualityData.rows`).

A classic project (no events) is read as one pseudo-event ``""`` in one arm, so every
output treats both kinds alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

RECORD = "record_id"
EVENT = "redcap_event_name"
ARM = "redcap_arm"
INSTANCE = "redcap_repeat_instance"
DAG = "redcap_data_access_group"
DESIGN_COLUMNS = (RECORD, EVENT, ARM, INSTANCE, DAG)
CLASSIC_EVENT = ""  # the one event of a project without events
NO_GROUP = "No group"  # records without a data access group
STATUS = {0: "Incomplete", 1: "Unverified", 2: "Complete"}  # REDCap's <form>_complete codes
MISSING_COLUMNS = [RECORD, EVENT, INSTANCE, "form", "field", "code"]
COUNTED_TYPES_WITHOUT_VALUE = ("descriptive",)  # REDCap exports no column for them


@dataclass
class QualityData:
    """Validated tables, codebook, missing-data codes and (optionally) the validation report."""

    codebook: dict
    tables: dict[str, pd.DataFrame]
    missing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MISSING_COLUMNS))
    validation: dict | None = None
    provenance: object = None  # feasibility.provenance.Provenance of synthetic or dummy data

    # ------------------------------------------------------------------ reading
    @classmethod
    def read(
        cls,
        folder: str | Path,
        validation_report: str | Path | None = None,
        provenance: str | Path | None = None,
    ) -> "QualityData":
        """Read ``results/<id>/validated/`` (and the validation report's JSON, when given; and the
        data's ``provenance.json``, when given: synthetic or dummy data say so)."""
        from feasibility.redcap.output import own_record_id

        folder = Path(folder)
        book = json.loads((folder / "codebook.json").read_text(encoding="utf-8"))
        tables = {}
        for form in book.get("forms") or []:
            path = folder / f"{form['name']}.parquet"
            if not path.is_file():
                raise FileNotFoundError(f"{path}: the validated table of form {form['name']} is missing")
            tables[form["name"]] = own_record_id(pd.read_parquet(path), book.get("record_id_field"))
        missing_path = folder / "missing_codes.parquet"
        missing = (
            own_record_id(pd.read_parquet(missing_path), book.get("record_id_field"))
            if missing_path.is_file()
            else None
        )
        report = (
            json.loads(Path(validation_report).read_text(encoding="utf-8"))
            if validation_report is not None
            else None
        )
        from feasibility.provenance import read_provenance

        return cls(book, tables, _missing_frame(missing), report, read_provenance(provenance))

    @classmethod
    def from_result(cls, result) -> "QualityData":
        """From a ``feasibility.redcap.Result`` in memory (what ``write_validated`` would write)."""
        from feasibility.redcap.output import codebook, report_dict

        book = codebook(
            result.project,
            result.derived,
            result.dropped,
            result.labels,
            absent=dict(result.records.absent) if result.records is not None else None,
            inferred=result.designations_inferred,
        )
        tables = {k: v.reset_index(drop=True) for k, v in result.tables.items()}
        return cls(book, tables, _missing_frame(result.missing), report_dict(result))

    # ------------------------------------------------------------------ metadata
    @property
    def synthetic(self) -> bool:
        """Whether the data are synthetic or dummy (their provenance says so)."""
        return bool(self.provenance is not None and getattr(self.provenance, "synthetic", False))

    @property
    def data_statement(self) -> str:
        """What synthetic or dummy data are (for the first page, captions and the workbook); empty
        for real exports: synthetic (calibrated to a publication) or dummy (from the data
        dictionary), never the study's data."""
        if not self.synthetic:
            return ""
        if (getattr(self.provenance, "calibrated_to", None) or {}).get("publication"):
            return "Synthetic data made by this project's generator, not the study's data."
        return "Dummy data made by this project's generator from the data dictionary, not the study's data."

    @property
    def title(self) -> str | None:
        return self.codebook.get("title")

    @property
    def longitudinal(self) -> bool:
        return bool(self.codebook.get("longitudinal"))

    @cached_property
    def fields(self) -> dict[str, dict]:
        return {f["name"]: f for f in self.codebook.get("fields") or []}

    @cached_property
    def forms(self) -> list[dict]:
        return list(self.codebook.get("forms") or [])

    def form_label(self, form: str) -> str:
        return next((f.get("label") or f["name"] for f in self.forms if f["name"] == form), form)

    @cached_property
    def arms(self) -> dict[int, str]:
        """Arm number -> name (a classic project: one arm, no name)."""
        arms = {int(k): v for k, v in (self.codebook.get("arms") or {}).items()}
        return dict(sorted(arms.items())) if self.longitudinal and arms else {1: ""}

    def arm_label(self, arm: int) -> str:
        """``Arm 1``, or ``Arm 1: Intervention`` when REDCap's arm name says more."""
        name = (self.arms.get(arm) or "").strip()
        base = f"Arm {arm}"
        return base if not name or name == base else f"{base}: {name}"

    @cached_property
    def events(self) -> list[dict]:
        """Events in the project's order (unique_name, label, arm)."""
        if not self.longitudinal:
            return [{"unique_name": CLASSIC_EVENT, "label": "All records", "arm": 1}]
        return [dict(e, arm=int(e.get("arm") or 1)) for e in self.codebook.get("events") or []]

    def events_of_arm(self, arm: int) -> list[dict]:
        return [e for e in self.events if e["arm"] == arm]

    def event_label(self, event: str) -> str:
        return next(
            (e.get("label") or e["unique_name"] for e in self.events if e["unique_name"] == event), event
        )

    @cached_property
    def designations(self) -> dict[str, list[str]]:
        if not self.longitudinal:
            return {CLASSIC_EVENT: [f["name"] for f in self.forms]}
        return {e: list(fs) for e, fs in (self.codebook.get("designations") or {}).items()}

    def designated(self, event: str, form: str) -> bool:
        return form in self.designations.get(event, [])

    @cached_property
    def repeating(self) -> set[tuple[str, str]]:
        """(event, form) pairs where the form repeats: repeating instruments and every form of
        a repeating event."""
        rep = self.codebook.get("repeating") or {}
        pairs = {((i.get("event") or CLASSIC_EVENT), i["form"]) for i in rep.get("instruments") or []}
        for event in rep.get("events") or []:
            pairs |= {(event, form) for form in self.designations.get(event, [])}
        return pairs

    @property
    def missing_data_codes(self) -> list[tuple[str, str]]:
        return [(str(c), str(label)) for c, label in self.codebook.get("missing_data_codes") or []]

    @property
    def identifiers_dropped(self) -> list[str]:
        return list(self.codebook.get("identifiers_dropped") or [])

    # ------------------------------------------------------------------ rows
    @cached_property
    def has_dags(self) -> bool:
        return any(DAG in t.columns for t in self.tables.values())

    @cached_property
    def rows(self) -> pd.DataFrame:
        """One row per form row of the validated data: record, event, arm, instance, form and
        its completion status (``<form>_complete``: 0, 1, 2 or missing)."""
        parts = []
        arm_of_event = {e["unique_name"]: e["arm"] for e in self.events}
        for form in self.forms:
            name = form["name"]
            t = self.tables.get(name)
            if t is None or not len(t):
                continue
            n = len(t)
            event = (
                t[EVENT].astype("string").fillna(CLASSIC_EVENT)
                if EVENT in t.columns
                else pd.Series(CLASSIC_EVENT, index=t.index, dtype="string")
            )
            if ARM in t.columns:
                arm = pd.to_numeric(t[ARM], errors="coerce")
                arm = arm.fillna(event.map(arm_of_event)).fillna(1).astype("int64")
            else:
                arm = event.map(arm_of_event).fillna(1).astype("int64")
            status_col = f"{name}_complete"
            status = (
                pd.to_numeric(t[status_col], errors="coerce").astype("Int64")
                if status_col in t.columns
                else pd.Series(pd.NA, index=t.index, dtype="Int64")
            )
            parts.append(
                pd.DataFrame(
                    {
                        RECORD: t[RECORD].astype("string").to_numpy(),
                        EVENT: event.to_numpy(),
                        ARM: arm.to_numpy(),
                        INSTANCE: (
                            pd.to_numeric(t[INSTANCE], errors="coerce").astype("Int64").to_numpy()
                            if INSTANCE in t.columns
                            else pd.array([pd.NA] * n, dtype="Int64")
                        ),
                        "form": name,
                        "status": status.to_numpy(),
                    }
                )
            )
        if not parts:
            return pd.DataFrame(
                {
                    RECORD: pd.Series(dtype="string"),
                    EVENT: pd.Series(dtype="string"),
                    ARM: pd.Series(dtype="int64"),
                    INSTANCE: pd.Series(dtype="Int64"),
                    "form": pd.Series(dtype="string"),
                    "status": pd.Series(dtype="Int64"),
                }
            )
        out = pd.concat(parts, ignore_index=True)
        # categories: every count groups by these, and grouping by codes is fast at 100,000 records
        for c in (RECORD, EVENT, "form"):
            out[c] = out[c].astype("category")
        return out

    @cached_property
    def record_dag(self) -> pd.Series:
        """Each record's data access group (``NO_GROUP`` when blank); empty without DAGs."""
        if not self.has_dags:
            return pd.Series(dtype="string")
        parts = [t[[RECORD, DAG]] for t in self.tables.values() if DAG in t.columns and len(t)]
        if not parts:
            return pd.Series(dtype="string")
        both = pd.concat(parts, ignore_index=True).astype("string")
        both = both.sort_values(DAG, na_position="last", kind="stable")
        first = both.drop_duplicates(RECORD, keep="first").set_index(RECORD)[DAG]
        return first.fillna(NO_GROUP).astype("string")

    @property
    def dags(self) -> list[str]:
        """The data access groups found, in name order (``NO_GROUP`` last)."""
        found = set(self.record_dag.unique())
        return sorted(found - {NO_GROUP}) + ([NO_GROUP] if NO_GROUP in found else [])

    @property
    def export(self) -> dict:
        """What the validation report says about the export (file, date, rows, records)."""
        v = self.validation or {}
        return {k: v.get(k) for k in ("export", "export_date", "rows", "records", "ok", "errors", "warnings")}


def counted(n, word: str, plural: str | None = None) -> str:
    """``1 record``, ``1,234 records``."""
    n = int(n or 0)
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _missing_frame(missing: pd.DataFrame | None) -> pd.DataFrame:
    if missing is None or not len(missing):
        return pd.DataFrame(
            {c: pd.Series(dtype="Int64" if c == INSTANCE else "string") for c in MISSING_COLUMNS}
        )
    out = missing.drop(columns=["line"], errors="ignore").reset_index(drop=True).copy()
    for c in MISSING_COLUMNS:
        if c not in out.columns:
            out[c] = pd.NA
    out = out[MISSING_COLUMNS]
    out[INSTANCE] = pd.to_numeric(out[INSTANCE], errors="coerce").astype("Int64")
    for c in (RECORD, EVENT, "form", "field", "code"):
        out[c] = out[c].astype("string")
    out[EVENT] = out[EVENT].fillna(CLASSIC_EVENT)
    return out


__all__ = [
    "counted",
    "QualityData",
    "RECORD",
    "EVENT",
    "ARM",
    "INSTANCE",
    "DAG",
    "CLASSIC_EVENT",
    "NO_GROUP",
    "STATUS",
]
