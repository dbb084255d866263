"""Fixture projects of tests/fixtures/redcap and helpers to make broken variants of them
(imported by the tests of this folder; the pytest fixtures are in conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from feasibility.redcap import validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "redcap"

CLASSIC = FIXTURES / "classic"
CLASSIC_DD = "Classic_DataDictionary_2024-05-02.csv"
CLASSIC_DATA = "Classic_DATA_2024-05-02_1015.csv"
CLASSIC_CODES = "UNK, Unknown | NASK, Not asked | NA, Not applicable"

LONG = FIXTURES / "longitudinal"
LONG_META = "TrialLong_metadata.csv"
LONG_DES = "TrialLong_InstrumentDesignations_2024-09-01.csv"
LONG_EVENTS = "TrialLong_events.csv"
LONG_DATA = "TrialLong_DATA_2024-09-01_0900.csv"
LONG_CODES = "UNK, Unknown | -999, Not recorded"

XML = FIXTURES / "xml"
XML_FILE = "PilotStudy_2024-06-30_1200.REDCap.xml"
XML_DATA = "PilotStudy_DATA_2024-06-30_1205.csv"

LAB = FIXTURES / "classic_repeating"
LAB_XML = "LabAudit_2024-10-01_0800.REDCap.xml"
LAB_DATA = "LabAudit_DATA_2024-10-01_0805.csv"


def copy_fixture(src: Path, dest: Path) -> Path:
    """A writable copy of a fixture project's folder."""
    out = dest / src.name
    shutil.copytree(src, out)
    return out


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace exact text in a file (bytes kept otherwise: BOM, CRLF)."""
    data = path.read_bytes()
    o, n = old.encode("utf-8"), new.encode("utf-8")
    assert data.count(o) >= count, f"{old!r} not found {count} time(s) in {path.name}"
    path.write_bytes(data.replace(o, n, count))


def replace_line(path: Path, line: int, new: str) -> None:
    """Replace physical line ``line`` (1-based) keeping the file's line ends."""
    data = path.read_bytes()
    crlf = b"\r\n" in data
    lines = data.split(b"\r\n" if crlf else b"\n")
    lines[line - 1] = new.encode("utf-8")
    path.write_bytes((b"\r\n" if crlf else b"\n").join(lines))


def only(failures, **match):
    """The one failure whose attributes equal ``match`` (rule matched as a substring)."""
    rule = match.pop("rule", None)
    found = [
        f
        for f in failures
        if all(getattr(f, k) == v for k, v in match.items()) and (rule is None or rule in f.rule)
    ]
    assert len(found) == 1, f"{len(found)} failures match {match} {rule!r}:\n" + "\n".join(
        f.message() for f in failures
    )
    return found[0]


def validate_classic(folder: Path = CLASSIC, **settings):
    settings.setdefault("missing_data_codes", CLASSIC_CODES)
    return validate(folder / CLASSIC_DATA, dictionary=folder / CLASSIC_DD, settings=settings)


def validate_long(folder: Path = LONG, **settings):
    settings.setdefault("missing_data_codes", LONG_CODES)
    return validate(
        folder / LONG_DATA,
        dictionary=folder / LONG_META,
        instrument_designations=folder / LONG_DES,
        events=folder / LONG_EVENTS,
        settings=settings,
    )


def validate_lab(folder: Path = LAB, **settings):
    return validate(folder / LAB_DATA, project_xml=folder / LAB_XML, settings=settings)


def validate_xml(folder: Path = XML, **settings):
    return validate(folder / XML_DATA, project_xml=folder / XML_FILE, settings=settings)
