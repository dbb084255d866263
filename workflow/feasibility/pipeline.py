"""Entry points of the Snakemake rules: each reads its inputs, calls the pure
functions of the package, and writes its outputs (atomically). One call per rule.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import shutil
import sys
import threading
import time
import traceback
from pathlib import Path

import pandas as pd

from . import crf
from .config import small_cell_threshold
from .io import read_parquet, write_csv, write_json, write_parquet, write_text


def sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        except BaseException:
            if log_file:
                write_text(log_file, f"{label}: failed after {time.perf_counter() - start:.2f} s\n"
                                     + traceback.format_exc() + "".join(rule_log.lines))
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
def validate_export(export: str, raw_dir: str, dictionary: str, context: dict[str, str],
                    out: str, report: str) -> None:
    """Rule validate_export: one raw export → typed Parquet, plus its failure report."""
    from .validation import ValidationError, failures_frame, read_dictionary, validate_export as run

    start = time.perf_counter()
    spec = crf.EXPORTS[export]
    ctx = {name: read_parquet(p) for name, p in context.items()}
    typed, failures = run(Path(raw_dir), spec, ctx, read_dictionary(Path(dictionary)))
    raw = Path(raw_dir) / spec.file
    write_json(report, {
        "export": export, "file": spec.file,
        "sha256": sha256(raw) if raw.exists() else None,
        "records": None if typed is None else int(len(typed)),
        "failures": failures_frame(failures).to_dict(orient="records"),
    })
    records = "no" if typed is None else f"{len(typed):,}"
    print(f"[validate {spec.file}] {records} records, {len(failures)} failure(s) "
          f"in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    if failures:
        raise ValidationError(failures)
    write_parquet(out, typed)


@step
def validation_report(report_dir: str, md: str, js: str, raw_dir: str = "data/raw") -> int:
    """Combine the per-export reports into report.md / report.json; return the failure count."""
    exports, failures, passed = [], [], set()
    for name, spec in crf.EXPORTS.items():       # in dependency order
        path = Path(report_dir) / f"{name}.json"
        raw = Path(raw_dir) / spec.file
        current = sha256(raw) if raw.exists() else None
        try:
            r = json.loads(path.read_text())
        except (OSError, ValueError):             # none yet, or cut short by a crash
            r = None
        blocking = [d for d in spec.depends_on if d not in passed]
        if r is None or r["sha256"] != current or blocking:
            # a report from an earlier run of other data is no report of this data
            why = f"blocked by {', '.join(blocking)}" if blocking else "its validation did not finish"
            exports.append({"export": name, "file": spec.file, "status": f"not validated ({why})",
                            "sha256": current})
            continue
        status = "passed" if not r["failures"] else f"{len(r['failures'])} failure(s)"
        failures += r["failures"]
        if not r["failures"]:
            passed.add(name)
        exports.append({"export": name, "file": spec.file, "records": r.get("records"),
                        "status": status, "sha256": current})
    write_json(js, {"exports": exports, "failures": failures, "n_failures": len(failures)})
    lines = ["# Validation report", "",
             f"**{len(failures)} failure(s)** across {len(exports)} exports.", "",
             "| export | file | records | status |", "|---|---|---|---|"]
    lines += [f"| {e['export']} | {e['file']} | {e.get('records') or ''} | {e['status']} |" for e in exports]
    if failures:
        lines += ["", "## Failures", "", "| file | line | record | event | field | value | rule |",
                  "|---|---|---|---|---|---|---|"]
        for f in failures:
            cells = [str(f.get(k) if f.get(k) is not None else "").replace("|", "\\|")
                     for k in ("file", "line", "record_id", "event", "field", "value", "rule")]
            lines.append("| " + " | ".join(cells) + " |")
    write_text(md, "\n".join(lines) + "\n")
    return len(failures)


def on_success() -> None:
    """After a successful run, let the process end at once (1.6 s of a 4.5 s rebuild went
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


def on_error(results: str = "results", raw_dir: str = "data/raw") -> None:
    """After a failed run: write the combined validation report and withdraw the old report."""
    vdir = Path(results) / "validation"
    if any((vdir / "exports").glob("*.json")):
        n = validation_report(str(vdir / "exports"), str(vdir / "report.md"),
                              str(vdir / "report.json"), raw_dir)
        if n:
            print(f"\nValidation failed: {n} failure(s); full report: {vdir / 'report.md'}")
    report_dir = Path(results) / "report"
    for name in ("feasibility.html", "feasibility.pdf"):
        p = report_dir / name
        if p.exists():
            p.unlink()
            print(f"removed the earlier report {p}: it no longer matches the data")


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


# --------------------------------------------------------------------------------- figures
@step
def figure(name: str, inputs: dict[str, str], svg: str, png: str) -> None:
    frames = {k: read_parquet(v) for k, v in inputs.items() if not k.startswith("q_")}
    if name == "consort":
        from .figures.consort import make_consort
        make_consort(frames["screening"], frames["participants"], svg, png)
    elif name == "timeline":
        from .figures.timeline import make_timeline
        make_timeline(frames["participants"], frames["screening"], svg, png)
    elif name == "completeness":
        from .derive import forms_returned
        from .figures.completeness import make_completeness
        q = {k[2:]: read_parquet(p) for k, p in inputs.items() if k.startswith("q_")}
        make_completeness(frames["participants"], forms_returned(q), svg, png, q)
    else:
        raise ValueError(f"unknown figure {name!r}")


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
