"""The integrity corpus (tests/corpus/integrity.yaml): every run on data that fail, or on
inputs or a configuration that cannot be used, exits non-zero, says what is wrong, keeps
the raw files as they are and leaves nothing built (issue 12).

Also here: the same checks without Snakemake (``load_study`` and ``check_inputs``), and
the runs that must succeed after such a failure once the cause is gone.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
import yaml

from feasibility.analysis.spec import check_declarations
from feasibility.config import ConfigError, check_inputs, input_roots, load_study
from feasibility.pipeline import study_inputs
from feasibility.redcap.shapes import shape_failures

from projectcopy import results_of, run_snakemake
from test_corpus import apply, assert_nothing_built

CORPUS = Path(__file__).with_name("corpus")
CASES = yaml.safe_load((CORPUS / "integrity.yaml").read_text(encoding="utf-8"))["cases"]
CATEGORIES = {
    "stale report rerun",
    "validate after a failure",
    "target after a failure",
    "content change with an old modification time",
    "missing input",
    "not a regular file",
    "oversize file",
    "unknown key",
    "misspelt method",
    "out-of-range value",
    "wrong type",
    "duplicate key",
    "declaration error",
    "path outside the study",
    "not a REDCap download",
}
REPRESENTATIVE = {}
for _c in CASES:
    REPRESENTATIVE.setdefault(_c["category"], _c["id"])


# ------------------------------------------------------------------------------ changes
def change_raw(mutation: dict, raw: Path) -> None:
    op = mutation["op"]
    path = raw / mutation.get("file", "records.csv")
    if op == "remove_raw":
        shutil.rmtree(raw)
    elif op in ("make_fifo", "make_dir", "symlink_dir", "broken_link", "link_outside"):
        path.unlink()
        {
            "make_fifo": os.mkfifo,
            "make_dir": os.mkdir,
            "symlink_dir": lambda p: os.symlink(raw.parent, p),
            "broken_link": lambda p: os.symlink(raw / "nowhere.csv", p),
            "link_outside": lambda p: os.symlink(mutation.get("target", "/etc/passwd"), p),
        }[op](path)
    else:
        before = path.stat()
        apply(mutation, raw)
        if mutation.get("keep_mtime"):  # cp -p, touch -d: the old date on new content
            os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def prepare(case: dict, proj: Path) -> None:
    for mutation in case.get("mutations", []):
        change_raw(mutation, proj / "data" / "raw")
    config = proj / "config" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    for old, new in case.get("config", []):
        assert text.count(old) == 1, f"{old!r} is not once in config.yaml"
        for name, (part, n, tail) in (case.get("expand") or {}).items():
            new = new.replace(name, part * n + tail)
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
        out[p.name] = (
            hashlib.sha256(p.read_bytes()).hexdigest()
            if stat.S_ISREG(st.st_mode)
            else stat.filemode(st.st_mode)
        )
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
        found = check_inputs(
            study_inputs(config),
            config["validation"]["max_file_mb"] * 1e6,
            roots=input_roots(config, ["config/config.yaml"]),
        )
        if config.get("tables") or config.get("figures"):
            check_declarations(config, ["config/config.yaml"])
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
    assert (results_of(proj) / "report" / "feasibility.html").exists()  # an earlier report
    prepare(case, proj)
    raw = proj / "data" / "raw"
    before = raw_state(raw)
    for i, run in enumerate(case["runs"]):
        res = run_snakemake(proj, *run["args"], timeout=120)  # a FIFO must not make it wait
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
        for fragment in run.get("absent_from_results", []):
            holding = [
                str(p.relative_to(proj))
                for p in (proj / "results").rglob("*")
                if p.is_file() and fragment in p.read_text(encoding="utf-8", errors="replace")
            ]
            assert not holding, f"{where}: {fragment!r} is in {holding}"
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
    change_raw(
        {"op": "set_value", "record": "PP04", "event": "month6", "field": "hads_5", "value": "7"}, path.parent
    )
    assert run_snakemake(proj).returncode != 0
    assert run_snakemake(proj, "validate").returncode != 0
    path.write_bytes(original)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    for rel in (
        "tables/table3.csv",
        "tables/table5.csv",
        "reproduction/comparison.csv",
        "validation/passed.json",
        "validation/report.md",
        "validation/report.json",
        "report/feasibility-quality.html",
    ):
        assert (results_of(proj) / rel).read_bytes() == (results_of(built_project) / rel).read_bytes(), rel
    assert not (results_of(proj) / "validation" / "failures.csv").exists()


# ------------------------------------------------------- the verdict and the data (issue 20.3)
# In process, as the validate job and the later steps call the package: validation of the
# shipped downloads, once per module, copied for each test.
from feasibility import pipeline as steps  # noqa: E402
from feasibility.pipeline import NotValidated, ValidationFailed, ValidationPaths  # noqa: E402


ROOT = Path(__file__).resolve().parents[1]
DOWNLOADS = {
    "records": "records.csv",
    "dictionary": "data_dictionary.csv",
    "instrument_designations": "instrument_designations.csv",
    "events": "events.csv",
}


@pytest.fixture(scope="module")
def validated_once(tmp_path_factory) -> Path:
    """A project folder whose downloads passed validation (paths relative to it, as the
    workflow gives them)."""
    root = tmp_path_factory.mktemp("verdict")
    shutil.copytree(ROOT / "data" / "raw", root / "data" / "raw")
    here = os.getcwd()
    os.chdir(root)
    try:
        files, settings = _study()
        steps.validate(
            files, settings, steps.fingerprint(files), "results/validated", "results/validation/passed.json"
        )
    finally:
        os.chdir(here)
    return root


def _study() -> tuple[dict[str, str], dict]:
    files = {k: f"data/raw/{name}" for k, name in DOWNLOADS.items()}
    return files, steps.validation_settings(load_study(ROOT / "config" / "config.yaml"))


@pytest.fixture
def validated(validated_once, tmp_path, monkeypatch) -> tuple[Path, dict[str, str], dict, list]:
    root = tmp_path / "proj"
    shutil.copytree(validated_once, root)
    monkeypatch.chdir(root)
    files, settings = _study()
    return root, files, settings, [files, settings, "results/validated", "results/validation/passed.json"]


def _refused(args: list) -> str:
    with pytest.raises(NotValidated) as caught:
        steps.require_passed(*args)
    return str(caught.value)


def test_the_success_record_names_every_validated_table_with_its_sha256(validated):
    root, files, settings, args = validated
    passed = json.loads((root / "results" / "validation" / "passed.json").read_text())
    tables = sorted(p.name for p in (root / "results" / "validated").iterdir())
    assert sorted(passed["validated"]) == tables and "codebook.json" in tables
    for name, digest in passed["validated"].items():
        assert digest == hashlib.sha256((root / "results" / "validated" / name).read_bytes()).hexdigest()
    steps.require_passed(*args)  # as written: accepted


def test_every_later_step_refuses_files_that_are_not_those_that_passed(validated):
    root, files, settings, args = validated
    raw, forms = root / "data" / "raw", root / "results" / "validated"
    # a download changed under its old modification time (cp -p, touch -d)
    records = raw / "records.csv"
    original, st = records.read_bytes(), records.stat()
    change_raw(
        {
            "op": "set_value",
            "record": "PP04",
            "event": "month6",
            "field": "hads_5",
            "value": "7",
            "keep_mtime": True,
        },
        raw,
    )
    assert records.stat().st_mtime_ns == st.st_mtime_ns
    assert "records.csv is not the file that passed validation" in _refused(args)
    records.write_bytes(original)
    os.utime(records, ns=(st.st_atime_ns, st.st_mtime_ns))
    steps.require_passed(*args)
    # a validated table swapped for another one, one added, one removed
    demo, enrol = forms / "demographics.parquet", forms / "enrolment.parquet"
    kept = demo.read_bytes()
    demo.write_bytes(enrol.read_bytes())
    assert "validated/demographics.parquet is not the table validation wrote" in _refused(args)
    demo.write_bytes(kept)
    (forms / "extra.parquet").write_bytes(kept)
    assert "validated/extra.parquet was not written by the validation that passed" in _refused(args)
    (forms / "extra.parquet").unlink()
    demo.unlink()
    assert "validated/demographics.parquet is missing" in _refused(args)
    demo.write_bytes(kept)
    steps.require_passed(*args)
    # other settings than those validation checked
    assert "other validation settings" in _refused([files, {**settings, "branching": "error"}, *args[2:]])


def test_a_failed_validation_leaves_nothing_a_later_step_accepts(validated, tmp_path):
    """Validation fails on new data; the earlier results/ put back (a backup, a CI cache,
    `git checkout results/`) are refused by every later step, and withdrawn before a run."""
    root, files, settings, args = validated
    results = root / "results"
    backup = tmp_path / "backup"
    shutil.copytree(results, backup)
    change_raw(
        {
            "op": "set_value",
            "record": "PP04",
            "event": "month6",
            "field": "hads_5",
            "value": "7",
            "keep_mtime": True,
        },
        root / "data" / "raw",
    )
    where = ValidationPaths("results/validation")
    # the check writes its record and the tables (the data-quality report describes failed
    # data too); the success record is refused them (issue 25.2)
    steps.validate(files, settings, steps.fingerprint(files), args[2], where.checked, where=where)
    assert json.loads((results / "validation" / "checked.json").read_text())["outcome"] == "failed"
    with pytest.raises(ValidationFailed):
        steps.verdict(files, settings, args[2], where.checked, args[3], where=where)
    assert not (results / "validation" / "passed.json").exists()
    assert json.loads((results / "validation" / "report.json").read_text())["outcome"] == "failed"
    shutil.rmtree(results)
    shutil.copytree(backup, results)  # the old verdict and tables, restored
    assert "records.csv is not the file that passed validation" in _refused(args)
    assert steps.validation_state(files, settings, where)["outcome"] == "unknown"
    # before any job: the restored record, the tables and the report of other data go
    assert steps.check_verdict(files, settings, args[2], "results") == []
    assert json.loads((results / "validation" / "passed.json").read_text())["outcome"] == "withdrawn"
    assert not (results / "validated").exists() and not (results / "validation" / "report.md").exists()
    assert "passed.json is not a record of a validation that passed" in _refused(args)


def test_the_report_says_did_not_finish_until_validation_ends(validated):
    """report.md and report.json describe the latest run, one that crashed included: written
    first as 'did not finish', replaced at the end."""
    root, files, settings, args = validated
    where = ValidationPaths("results/validation")
    assert "**Passed**" in Path(where.md).read_text()
    with pytest.raises(ValueError):  # a crash inside validation (not a failure of the data)
        steps.validate(
            files,
            {**settings, "max_cell_chars": "many"},
            steps.fingerprint(files),
            args[2],
            args[3],
            where=where,
        )
    assert "**Did not finish**" in Path(where.md).read_text()
    report = json.loads(Path(where.json).read_text())
    assert report["outcome"] == "did not finish"
    assert {e["path"]: e["sha256"] for e in report["inputs"]} == steps.fingerprint(files)
    assert not Path(args[3]).exists()  # no success record stands
    assert steps.validation_state(files, settings, where)["outcome"] == "unknown"


def test_a_file_that_is_not_a_redcap_download_is_refused_without_quoting_it(validated):
    """/etc/passwd (here a copy inside the project) as the data dictionary: refused by its
    shape; not one of its lines in report.md, report.json or failures.csv."""
    root, files, settings, args = validated
    passwd = Path("/etc/passwd").read_text()
    fake = root / "data" / "raw" / "passwd"
    fake.write_text(passwd)
    files = {**files, "dictionary": "data/raw/passwd"}
    where = ValidationPaths("results/validation")
    with pytest.raises(ValidationFailed):
        steps.validate(files, settings, steps.fingerprint(files), args[2], args[3], where=where)
    report = json.loads(Path(where.json).read_text())
    assert [f["rule"].split(",")[0] for f in report["failures"]] == ["not a REDCap data dictionary"]
    assert report["failures"][0]["line"] == 1 and report["failures"][0]["value"] in ("", None)
    lines = [line for line in passwd.splitlines() if line.strip()]
    for out in (where.md, where.json, where.failures):
        text = Path(out).read_text()
        assert not [line for line in lines if line in text or line.split(":")[0] + ":x:" in text], out
    # and the other metadata downloads, each by its own shape
    failures = shape_failures({"events": str(fake), "instrument_designations": str(fake)})
    assert [f.rule.split(",")[0] for f in failures] == [
        "not REDCap's instrument designations",
        "not REDCap's events export",
    ]
    assert shape_failures(_study()[0]) == []


def test_inputs_outside_the_study_folder_and_the_project_are_refused_unless_allowed(tmp_path, monkeypatch):
    from feasibility.config import input_roots

    project, study, elsewhere = tmp_path / "proj", tmp_path / "studies", tmp_path / "elsewhere"
    for folder in (project, study, elsewhere):
        folder.mkdir()
    for folder in (project, study, elsewhere):
        (folder / "records.csv").write_text("record_id\n1\n")
    (project / "link.csv").symlink_to(elsewhere / "records.csv")
    monkeypatch.chdir(project)
    roots = input_roots({"redcap": {}}, [str(study / "study.yaml")])
    inputs = {
        "records export (redcap.records)": (str(project / "records.csv"), "file"),
        "data dictionary (redcap.dictionary)": (str(study / "records.csv"), "file"),
        "events file (redcap.events)": (str(elsewhere / "records.csv"), "file"),
        "instrument designations (redcap.instrument_designations)": ("link.csv", "file"),
        "Quarto executable (report.quarto_executable)": (str(elsewhere / "records.csv"), "program"),
    }
    found = check_inputs(inputs, roots=roots)
    assert [f.split(": ")[0] for f in found] == [str(elsewhere / "records.csv"), "link.csv"]
    assert all(
        "is outside the study file's folder and the project folder" in f
        and "redcap.allow_paths_outside: true" in f
        for f in found
    )
    assert input_roots({"redcap": {"allow_paths_outside": True}}, [str(study / "study.yaml")]) is None
    assert check_inputs(inputs, roots=None) == []
