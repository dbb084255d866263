"""Studies side by side (issue 21): each study's results in results/<id>/, named by the
study file; building, failing or changing one study never touches another's folder; the
`feasibility` command; the dummy-data generator that never overwrites silently; a hint
for undeclared missing-data codes; event names shown whole."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from projectcopy import PAPER, ROOT, TRIAL, jobs_run, results_of, run_snakemake
from feasibility.config import ConfigError, guess_study_id, load_study, study_id, study_results

FEASIBILITY = str(Path(sys.executable).with_name("feasibility"))
LONG = ROOT / "tests" / "fixtures" / "redcap" / "longitudinal"
README = (ROOT / "README.md").read_text(encoding="utf-8")
TRIAL_DATA = ROOT / "data" / "full-trial"


def feasibility(*args: str, cwd: Path = ROOT, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([FEASIBILITY, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def state(folder: Path) -> dict[str, tuple[str, int]]:
    """SHA-256 and modification time (ns) of every file under ``folder``."""
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ------------------------------------------------------------------------------ the id
def test_the_shipped_studies_declare_their_ids():
    assert study_id(load_study(ROOT / "config" / "config.yaml")) == PAPER == "feasibility"
    trial = load_study(ROOT / "config" / "studies" / "full-trial.yaml")
    assert study_id(trial) == TRIAL and study_results(trial) == "results/full-trial"


def test_the_id_defaults_to_the_file_name_and_must_name_a_folder(tmp_path):
    exports = "redcap: {records: r.csv, dictionary: d.csv}\n"
    (tmp_path / "my-trial.v2.yaml").write_text("study: {title: T}\n" + exports)
    assert study_id(load_study(tmp_path / "my-trial.v2.yaml")) == "my-trial.v2"
    (tmp_path / "other.yaml").write_text("study: {title: T, id: pilot_2}\n" + exports)
    assert study_id(load_study(tmp_path / "other.yaml")) == "pilot_2"
    (tmp_path / "my study.yaml").write_text("study: {title: T}\n" + exports)
    with pytest.raises(
        ConfigError, match=r"my study\.yaml: the study's id, the file's name 'my study'.*study\.id"
    ):
        load_study(tmp_path / "my study.yaml")
    (tmp_path / "bad.yaml").write_text("study: {title: T, id: ../elsewhere}\n" + exports)
    with pytest.raises(ConfigError, match=r"bad\.yaml line 1: study\.id is '\.\./elsewhere'"):
        load_study(tmp_path / "bad.yaml")
    # a file that is not valid still names its study, so that only its reports are withdrawn
    (tmp_path / "typo.yaml").write_text("study: {title: T, id: mine, titel: x}\n" + exports)
    assert guess_study_id([tmp_path / "typo.yaml"]) == "mine"
    assert guess_study_id([tmp_path / "bad.yaml"]) is None
    assert guess_study_id([tmp_path / "my-trial.v2.yaml"], {"study": {"id": "cli"}}) == "cli"


# ------------------------------------------------------------------------ the command
SUBCOMMANDS = ["validate", "build", "schemas", "studies", "synth", "dummy", "pull"]


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_every_subcommand_describes_every_option(sub):
    res = feasibility(sub, "--help")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"usage: feasibility {sub}")
    options = set(re.findall(r"\[(--[a-z-]+)", res.stdout.split("\n\n")[0])) | {"--help"}
    body = res.stdout.split("options:\n", 1)[1]
    for option in options:  # each listed with words that describe it
        entry = re.search(rf"(?m)^  (?:-\w, )?{re.escape(option)}\b[^\n]*(?:\n {{10,}}\S[^\n]*)*", body)
        assert entry, f"{sub}: {option} is not listed"
        head, _, rest = entry[0].partition("\n")
        assert re.search(r"\S {2,}\w", head.strip()) or rest.strip(), f"{sub}: {option} has no description"


def test_the_command_lists_every_subcommand():
    res = feasibility("--help")
    assert res.returncode == 0 and all(sub in res.stdout for sub in SUBCOMMANDS)


def test_studies_lists_each_study_file_with_its_folder():
    res = feasibility("studies")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert re.match(
        r"feasibility\s+config/config\.yaml\s+results/feasibility/\s+Supported six-week", lines[0]
    )
    assert re.match(
        r"full-trial\s+config/studies/full-trial\.yaml\s+results/full-trial/\s+Supported work", lines[1]
    )


@pytest.mark.parametrize("how", ["feasibility", "snakemake"])
def test_a_study_file_error_is_one_message_without_traceback(tmp_path, how):
    study = tmp_path / "typo.yaml"
    study.write_text(
        "study: {title: T}\nredcap: {records: r.csv, dictionary: d.csv}\nreprot: {backend: pandoc}\n"
    )
    if how == "feasibility":
        res = feasibility("validate", "--configfile", str(study))
    else:
        res = run_snakemake(ROOT, "--configfile", str(study), "--dry-run")
    out = res.stdout + res.stderr
    assert res.returncode == 1
    assert f"{study} line 3: unknown key reprot (did you mean report?)" in out
    assert "Traceback" not in out and 'File "' not in out and "WorkflowError" not in out
    assert out.count("is not valid") == 1


# ------------------------------------------------------------------------- dummy data
def test_the_dummy_generator_needs_a_folder_and_never_overwrites(tmp_path):
    from feasibility.synth.dummy import main

    shipped = (TRIAL_DATA / "records.csv").read_bytes()
    study = ROOT / "config" / "studies" / "full-trial.yaml"
    assert main(["--study", str(study), "--n", "30", "--quiet"]) == 1  # no --out, no --force
    assert (TRIAL_DATA / "records.csv").read_bytes() == shipped
    out = tmp_path / "dummy"
    assert main(["--study", str(study), "--n", "30", "--out", str(out)]) == 0
    made = sorted(p.name for p in out.iterdir())
    assert made == ["provenance.json", "records.csv", "study.yaml"]
    first = (out / "records.csv").read_bytes()
    assert main(["--study", str(study), "--n", "31", "--out", str(out), "--quiet"]) == 1  # there already
    assert (out / "records.csv").read_bytes() == first
    assert main(["--study", str(study), "--n", "31", "--out", str(out), "--quiet", "--force"]) == 0
    assert (out / "records.csv").read_bytes() != first
    # the study file beside the data reads them, under an id of its own
    config = load_study(out / "study.yaml")
    assert study_id(config) == "full-trial-dummy"
    assert Path(config["redcap"]["records"]).resolve() == (out / "records.csv").resolve()
    assert Path(config["redcap"]["dictionary"]).resolve() == (TRIAL_DATA / "data_dictionary.csv").resolve()
    assert (
        main(["--study", str(study), "--n", "5", "--out", str(tmp_path / "b"), "--id", "mine", "--quiet"])
        == 0
    )
    assert study_id(load_study(tmp_path / "b" / "study.yaml")) == "mine"


def test_the_dummy_generator_says_what_it_wrote(tmp_path):
    res = feasibility(
        "dummy", "--study", "config/studies/full-trial.yaml", "--n", "20", "--out", str(tmp_path / "d")
    )
    assert res.returncode == 0, res.stderr
    said = re.search(r"dummy: wrote (\d+) files: (.*)", res.stderr)
    assert said and int(said[1]) == len(list((tmp_path / "d").iterdir())) == len(said[2].split(", "))


def test_synth_counts_the_files_it_writes(tmp_path):
    res = feasibility("synth", "--n", "30", "--out", str(tmp_path / "raw"))  # a small cohort: quick
    assert res.returncode == 0, res.stderr
    said = int(re.search(r"wrote (\d+) files", res.stderr)[1])
    assert said == len(list((tmp_path / "raw").iterdir()))


# -------------------------------------------------------------- missing-data codes, events
def _long(tmp_path, **settings):
    from feasibility.redcap import validate

    return validate(
        LONG / "TrialLong_DATA_2024-09-01_0900.csv",
        dictionary=LONG / "TrialLong_metadata.csv",
        instrument_designations=LONG / "TrialLong_InstrumentDesignations_2024-09-01.csv",
        settings=settings,
    )


def test_an_undeclared_missing_data_code_fails_with_a_hint(tmp_path):
    from feasibility.redcap.report import console_summary, validation_report

    result = _long(tmp_path)  # the project's codes not declared
    assert not result.ok
    unk = [f for f in result.failures if f.value == "UNK" and f.severity == "error"]
    assert unk
    hint = [n for n in result.notes if n.startswith("hint: ")]
    assert len(hint) == 1 and "redcap.missing_data_codes" in hint[0] and "UNK (" in hint[0]
    report = validation_report(result, {"records": "x.csv"}, {}, {})
    assert hint[0] in console_summary(report)
    declared = _long(tmp_path, missing_data_codes="UNK, Unknown | -999, Not recorded")
    assert not [n for n in declared.notes if n.startswith("hint: ")]


def test_event_names_without_labels_are_shown_whole(tmp_path):
    """The trial's project without its events file: nine events to an arm, each column
    narrower than its unique name; the names are set upright, whole, never broken."""
    from feasibility.quality import QualityData, draw_completeness
    from feasibility.config import ValidationPaths
    from feasibility.redcap import validate, write_validated
    from feasibility.redcap.report import validation_report, write_report

    from feasibility.synth.dummy import main

    assert (
        main(
            [
                "--study",
                str(ROOT / "config/studies/full-trial.yaml"),
                "--n",
                "30",
                "--out",
                str(tmp_path / "d"),
                "--quiet",
            ]
        )
        == 0
    )
    result = validate(
        tmp_path / "d" / "records.csv",
        dictionary=TRIAL_DATA / "data_dictionary.csv",
        instrument_designations=TRIAL_DATA / "instrument_designations.csv",
        settings={"missing_data_codes": "UNK, Unknown | NASK, Not asked | DECL, Declined"},
    )
    assert result.ok, [f.message() for f in result.failures[:3]]
    write_validated(result, tmp_path / "validated")
    write_report(validation_report(result, {}, {}, {}), result.failures, ValidationPaths(str(tmp_path)))
    data = QualityData.read(tmp_path / "validated", tmp_path / "report.json")
    names = {e["unique_name"] for e in data.events}
    assert all(data.event_label(e) == e for e in names)  # no labels: the names themselves
    fig = draw_completeness(data)
    shown = {t.get_text() for ax in fig.axes for t in ax.get_xticklabels() if not t.get_text().endswith("%")}
    assert shown == names  # each whole, on one line


# ------------------------------------------------------------- two studies, one project
def _readme_study() -> str:
    block = re.search(r"(?m)^ {4}study: .*\n(?: {4}.*\n)+", README)[0]
    return "\n".join(line[4:] for line in block.splitlines()) + "\n"


def _readme_command(name: str) -> str:
    return next(
        ln.strip()
        for ln in README.splitlines()
        if ln.strip().startswith(".venv/bin/") and "path/to/study.yaml" in ln and name in ln
    )


@pytest.mark.slow  # builds another study beside the paper's, fails it twice, builds the paper's again
def test_studies_side_by_side_never_touch_each_other(built_project, tmp_path):
    """Study A (the paper's, built) and study B: the README's outside-study example as written,
    on dummy data of a REDCap project with missing-data codes and events (the trial's)."""
    proj = tmp_path / "proj"
    shutil.copytree(built_project, proj, symlinks=True)
    (proj / ".venv").symlink_to(Path(sys.executable).parents[1])
    folder = tmp_path / "mine"
    exports = folder / "exports"
    res = feasibility(
        "dummy",
        "--study",
        str(ROOT / "config/studies/full-trial.yaml"),
        "--n",
        "40",
        "--out",
        str(exports),
        "--quiet",
    )
    assert res.returncode == 0, res.stderr
    for name in ("data_dictionary.csv", "instrument_designations.csv", "events.csv"):
        shutil.copy(TRIAL_DATA / name, exports / name)
    study = folder / "study.yaml"
    study.write_text(_readme_study())
    a = results_of(proj, PAPER)
    before = state(a)
    assert any(k == "report/feasibility.pdf" for k in before)

    # B built as the README says: its own folder, its own report names
    command = _readme_command("build").replace("path/to/study.yaml", str(study))
    res = subprocess.run(["bash", "-c", command], cwd=proj, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    b = results_of(proj, "study")
    assert sorted(p.name for p in (b / "report").glob("*.*")) == ["study-quality.html", "study-quality.pdf"]
    assert state(a) == before

    # B's data fail (the missing-data codes left out): B's reports withdrawn with a hint; A untouched
    study.write_text(_readme_study().replace("  missing_data_codes:", "  # missing_data_codes:"))
    res = run_snakemake(proj, "--configfile", str(study))
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "redcap.missing_data_codes" in out, out[-3000:]
    # its data-quality report is built all the same and says so (issue 25.2); no main report
    assert sorted(p.name for p in (b / "report").glob("*.*")) == ["study-quality.html", "study-quality.pdf"]
    assert "did not pass validation" in (b / "report" / "study-quality.html").read_text(encoding="utf-8")
    assert (b / "validation" / "report.md").exists() and not (b / "validation" / "passed.json").exists()
    assert state(a) == before

    # B's study file wrong: one message; A untouched
    study.write_text(_readme_study().replace("redcap:", "redcpa:"))
    res = run_snakemake(proj, "--configfile", str(study))
    assert res.returncode == 1 and "unknown key redcpa" in res.stderr and "Traceback" not in res.stderr
    assert state(a) == before

    # A again: nothing to do, nothing touched
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    assert not jobs_run(res.stderr) - {"all"}, jobs_run(res.stderr)
    assert state(a) == before


def test_a_report_is_rendered_under_the_studys_name(tmp_path):
    """The pandoc back end writes <name>.html and <name>.pdf straight into the folder (each
    written to a temporary file and moved into place), and nothing else there."""
    from feasibility.render import render_report

    project, out = tmp_path / "build", tmp_path / "report"
    project.mkdir()
    (project / "feasibility.qmd").write_text('---\ntitle: "A trial"\n---\n\n# Results\n\nNo results yet.\n')
    made = render_report(project, out, backend="pandoc", name="my-trial", source_date_epoch=0)
    assert made == {"html": out / "my-trial.html", "pdf": out / "my-trial.pdf"}
    assert sorted(p.name for p in out.iterdir()) == ["my-trial.html", "my-trial.pdf"]
    assert made["pdf"].read_bytes().startswith(b"%PDF")


def test_studies_says_when_two_study_files_share_an_id(tmp_path):
    (tmp_path / "config" / "studies").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    (tmp_path / "config" / "studies" / "again.yaml").write_text(
        "study: {title: Again, id: feasibility}\nredcap: {records: r.csv, dictionary: d.csv}\n"
    )
    (tmp_path / "config" / "studies" / "broken.yaml").write_text("study: {title: B}\n")
    res = feasibility("studies", "--directory", str(tmp_path))
    assert res.returncode == 1
    assert "2 study files have the id feasibility and would share results/feasibility/" in res.stderr
    assert re.search(r"(?m)^\?\s+config/studies/broken\.yaml\s+not valid: .*redcap", res.stdout), res.stdout


@pytest.mark.parametrize(
    "text",
    [
        "study:\n  title: T\n  id: mine\nredcap: {records: [unclosed\n",
        "study: {title: T, id: mine}\nredcap: {records: [unclosed\n",
    ],
)
def test_a_study_file_that_is_not_yaml_still_names_its_study(tmp_path, text):
    (tmp_path / "broken.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"broken\.yaml line \d+: not valid YAML"):
        load_study(tmp_path / "broken.yaml")
    assert guess_study_id([tmp_path / "broken.yaml"]) == "mine"
