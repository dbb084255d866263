"""The integrity corpus (tests/corpus/integrity.yaml): every run on data that fail, or on
inputs or a configuration that cannot be used, exits non-zero, says what is wrong, keeps
the raw files as they are and leaves nothing built (issue 12).

Also here: the same checks without Snakemake (``load_study`` and ``check_inputs``), and
the runs that must succeed after such a failure once the cause is gone.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml

from feasibility.config import ConfigError, check_inputs, load_study
from feasibility.pipeline import study_inputs

from projectcopy import results_of, run_snakemake
from test_corpus import apply, assert_nothing_built

CORPUS = Path(__file__).with_name("corpus")
CASES = yaml.safe_load((CORPUS / "integrity.yaml").read_text(encoding="utf-8"))["cases"]
CATEGORIES = {"stale report rerun", "validate after a failure", "target after a failure",
              "content change with an old modification time", "missing input",
              "not a regular file", "oversize file", "unknown key", "misspelt method",
              "out-of-range value", "wrong type", "duplicate key"}
REPRESENTATIVE = {}
for _c in CASES:
    REPRESENTATIVE.setdefault(_c["category"], _c["id"])


# ------------------------------------------------------------------------------ changes
def change_raw(mutation: dict, raw: Path) -> None:
    op = mutation["op"]
    path = raw / mutation.get("file", "records.csv")
    if op == "remove_raw":
        shutil.rmtree(raw)
    elif op in ("make_fifo", "make_dir", "symlink_dir", "broken_link"):
        path.unlink()
        {"make_fifo": os.mkfifo, "make_dir": os.mkdir,
         "symlink_dir": lambda p: os.symlink(raw.parent, p),
         "broken_link": lambda p: os.symlink(raw / "nowhere.csv", p)}[op](path)
    else:
        before = path.stat()
        apply(mutation, raw)
        if mutation.get("keep_mtime"):           # cp -p, touch -d: the old date on new content
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def prepare(case: dict, proj: Path) -> None:
    for mutation in case.get("mutations", []):
        change_raw(mutation, proj / "data" / "raw")
    config = proj / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    for old, new in case.get("config", []):
        assert text.count(old) == 1, f"{old!r} is not once in config.yaml"
        text = text.replace(old, new)
    config.write_text(text, encoding="utf-8")


def raw_state(raw: Path) -> dict[str, str]:
    """SHA-256 of each regular file of the raw folder, the kind of anything else (never
    opened: a FIFO would block)."""
    if not raw.is_dir():
        return {}
    out = {}
    for p in sorted(raw.iterdir()):
        st = p.lstat()
        out[p.name] = (hashlib.sha256(p.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode)
                       else stat.filemode(st.st_mode))
    return out


def _param(case: dict):
    marks = [] if REPRESENTATIVE[case["category"]] == case["id"] else [pytest.mark.slow]
    return pytest.param(case, id=case["id"], marks=marks)


# ------------------------------------------------------------------------------ the corpus
def test_integrity_corpus_covers_every_class():
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))
    assert {c["category"] for c in CASES} == CATEGORIES
    for c in CASES:
        assert c["runs"] and all(r.get("messages") for r in c["runs"]), c["id"]


@pytest.mark.parametrize("case", [pytest.param(c, id=c["id"]) for c in CASES if "in_process" in c])
def test_case_in_process(case, tmp_path, monkeypatch):
    """The check a run makes before any job, without Snakemake: the study file, then its inputs."""
    proj = tmp_path / "proj"
    shutil.copytree(Path(__file__).resolve().parents[1] / "config", proj / "config")
    shutil.copytree(Path(__file__).resolve().parents[1] / "data", proj / "data")
    prepare(case, proj)
    monkeypatch.chdir(proj)
    try:
        config = load_study("config/config.yaml")
        found = check_inputs(study_inputs(config), config["validation"]["max_file_mb"] * 1e6)
    except ConfigError as error:
        found = str(error).splitlines()
    text = "\n".join(found)
    for message in case["in_process"]:
        assert message in text, text
    for message in case["runs"][0].get("absent", []):
        assert message not in text, text


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_case_through_snakemake(case, built_project, tmp_path):
    proj = tmp_path / "proj"
    shutil.copytree(built_project, proj, symlinks=True)
    assert (results_of(proj) / "report" / "feasibility.html").exists()      # an earlier report
    prepare(case, proj)
    raw = proj / "data" / "raw"
    before = raw_state(raw)
    for i, run in enumerate(case["runs"]):
        res = run_snakemake(proj, *run["args"], timeout=120)    # a FIFO must not make it wait
        out = res.stdout + res.stderr
        where = f"run {i + 1} (snakemake {' '.join(run['args'])})"
        if run.get("exit", "nonzero") == "nonzero":
            assert res.returncode != 0, f"{where} succeeded:\n{out[-3000:]}"
        else:
            assert res.returncode == run["exit"], f"{where}:\n{out[-3000:]}"
        for message in run["messages"]:
            assert message in out, f"{where}: {message!r} not in:\n{out[-3000:]}"
        for message in run.get("absent", []):
            assert message not in out, f"{where}: {message!r} should not be said:\n{out[-3000:]}"
        assert raw_state(raw) == before, f"{where} changed the raw files"
        assert_nothing_built(proj, out)
        assert "Traceback" not in out, f"{where}:\n{out[-3000:]}"


# ------------------------------------------------------------------------ after the fix
@pytest.mark.slow
def test_a_fixed_export_builds_again_after_failures(built_project, tmp_path):
    """Fail twice, put the file back as it was (with its old date): the build succeeds and
    its outputs are those of the first build."""
    proj = tmp_path / "proj"
    shutil.copytree(built_project, proj, symlinks=True)
    path = proj / "data" / "raw" / "records.csv"
    original, st = path.read_bytes(), path.stat()
    change_raw({"op": "set_value", "record": "PP04", "event": "month6", "field": "hads_5",
                "value": "7"}, path.parent)
    assert run_snakemake(proj).returncode != 0
    assert run_snakemake(proj, "validate").returncode != 0
    path.write_bytes(original)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    for rel in ("tables/table3.csv", "tables/table5.csv", "reproduction/comparison.csv",
                "validation/passed.json", "validation/report.md", "validation/report.json",
                "report/feasibility-quality.html"):
        assert (results_of(proj) / rel).read_bytes() == (results_of(built_project) / rel).read_bytes(), rel
    assert not (results_of(proj) / "validation" / "failures.csv").exists()
