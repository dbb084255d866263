"""The paper's validated data as rule validate makes them, for tests and benchmarks.

The study file's REDCap downloads (``config/config.yaml``: ``redcap``; the shipped
``data/raw/`` or another folder holding files of the same names) validated by the REDCap
library with the study's validation settings, as ``feasibility.pipeline.validate`` does,
and written with its writer: ``<form>.parquet``, ``codebook.json`` and
``missing_codes.parquet`` (docs/design.md, "Validated data"; ``record_id`` is the screening
number, identifiers dropped, age at consent derived in ``enrolment``).

A module of its own (not ``conftest``), like ``projectcopy``, so that any test folder and
the benchmarks can import it.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUDY_FILE = ROOT / "config" / "config.yaml"


@functools.lru_cache(maxsize=1)
def _study() -> tuple[dict, dict[str, Path], dict]:
    from feasibility.config import load_study
    from feasibility.pipeline import redcap_files, validation_settings

    study = load_study(STUDY_FILE)
    # paths come relative to the working directory at load time: fixed now
    files = {key: Path(path).resolve() for key, path in redcap_files(study).items()}
    return study, files, validation_settings(study)


def redcap_files(raw: Path | None = None) -> dict[str, Path]:
    """The REDCap downloads the study file names (records, dictionary, ...), absolute; in
    ``raw`` instead of the shipped folder when given."""
    files = _study()[1]
    return {key: Path(raw, path.name) if raw else path for key, path in files.items()}


@functools.lru_cache(maxsize=4)
def validation_result(raw: Path | None = None, **overrides):
    """``feasibility.redcap.validate`` on the downloads with the study's settings (as rule
    validate runs it; ``overrides`` replace some, e.g. ``export_date=None``: from the file
    name, else today); raises ``RedcapError`` listing every failure when they fail."""
    from feasibility.redcap import validate

    files = redcap_files(raw)
    return validate(
        files["records"],
        dictionary=files.get("dictionary"),
        instrument_designations=files.get("instrument_designations"),
        events=files.get("events"),
        project_xml=files.get("project_xml"),
        settings={**_study()[2], **overrides},
    ).raise_for_errors()


def codebook() -> dict:
    """The paper's ``codebook.json`` as validation writes it (a fresh copy)."""
    from feasibility.redcap import codebook as book

    result = validation_result()
    return json.loads(json.dumps(book(result.project, result.derived, result.dropped)))


def write_validated(dest: Path, raw: Path | None = None, **overrides) -> Path:
    """The validated data of the downloads (default: the shipped ones) written to ``dest``
    (rule validate's ``results/validated``); returns ``dest``."""
    from feasibility.redcap import write_validated as write

    write(validation_result(raw, **overrides), dest)
    return Path(dest)
