"""The bad-input corpus (tests/corpus/cases.yaml), run in-process and through `snakemake`.

Every case changes a copy of data/raw (REDCap's downloads of the paper's project: the
records export, the data dictionary, the instrument designations, the events) and names
what validation must report. In-process, the REDCap library validates the changed folder
with the paper's study settings (its rules, its derivations) and must report each expected
failure at its cell: file, line, record, event, instance, field, value, rule. Through the
CLI, a case changes a copy of a project built once per session (so a real earlier report
exists) and runs the default target, the whole build: it must fail naming the cell on the
console and in the report's full failure list, leave data/raw as it was and leave nothing
built from the data; or, for a case that must pass, build. One case of each category runs
through the CLI in the quick run; the others are marked slow. A failing case that is not its
category's representative runs rule validate's own step (``feasibility.pipeline.validate``)
in process instead, with the same checks of the console summary, the report and the failure
list: Snakemake's part (the rule, the error hook, withdrawing) is the same for every case and
the representatives prove it.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from feasibility import pipeline as steps
from feasibility.config import load_study
from feasibility.io import FORMULA_PREFIXES
from feasibility.redcap import validate
from feasibility.redcap.messages import Failure
from feasibility.redcap import report as validation_report
from feasibility.redcap.report import CONSOLE_FAILURES

import records_helpers as rh
from projectcopy import ROOT, checksums, results_of, run_snakemake

RAW = ROOT / "data" / "raw"
CORPUS = Path(__file__).with_name("corpus")
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))["cases"]
FILES = ("records.csv", "data_dictionary.csv", "instrument_designations.csv", "events.csv")

# Every category of issue 8/12 (bad exports) and of issue 15 (REDCap's own shapes and the
# cross-form faults) has at least one case.
CATEGORIES = {
    "type",
    "range",
    "unknown code",
    "duplicate key",
    "orphan",
    "missing column",
    "extra column",
    "ragged row",
    "empty file",
    "header only",
    "encoding",
    "byte-order mark",
    "windows line endings",
    "impossible date",
    "dates out of order",
    "follow-up after withdrawal",
    "checkbox none ticked",
    "dictionary disagrees",
    "complete with required blank",
    "long string",
    "formula",
    "control characters",
    "labels export",
    "API headers",
    "separator",
    "trailing comma",
    "repeat columns",
    "undesignated event",
    "checkbox code",
    "missing-data code",
    "branching",
    "broken rule",
    "participant missing from a form",
    "participant twice in a form",
    "duplicate choice labels",
    "text is text",
}
# Issue 20.7's families: counts that cannot be silently wrong.
CATEGORIES |= {
    "record ID case",
    "data access group",
    "missing-data code collision",
    "calculated field",
    "circular calculation",
    "branching syntax",
}
STUDY_REDCAP_KEYS = ("missing_data_codes", "data_access_groups", "case_sensitive_ids")  # a case may set them
STUDY_VALIDATION_KEYS = ("severities",)  # issue 25.2: a case may set checks' severities
# issue 20: identifiers by rule; values and shapes beyond what a table holds or a run can afford
CATEGORIES |= {"identifiers", "value beyond limits"}
# issue 25: REDCap's own conventions, as real projects come
CATEGORIES |= {
    "required hidden by branching",
    "check severity",
    "restricted export",
    "designations inferred",
    "record without data",
}
REPORTS = ("feasibility.html", "feasibility.pdf", "feasibility-quality.html", "feasibility-quality.pdf")


@functools.lru_cache(maxsize=1)
def study_settings() -> dict:
    """What the paper's study file says validation checks (rules, derivations, repeating)."""
    return steps.validation_settings(load_study(ROOT / "config" / "config.yaml"))


def case_settings(case: dict | None = None) -> dict:
    """The study's validation settings, with what a case adds to the study file (``study``:
    missing-data codes, more rules)."""
    settings = dict(study_settings())
    extra = (case or {}).get("study") or {}
    for key in STUDY_REDCAP_KEYS:
        if key in extra:
            settings[key] = extra[key]
    for key in STUDY_VALIDATION_KEYS:  # merged with the study's own, the case's last
        if key in extra:
            settings[key] = {**(settings.get(key) or {}), **extra[key]}
    settings["rules"] = list(settings.get("rules") or []) + list(extra.get("rules") or [])
    return settings


def validate_folder(raw: Path, case: dict | None = None):
    """The REDCap downloads in ``raw`` validated as the workflow's `validate` job does (a
    case that deletes the instrument designations validates without them, issue 25.4)."""
    designations = raw / "instrument_designations.csv"
    return validate(
        raw / "records.csv",
        dictionary=raw / "data_dictionary.csv",
        instrument_designations=designations if designations.exists() else None,
        events=raw / "events.csv",
        settings=case_settings(case),
    )


def change_study(case: dict, config: Path) -> None:
    """Write what a case adds to the study file into a project's config/config.yaml."""
    extra = case.get("study") or {}
    text = config.read_text(encoding="utf-8")
    for key in STUDY_REDCAP_KEYS:
        if key in extra:
            assert text.count("\nredcap:\n") == 1
            text = text.replace("\nredcap:\n", f"\nredcap:\n  {key}: " + json.dumps(extra[key]) + "\n")
    for key in STUDY_VALIDATION_KEYS:
        if key in extra:
            assert text.count("\nvalidation:\n") == 1
            own = re.search(rf"(?m)^  {key}: (.*)$", text)  # the study's own (merged, the case's last)
            merged = {**(yaml.safe_load(own[1]) if own else {}), **extra[key]}
            if own:
                text = text[: own.start()] + text[own.end() + 1 :]
            text = text.replace("\nvalidation:\n", f"\nvalidation:\n  {key}: " + json.dumps(merged) + "\n")
    for m in case.get("mutations") or []:  # a download deleted: the study no longer names it
        if m["op"] == "delete_file" and m.get("file") == "instrument_designations.csv":
            text = "".join(
                ln
                for ln in text.splitlines(keepends=True)
                if not ln.lstrip().startswith("instrument_designations:")
            )
    for rule in extra.get("rules") or []:
        assert text.count("\n  rules:\n") == 1
        text = text.replace("\n  rules:\n", "\n  rules:\n    - " + json.dumps(rule) + "\n")
    config.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- mutations
def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    return rh.read_csv(path)


def _rows(mutation: dict, raw: Path, header: list[str], body: list[list[str]]) -> list[int]:
    """Positions of the rows a mutation names: its record (a participant ID or a record ID);
    with ``event``, the record's row at that event (with ``instrument`` and ``instance``, a
    repeating instrument's row; without, the event's own row)."""
    record = rh.record_of(RAW, mutation["record"])
    ev, ins, inst = (
        header.index(c) for c in ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")
    )

    def named(r: list[str]) -> bool:
        if r[0] != record:
            return False
        if "event" in mutation:
            if r[ev] != rh.EVENTS.get(mutation["event"], mutation["event"]):
                return False
            if r[ins] != mutation.get("instrument", ""):
                return False
        return "instance" not in mutation or r[inst] == str(mutation["instance"])

    hits = [i for i, r in enumerate(body) if named(r)]
    assert hits, f"no row for {mutation}"
    return hits


def apply(mutation: dict, raw: Path) -> None:
    """Apply one mutation of the corpus to the folder ``raw``."""
    op = mutation["op"]
    path = raw / mutation.get("file", "records.csv")
    if op == "set_value":
        header, body = _read(path)
        (i,) = _rows(mutation, raw, header, body)
        for field, value in (mutation.get("values") or {mutation["field"]: mutation["value"]}).items():
            body[i][header.index(field)] = str(value) * mutation.get("repeat", 1)
        rh.write_csv(path, header, body)
    elif op == "clear_form":
        header, body = _read(path)
        (i,) = _rows(mutation, raw, header, body)
        for j, column in enumerate(header):
            if column in form_columns(raw, mutation["form"]):
                body[i][j] = ""
        rh.write_csv(path, header, body)
    elif op == "append_copy":
        header, body = _read(path)
        row = list(body[_rows(mutation, raw, header, body)[0]])
        for field, value in mutation.get("set", {}).items():
            row[header.index(field)] = rh.record_of(RAW, value) if field == header[0] else value
        rh.write_csv(path, header, body + [row])
    elif op == "drop_rows":
        header, body = _read(path)
        gone = set(_rows(mutation, raw, header, body))
        rh.write_csv(path, header, [r for i, r in enumerate(body) if i not in gone])
    elif op == "drop_form":  # a form without export rights: every column of it gone
        header, body = _read(path)
        gone = form_columns(raw, mutation["form"])
        keep = [j for j, c in enumerate(header) if c not in gone]
        rh.write_csv(path, [header[j] for j in keep], [[r[j] for j in keep] for r in body])
    elif op == "append_id_only":  # a record with no data beyond its ID (at an event)
        header, body = _read(path)
        row = [""] * len(header)
        row[0] = mutation["record_id"]
        if "event" in mutation:
            row[header.index("redcap_event_name")] = rh.EVENTS.get(mutation["event"], mutation["event"])
        rh.write_csv(path, header, body + [row])
    elif op == "drop_column":
        header, body = _read(path)
        j = header.index(mutation["field"])
        rh.write_csv(path, header[:j] + header[j + 1 :], [r[:j] + r[j + 1 :] for r in body])
    elif op == "add_column":
        header, body = _read(path)
        rh.write_csv(path, header + [mutation["field"]], [r + [mutation["value"]] for r in body])
    elif op == "map_values":
        header, body = _read(path)
        j = header.index(mutation["field"])
        for r in body:
            r[j] = mutation["map"].get(r[j], r[j])
        rh.write_csv(path, header, body)
    elif op == "rename_column":
        header, body = _read(path)
        header[header.index(mutation["field"])] = mutation["to"]
        rh.write_csv(path, header, body)
    elif op == "replace_text":
        text = path.read_text(encoding="utf-8")
        assert mutation["old"] in text, f"{mutation['old']!r} not in {path.name}"
        path.write_text(
            text.replace(mutation["old"], mutation["new"], mutation.get("count", -1)), encoding="utf-8"
        )
    elif op == "drop_line":
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if not ln.startswith(mutation["startswith"])]
        assert len(kept) == len(lines) - 1
        path.write_text("".join(kept), encoding="utf-8")
    elif op == "append_cells":
        header, body = _read(path)
        (i,) = _rows(mutation, raw, header, body)
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[i + 1] += mutation["cells"]  # no cell of the shipped export spans lines
        path.write_text("\n".join(lines), encoding="utf-8")
    elif op == "trailing_comma":
        lines = path.read_text(encoding="utf-8").split("\n")
        path.write_text("\n".join(ln + "," if ln else ln for ln in lines), encoding="utf-8")
    elif op == "separator":
        header, body = _read(path)
        out = io.StringIO()
        csv.writer(out, delimiter=mutation["separator"], lineterminator="\n").writerows([header, *body])
        path.write_text(out.getvalue(), encoding="utf-8")
    elif op == "write_text":
        path.write_text(mutation["text"], encoding="utf-8")
    elif op == "copy_file":
        shutil.copyfile(CORPUS / "files" / mutation["source"], path)
    elif op == "delete_file":
        path.unlink()
    elif op == "header_only":
        path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    elif op == "encode":
        text = path.read_text(encoding="utf-8")
        if "replace" in mutation:
            old, new = mutation["replace"]
            assert old in text
            text = text.replace(old, new)
        path.write_bytes(text.encode(mutation["encoding"]))
    elif op == "line_endings":
        path.write_bytes(path.read_bytes().replace(b"\n", mutation["eol"].encode()))
    elif op == "prepend_bom":
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    else:
        raise ValueError(f"unknown mutation {op!r}")


def form_columns(raw: Path, form: str) -> set[str]:
    """The export columns of a form, from the data dictionary (checkbox choices as field___code)."""
    header, body = rh.read_csv(raw / "data_dictionary.csv")
    out = {f"{form}_complete"}
    for row in body:
        name, row_form, ftype, choices = row[0], row[1], row[3], row[5]
        if row_form != form:
            continue
        if ftype == "checkbox":
            out |= {f"{name}___{part.split(',')[0].strip()}" for part in choices.split("|")}
        else:
            out.add(name)
    return out


def mutate(case: dict, raw: Path) -> None:
    for mutation in case["mutations"]:
        apply(mutation, raw)


# --------------------------------------------------------------------------- expectations
def expected(want: dict) -> dict:
    """The expectation with its participant named by record ID and its event by unique name;
    ``line: row`` is the line of the row it names in the shipped export."""
    out = dict(want)
    if "record" in out:
        out["record"] = rh.record_of(RAW, out["record"])
    if "event" in out:
        out["event"] = rh.EVENTS.get(out["event"], out["event"])
    if str(out.get("line", "")).startswith("row"):  # row, row+1: lines after a cell spanning two
        offset = int(str(out["line"])[3:] or 0)
        out["line"] = (
            rh.line_of(
                RAW, want["record"], want["event"], want.get("instrument", ""), str(want.get("instance", ""))
            )
            + offset
        )
    out.pop("instrument", None)
    return out


def _matches(failure: dict, want: dict) -> bool:
    exact = ("record", "event", "instance", "field", "line")
    file = str(failure["file"])  # a missing file is named by its path
    return (
        (file == want["file"] or file.endswith("/" + want["file"]))
        and all(str(failure[k] if failure[k] is not None else "") == str(want[k]) for k in exact if k in want)
        and want.get("value", "") in str(failure["value"])
        and ("value_is" not in want or failure["value"] == want["value_is"])
        and want.get("rule", "") in failure["rule"]
        and failure["severity"] == want.get("severity", "error")
    )


def find(failures: list[dict], want: dict) -> dict:
    want = expected(want)
    hits = [f for f in failures if _matches(f, want)]
    assert hits, f"no failure matching {want!r} among {len(failures)}:\n" + "\n".join(
        Failure(**f).message() for f in failures[:25]
    )
    return hits[0]


def builds(case: dict) -> bool:
    """A case whose data pass validation (nothing, or warnings only, is reported)."""
    return case["expect"] == "pass" or case.get("passes", False)


# Every case runs in process in the quick run. Through the CLI, the quick run takes one
# failing case of each of the categories below; the others only with the slow tests, and so
# do the cases whose data pass (each builds the whole report again).
# The quick run takes the categories whose failures reach the console by different paths:
# a cell, a whole file, the metadata, a declared cross-form rule, a formula.
QUICK_CLI = {
    "unknown code",
    "formula",
    "empty file",
    "dates out of order",
    "orphan",
    "encoding",
    "labels export",
    "dictionary disagrees",
}
REPRESENTATIVE = {}
for _c in CASES:
    if not builds(_c) and _c["category"] in QUICK_CLI:
        REPRESENTATIVE.setdefault(_c["category"], _c["id"])


def _param(case: dict, cli: bool):
    reason = case.get("xfail") or (case.get("xfail_cli") if cli else None)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    if cli and REPRESENTATIVE.get(case["category"]) != case["id"]:
        marks.append(pytest.mark.slow)
    return pytest.param(case, id=case["id"], marks=marks)


def through_snakemake(case: dict) -> bool:
    """Whether a case runs through the CLI: its category's representative, a case whose data
    pass (the whole report is built from them), or one the CLI refuses before any job."""
    if case.get("cli") is False:  # a case of a study file other than the shipped one's
        return False
    return REPRESENTATIVE.get(case["category"]) == case["id"] or builds(case) or "cli_message" in case


# --------------------------------------------------------------------------- the corpus
def test_corpus_covers_every_category_and_file():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 75
    assert CATEGORIES == {c["category"] for c in CASES}
    touched = {m.get("file", "records.csv") for c in CASES for m in c["mutations"]}
    assert set(FILES) <= touched
    failing = [c for c in CASES if not builds(c)]
    assert len(failing) >= 60 and len(CASES) - len(failing) >= 8
    for c in CASES:
        if c["expect"] != "pass":  # every expected failure names its file and its rule
            assert all("file" in want and "rule" in want for want in c["expect"]), c["id"]


# --------------------------------------------------------------------------- in-process
@pytest.mark.parametrize("case", [_param(c, cli=False) for c in CASES])
def test_case_in_process(case, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    mutate(case, raw)
    result = validate_folder(raw, case)
    failures = [f.as_dict() for f in result.failures]
    errors = [f for f in failures if f["severity"] == "error"]
    if builds(case):
        assert result.ok and errors == [], "\n".join(Failure(**f).message() for f in errors)
    else:
        assert not result.ok
    if case.get("report"):  # what validation's report says of the export (issue 25)
        from feasibility.redcap.output import report_dict

        have = report_dict(result)
        for key, want in case["report"].items():
            if isinstance(want, dict):
                for k, fragment in want.items():
                    assert k in have[key] and fragment in have[key][k], (key, k, have[key])
            else:
                assert have[key] == want, (key, have[key])
    for fragment in case.get("notes") or []:
        assert any(fragment in n for n in result.notes), (fragment, result.notes)
    for want in [] if case["expect"] == "pass" else case["expect"]:
        hit = find(failures, want)
        if want.get("record") and want.get("field"):
            # a failure at a cell names its record and field in the message
            msg = Failure(**hit).message()
            assert f"record {hit['record']}" in msg and f"field {hit['field']}" in msg


# --------------------------------------------------------------------------- Snakemake CLI
@pytest.fixture(scope="session")
def built(built_project, tmp_path_factory) -> tuple[Path, Path]:
    """The session's built project (the template) and the path cases run at.

    Each case runs in a copy of the template, Snakemake's records included, so only
    the jobs downstream of a changed file rerun and a real earlier report exists.
    """
    base = tmp_path_factory.mktemp("corpus_cli")
    return built_project, base / "proj"


def fresh_copy(built) -> Path:
    template, proj = built
    if proj.exists():
        shutil.rmtree(proj)
    shutil.copytree(template, proj, symlinks=True)
    return proj


def failures_listed(proj: Path) -> list[dict]:
    """Every failure of the run, read back from results/validation/failures.csv (text cells
    that looked like spreadsheet formulas lose the apostrophe that guards them)."""
    return failures_read(results_of(proj) / "validation" / "failures.csv")


def failures_read(path: Path) -> list[dict]:
    """The failures of a failures.csv (as :func:`failures_listed`)."""
    if not path.exists():
        return []
    out = []
    for row in pd.read_csv(path, dtype=str, keep_default_na=False).to_dict(orient="records"):
        row = {
            k: v[1:] if v.startswith("'") and v[1:].startswith(FORMULA_PREFIXES) else v
            for k, v in row.items()
        }
        row["line"] = int(row["line"]) if row["line"] else None
        out.append(row)
    return out


def assert_nothing_built(proj: Path, out: str = "") -> None:
    """No success record, and nothing only passing data give, is left after a failed run: the
    validated tables, the data-quality report and the query list stand only when validation
    checked these very data, and then the report says they did not pass (issue 25.2)."""
    results = results_of(proj)
    assert not (results / "validation" / "passed.json").exists(), out[-2000:]
    left = [d for d in ("analysis", "tables", "figures", "values", "reproduction") if (results / d).exists()]
    left += [p.name for p in (results / "report").glob("*") if "quality" not in p.name]
    assert not left, f"left after the failure: {left}\n{out[-2000:]}"
    checked = results / "validation" / "checked.json"
    if not checked.exists():  # the data could not be read: nothing describes them
        assert not [d for d in ("validated", "quality", "report") if (results / d).exists()], out[-2000:]
        return
    assert json.loads(checked.read_text())["outcome"] == "failed"
    # a run that asked for one target (a table, `validate`) need not build the quality report;
    # where there is one, it describes these data and says they did not pass
    quality = results / "report" / "feasibility-quality.html"
    if quality.exists():
        assert "The data did not pass validation" in quality.read_text(encoding="utf-8"), out[-2000:]


def assert_absent(results: Path, texts: list[str]) -> None:
    """No output holds any of ``texts`` (a PDF: its text)."""
    if not texts:
        return
    import pymupdf

    for path in (p for p in results.rglob("*") if p.is_file()):
        if path.suffix == ".pdf":
            with pymupdf.open(path) as doc:
                content = " ".join(page.get_text() for page in doc)
        else:
            content = path.read_bytes().decode("utf-8", "replace")
        found = [t for t in texts if t in content]
        assert not found, f"{path} holds {found}"


@pytest.mark.parametrize("case", [_param(c, cli=True) for c in CASES if through_snakemake(c)])
def test_case_through_snakemake(case, built):
    proj = fresh_copy(built)
    raw, report_dir = proj / "data" / "raw", results_of(proj) / "report"
    assert all((report_dir / name).exists() for name in REPORTS)  # the earlier reports
    mutate(case, raw)
    change_study(case, proj / "config" / "config.yaml")
    mutated = checksums(raw)
    res = run_snakemake(proj)  # the default target: the whole build
    out = res.stdout + res.stderr
    assert checksums(raw) == mutated
    report_file = results_of(proj) / "validation" / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}

    if builds(case):
        assert res.returncode == 0, out[-3000:]
        assert report["n_failures"] == 0 and report["outcome"] == "passed"
        passed = json.loads((results_of(proj) / "validation" / "passed.json").read_text())
        # the success record names the files as they are now
        assert passed["inputs"] == {
            f"data/raw/{name}": hashlib.sha256((raw / name).read_bytes()).hexdigest() for name in FILES
        }
        assert all((report_dir / name).exists() for name in REPORTS)
        for want in [] if case["expect"] == "pass" else case["expect"]:  # warnings: reported
            find(failures_listed(proj), want)
        assert_absent(proj / "results", case.get("absent") or [])
        return

    assert res.returncode != 0
    if "cli_message" in case:  # refused before any job: no validation ran
        assert case["cli_message"] in out, out[-3000:]
        assert_nothing_built(proj, out)
        return
    failures = failures_listed(proj)
    assert report["n_failures"] == sum(f["severity"] == "error" for f in failures) >= 1
    md = (results_of(proj) / "validation" / "report.md").read_text()
    for want in case["expect"]:
        hit = find(failures, want)
        # the console names file, line, record, event, field and value of the failure (it
        # shows the first 20 errors; the report has every one)
        first = [f for f in failures if f["severity"] == "error"][:CONSOLE_FAILURES]
        if hit in first:
            assert Failure(**{**hit, "line": hit["line"]}).message() in out, out[-3000:]
        assert hit["file"] in md and (not hit["field"] or hit["field"] in md)
    assert_nothing_built(proj, out)


# --------------------------------------------------------------------------- rule validate's step
@pytest.mark.slow
@pytest.mark.parametrize(
    "case", [_param(c, cli=False) for c in CASES if not through_snakemake(c) and not builds(c)]
)
def test_case_reported_by_the_validate_step(case, tmp_path):
    """What rule validate runs (``feasibility.pipeline.validate``), in process, on the case's
    downloads: it fails, keeps the downloads as they were and builds nothing; the console
    summary the error hook prints (``console_summary`` of the report) names file, line,
    record, event, field and value of each expected failure among the first 20, and the
    report and the failure list name each."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    mutate(case, raw)
    mutated = checksums(raw)
    files = {
        "records": str(raw / "records.csv"),
        "dictionary": str(raw / "data_dictionary.csv"),
        "instrument_designations": str(raw / "instrument_designations.csv"),
        "events": str(raw / "events.csv"),
    }
    where = steps.ValidationPaths(str(tmp_path / "results" / "validation"))
    validated = tmp_path / "results" / "validated"
    settings = case_settings(case)
    # rule check_data: the validated tables and the record of the check, passed or failed (the
    # data-quality report and the query list describe failing data too, issue 25.2)
    try:
        steps.validate(files, settings, steps.fingerprint(files), str(validated), where.checked, where)
    except steps.ValidationFailed:  # nothing of the downloads could be read: nothing to describe
        assert not validated.exists()
    else:
        assert json.loads(Path(where.checked).read_text())["outcome"] == "failed"
        # rule validate: no success record for failing data, so no analysis and no main report
        with pytest.raises(steps.ValidationFailed):
            steps.verdict(files, settings, str(validated), where.checked, where.passed, where)
    assert checksums(raw) == mutated
    assert not Path(where.passed).exists()

    report = json.loads(Path(where.json).read_text())
    failures = failures_read(Path(where.failures))
    assert report["outcome"] == "failed"
    assert report["n_failures"] == sum(f["severity"] == "error" for f in failures) >= 1
    console = validation_report.console_summary(report, where)
    md = Path(where.md).read_text()
    first = [f for f in failures if f["severity"] == "error"][: validation_report.CONSOLE_FAILURES]
    for want in case["expect"]:
        hit = find(failures, want)
        if hit in first:
            assert Failure(**{**hit, "line": hit["line"]}).message() in console, console[-3000:]
        assert hit["file"] in md and (not hit["field"] or hit["field"] in md)
