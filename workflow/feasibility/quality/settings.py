"""The ``quality`` section of a study file, checked against its schema, with defaults.

``schemas/config.schema.yaml`` (its ``quality`` section) documents every key; :func:`load_settings` checks a
study file's mapping against it and returns :class:`QualitySettings`. Every key is
optional: ``QualitySettings()`` is what a study file with only ``study:`` and ``redcap:``
gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Mapping

import yaml


@cache
def schema() -> dict:
    """The JSON Schema of the ``quality`` section (its part of ``schemas/config.schema.yaml``)."""
    import feasibility.schemas as package

    study = yaml.load(
        (Path(package.__file__).parent / "config.schema.yaml").read_text(encoding="utf-8"),
        Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader),
    )  # libyaml: 10x faster
    return {
        "$schema": study["$schema"],
        "type": "object",
        "properties": {"quality": study["properties"]["quality"]},
    }


def check_schema(config: Mapping) -> None:
    """Raise ``ValueError`` naming every place where ``config['quality']`` breaks the schema."""
    import jsonschema

    section = {"quality": config["quality"]} if "quality" in config else {}
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(section), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  {'.'.join(str(p) for p in e.absolute_path) or 'quality'}: {e.message}" for e in errors]
        raise ValueError("the study file's quality section does not match the schema:\n" + "\n".join(lines))


@dataclass(frozen=True)
class Recruitment:
    date_field: str | None = None
    event: str | None = None
    by_dag: bool = True
    source_field: str | None = None
    max_lines: int = 5


@dataclass(frozen=True)
class Missingness:
    flag_percent: float = 20.0
    branching: bool = True
    fields: str = "all"


@dataclass(frozen=True)
class Validation:
    examples: int = 3


@dataclass(frozen=True)
class CodebookSettings:
    include: bool = True
    descriptive: bool = False
    max_choices: int = 30


@dataclass(frozen=True)
class Schedule:
    anchor_field: str | None = None
    anchor_event: str | None = None
    window_days: int = 14
    windows: dict = field(default_factory=dict)
    forms: list = field(default_factory=list)


@dataclass(frozen=True)
class QualitySettings:
    title: str | None = None
    recruitment: Recruitment = field(default_factory=Recruitment)
    missingness: Missingness = field(default_factory=Missingness)
    validation: Validation = field(default_factory=Validation)
    codebook: CodebookSettings = field(default_factory=CodebookSettings)
    schedule: Schedule = field(default_factory=Schedule)
    checks: tuple = ()  # feasibility.quality.queries.Check, from quality.checks


@dataclass(frozen=True)
class Check:
    """A study-declared check (``quality.checks``): REDCap logic that is true for a discrepancy."""

    id: str
    logic: str
    message: str
    events: tuple[str, ...] = ()
    field: str | None = None
    severity: str = "warning"


def checks_from_settings(raw) -> list[Check]:
    """``quality.checks`` of the study file as :class:`Check` objects."""
    out = []
    for c in raw or []:
        c = dict(c)
        out.append(
            Check(
                id=str(c["id"]),
                logic=str(c["logic"]),
                message=str(c["message"]),
                events=tuple(c.get("events") or ()),
                field=c.get("field"),
                severity=str(c.get("severity") or "warning"),
            )
        )
    return out


_PARTS = {
    "recruitment": Recruitment,
    "missingness": Missingness,
    "validation": Validation,
    "codebook": CodebookSettings,
    "schedule": Schedule,
}


def load_settings(config: Mapping | None) -> QualitySettings:
    """The study file's ``quality`` section (checked) with every default filled in; the
    title defaults to ``study.title``."""
    config = dict(config or {})
    check_schema(config)
    section = dict(config.get("quality") or {})
    if isinstance(section.get("codebook"), bool):  # `codebook: false` leaves the appendix out
        section["codebook"] = {"include": section["codebook"]}
    parts = {name: cls(**(section.get(name) or {})) for name, cls in _PARTS.items()}
    title = section.get("title") or (config.get("study") or {}).get("title")
    return QualitySettings(title=title, checks=tuple(checks_from_settings(section.get("checks"))), **parts)


__all__ = [
    "QualitySettings",
    "Schedule",
    "Recruitment",
    "Missingness",
    "Validation",
    "CodebookSettings",
    "load_settings",
    "schema",
    "check_schema",
]


# What the data-quality report and the query list say of data that did not pass (issue 25.2).
DID_NOT_PASS = (
    "The data did not pass validation: its errors block the analysis and the main report, which are "
    "not built until the errors are resolved in REDCap (or the study file changes their checks' "
    "severity, validation.severities). This report and the query list describe the data as they are."
)
