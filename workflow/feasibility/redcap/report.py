"""Validation's report, the one writer of it: ``report.json`` (the outcome as data),
``report.md`` (for a person), ``failures.csv`` (every failure, spreadsheet-safe) and the
console's summary, all made from one report (:func:`validation_report`).

Validation's files under ``results/<id>/validation/`` (a study's folder):

* ``report.md``, ``report.json``: the latest outcome, pass or fail, readable / as data: the
  inputs (SHA-256 of each file), the settings, rows by form, the notes, failures counted by
  file, field and rule, the first failures;
* ``failures.csv``: every failure (file, line, record, event, instance, field, value, rule,
  severity);
* ``passed.json``: the success record, written by the rule (``feasibility.pipeline``)
  last, and only when the data passed.

report.* and failures.csv are outputs of no rule, so a failure report can never stand for
a pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from feasibility.config import REDCAP_FILES, ValidationPaths
from feasibility.io import write_csv, write_json, write_text

from .messages import FAILURE_COLUMNS, Failure
from .output import report_dict

CONSOLE_FAILURES = 20  # failures printed on the console; the report has every one
REPORT_FAILURES = 100  # failures listed in report.md and report.json
REPORT_GROUPS = 50  # (file, field, rule) groups listed in report.md
UNFINISHED = "did not finish"  # report.json's outcome while validation runs (or after it crashed)


def failures_frame(failures: list) -> pd.DataFrame:
    frame = pd.DataFrame(
        [tuple(getattr(f, c) for c in FAILURE_COLUMNS) for f in failures], columns=FAILURE_COLUMNS
    )
    frame["line"] = frame["line"].astype("Int64")
    return frame


def _input_rows(files: dict[str, str], sha: dict[str, str | None], result) -> list[dict]:
    """One row per input file: its name, what it is, what was read of it, its SHA-256."""
    rows = []
    for key, path in files.items():
        entry = {"file": Path(path).name, "what": REDCAP_FILES[key], "path": path, "sha256": sha.get(path)}
        if key == "records":
            entry["rows"] = len(result.records) if result.records is not None else None
        rows.append(entry)
    return rows


def validation_report(
    result,
    files: dict[str, str],
    sha: dict[str, str | None],
    settings: dict,
    where: ValidationPaths = ValidationPaths(),
) -> dict:
    """report.json: the outcome as data - the REDCap library's report (``report_dict``: rows
    by form, notes, missing-data codes, every failure and warning) with the inputs' SHA-256,
    the settings and the failures counted by file, field and rule."""
    d = report_dict(result)
    frame = failures_frame(result.failures)
    groups = (
        frame.groupby(["file", "field", "rule", "severity"], sort=False, dropna=False)
        .agg(failures=("rule", "size"), first_line=("line", "min"))
        .reset_index()
        .sort_values("failures", ascending=False, kind="stable")
    )
    return {
        "outcome": "passed" if result.ok else "failed",
        "n_failures": d["errors"],
        "n_warnings": d["warnings"],
        "inputs": _input_rows(files, sha, result),
        "settings": settings,
        **d,
        "groups": json.loads(groups.to_json(orient="records")),
        "failures_file": where.failures if len(frame) else None,
        **_pulled(files),
    }


def _pulled(files: dict[str, str]) -> dict:
    """The pull the records export came from (``feasibility.pull``), when it was pulled."""
    from feasibility.pull import describe, pull_provenance

    info = pull_provenance(files.get("records"))
    return {"pull": {"name": info.get("pull"), "described": describe(info)}} if info else {}


def unfinished_report(files: dict[str, str], sha: dict[str, str | None], settings: dict) -> dict:
    """report.json while validation runs: the inputs and settings, outcome "did not finish".
    Written before validating and replaced at the end, so that the report always describes
    the latest run, one that crashed included."""
    return {
        "outcome": UNFINISHED,
        "n_failures": None,
        "n_warnings": None,
        "settings": settings,
        "inputs": [
            {"file": Path(path).name, "what": REDCAP_FILES[key], "path": path, "sha256": sha.get(path)}
            for key, path in files.items()
        ],
        "export_date": None,
        "notes": [],
        "forms": {},
        "groups": [],
        "failures": [],
        "failures_file": None,
    }


def report_markdown(report: dict, where: ValidationPaths = ValidationPaths()) -> str:
    """report.md: the outcome, the inputs, rows by form, failures by field and rule, the first failures."""
    lines = ["# Validation report", ""]
    n, w = report["n_failures"], report["n_warnings"]
    if report["outcome"] == UNFINISHED:
        lines.append(
            "**Did not finish**: validation of these inputs started and did not finish; nothing "
            "downstream was built from them (see the validation log in the logs folder)."
        )
    elif report["outcome"] == "passed":
        lines.append(f"**Passed**: no failures, {w:,} warning(s).")
    else:
        lines.append(
            f"**Failed: {n:,} failure(s)**, {w:,} warning(s). Nothing downstream was built and no "
            f"report was left in {Path(where.root).parent.as_posix()}/report/."
        )
    lines += ["", "| file | what | rows | SHA-256 |", "|---|---|---|---|"]
    for e in report["inputs"]:
        rows = "" if e.get("rows") is None else f"{e['rows']:,}"
        lines.append(
            "| " + " | ".join(_md(v) for v in (e["file"], e["what"], rows, e["sha256"] or "")) + " |"
        )
    if report.get("pull"):
        lines += ["", f"Data {_md(report['pull']['described'])}."]
    if report["export_date"]:
        lines += ["", f"Export date: {report['export_date']}."]
    if report["notes"]:
        lines += [""] + [f"- {_md(note)}" for note in report["notes"]]
    if report["forms"]:
        lines += ["", "| form | rows |", "|---|---:|"] + [
            f"| {_md(k)} | {v:,} |" for k, v in report["forms"].items()
        ]
    if report["groups"]:
        lines += [
            "",
            "## Failures and warnings by field and rule",
            "",
            "| file | field | rule | severity | count | first line |",
            "|---|---|---|---|---|---|",
        ]
        for g in report["groups"][:REPORT_GROUPS]:
            lines.append(
                "| "
                + " | ".join(_md(g[k]) for k in ("file", "field", "rule", "severity"))
                + f" | {g['failures']:,} | {_md(g['first_line'])} |"
            )
        if len(report["groups"]) > REPORT_GROUPS:
            lines.append(
                f"\n{len(report['groups']) - REPORT_GROUPS:,} more group(s): see {report['failures_file']}."
            )
        first = report["failures"][:REPORT_FAILURES]
        lines += [
            "",
            f"## First failures and warnings ({len(first):,} of {len(report['failures']):,})",
            "",
            "| " + " | ".join(FAILURE_COLUMNS) + " |",
            "|" + "---|" * len(FAILURE_COLUMNS),
        ]
        lines += ["| " + " | ".join(_md(f.get(k)) for k in FAILURE_COLUMNS) + " |" for f in first]
        lines += [
            "",
            f"Every failure (file, line, record, event, instance, field, value, rule): "
            f"{report['failures_file']}.",
        ]
    return "\n".join(lines) + "\n"


def _md(value) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def write_report(report: dict, failures: list, where: ValidationPaths = ValidationPaths()) -> None:
    """report.json, report.md and, when there are failures, failures.csv (else none)."""
    write_json(where.json, report)
    write_text(where.md, report_markdown(report, where))
    if failures:
        write_csv(where.failures, failures_frame(failures))
    else:
        Path(where.failures).unlink(missing_ok=True)


def console_summary(report: dict, where: ValidationPaths = ValidationPaths()) -> str:
    """The first failures and the total, and where the full report is."""
    n = report["n_failures"]
    lines = [f"Validation failed: {n:,} failure(s), {report['n_warnings']:,} warning(s)."]
    first = [f for f in report["failures"] if f.get("severity") == "error"][:CONSOLE_FAILURES]
    lines += [
        "  "
        + Failure(
            **{k: ("" if f.get(k) is None else f[k]) for k in FAILURE_COLUMNS} | {"line": f.get("line")}
        ).message()
        for f in first
    ]
    if n > len(first):
        lines.append(f"  ... {n - len(first):,} more")
    lines += [note for note in report.get("notes") or [] if note.startswith("hint: ")]
    lines.append(f"Full report: {where.md}; every failure: {report['failures_file'] or where.failures}")
    return "\n".join(lines)
