"""Helpers of the trial tests: a generated cohort, validated and analysed, and the raw
export read with the csv module (the tests' own, independent reading of the data)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STUDY = ROOT / "config" / "studies" / "full-trial.yaml"
TRIAL = ROOT / "data" / "full-trial"


def redcap_settings(study: dict) -> dict:
    """The validation settings of a study file (its validation block and the redcap block's
    missing-data codes, repeating set-up and data access groups)."""
    rc = study["redcap"]
    settings = dict(study.get("validation") or {})
    settings["missing_data_codes"] = rc.get("missing_data_codes")
    settings["repeating"] = rc.get("repeating")
    settings["data_access_groups"] = rc.get("data_access_groups")
    return settings


def validate_trial(records: Path, study: dict, **extra):
    from feasibility.redcap import validate

    base = STUDY.parent
    rc = study["redcap"]
    return validate(
        records,
        dictionary=base / rc["dictionary"],
        instrument_designations=base / rc["instrument_designations"],
        events=base / rc["events"],
        settings={**redcap_settings(study), **extra},
    )


def read_export(path: Path) -> list[dict[str, str]]:
    """The export's rows as text (BOM and CRLF as REDCap writes them)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Cohort:
    folder: Path
    records: Path
    rows: list[dict[str, str]]
    result: object
    analysis: object

    @classmethod
    def make(cls, folder: Path, study: dict, n: int, seed: int) -> "Cohort":
        from feasibility.analysis import Analysis, StudyData, load_spec
        from feasibility.redcap import write_validated
        from feasibility.synth.dummy import main

        assert (
            main(["--study", str(STUDY), "--n", str(n), "--seed", str(seed), "--out", str(folder), "--quiet"])
            == 0
        )
        records = folder / "records.csv"
        result = validate_trial(records, study)
        assert result.ok, [f.message() for f in result.errors[:5]]
        write_validated(result, folder / "validated")
        analysis = Analysis(StudyData.read(folder / "validated"), load_spec(study))
        return cls(folder, records, read_export(records), result, analysis)

    def at(self, event: str, instrument: str = "") -> list[dict[str, str]]:
        return [
            r
            for r in self.rows
            if r["redcap_event_name"] == event and r.get("redcap_repeat_instrument", "") == instrument
        ]

    def by_record(self, event: str) -> dict[str, dict[str, str]]:
        return {r["record_id"]: r for r in self.at(event)}
