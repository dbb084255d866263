"""The bad-input corpus (tests/corpus/cases.yaml), run in-process and through `snakemake`.

In-process, every case mutates a copy of data/raw and must be reported by
``validate_all`` at the named cell. Through the CLI, every case mutates a copy of
a project built once per session (so a real earlier report exists) and runs the
default target: the run must fail, name file, record, field and value, write the
full validation report, leave data/raw as it was and withdraw the earlier report.
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
import yaml

from feasibility import crf
from feasibility.validation import Failure

from conftest import ROOT, checksums, copy_project, run_snakemake
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


def _param(case: dict, cli: bool):
    reason = case.get("xfail") or (case.get("xfail_cli") if cli else None)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    if cli:
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
@pytest.mark.parametrize("case", [_param(c, cli=False) for c in CASES])
def test_case_in_process(case, tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(RAW, raw)
    mutate(case, raw)
    failures = [asdict(f) for f in validate_all(raw)]
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
def built(tmp_path_factory) -> tuple[Path, Path]:
    """A project built once with `snakemake` (the template) and the path cases run at.

    Each case runs in a copy of the template, Snakemake's records included, so only
    the jobs downstream of a mutated file rerun and a real earlier report exists.
    """
    base = tmp_path_factory.mktemp("corpus_cli")
    proj = base / "proj"
    proj.mkdir()
    copy_project(proj)
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    template = base / "template"
    proj.rename(template)
    return template, proj


def fresh_copy(built) -> Path:
    template, proj = built
    if proj.exists():
        shutil.rmtree(proj)
    shutil.copytree(template, proj, symlinks=True)
    return proj


@pytest.mark.parametrize("case", [_param(c, cli=True) for c in CASES])
def test_case_through_snakemake(case, built):
    proj = fresh_copy(built)
    raw, report_dir = proj / "data" / "raw", proj / "results" / "report"
    assert all((report_dir / name).exists() for name in REPORTS)    # the earlier report
    mutate(case, raw)
    mutated = checksums(raw)
    started = time.time()
    res = run_snakemake(proj)
    out = res.stdout + res.stderr
    assert checksums(raw) == mutated
    report = json.loads((proj / "results" / "validation" / "report.json").read_text())

    if case["expect"] == "pass":
        assert res.returncode == 0, out[-3000:]
        assert report["n_failures"] == 0
        assert all((report_dir / n).stat().st_mtime >= started for n in REPORTS)
        return

    assert res.returncode != 0
    assert report["n_failures"] == len(report["failures"]) >= 1
    md = (proj / "results" / "validation" / "report.md").read_text()
    for want in case["expect"]:
        hit = find(report["failures"], want)
        # the console names file, line, record, event, field and value of the failure
        assert Failure(**hit).message() in out, out[-3000:]
        assert hit["file"] in md and (not hit["field"] or hit["field"] in md)
    assert not any((report_dir / name).exists() for name in REPORTS), out[-2000:]


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
