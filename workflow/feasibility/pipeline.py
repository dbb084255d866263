"""Entry points of the Snakemake rules: each reads its inputs, calls the pure
functions of the package, and writes its outputs (atomically). One call per rule.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import sys
import threading
import time
import traceback
from pathlib import Path

import pandas as pd

from .config import REDCAP_FILES, ValidationPaths, sha256_regular, small_cell_threshold
from .io import write_csv, write_json, write_text
from .provenance import ProvenanceError

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
                why = (
                    f"{error}\n"
                    if isinstance(error, (ValidationFailed, ProvenanceError))  # the data, not the code
                    else traceback.format_exc()
                )
                write_text(
                    log_file,
                    f"{label}: failed after {time.perf_counter() - start:.2f} s\n"
                    + why
                    + "".join(rule_log.lines),
                )
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
# Validation's files under results/<id>/validation/ (feasibility.redcap.report writes the
# report; checked.json, the record of the check, passed or failed, is written by rule
# check_data for the data-quality report and the query list (issue 25.2); passed.json, the
# success record, is written here last, only when the data pass).


class ValidationFailed(Exception):
    """Raised by a validation job whose data failed; the message is short, as the
    console's summary and the report list the failures."""


class NotValidated(ValidationFailed):
    """Raised by a step after validation when the files it depends on are not those that
    passed (:func:`require_passed`)."""


def redcap_files(config: dict) -> dict[str, str]:
    """The REDCap downloads the study names: key (records, dictionary, ...) -> path."""
    redcap = config.get("redcap") or {}
    return {key: redcap[key] for key in REDCAP_FILES if redcap.get(key)}


def study_inputs(config: dict) -> dict[str, tuple[str, str]]:
    """Every input the study names: what it is -> (path, "file"); checked with
    :func:`feasibility.config.check_inputs` before any job runs."""
    files = redcap_files(config)
    inputs = {}
    folders = [f for f in dict.fromkeys(os.path.dirname(path) for path in files.values()) if f]
    for folder in folders:  # a missing folder is said once, not once per file in it
        inputs["folder of the REDCap downloads" + (f" ({folder})" if len(folders) > 1 else "")] = (
            folder,
            "dir",
        )
    inputs.update({f"{REDCAP_FILES[key]} (redcap.{key})": (path, "file") for key, path in files.items()})
    published = (config.get("paths") or {}).get("published_values")
    if published:
        inputs["published values (paths.published_values)"] = (published, "file")
    for key, path in mapping_tables(config).items():
        inputs[f"EQ-5D mapping table ({key})"] = (path, "file")
    if (config.get("report") or {}).get("quarto_executable"):
        inputs["Quarto executable (report.quarto_executable)"] = (
            config["report"]["quarto_executable"],
            "program",
        )
    return inputs


def mapping_tables(config: dict) -> dict[str, str]:
    """The lookup tables the study's instruments are scored with (an EQ-5D mapping table):
    study-file key -> path."""
    out = {}
    for name, inst in (config.get("instruments") or {}).items():
        params = inst.get("parameters") or {}
        if params.get("method") == "mapping_table" and params.get("mapping_table"):
            out[f"instruments.{name}.parameters.mapping_table"] = params["mapping_table"]
    return out


def fingerprint(files: dict[str, str]) -> dict[str, str | None]:
    """Path -> SHA-256 of each input file (None when it is missing or not a regular file)."""
    out = {}
    for path in files.values():
        try:
            out[path] = _sha256_cached(path)
        except OSError:
            out[path] = None
    return out


def validation_settings(config: dict) -> dict:
    """What validation checks the data with: the ``validation`` section and the ``redcap``
    block's missing-data codes and repeating set-up (``feasibility.redcap.Settings``);
    recorded in the reports and the success record, and a change reruns validation."""
    settings = dict(config.get("validation") or {})
    for key in ("missing_data_codes", "repeating", "case_sensitive_ids", "data_access_groups"):
        if (config.get("redcap") or {}).get(key) not in (None, False):  # a default says nothing
            settings[key] = config["redcap"][key]
    if (config.get("redcap") or {}).get("no_identifiers"):
        settings["no_identifiers"] = True
    return settings


@step
def validate(
    files: dict[str, str],
    settings: dict,
    sha: dict[str, str | None],
    out_dir: str,
    passed: str,
    where: ValidationPaths = ValidationPaths(),
) -> None:
    """Rule validate: REDCap's downloads validated against the project's own metadata
    (``feasibility.redcap``); the report always; the tidy tables and, last, the success
    record only when the data pass."""
    from .redcap import validate as run, write_validated
    from .redcap.shapes import shape_failures
    from .redcap.report import unfinished_report, validation_report, write_report

    start = time.perf_counter()
    Path(passed).unlink(missing_ok=True)  # no success record stands while validation runs
    Path(where.passed).unlink(missing_ok=True)
    write_report(unfinished_report(files, sha, settings), [], where)
    refused = shape_failures(files)
    if refused:  # not REDCap's downloads: nothing of them is read or shown
        from .redcap.validate import Result

        result = Result(
            project=None, records=None, tables={}, missing=pd.DataFrame(), failures=refused, notes=[]
        )
    else:
        result = run(
            files.get("records"),
            dictionary=files.get("dictionary"),
            instrument_designations=files.get("instrument_designations"),
            events=files.get("events"),
            project_xml=files.get("project_xml"),
            settings=dict(settings),
            progress=lambda message: logging.getLogger("feasibility.validate").info(message),
        )
    report = validation_report(result, files, sha, settings, where)
    write_report(report, result.failures, where)
    print(
        f"[validate] {report['rows']:,} rows, {report['records']:,} records, {report['n_failures']:,} "
        f"failure(s), {report['n_warnings']:,} warning(s) in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    if result.project is None or result.records is None:  # nothing could be read: nothing to describe
        raise ValidationFailed(
            f"{report['n_failures']:,} validation failure(s); every one is in {where.failures}"
        )
    # The validated tables and the record of the check are written whatever the outcome: the
    # data-quality report and the query list are built from them (issue 25.2); the success
    # record, which the analysis and the main report need, only when the data pass (rule
    # validate, :func:`verdict`).
    write_validated(result, out_dir, failed_too=True)
    outcome = "passed" if result.ok else "failed"
    write_json(
        passed,
        {
            "outcome": outcome,
            "n_failures": report["n_failures"] if not result.ok else 0,
            "n_warnings": report["n_warnings"],
            "exports": [
                {
                    "file": e["file"],
                    "what": e["what"],
                    "records": e.get("rows"),
                    "status": outcome,
                    "sha256": e["sha256"],
                }
                for e in report["inputs"]
            ],
            "inputs": {e["path"]: e["sha256"] for e in report["inputs"]},
            "settings": settings,
            "export_date": report["export_date"],
            "forms": report["forms"],
            "validated": tree_hashes(out_dir),
        },
    )


@step
def verdict(
    files: dict[str, str],
    settings: dict,
    forms: str,
    checked: str,
    passed: str,
    where: ValidationPaths = ValidationPaths(),
) -> None:
    """Rule validate: the success record, only when the data as they are now passed the
    check (``checked.json``, rule check_data); otherwise the run fails here, naming what the
    failure blocks (the data-quality report and the query list are built all the same)."""
    problem = verdict_problem(files, settings, forms, checked, outcomes=("passed", "failed"))
    if problem:
        raise NotValidated(f"{problem}; run the workflow again to validate the data as they are now")
    record = json.loads(Path(checked).read_text(encoding="utf-8"))
    if record["outcome"] != "passed":
        raise ValidationFailed(
            f"{record['n_failures']:,} validation error(s); every one is in {where.failures}. "
            "They block the analysis and the main report; the data-quality report and the "
            "query list are built all the same"
        )
    write_json(passed, record)


def validation_state(
    files: dict[str, str], settings: dict, where: ValidationPaths = ValidationPaths()
) -> dict:
    """Validation's outcome for the input files as they are now: ``passed`` (the success
    record vouches for them and for the validated tables, :func:`verdict_problem`),
    ``failed`` (the report describes them) or ``unknown`` (neither: validation did not run
    on these data, or did not finish); and the report when it matches."""
    forms = str(Path(where.root).parent / "validated")
    if verdict_problem(files, settings, forms, where.passed) is None:
        return {"outcome": "passed", "report": None}
    if _report_describes(files, settings, where):
        report = json.loads(Path(where.json).read_text(encoding="utf-8"))
        if report.get("outcome") == "failed":
            return {"outcome": "failed", "report": report}
    return {"outcome": "unknown", "report": None}


# ------------------------------------------------------------------- the verdict and the data
def tree_hashes(folder: str | os.PathLike) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, by its path relative to it (``/``-separated);
    Snakemake's marker of a folder output (``.snakemake_timestamp``) aside."""
    root = Path(folder)
    return {
        p.relative_to(root).as_posix(): _sha256_cached(p)
        for p in sorted(root.rglob("*"))
        if (p.is_file() or p.is_symlink()) and p.name != SNAKEMAKE_MARKER
    }


SNAKEMAKE_MARKER = ".snakemake_timestamp"


_HASHES: dict[tuple, str] = {}
_HASHES_LOCK = threading.Lock()


def _sha256_cached(path: str | os.PathLike) -> str:
    """SHA-256 of a regular file, remembered for the file as it is (device, inode, size,
    modification and change times: a change time cannot be set back, so new content under an
    old date is read again). A file changed in the last two seconds is read every time (its
    change time could still repeat: timestamps are as coarse as the kernel's clock tick)."""
    st = os.stat(path)
    key = (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    with _HASHES_LOCK:
        known = _HASHES.get(key)
    if known is None:
        known = sha256_regular(path)
        if time.time_ns() - st.st_ctime_ns > 2_000_000_000:
            with _HASHES_LOCK:
                _HASHES[key] = known
    return known


def _as_json(value):
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def verdict_problem(
    files: dict[str, str], settings: dict, forms: str, passed: str, outcomes: tuple[str, ...] = ("passed",)
) -> str | None:
    """Why the success record ``passed`` does not vouch for the data as they are now (None
    when it does): it must be validation's record of a pass, name every REDCap download
    the study names with its current SHA-256 and the settings as they are, and list every
    file of the validated tables ``forms`` with its current SHA-256."""
    try:
        record = json.loads(Path(passed).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"{passed} does not exist: the data have not passed validation"
    except (OSError, ValueError) as error:
        return f"{passed} cannot be read as validation's success record ({type(error).__name__})"
    if not isinstance(record, dict) or record.get("outcome") not in outcomes:
        return (
            f"{passed} is not a record of a validation that passed"
            if outcomes == ("passed",)
            else f"{passed} is not a record of validation's check"
        )
    named = record.get("inputs")
    if not isinstance(named, dict) or set(named) != set(files.values()):
        return f"{passed} names other REDCap downloads than the study does"
    for path in files.values():
        try:
            now = _sha256_cached(path)
        except OSError as error:
            return f"{path} cannot be read ({error.strerror or error})"
        if named[path] != now:
            return f"{path} is not the file that passed validation (its SHA-256 has changed)"
    if record.get("settings") != _as_json(settings):
        return f"{passed} was written with other validation settings than the study's"
    validated = record.get("validated")
    if not isinstance(validated, dict):
        return f"{passed} lists no validated tables"
    try:
        now = tree_hashes(forms)
    except OSError as error:
        return f"{forms} cannot be read ({error.strerror or error})"
    for name in sorted(set(validated) | set(now)):
        if name not in now:
            return f"{forms}/{name} is missing: it was written when the data passed validation"
        if name not in validated:
            return f"{forms}/{name} was not written by the validation that passed"
        if validated[name] != now[name]:
            return f"{forms}/{name} is not the table validation wrote (its SHA-256 has changed)"
    return None


def require_passed(files: dict[str, str], settings: dict, forms: str, passed: str) -> None:
    """The check every step after validation makes first: the REDCap downloads and the
    validated tables are, byte for byte, those that passed (the SHA-256s in ``passed``),
    not only that the success record exists. Raises :class:`NotValidated` otherwise, so no
    restored folder, old modification time or rerun trigger turns other data into results."""
    problem = verdict_problem(files, settings, forms, passed)
    if problem:
        raise NotValidated(
            f"{problem}; nothing is built from data that did not pass validation: "
            "run the workflow again to validate the data as they are now"
        )


def require_checked(files: dict[str, str], settings: dict, forms: str, checked: str) -> None:
    """The check the data-quality report's steps make first: the downloads and the validated
    tables are, byte for byte, those validation checked (passed or not: ``checked.json``)."""
    problem = verdict_problem(files, settings, forms, checked, outcomes=("passed", "failed"))
    if problem:
        raise NotValidated(
            f"{problem}; nothing is built from data validation did not check as they are now: "
            "run the workflow again to validate the data as they are now"
        )


def _checked_vouches(files: dict[str, str], settings: dict, forms: str, where: ValidationPaths) -> bool:
    """Whether validation's check record vouches for the data and the validated tables as they are now."""
    return verdict_problem(files, settings, forms, where.checked, outcomes=("passed", "failed")) is None


# What only data that passed may give: withdrawn when the data as they are now were checked
# and did not pass, while the validated tables, the data-quality report and the query list stay.
MAIN_ONLY = ("analysis", "tables", "figures", "values", "reproduction")


def withdraw_main(results: str) -> list[str]:
    """The success record and everything only passing data give (the analysis, its tables,
    figures, values, reproduction and the main report), but not the validated tables, the
    data-quality report and the query list, which describe data that did not pass too."""
    root = Path(results)
    stuck = _void(str(root / "validation" / "passed.json"))
    report = root / "report"
    keep = ("-quality.", "quality_build")
    main = [
        p for p in (sorted(report.iterdir()) if report.is_dir() else []) if not any(k in p.name for k in keep)
    ]
    stuck += _discard_all(
        [*(root / d for d in MAIN_ONLY), *main],
        "the data did not pass validation: only the data-quality report and the query list stand",
    )
    return stuck


def check_verdict(
    files: dict[str, str],
    settings: dict,
    forms: str,
    results: str = "results",
    where: ValidationPaths | None = None,
) -> list[str]:
    """Before any job: a success record that does not vouch for the data as they are now
    (:func:`verdict_problem`) is withdrawn with the validated tables and the report, and
    validation's report with them when it describes other inputs, so that validation runs
    again whatever the rerun triggers, and no report stands meanwhile (the other results
    wait: every step checks the verdict first, each reruns when the validated tables it
    reads change, and a failed validation withdraws them all). Returns what could not be
    withdrawn (a read-only or full disk): the run must then stop."""
    where = where or ValidationPaths(f"{results}/validation")
    stale = _exists(where.passed) or any(_exists(Path(results) / d) for d in DOWNSTREAM)
    if not stale:
        return []
    problem = verdict_problem(files, settings, forms, where.passed)
    if problem is None:
        return []
    if _checked_vouches(files, settings, forms, where):
        # checked as they are now, and not passed (or not yet given the success record): the
        # validated tables and the data-quality report stand; nothing only passing data give
        return (
            withdraw_main(results)
            if any(_exists(Path(results) / d) for d in MAIN_ONLY)
            or _exists(where.passed)
            or _main_report_exists(results)
            else []
        )
    print(f"The results in {results}/ do not match the data as they are now: {problem}.", file=sys.stderr)
    stuck = _void(where.passed) + _void(where.checked)
    stuck += _discard_all([forms, Path(results) / "report"], "they do not match the data as they are now")
    if not _report_describes(files, settings, where):
        stuck += _discard_all([where.md, where.json, where.failures], "validation's report of other inputs")
    _say_stuck(stuck)
    return stuck


def _void(passed: str) -> list[str]:
    """The success record replaced by a record of its withdrawal: it vouches for nothing, and
    its steps that read no data (ancient inputs) are not rerun for it. What cannot be
    replaced is removed or overwritten in place (:func:`_discard`)."""
    if not _exists(passed):
        return []
    try:
        write_json(passed, {"outcome": "withdrawn", "note": WITHDRAWN_NOTE.strip()})
        print(f"Withdrawn: {passed} (it does not vouch for the data as they are now)", file=sys.stderr)
        return []
    except OSError:
        return _discard_all([passed], "it does not vouch for the data as they are now")


def _main_report_exists(results: str) -> bool:
    report = Path(results) / "report"
    try:
        return any(not any(k in p.name for k in ("-quality.", "quality_build")) for p in report.iterdir())
    except OSError:
        return False


def _exists(path) -> bool:
    try:
        return os.path.lexists(path)
    except OSError:
        return False


def _report_describes(files: dict[str, str], settings: dict, where: ValidationPaths) -> bool:
    """Whether validation's report.json was written for the input files as they are now."""
    try:
        report = json.loads(Path(where.json).read_text(encoding="utf-8"))
        named = {e.get("path"): e.get("sha256") for e in report.get("inputs")}
    except (OSError, ValueError, TypeError, AttributeError):
        return False
    return named == fingerprint(files) and report.get("settings") == _as_json(settings)


# Results that exist only for data that passed validation; withdrawn when they do not.
DOWNSTREAM = ("validated", "analysis", "tables", "figures", "quality", "values", "reproduction", "report")
WITHDRAWN_NOTE = (
    "Withdrawn: this file was left by an earlier run and does not describe the data or the "
    "run as they are now; it could not be removed. Run the workflow again.\n"
)


def _discard(path: Path, removed: list[str], stuck: list[str]) -> None:
    """Remove ``path`` (a file, link or folder). What cannot be removed (a read-only folder)
    is overwritten in place with a note that it was withdrawn, when it can be; what can be
    neither is listed in ``stuck``."""
    if not _exists(path):
        return
    label = f"{path}/" if path.is_dir() and not path.is_symlink() else str(path)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(label)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    # what is left of it: each file overwritten in place (needs no write access to its folder)
    left = [path] if not path.is_dir() or path.is_symlink() else [p for p in path.rglob("*") if p.is_file()]
    failed = []
    for p in left:
        try:
            if p.is_symlink():
                raise OSError("a symbolic link")
            with open(p, "r+b") as fh:
                fh.truncate(0)
                fh.write(
                    (
                        json.dumps({"outcome": "withdrawn", "note": WITHDRAWN_NOTE.strip()}) + "\n"
                        if p.suffix == ".json"
                        else WITHDRAWN_NOTE
                    ).encode()
                )
        except OSError:
            failed.append(str(p))
    stuck.append(
        label
        + (
            " (could not be removed; its files were overwritten with a withdrawal note)"
            if not failed
            else f" (could not be removed nor overwritten: {', '.join(failed[:5])})"
        )
    )


def _discard_all(paths, what: str) -> list[str]:
    removed, stuck = [], []
    for p in paths:
        _discard(Path(p), removed, stuck)
    if removed:
        print(f"Withdrawn ({what}): " + ", ".join(removed), file=sys.stderr)
    return stuck


def withdraw(results: str, quiet: bool = False) -> list[str]:
    """Remove what no longer matches the data: the success record and everything built
    from validated data, in ``results`` (one study's folder, ``results/<id>``: never
    another study's). The input files, validation's reports and the logs stay.
    Returns what could not be removed (each named on the console)."""
    removed, stuck = [], []
    root = Path(results)
    for p in [
        root / "validation" / "passed.json",
        root / "validation" / "checked.json",
        *(root / d for d in DOWNSTREAM),
    ]:
        try:
            _discard(p, removed, stuck)
        except OSError as error:  # results/ itself unreadable, or a file where a folder should be
            if not isinstance(error, (FileNotFoundError, NotADirectoryError)):
                stuck.append(f"{p} ({error.strerror or error})")
    if removed and not quiet:
        print(
            "Withdrawn, as they do not match the data as they are now: " + ", ".join(removed), file=sys.stderr
        )
    _say_stuck(stuck)
    return stuck


def _say_stuck(stuck: list[str]) -> None:
    if stuck:
        print(
            "Could not withdraw (a read-only or full disk?); these do NOT describe the data as they are "
            "now:\n" + "\n".join(f"  {s}" for s in stuck),
            file=sys.stderr,
        )


def on_success(
    files: dict[str, str] | None = None, settings: dict | None = None, results: str = "results"
) -> None:
    """After a run. With the study's ``files`` and ``settings``: a success record left by
    the run must still vouch for the data as they are now (a download changed while the
    run went on): otherwise it is withdrawn with what was built, and the run fails.

    Then let the process end at once (1.6 s of a 4.5 s rebuild went on exiting).

    Snakemake's scheduler starts a non-daemon ``threading.Timer`` (the
    ``--max-jobs-per-timespan`` timespan, 1 s) on every pass and Python waits for the
    last one before it exits: cancel it. And the jobs ran in this process, so its heap
    holds every module they imported: freeze it, so that the interpreter's final
    garbage collection does not walk it (the memory goes back to the system anyway).
    """
    import gc
    import threading

    where = ValidationPaths(f"{results}/validation")
    if files is not None and _exists(where.passed):
        problem = verdict_problem(files, settings or {}, f"{results}/validated", where.passed)
        if problem:
            withdraw(results)
            raise NotValidated(
                f"{problem}: it changed while the run went on; what was built is withdrawn: "
                "run the workflow again"
            )
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()
    gc.freeze()


def on_error(files: dict[str, str], settings: dict, results: str, quiet: bool = False) -> None:
    """After a failed run. When the data as they are now have not passed validation:
    print the first failures (when validation ran on them) and withdraw the success record
    and everything built from the data (but the validated tables, the data-quality report
    and the query list when validation checked these very data: they describe data that
    did not pass too), and validation's report when it describes other inputs. Otherwise (a later step failed) withdraw the report, which may no longer match
    the data or the code. Nothing here raises: what cannot be removed is named."""
    where = ValidationPaths(f"{results}/validation")
    _RUN["settled"] = True
    try:
        state = validation_state(files, settings, where)
        if state["outcome"] == "passed":
            withdraw_report(results)
        else:
            if quiet:
                pass
            elif state["report"] is not None:
                from .redcap.report import console_summary

                print("\n" + console_summary(state["report"], where), file=sys.stderr, flush=True)
            else:
                print(
                    f"\nValidation did not finish on the data as they are now: see {results}/logs/validate.log",
                    file=sys.stderr,
                    flush=True,
                )
            if state["outcome"] == "failed" and _checked_vouches(
                files, settings, f"{results}/validated", where
            ):
                # the data were checked and did not pass: the data-quality report and the query
                # list describe them and stay; nothing only passing data give stands
                withdraw_main(results)
                print(
                    f"The data-quality report ({results}/report/) and the query list ({results}/quality/queries/) "
                    "describe these data; the analysis and the main report are not built until the data pass.",
                    file=sys.stderr,
                    flush=True,
                )
            else:
                withdraw(results)
            if not _report_describes(files, settings, where):
                _say_stuck(
                    _discard_all(
                        [where.md, where.json, where.failures], "validation's report of other inputs"
                    )
                )
    except Exception as error:  # noqa: BLE001 - the run has failed already: say why, go on
        print(f"Could not withdraw the results after the failure: {error}", file=sys.stderr)
    on_success()  # not a success: but end the process at once all the same


def withdraw_report(results: str) -> list[str]:
    removed, stuck = [], []
    _discard(Path(results) / "report", removed, stuck)
    if removed:
        print(
            f"Withdrawn: {removed[0]} (the run failed, so it may not match the data or the code)",
            file=sys.stderr,
        )
    _say_stuck(stuck)
    return stuck


def locked(workdir: str | os.PathLike = ".") -> bool:
    """Whether Snakemake's lock of the working directory is held (another run is at work, or
    a killed one left it): such a run is refused by Snakemake, and must change nothing first."""
    try:
        return any(Path(workdir, ".snakemake", "locks").glob("*.lock"))
    except OSError:
        return False


# Whether the failure was dealt with (on_error ran) in this process.
_RUN = {"settled": False}


class _ErrorSeen(logging.Handler):
    """Notes that Snakemake reported an error (its exceptions and failed jobs are logged at
    level ERROR), in whatever phase: reading the workflow, building the job graph, running."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        if "cannot be locked" not in str(record.msg):  # another run's folder: not ours to change
            self.seen = True


def guard(files: dict[str, str], settings: dict, results: str) -> None:
    """Every error withdraws the report. Snakemake calls ``onerror`` only when a job fails;
    an error found while it reads the study's rules or builds the job graph (a derived
    expression that cannot be evaluated, a study-file semantic error, a full disk) would
    leave the earlier report in place. Called once, in the main process, while the
    workflow is read: when Snakemake has reported an error and ``onerror`` did not run,
    the process withdraws the report as :func:`on_error` does, when it exits."""
    import atexit

    seen = _ErrorSeen()
    logging.getLogger("snakemake.logging").addHandler(seen)

    def settle() -> None:
        if seen.seen and not _RUN["settled"]:
            on_error(files, settings, results, quiet=True)

    atexit.register(settle)


@step
def schemas(files: dict[str, str], settings: dict, out_dir: str) -> None:
    """Rule schemas: the Pandera schema of every instrument, as Pandera's YAML, one file per
    form (``results/schemas/<form>.yaml``), built from the project's own metadata; with the
    export date of the settings, so that the files change only when the metadata do."""
    import yaml

    from .redcap import Settings, load_project
    from .redcap.messages import errors, summary
    from .redcap.schemas import schema_document
    from .redcap.shapes import shape_failures

    refused = shape_failures(files)
    if refused:
        raise ValidationFailed(
            "the project's metadata cannot be read:\n" + "\n".join(f.message() for f in refused)
        )
    lib = Settings.from_dict(dict(settings))
    project, failures = load_project(
        dictionary=files.get("dictionary"),
        instrument_designations=files.get("instrument_designations"),
        events=files.get("events"),
        project_xml=files.get("project_xml"),
        settings=lib,
    )
    if project is None or errors(failures):
        raise ValidationFailed("the project's metadata cannot be read:\n" + summary(failures))
    out = Path(out_dir)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for form in project.forms:
        head = (
            f"# Pandera schema of the tidy table of form {form.name} ({form.label}), built from "
            f"{', '.join(project.sources)}\n"
        )
        write_text(
            out / f"{form.name}.yaml",
            head
            + yaml.safe_dump(
                schema_document(project, form.name, today=lib.export_date),
                sort_keys=False,
                allow_unicode=True,
                width=100,
            ),
        )


# -------------------------------------------------------------------------------- analysis
def _study_data(forms: str):
    from .analysis import StudyData

    return StudyData.read(forms)


def _spec(config: dict):
    """The analysis declaration of the study (already checked against the schema when the
    study file was read)."""
    from .analysis import load_spec

    return load_spec(config, checked=True)


@step
def analysis(forms: str, config: dict, out: str, provenance: str | None = None) -> None:
    """Rule analysis: the analysis dataset, once (every instrument scored at each of its
    time points, every derived variable, the flow), saved for the table and value jobs."""
    from .analysis import Analysis
    from .provenance import read_provenance

    Analysis(_study_data(forms), _spec(config), read_provenance(provenance)).save(out)


def _analysis(forms: str, analysis_dir: str, config: dict, provenance: str | None):
    from .analysis import Analysis
    from .provenance import read_provenance

    return Analysis.load(_study_data(forms), _spec(config), analysis_dir, read_provenance(provenance))


# ---------------------------------------------------------------------------------- tables
@step
def table(
    table_id: str,
    forms: str,
    analysis_dir: str,
    config: dict,
    html: str,
    csv: str,
    provenance: str | None = None,
) -> None:
    """Rule table: the declared table ``table_id`` (its kind's generic module,
    ``feasibility.tables.<kind>``) from the saved analysis dataset: the great-tables HTML
    fragment and the tidy CSV of its cells, with the small-cell rule
    (``disclosure.small_cell_threshold``). ``provenance``: the data folder's provenance
    file, when a generator made the data (the source note then says they are synthetic)."""
    from .tables.registry import build_table
    from .tables.common import write_table

    threshold = small_cell_threshold(config)
    result = build_table(
        _analysis(forms, analysis_dir, config, provenance), table_id, small_cell_threshold=threshold
    )
    write_table(result.cells, result.gt, html, csv, small_cell_threshold=threshold)


# --------------------------------------------------------------------------------- figures
@step
def figure(config: dict, figure_id: str, forms: str, analysis_dir: str, svg: str) -> None:
    """Rule figure: the declared figure ``figure_id`` (its kind's module,
    ``feasibility.figures.<kind>``) from the validated forms and the saved analysis dataset."""
    from .figures.build import make_figure

    make_figure(config, figure_id, forms, analysis_dir, svg)


# ------------------------------------------------------------------------ audit, reproduction
@step
def audit(published: str, config: dict, out: str) -> None:
    """Rule audit (only with a published-values file): the publication's own numbers
    checked against each other (GRIM, GRIMMER, ranges, intervals, percentages, totals):
    by the study package's own audit when it has one (``study.package``), else the generic one."""
    from . import audit as generic
    from .config import load_published
    from .publication import load

    study_audit = getattr(load(config), "audit_published", generic.audit_published)
    generic.write_audit(study_audit(load_published(published), config), out)


@step
def values(
    forms: str, analysis_dir: str, config: dict, table_csvs: list[str], published: str | None, out: str
) -> None:
    """Rule values: every number the report states, by name (``feasibility.values``): the
    declared ``values`` over the saved analysis dataset, and each table cell that carries a
    published key."""
    from .config import load_published
    from .publication import load
    from .values import build_values, values_json

    cells = (
        pd.concat(
            [
                pd.read_csv(
                    p, dtype={"published_key": str, "text": str}, keep_default_na=False, na_values=[""]
                )
                for p in table_csvs
            ],
            ignore_index=True,
        )
        if table_csvs
        else None
    )
    registry = build_values(
        _analysis(forms, analysis_dir, config, None),
        config,
        cells,
        load_published(published) if published else None,
        load(config),
    )
    write_text(out, values_json(registry))


@step
def reproduction(
    published: str, values_path: str, audit_csv: str, out: str, package: str | None = None
) -> None:
    """Rule reproduction (only with a published-values file): compare every published
    value with its named value, labelled and printed in the study package's language
    (``package``, the study file's ``study.package``)."""
    from .config import load_published
    from .publication import named
    from .reproduction import compare
    from .values import load_values

    result = compare(
        load_published(published),
        load_values(values_path),
        pd.read_csv(audit_csv, keep_default_na=False),
        named(package),
    )
    write_csv(out, result)


# ---------------------------------------------------------------------------------- report
@step
def report_sources(config: dict, inputs: dict, build_dir: str, report_src: str = "report") -> None:
    """Rule report_sources: a build copy of ``report/`` whose ``feasibility.qmd`` holds the
    declared sections (``report.sections``: headings and includes only) and whose
    ``_generated/`` holds what they include (``feasibility.report_content``)."""
    from .publication import load
    from .report_content import write_generated

    build = Path(build_dir)
    if build.exists():
        shutil.rmtree(build)
    shutil.copytree(report_src, build)
    write_generated(config, inputs, build, load(config))


@step
def render(config: dict, build_dir: str, html: str, pdf: str, analysis_meta: str) -> None:
    """Render both formats. The build date is SOURCE_DATE_EPOCH when set, else the first
    day of the month of the last follow-up return (``analysis_meta``: the analysis
    dataset's ``variables.json``), so two builds of the same data are byte-identical."""
    import os

    from .render import render_options, render_report

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        last = json.loads(Path(analysis_meta).read_text(encoding="utf-8")).get("data_date")
        # the first of that month: an exact day would be some person's return date
        epoch = int(pd.Timestamp(last).to_period("M").start_time.timestamp()) if last else 0
    render_report(
        Path(build_dir),
        Path(html).parent,
        formats=("html", "pdf"),
        name=_report_name(html, pdf),
        source_date_epoch=int(epoch),
        **render_options(config),
    )


def _report_name(html: str, pdf: str) -> str:
    """The reports' file name without its suffix, the study's (``<id>``, ``<id>-quality``)."""
    if Path(html).stem != Path(pdf).stem or Path(html).parent != Path(pdf).parent:
        raise ValueError(f"the HTML and PDF reports differ in name or folder: {html}, {pdf}")
    return Path(html).stem


# --------------------------------------------------------------------------- quality report
# The data-quality report of any REDCap project (issue 16.3), one rule per table and
# figure, then its build folder and its rendering (feasibility.quality).
QUALITY_TABLES = (
    "records",
    "completion",
    "missingness",
    "missing_codes",
    "validation",
    "codebook",
    "completion_site",
    "missingness_event",
)


def quality_settings(config: dict) -> dict:
    """The parts of the study configuration the quality report reads: a change reruns it."""
    return {
        "quality": config.get("quality") or {},
        "study": {"title": (config.get("study") or {}).get("title")},
        "disclosure": config.get("disclosure") or {},
    }


def quality_figures(config: dict) -> list[str]:
    """The quality report's figures: completeness, and recruitment when the study names its date field."""
    recruitment = ((config.get("quality") or {}).get("recruitment") or {}).get("date_field")
    return ["completeness", "completeness_sites"] + (["recruitment"] if recruitment else [])


def _quality(forms_dir: str, report_json: str, config: dict):
    from .quality import QualityData, captions, load_settings

    data = QualityData.read(forms_dir, report_json, config.get("provenance"))
    settings = load_settings(config)
    return data, settings, captions(data, settings)


@step
def quality_table(name: str, forms_dir: str, report_json: str, config: dict, html: str, csv: str) -> None:
    """Rule quality_table: one table of the data-quality report (HTML fragment and CSV)."""
    from .quality import tables

    data, settings, caps = _quality(forms_dir, report_json, config)
    if name == "records":
        table = tables.records_table(data, caps["records"])
    elif name == "completion":
        table = tables.completion_table(data, caps["completion"], figure_label=caps["completeness"].label)
    elif name == "missingness":
        table = tables.missingness_table(data, caps["missingness"], settings)
    elif name == "missing_codes":
        table = tables.missing_codes_table(data, caps["missing_codes"])
    elif name == "validation":
        table = tables.validation_table(data, caps["validation"], settings)
    elif name == "codebook":
        table = tables.codebook_table(data, caps["codebook"], settings)
    elif name == "completion_site":
        table = tables.completion_site_table(
            data, caps["completion_site"], figure_label=caps["completeness_sites"].label
        )
    elif name == "missingness_event":
        table = tables.missingness_event_table(data, caps["missingness_event"], settings)
    else:
        raise ValueError(f"unknown quality table {name!r}")
    table.write(html, csv, small_cell_threshold=small_cell_threshold(config))


@step
def quality_figure(
    name: str, forms_dir: str, report_json: str, config: dict, svg: str, png: str, csv: str | None = None
) -> None:
    """Rule quality_figure: the completeness heat map, or recruitment over time (with its counts)."""
    from .quality import figures, recruitment_by_month

    data, settings, caps = _quality(forms_dir, report_json, config)
    if name == "completeness":
        figures.make_completeness(data, svg, png, title=caps["completeness"].text)
    elif name == "completeness_sites":
        figures.make_completeness_by_site(data, svg, png, title=caps["completeness_sites"].text)
    elif name == "recruitment":
        rec = recruitment_by_month(data, settings.recruitment)
        figures.make_recruitment(
            rec, svg, png, title=caps["recruitment"].text, max_lines=settings.recruitment.max_lines
        )
        write_csv(csv, rec.frame)
    else:
        raise ValueError(f"unknown quality figure {name!r}")


@step
def quality_sources(
    config: dict,
    forms_dir: str,
    report_json: str,
    files: dict[str, str],
    build_dir: str,
    report_src: str = "report",
) -> None:
    """Rule quality_sources: a build copy of report/ with the quality report's includes."""
    from .quality import write_includes

    data, settings, caps = _quality(forms_dir, report_json, config)
    build = Path(build_dir)
    if build.exists():
        shutil.rmtree(build)
    shutil.copytree(report_src, build)
    write_includes(build, data, settings, files, caps)


@step
def quality_queries(
    config: dict, forms_dir: str, report_json: str, history: str, out: dict[str, str]
) -> None:
    """Rule quality_queries: the query list (CSV, workbook), tracked against the previous
    export in ``history``, and its table in the quality report (issue 24)."""
    from .quality.query_outputs import write_queries

    data, settings, caps = _quality(forms_dir, report_json, config)
    try:
        write_queries(
            data,
            settings,
            caps["queries"],
            history,
            out["csv"],
            out["xlsx"],
            out["html"],
            out["table_csv"],
            out["parquet"],
            out["meta"],
        )
    except ValueError as error:  # quality.checks or quality.schedule naming what the data lack
        raise ValidationFailed(f"the study file's quality section: {error}") from None


@step
def quality_site_queries(parquet: str, meta: str, site: str, xlsx: str) -> None:
    """Rule quality_site_queries: one site's query workbook, queries-<site>.xlsx."""
    from .quality.query_outputs import write_site_workbook

    try:
        write_site_workbook(parquet, meta, site, xlsx)
    except ValueError as error:  # a site the export does not have: said, without a traceback
        raise ValidationFailed(str(error)) from None


@step
def quality_render(
    config: dict, build_dir: str, forms_dir: str, report_json: str, html: str, pdf: str
) -> None:
    """Rule quality_render: quality.html and quality.pdf. The build date is SOURCE_DATE_EPOCH
    when set, else the first day of the export's month (two builds are byte-identical)."""
    from .quality import QualityData, source_date_epoch
    from .quality.report import DOCUMENT
    from .render import render_options, render_report

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        epoch = source_date_epoch(QualityData.read(forms_dir, report_json))
    render_report(
        Path(build_dir),
        Path(html).parent,
        formats=("html", "pdf"),
        document=DOCUMENT,
        name=_report_name(html, pdf),
        source_date_epoch=int(epoch),
        **render_options(config),
    )
