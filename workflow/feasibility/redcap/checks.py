"""Validation's checks by name, each with a severity a study can set (issue 25.2).

Every failure validation finds belongs to one check. A check's severity is ``error`` (the
data do not pass: the analysis and the main report are not built), ``warning`` (reported,
listed in the query list; nothing is blocked) or ``off`` (not reported). The defaults
follow what REDCap itself refuses: a value it would not store (a wrong type, a code that is
not a choice, a row it could not hold) is an error; what REDCap lets a user save after a
prompt is reported as REDCap's data-quality rules report it. A study file changes any
check's severity by its name (``validation.severities``); ``validation.branching`` and
``validation.out_of_range`` are the older names of two of them.

The problems that stop a file being read at all (not a CSV, a labels export, another
project's export, a dictionary REDCap would refuse) are not checks: they are always errors.

======================  ========  ==================================================================
check                   default   what it finds (REDCap's data-quality rule, and what REDCap does)
======================  ========  ==================================================================
type                    error     a value that is not of its field's type or validation (rule C;
                                  REDCap's import refuses it)
choice                  error     a code that is not one of the field's choices (rule G; refused
                                  on import)
out_of_range            warning   a value outside the validation minimum or maximum (rule D;
                                  REDCap warns and stores it: a study may say error)
required                warning   a required field blank on a form marked Complete, where its
                                  branching logic shows it (rule B; REDCap prompts on save and
                                  saves it: a study may say error)
branching               warning   a value where the field's branching logic hides it (rule F)
calculation             error     a stored calculated value that differs from its formula (rule H;
                                  REDCap would store what the formula gives)
designation             error     data at an event the instrument designations do not give the form
repeating               error     repeat columns where the form does not repeat, or none where it does
duplicate_row           error     a second row for one record, event and instance
missing_code            error     a missing-data code where @NOMISSING forbids it, or beside a
                                  ticked box
record_id_case          error     record IDs that differ only in letter case
data_access_group       error     a record in a group that is not one of the study's sites
missing_column          error     a column of a form the export holds is missing (a restricted
                                  export's absent forms, identifiers, free text and dates are
                                  expected, and not failures)
unknown_column          error     a column the data dictionary does not have
======================  ========  ==================================================================
"""

from __future__ import annotations

import dataclasses

from .messages import Failure

SEVERITIES = ("error", "warning", "off")

# name -> (default severity, what it finds): the table above
CHECKS: dict[str, tuple[str, str]] = {
    "type": ("error", "a value that is not of its field's type or validation"),
    "choice": ("error", "a code that is not one of the field's choices"),
    "out_of_range": ("warning", "a value outside the field's validation minimum or maximum"),
    "required": (
        "warning",
        "a required field blank on a form marked Complete, where its branching logic shows it",
    ),
    "branching": ("warning", "a value where the field's branching logic hides it"),
    "calculation": ("error", "a stored calculated value that differs from its formula"),
    "designation": ("error", "data at an event the instrument designations do not give the form"),
    "repeating": ("error", "repeat columns where the form does not repeat, or none where it does"),
    "duplicate_row": ("error", "a second row for one record, event and instance"),
    "missing_code": ("error", "a missing-data code where @NOMISSING forbids it, or beside a ticked box"),
    "record_id_case": ("error", "record IDs that differ only in letter case"),
    "data_access_group": ("error", "a record in a group that is not one of the study's sites"),
    "missing_column": ("error", "a column of a form the export holds is missing"),
    "unknown_column": ("error", "a column the data dictionary does not have"),
}

# (check, fragments of the rule's text): the first check one of whose fragments the rule holds
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("required", ("required field is blank",)),
    ("branching", ("where the branching logic hides the field",)),
    ("calculation", ("differs from the calculation",)),
    (
        "out_of_range",
        ("below the validation minimum", "above the validation maximum", "slider value outside"),
    ),
    ("choice", ("not a code of ", "not a choice of checkbox")),
    ("designation", ("at an event the instrument designations do not give it",)),
    ("missing_code", ("@NOMISSING", "also holds a missing-data code")),
    ("record_id_case", ("differs only in letter case", "differ only in letter case")),
    ("data_access_group", ("is not one of the study's sites",)),
    ("missing_column", ("is missing from the export",)),
    ("unknown_column", ("unknown column ",)),
    ("duplicate_row", ("has a second row of form", "a second row of form")),
    (
        "repeating",
        (
            "repeat instance",
            "repeat columns",
            "repeat row",
            "repeats at this event",
            "repeating instrument's row",
        ),
    ),
    (
        "type",
        (
            "not a whole number",
            "not a valid ",
            "not a number",
            "not a date",
            "whole number too large",
            "number too large",
            "date outside the years",
            "checkbox value is not 0 or 1",
            "form status is not",
            "survey timestamp",
            "text contains control characters",
        ),
    ),
)


def check_of(failure: Failure) -> str | None:
    """The check a failure belongs to (None: a problem of the file itself, always an error;
    a study's own rule, whose severity is its own)."""
    rule = failure.rule
    for name, fragments in _RULES:
        if any(f in rule for f in fragments):
            return name
    return None


def check_severities(settings) -> dict[str, str]:
    """Each check's severity: its default, the older settings (branching, out_of_range),
    then the study's ``severities``. Raises ValueError naming an unknown check or severity."""
    out = {name: default for name, (default, _) in CHECKS.items()}
    out["branching"] = "off" if settings.branching == "ignore" else settings.branching
    out["out_of_range"] = settings.out_of_range
    for name, severity in (settings.severities or {}).items():
        if name not in CHECKS:
            raise ValueError(
                f"validation.severities: '{name}' is not a check (the checks: {', '.join(CHECKS)})"
            )
        if severity not in SEVERITIES:
            raise ValueError(
                f"validation.severities.{name}: '{severity}' is not one of {', '.join(SEVERITIES)}"
            )
        out[name] = severity
    return out


def with_severities(failures: list[Failure], severities: dict[str, str], records_file: str) -> list[Failure]:
    """The failures with each check's severity (a check that is off reports nothing). Only
    the records export's failures belong to checks (the metadata's are the dictionary's own);
    a failure made a warning on purpose (logic that could not be evaluated) stays a warning
    unless its check is off."""
    out = []
    for f in failures:
        name = check_of(f) if f.file == records_file else None
        if name is None:
            out.append(f)
            continue
        severity = severities.get(name, f.severity)
        if severity == "off":
            continue
        if f.severity == "warning" and severity == "error" and "could not be evaluated" in f.rule:
            severity = "warning"
        out.append(f if f.severity == severity else dataclasses.replace(f, severity=severity))
    return out


__all__ = ["CHECKS", "SEVERITIES", "check_of", "check_severities", "with_severities"]
