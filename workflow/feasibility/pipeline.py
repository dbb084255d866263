"""Entry points of the Snakemake rules: each reads its inputs, calls the pure
functions of the package, and writes its outputs (atomically). One call per rule.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import stat
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import crf
from .config import file_kind, sha256_regular, size_words, small_cell_threshold
from .io import read_parquet, write_csv, write_json, write_parquet, write_text

sha256 = sha256_regular


class _RuleLog(logging.Handler):
    """What the package logs while one rule runs (in its thread: the jobs of a build run
    in threads of one process): kept for the rule's log file, and each warning shown on
    the console as it comes (e.g. Quarto's, which a successful render would otherwise hide)."""

    def __init__(self, label: str):
        super().__init__(logging.DEBUG)
        self.label, self.thread, self.lines = label, threading.get_ident(), []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        message = record.getMessage()
        self.lines.append(f"{record.levelname}: {message}\n")
        if record.levelno >= logging.WARNING:
            print(f"[{self.label}] {record.levelname.lower()}: {message}", file=sys.stderr, flush=True)


def step(func):
    """A rule's entry point: with ``log_file=``, write that rule log (time taken, or the
    error with its traceback, then what the package logged) and print one progress line,
    so a person can follow a build."""
    @functools.wraps(func)
    def run(*args, log_file: str | None = None, **kwargs):
        label = Path(log_file).stem if log_file else func.__name__
        package = logging.getLogger("feasibility")
        if package.level == logging.NOTSET or package.level > logging.DEBUG:
            package.setLevel(logging.DEBUG)
        rule_log = _RuleLog(label)
        package.addHandler(rule_log)
        start = time.perf_counter()
        try:
            result = func(*args, **kwargs)
        except BaseException as error:
            if log_file:
                why = (f"{error}\n" if isinstance(error, ValidationFailed)   # the data, not the code
                       else traceback.format_exc())
                write_text(log_file, f"{label}: failed after {time.perf_counter() - start:.2f} s\n"
                                     + why + "".join(rule_log.lines))
            raise
        finally:
            package.removeHandler(rule_log)
        elapsed = time.perf_counter() - start
        if log_file:
            write_text(log_file, f"{label}: done in {elapsed:.2f} s\n" + "".join(rule_log.lines))
        print(f"[{label}] done in {elapsed:.1f} s", file=sys.stderr, flush=True)
        return result
    return run


# ------------------------------------------------------------------------------ validation
# Validation's files under results/validation/:
#   exports/<export>.json   one export's outcome: its raw file's SHA-256, the dictionary's,
#                           the settings checked, counts by field and rule, first failures
#   failures/<export>.csv   every failure of that export (the full, machine-readable list)
#   report.md, report.json  the latest outcome, pass or fail, readable / as data
#   passed.json             the success record: written last, and only when every export
#                           passed; it names the SHA-256 of every raw file and the settings
#                           checked. Every later rule takes it as input: nothing downstream
#                           is built from data that did not pass.
# report.* are outputs of no rule, so a failure report can never stand for a pass.
CONSOLE_FAILURES = 20      # failures printed on the console; the report has every one
REPORT_FAILURES = 100      # failures listed in report.md
REPORT_GROUPS = 50         # (file, field, rule) groups listed in report.md
SUMMARY_GROUPS = 500       # groups kept in an export's summary
FAILURE_COLUMNS = ["file", "line", "record_id", "event", "field", "value", "rule"]


class ValidationFailed(Exception):
    """Raised by a validation job whose export failed; the message is short, as the
    console's summary and the report list the failures."""


@dataclass(frozen=True)
class ValidationPaths:
    """Where validation keeps its files (all under ``results/validation``)."""
    root: str = "results/validation"

    def summary(self, export: str) -> str:
        return f"{self.root}/exports/{export}.json"

    def failures(self, export: str) -> str:
        return f"{self.root}/failures/{export}.csv"

    @property
    def passed(self) -> str:
        return f"{self.root}/passed.json"

    @property
    def md(self) -> str:
        return f"{self.root}/report.md"

    @property
    def json(self) -> str:
        return f"{self.root}/report.json"


def raw_files(raw_dir: str) -> dict[str, str]:
    """Every raw file validation reads: the data dictionary and each export."""
    files = {"data_dictionary": f"{raw_dir}/{crf.DICTIONARY_FILE}"}
    files.update({name: f"{raw_dir}/{spec.file}" for name, spec in crf.EXPORTS.items()})
    return files


def study_inputs(config: dict) -> dict[str, tuple[str, str]]:
    """Every input the study names: what it is -> (path, "file" | "dir"); checked with
    :func:`feasibility.config.check_inputs` before any job runs."""
    inputs = {"raw folder (paths.raw)": (config["paths"]["raw"], "dir")}
    inputs.update({("data dictionary" if name == "data_dictionary" else f"export {name}"): (path, "file")
                   for name, path in raw_files(config["paths"]["raw"]).items()})
    inputs["published values (paths.published_values)"] = (config["paths"]["published_values"], "file")
    eq5d = config["scoring"]["eq5d_index"]
    if eq5d["method"] == "mapping_table":
        inputs["EQ-5D mapping table (scoring.eq5d_index.mapping_table)"] = (eq5d["mapping_table"], "file")
    if config["report"]["quarto_executable"]:
        inputs["Quarto executable (report.quarto_executable)"] = (config["report"]["quarto_executable"], "file")
    return inputs


def fingerprint(raw_dir: str) -> dict[str, str | None]:
    """File name -> SHA-256 of every raw file (None when it is missing or not a regular file)."""
    out = {}
    for path in raw_files(raw_dir).values():
        try:
            out[Path(path).name] = sha256_regular(path)
        except OSError:
            out[Path(path).name] = None
    return out


def _size_failure(path: Path, settings: dict):
    """A raw file larger than ``validation.max_file_mb`` (or not a regular file) is refused
    before it is read."""
    from .validation import Failure

    try:
        st = os.stat(path)
    except OSError:
        return None                                  # missing: the reader says so
    if not stat.S_ISREG(st.st_mode):
        return Failure(path.name, None, "", "", "", "", f"is {file_kind(st)}, not a regular file")
    limit = (settings.get("validation") or {}).get("max_file_mb")
    if limit is not None and st.st_size > limit * 1e6:
        return Failure(path.name, None, "", "", "", "",
                       f"file is {size_words(st.st_size)}, larger than validation.max_file_mb "
                       f"({limit:,.6g} MB); it was not read")
    return None


@step
def validate_export(export: str, raw_dir: str, dictionary: str, context: dict[str, str],
                    settings: dict, out: str, summary: str, failures_csv: str) -> None:
    """Rule validate_export: one raw export -> typed Parquet (only when it passes), its
    summary and the list of its failures."""
    from .validation import read_dictionary, validate_export as run

    start = time.perf_counter()
    spec = crf.EXPORTS[export]
    raw = Path(raw_dir) / spec.file
    sha, dictionary_sha = _sha_or_none(raw), _sha_or_none(dictionary)     # of what is read
    refused = [f for f in (_size_failure(Path(dictionary), settings), _size_failure(raw, settings)) if f]
    if refused:
        typed, failures = None, refused
    else:
        ctx = {name: read_parquet(p) for name, p in context.items()}
        typed, failures = run(Path(raw_dir), spec, ctx, read_dictionary(Path(dictionary)))
    frame = failures_frame(failures)
    if failures:
        write_csv(failures_csv, frame)
    else:
        Path(failures_csv).unlink(missing_ok=True)
    groups = (frame.groupby(["file", "field", "rule"], sort=False, dropna=False)
              .agg(failures=("rule", "size"), first_line=("line", "min")).reset_index()
              .sort_values("failures", ascending=False, kind="stable"))
    write_json(summary, {
        "export": export, "file": spec.file,
        "sha256": sha, "dictionary_sha256": dictionary_sha,
        "settings": settings,
        "records": None if typed is None else int(len(typed)),
        "n_failures": len(failures),
        "groups": json.loads(groups.head(SUMMARY_GROUPS).to_json(orient="values")),
        "n_groups": int(len(groups)),
        "first_failures": json.loads(frame.head(REPORT_FAILURES).to_json(orient="records")),
        "failures_file": failures_csv if failures else None,
    })
    records = "no" if typed is None else f"{len(typed):,}"
    print(f"[validate {spec.file}] {records} records, {len(failures):,} failure(s) "
          f"in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    if failures:
        raise ValidationFailed(f"{spec.file}: {len(failures):,} validation failure(s); "
                               f"every one is in {failures_csv}")
    write_parquet(out, typed)


def _sha_or_none(path) -> str | None:
    try:
        return sha256_regular(path)
    except OSError:
        return None


def failures_frame(failures: list) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(getattr(f, c) for c in FAILURE_COLUMNS) for f in failures],
                         columns=FAILURE_COLUMNS)
    frame["line"] = frame["line"].astype("Int64")
    return frame


def validation_state(raw_dir: str, settings: dict, where: ValidationPaths = ValidationPaths()) -> dict:
    """The outcome of validation for the raw files as they are now.

    Each export's summary counts only when it was made from the current raw file and
    data dictionary with the current settings, after every export it depends on passed:
    a summary of other data is no summary of these."""
    current = fingerprint(raw_dir)
    dictionary = current[crf.DICTIONARY_FILE]
    exports, passed = [], set()
    for name, spec in crf.EXPORTS.items():       # in dependency order
        sha = current[spec.file]
        try:
            r = json.loads(Path(where.summary(name)).read_text(encoding="utf-8"))
        except (OSError, ValueError):             # none yet, or cut short by a crash
            r = None
        blocking = [d for d in spec.depends_on if d not in passed]
        entry = {"export": name, "file": spec.file, "records": None, "sha256": sha,
                 "n_failures": 0, "failures_file": None}
        if blocking:
            entry["status"] = f"not validated (blocked by {', '.join(blocking)})"
        elif (r is None or r.get("sha256") != sha or r.get("dictionary_sha256") != dictionary
              or r.get("settings") != settings):
            entry["status"] = "not validated (its validation did not finish)"
        elif r["n_failures"]:
            entry.update(status=f"{r['n_failures']} failure(s)", n_failures=r["n_failures"],
                         failures_file=r["failures_file"], groups=r["groups"],
                         n_groups=r["n_groups"], first_failures=r["first_failures"])
        else:
            entry.update(status="passed", records=r["records"])
            passed.add(name)
        exports.append(entry)
    return {"passed": len(passed) == len(crf.EXPORTS), "exports": exports,
            "n_failures": sum(e["n_failures"] for e in exports),
            "raw_files": current, "settings": settings}


def write_validation_report(state: dict, where: ValidationPaths = ValidationPaths()) -> None:
    """report.json (the outcome as data, without the failures, which are listed once, in
    failures/*.csv) and report.md (readable: exports, failures grouped by field and rule,
    the first failures, where the rest are)."""
    exports = state["exports"]
    failing = [e for e in exports if e["n_failures"]]
    first = [f for e in failing for f in e["first_failures"]]
    n = state["n_failures"]
    outcome = ("passed" if state["passed"] else
               "failed" if n else "not validated (an export was not validated)")
    write_json(where.json, {
        "outcome": outcome, "n_failures": n,
        "exports": [{k: e[k] for k in ("export", "file", "records", "status", "sha256",
                                       "n_failures", "failures_file")} for e in exports],
        "raw_files": state["raw_files"], "settings": state["settings"],
        "first_failures": first[:REPORT_FAILURES],
    })
    lines = ["# Validation report", ""]
    if state["passed"]:
        lines += [f"**Passed**: {len(exports)} exports, no failures.", ""]
    else:
        lines += [f"**Failed: {n:,} failure(s)** in {len(failing)} of {len(exports)} exports. "
                  "Nothing downstream was built and no report was left in results/report/.", ""]
    if failing:
        lines += ["| export | file | records | status | every failure |", "|---|---|---|---|---|"]
    else:
        lines += ["| export | file | records | status |", "|---|---|---|---|"]
    for e in exports:
        cells = [e["export"], e["file"], "" if e["records"] is None else f"{e['records']:,}", e["status"]]
        cells += [e["failures_file"] or ""] if failing else []
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    if failing:
        groups = [(e, g) for e in failing for g in e["groups"]]
        groups.sort(key=lambda eg: -eg[1][3])
        lines += ["", "## Failures by field and rule", "",
                  "| file | field | rule | failures | first line |", "|---|---|---|---|---|"]
        for _, (file, field, rule, count, line) in groups[:REPORT_GROUPS]:
            lines.append("| " + " | ".join(_md(v) for v in (file, field, rule, f"{count:,}", line)) + " |")
        hidden = sum(e["n_groups"] for e in failing) - min(len(groups), REPORT_GROUPS)
        if hidden > 0:
            lines.append(f"\n{hidden:,} more group(s): see the failure lists below.")
        lines += ["", f"## First failures ({min(len(first), REPORT_FAILURES):,} of {n:,})", "",
                  "| file | line | record | event | field | value | rule |", "|---|---|---|---|---|---|---|"]
        for f in first[:REPORT_FAILURES]:
            lines.append("| " + " | ".join(_md(f.get(k)) for k in FAILURE_COLUMNS) + " |")
        lines += ["", "Every failure (file, line, record, event, field, value, rule): "
                  + ", ".join(e["failures_file"] for e in failing) + "."]
    write_text(where.md, "\n".join(lines) + "\n")


def _md(value) -> str:
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


@step
def validate(raw_dir: str, settings: dict, out: str, where: ValidationPaths = ValidationPaths()) -> None:
    """Rule validate: the success record, written last and only when every export passed
    (against the raw files as they are now)."""
    state = validation_state(raw_dir, settings, where)
    write_validation_report(state, where)
    if not state["passed"]:
        bad = [f"{e['file']}: {e['status']}" for e in state["exports"] if e["status"] != "passed"]
        raise ValidationFailed("validation did not pass: " + "; ".join(bad))
    write_json(out, {
        "outcome": "passed", "n_failures": 0,
        "exports": [{k: e[k] for k in ("export", "file", "records", "status", "sha256")}
                    for e in state["exports"]],
        "raw_files": state["raw_files"], "settings": settings,
    })


# Results that exist only for data that passed validation; withdrawn when they do not.
DOWNSTREAM = ("derived", "tables", "figures", "reproduction", "report")


def withdraw(results: str = "results", state: dict | None = None, quiet: bool = False) -> list[str]:
    """Remove what no longer matches the data: the success record, everything built from
    validated data, and the validated table of each export that did not pass as it is
    now. Raw files, validation's reports and the logs stay."""
    removed = []
    root = Path(results)
    passed = {e["export"] for e in (state or {}).get("exports", []) if e["status"] == "passed"}
    record = root / "validation" / "passed.json"
    if record.exists():
        record.unlink()
        removed.append(str(record))
    stale = [p for p in sorted((root / "validated").glob("*.parquet")) if p.stem not in passed]
    for p in stale:
        p.unlink()
    if stale:
        removed.append(f"{root / 'validated'}/ ({len(stale)} of its tables)")
    for d in DOWNSTREAM:
        p = root / d
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
            removed.append(f"{p}/")
        elif p.exists() or p.is_symlink():
            p.unlink()
            removed.append(str(p))
    if removed and not quiet:
        print("Withdrawn, as they do not match the data as they are now: " + ", ".join(removed),
              file=sys.stderr)
    return removed


def console_summary(state: dict, where: ValidationPaths = ValidationPaths()) -> str:
    """The first failures and the total, and where the full report is."""
    from .validation import Failure

    failing = [e for e in state["exports"] if e["n_failures"]]
    n = state["n_failures"]
    lines = [f"Validation failed: {n:,} failure(s) in {len(failing)} export(s)."]
    first = [f for e in failing for f in e["first_failures"]][:CONSOLE_FAILURES]
    lines += ["  " + Failure(**{k: "" if f.get(k) is None else f[k] for k in FAILURE_COLUMNS}
                             | {"line": f.get("line")}).message() for f in first]
    if n > len(first):
        lines.append(f"  ... {n - len(first):,} more")
    other = [e for e in state["exports"] if not e["n_failures"] and e["status"] != "passed"]
    if other:
        lines.append("Not validated: " + ", ".join(f"{e['file']} ({e['status'][len('not validated ('):-1]})"
                                                   for e in other))
    lines.append(f"Full report: {where.md}; every failure: "
                 + (", ".join(e["failures_file"] for e in failing) or "none listed"))
    return "\n".join(lines)


def on_success() -> None:
    """After a run, let the process end at once (1.6 s of a 4.5 s rebuild went
    on exiting).

    Snakemake's scheduler starts a non-daemon ``threading.Timer`` (the
    ``--max-jobs-per-timespan`` timespan, 1 s) on every pass and Python waits for the
    last one before it exits: cancel it. And the jobs ran in this process, so its heap
    holds every module they imported: freeze it, so that the interpreter's final
    garbage collection does not walk it (the memory goes back to the system anyway).
    """
    import gc
    import threading

    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()
    gc.freeze()


def on_error(raw_dir: str, settings: dict, results: str = "results") -> None:
    """After a failed run. When the data as they are now have not passed validation:
    write the validation report, print its first failures, and withdraw the success
    record and everything built from the data. Otherwise (a later step failed) withdraw
    the report, which may no longer match the data or the code."""
    where = ValidationPaths(f"{results}/validation")
    state = validation_state(raw_dir, settings, where)
    if state["passed"]:
        withdraw_report(results)
    else:
        write_validation_report(state, where)
        print("\n" + console_summary(state, where), file=sys.stderr, flush=True)
        withdraw(results, state)
    on_success()                          # not a success: but end the process at once all the same


def withdraw_report(results: str = "results") -> None:
    report = Path(results) / "report"
    if report.exists():
        shutil.rmtree(report)
        print(f"Withdrawn: {report}/ (the run failed, so it may not match the data or the code)",
              file=sys.stderr)


# ------------------------------------------------------------------------------- derivation
@step
def participants(inputs: dict[str, str], out: str) -> None:
    from .derive import participants as derive

    frames = {k: read_parquet(v) for k, v in inputs.items()}
    write_parquet(out, derive(**frames))


@step
def score(timepoint: str, questionnaire: str, participants_path: str, config: dict,
          out: str, log: str) -> None:
    from .schemas.derived import Scores, ScoringLog
    from .scoring import score_timepoint

    items = read_parquet(questionnaire)
    demo = read_parquet(participants_path)[["record_id", "age", "sex"]]
    scores, slog = score_timepoint(items, timepoint, demo, config)
    write_parquet(out, Scores.validate(scores, lazy=True))
    write_csv(log, ScoringLog.validate(slog, lazy=True))


@step
def analysis_dataset(scores: list[str], logs: list[str], participants_path: str,
                     out_scores: str, out_participants: str, out_log: str) -> None:
    """The long scores table, the participant table with job outcomes, the imputation log."""
    long = pd.concat([read_parquet(p) for p in scores], ignore_index=True)
    write_parquet(out_scores, long)
    people = read_parquet(participants_path)
    jobs = long[long["timepoint"].isin(["week14", "month6"])].pivot(
        index="record_id", columns="timepoint", values=["job_offers", "job_offers_accepted", "jobs_started"])
    jobs.columns = [f"{a}_{b}" for a, b in jobs.columns]
    write_parquet(out_participants, people.merge(jobs.reset_index(), on="record_id", how="left"))
    log = pd.concat([pd.read_csv(p) for p in logs], ignore_index=True)
    counts = (log.groupby(["instrument", "timepoint", "action"]).size().rename("n").reset_index()
              if len(log) else pd.DataFrame(columns=["instrument", "timepoint", "action", "n"]))
    write_csv(out_log, counts)


# ---------------------------------------------------------------------------------- tables
@step
def table(name: str, inputs: dict[str, str], config: dict, html: str, csv: str,
          provenance: str | None = None) -> None:
    """Rule table: ``config`` holds only the parts of the study configuration the table reads;
    ``provenance`` is the data folder's provenance file, when the data came from a generator
    (its source note then says the data are synthetic)."""
    from . import eq5d_method
    from .provenance import read_provenance, source_note
    from .tables.common import write_table

    frames = {k: read_parquet(v) for k, v in inputs.items()}
    threshold = small_cell_threshold(config)
    prov = read_provenance(provenance)
    eq5d_cfg = config.get("scoring", {}).get("eq5d_index")

    def note(module) -> str:
        return source_note(prov, module.SOURCE_NOTE, module.SOURCE_WHAT)

    if name == "table2":
        from .tables import table2 as t
        cells = t.table2_baseline(frames["participants"], frames["scores"],
                                  eq5d_label=eq5d_method.used(eq5d_cfg).label)
        gt = t.table2_gt(cells, source_note=note(t))
    elif name == "table3":
        from .tables import table3 as t
        cells = t.table3_change(frames["participants"], frames["scores"],
                                eq5d_label=eq5d_method.used(eq5d_cfg).label)
        calibrated = prov.calibrated_to.get("eq5d_index") if prov and prov.synthetic else None
        gt = t.table3_gt(cells, eq5d_method=eq5d_method.footnote(eq5d_cfg, calibrated),
                         final_follow_up=t.final_follow_up_note(frames["participants"]),
                         start_date_definition=config["study"]["start_date_definition"],
                         source_note=note(t))
    elif name == "table4":
        from .tables import table4 as t
        cells = t.table4_work_outcomes(frames["week6"])
        gt = t.table4_gt(cells, source_note=note(t))
    elif name == "table5":
        from .tables import table5 as t
        cells = t.table5_jobs(frames["week14"], frames["month6"])
        gt = t.table5_gt(cells, source_note=note(t), small_cell_threshold=threshold)
    elif name == "feasibility_metrics":
        from .tables.feasibility_metrics import feasibility_metrics, feasibility_metrics_gt
        from .derive import employment_known
        starters = [r for tp in ("week14", "month6")
                    for r in frames[tp].loc[frames[tp]["jobs_started"].fillna(0) > 0, "record_id"]]
        employed = employment_known(frames["participants"], frames["status_changes"], starters)
        cells = feasibility_metrics(frames["participants"], frames["screening"], config,
                                    employment_known=len(employed))
        from .tables import feasibility_metrics as t
        gt = feasibility_metrics_gt(cells, config, source_note=note(t))
    else:
        raise ValueError(f"unknown table {name!r}")
    write_table(cells, gt, html, csv, small_cell_threshold=threshold)


# ------------------------------------------------------------------------ audit, reproduction
@step
def audit(published: str, config: dict, out: str) -> None:
    import yaml

    from .audit import audit_published, write_audit
    write_audit(audit_published(yaml.safe_load(Path(published).read_text()), config), out)


@step
def values(published: str, table_csvs: list[str], extra: dict[str, str], config: dict,
           out: str) -> None:
    """Rule values: every number the report states, by name (``feasibility.values``)."""
    import yaml

    from .values import build_values, values_json
    cells = pd.concat([pd.read_csv(p, dtype={"published_key": str, "text": str},
                                   keep_default_na=False, na_values=[""]) for p in table_csvs],
                      ignore_index=True)
    frames = {k: read_parquet(v) for k, v in extra.items()}
    registry = build_values(cells, frames, yaml.safe_load(Path(published).read_text()),
                            config.get("scoring", {}).get("eq5d_index"))
    write_text(out, values_json(registry))


@step
def reproduction(published: str, values_path: str, audit_csv: str, out: str) -> None:
    """Rule reproduction: compare every published value with its named value."""
    import yaml

    from .reproduction import compare
    from .values import load_values
    result = compare(yaml.safe_load(Path(published).read_text()), load_values(values_path),
                     pd.read_csv(audit_csv, keep_default_na=False))
    write_csv(out, result)


# ---------------------------------------------------------------------------------- report
@step
def report_sources(config: dict, inputs: dict, build_dir: str, report_src: str = "report") -> None:
    from .report_content import write_generated

    build = Path(build_dir)
    if build.exists():
        shutil.rmtree(build)
    shutil.copytree(report_src, build)
    write_generated(config, inputs, build)


@step
def render(config: dict, build_dir: str, html: str, pdf: str, followup: str) -> None:
    """Render both formats. The build date is SOURCE_DATE_EPOCH when set, else the first
    day of the month of the last follow-up return, so two builds of the same data are
    byte-identical."""
    import os

    from .render import render_options, render_report

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        last = read_parquet(followup)["fu_return_date"].max()
        # the first of that month: an exact day would be some person's return date
        epoch = int(pd.Timestamp(last).to_period("M").start_time.timestamp()) if pd.notna(last) else 0
    render_report(Path(build_dir), Path(html).parent, formats=("html", "pdf"),
                  source_date_epoch=int(epoch), **render_options(config))
