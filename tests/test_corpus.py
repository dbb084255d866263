"""The bad-input corpus (tests/corpus/cases.yaml), run in-process and through `snakemake`.

In-process, every case mutates a copy of data/raw and must be reported by the
validation at the named cell (exports the mutation cannot affect keep the shipped data's
result, validated once). Through the CLI, a case mutates a copy of a project
built once per session (so a real earlier report exists) and runs the default target:
the run must fail, name file, record, field and value, list every failure, leave
data/raw as it was and leave nothing built from the data. One case of each category
runs through the CLI in the quick run; the others are marked slow.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
import yaml

from feasibility import crf
from feasibility.io import FORMULA_PREFIXES
from feasibility.validation import Failure, read_dictionary, validate_export, validate_folder

from projectcopy import ROOT, checksums, run_snakemake
from test_validation import edit_cell, validate_all

RAW = ROOT / "data" / "raw"
CORPUS = Path(__file__).with_name("corpus")
CASES = yaml.safe_load((CORPUS / "cases.yaml").read_text(encoding="utf-8"))["cases"]

# The list of bad inputs: every category must have at least one case.
CATEGORIES = {
    "type", "range", "unknown code", "duplicate key", "orphan", "missing column",
    "extra column", "ragged row", "empty file", "header only", "encoding", "byte-order mark",
    "windows line endings", "impossible date", "dates out of order",
    "follow-up after withdrawal", "checkbox none ticked", "dictionary disagrees",
    "complete with required blank", "long string", "formula", "control characters",
}
REPORTS = ("feasibility.html", "feasibility.pdf")


# --------------------------------------------------------------------------- mutations
def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], body: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    path.write_text(out.getvalue(), encoding="utf-8", newline="")


def _rows_of(body, record):
    return [r for r in body if r[0] == record]


def apply(mutation: dict, raw: Path) -> None:
    """Apply one mutation of the corpus to the export folder ``raw``."""
    op, path = mutation["op"], raw / mutation["file"]
    if op == "set_cell":
        value = mutation["value"] * mutation.get("repeat", 1)
        edit_cell(raw, mutation["file"], mutation["record"], mutation["field"], value,
                  row=mutation.get("row", 0))
    elif op == "append_copy":
        header, body = _read(path)
        row = list(_rows_of(body, mutation["record"])[mutation.get("row", 0)])
        for field, value in mutation.get("set", {}).items():
            row[header.index(field)] = value
        _write(path, header, body + [row])
    elif op == "drop_rows":
        header, body = _read(path)
        _write(path, header, [r for r in body if r[0] != mutation["record"]])
    elif op == "drop_column":
        df = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=mutation["field"])
        df.to_csv(path, index=False, lineterminator="\n")
    elif op == "add_column":
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        df[mutation["field"]] = mutation["value"]
        df.to_csv(path, index=False, lineterminator="\n")
    elif op == "rename_column":
        header, body = _read(path)
        header[header.index(mutation["field"])] = mutation["to"]
        _write(path, header, body)
    elif op == "replace_text":
        text = path.read_text(encoding="utf-8")
        assert mutation["old"] in text, f"{mutation['old']!r} not in {path.name}"
        path.write_text(text.replace(mutation["old"], mutation["new"]), encoding="utf-8")
    elif op == "drop_line":
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [ln for ln in lines if not ln.startswith(mutation["startswith"])]
        assert len(kept) == len(lines) - 1
        path.write_text("".join(kept), encoding="utf-8")
    elif op == "append_cells":
        lines = path.read_text(encoding="utf-8").splitlines()
        i = next(i for i, ln in enumerate(lines) if ln.startswith(mutation["record"] + ","))
        lines[i] += mutation["cells"]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
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


def mutate(case: dict, raw: Path) -> None:
    for mutation in case["mutations"]:
        apply(mutation, raw)


# --------------------------------------------------------------------------- expectations
EXACT = ("file", "record", "field", "line")


def _matches(failure: dict, want: dict) -> bool:
    got = {**failure, "record": failure["record_id"]}
    return (all(str(got[k] if got[k] is not None else "") == str(want[k]) for k in EXACT if k in want)
            and want.get("value", "") in str(got["value"])
            and ("value_is" not in want or got["value"] == want["value_is"])
            and want.get("rule", "") in got["rule"])


def find(failures: list[dict], want: dict) -> dict:
    hits = [f for f in failures if _matches(f, want)]
    assert hits, (f"no failure matching {want!r} among {len(failures)}:\n"
                  + "\n".join(Failure(**f).message() for f in failures[:25]))
    return hits[0]


# One case of each category runs through the CLI in the quick run (the first that
# expects a failure, else the first): the others only with the slow tests.
REPRESENTATIVE = {}
for _c in sorted(CASES, key=lambda c: c["expect"] == "pass"):
    REPRESENTATIVE.setdefault(_c["category"], _c["id"])


def _param(case: dict, cli: bool):
    reason = case.get("xfail") or (case.get("xfail_cli") if cli else None)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    if cli and REPRESENTATIVE[case["category"]] != case["id"]:
        marks.append(pytest.mark.slow)
    return pytest.param(case, id=case["id"], marks=marks)


# --------------------------------------------------------------------------- the corpus
def test_corpus_covers_every_export_and_category():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 45
    touched = {e for c in CASES for e in c["exports"]}
    assert set(crf.EXPORTS) | {"data_dictionary"} <= touched
    assert touched <= set(crf.EXPORTS) | {"data_dictionary"}
    assert CATEGORIES <= {c["category"] for c in CASES}
    failing = [c for c in CASES if c["expect"] != "pass"]
    assert len(failing) >= 40 and len(CASES) - len(failing) >= 2
    for c in failing:     # every expected failure names its file
        assert all("file" in want for want in c["expect"]), c["id"]


# --------------------------------------------------------------------------- in-process
@functools.lru_cache(maxsize=1)
def pristine():
    """The shipped exports validated once: typed tables, and the bytes they came from."""
    typed, failures = validate_folder(RAW)
    assert failures == []
    return typed, {p.name: p.read_bytes() for p in RAW.glob("*.csv")}


def validate_changed(raw: Path) -> list:
    """Every failure of the folder, as ``validate_all`` finds them, validating again only
    the exports whose file, or an export they depend on, differs from the shipped data
    (the others' results are the shipped data's: same bytes, same context)."""
    typed, original = pristine()
    if (raw / crf.DICTIONARY_FILE).read_bytes() != original[crf.DICTIONARY_FILE]:
        return validate_all(raw)
    dictionary = read_dictionary(raw / crf.DICTIONARY_FILE)
    context, failures, same = {}, [], set()
    for name, export in crf.EXPORTS.items():
        path = raw / export.file
        if (path.is_file() and path.read_bytes() == original[export.file]
                and all(d in same for d in export.depends_on)):
            context[name] = typed[name]
            same.add(name)
            continue
        result, found = validate_export(raw, export, context, dictionary)
        failures += found
        if result is not None:
            context[name] = result
    return failures


@pytest.mark.parametrize("case", [_param(c, cli=False) for c in CASES])
def test_case_in_process(case, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    mutate(case, raw)
    failures = [asdict(f) for f in validate_changed(raw)]
    if case["expect"] == "pass":
        assert failures == [], "\n".join(Failure(**f).message() for f in failures)
        return
    for want in case["expect"]:
        hit = find(failures, want)
        if want.get("record") and want.get("field"):
            # a failure at a cell names its record and field in the message
            msg = Failure(**hit).message()
            assert f"record {want['record']}" in msg and f"field {hit['field']}" in msg


# --------------------------------------------------------------------------- Snakemake CLI
@pytest.fixture(scope="session")
def built(built_project, tmp_path_factory) -> tuple[Path, Path]:
    """The session's built project (the template) and the path cases run at.

    Each case runs in a copy of the template, Snakemake's records included, so only
    the jobs downstream of a mutated file rerun and a real earlier report exists.
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
    """Every failure of the run, read back from results/validation/failures/*.csv (text
    cells that looked like spreadsheet formulas lose the apostrophe that guards them)."""
    out = []
    for path in sorted((proj / "results" / "validation" / "failures").glob("*.csv")):
        for row in pd.read_csv(path, dtype=str, keep_default_na=False).to_dict(orient="records"):
            row = {k: v[1:] if v.startswith("'") and v[1:].startswith(FORMULA_PREFIXES) else v
                   for k, v in row.items()}
            row["line"] = int(row["line"]) if row["line"] else None
            out.append(row)
    return out


def assert_nothing_built(proj: Path, out: str = "") -> None:
    """No success record, and nothing built from the data, is left after a failed run."""
    results = proj / "results"
    assert not (results / "validation" / "passed.json").exists(), out[-2000:]
    left = [d for d in ("report", "tables", "figures", "derived", "reproduction") if (results / d).exists()]
    assert not left, f"left after the failure: {left}\n{out[-2000:]}"


@pytest.mark.parametrize("case", [_param(c, cli=True) for c in CASES])
def test_case_through_snakemake(case, built):
    proj = fresh_copy(built)
    raw, report_dir = proj / "data" / "raw", proj / "results" / "report"
    assert all((report_dir / name).exists() for name in REPORTS)    # the earlier report
    mutate(case, raw)
    mutated = checksums(raw)
    # a case that must pass is validated (its effect downstream is the workflow tests'
    # business); a case that must fail runs the default target, the whole build
    res = run_snakemake(proj, *(["validate"] if case["expect"] == "pass" else []))
    out = res.stdout + res.stderr
    assert checksums(raw) == mutated
    report_file = proj / "results" / "validation" / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}

    if case["expect"] == "pass":
        assert res.returncode == 0, out[-3000:]
        assert report["n_failures"] == 0 and report["outcome"] == "passed"
        passed = json.loads((proj / "results" / "validation" / "passed.json").read_text())
        # the success record names the files as they are now
        assert passed["raw_files"] == {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                                       for p in sorted(raw.glob("*.csv"))}
        return

    assert res.returncode != 0
    if "cli_message" in case:                 # refused before any job: no validation ran
        assert case["cli_message"] in out, out[-3000:]
        assert_nothing_built(proj, out)
        return
    failures = failures_listed(proj)
    assert report["n_failures"] == len(failures) >= 1
    md = (proj / "results" / "validation" / "report.md").read_text()
    for want in case["expect"]:
        hit = find(failures, want)
        # the console names file, line, record, event, field and value of the failure
        # (it shows the first 20; every case here has fewer)
        assert Failure(**hit).message() in out, out[-3000:]
        assert hit["file"] in md and (not hit["field"] or hit["field"] in md)
    assert_nothing_built(proj, out)


@pytest.mark.slow
def test_exports_blocked_by_a_failure_are_not_reported_as_passed(built):
    proj = fresh_copy(built)
    edit_cell(proj / "data" / "raw", "enrolment.csv", "PP07", "dem_sex", "7")
    res = run_snakemake(proj)
    assert res.returncode != 0
    report = json.loads((proj / "results" / "validation" / "report.json").read_text())
    status = {e["export"]: e["status"] for e in report["exports"]}
    assert status["enrolment"] == "1 failure(s)"
    downstream = [n for n, x in crf.EXPORTS.items() if n not in ("screening", "enrolment")]
    assert all(status[n] != "passed" for n in downstream), status
    assert "Not validated:" in res.stderr
