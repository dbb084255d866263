"""How the workflow behaves as a workflow: incremental rebuilds, rerun triggers, cluster
execution, interrupted builds and concurrent runs (issues 7 and 8).

Each test works on its own copy of the project, built once by the ``fresh_build``
fixture; outputs are compared byte for byte with the session's reference build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

import records_helpers as rh
from projectcopy import SNAKEMAKE, checksums_tree, jobs_run, results_of, run_snakemake, target

HERE = Path(__file__).resolve().parent
# The data-quality report's jobs: every one reads the validated data.
QUALITY_JOBS = {
    *(
        f"quality_table[table={t}]"
        for t in (
            "records",
            "completion",
            "missingness",
            "missing_codes",
            "validation",
            "codebook",
            "completion_site",
            "missingness_event",
        )
    ),
    *(f"quality_figure[figure={f}]" for f in ("completeness", "completeness_sites", "recruitment")),
    "quality_queries",
    "quality_sources",
    "quality_render",
}


@pytest.fixture
def project(built_project, tmp_path) -> Path:
    """A private copy of the built project (results, .snakemake metadata and all)."""
    dest = tmp_path / "proj"
    shutil.copytree(built_project, dest, symlinks=True)
    # copytree keeps modification times (copy2), so the copy is up to date as built
    return dest


def test_a_build_is_up_to_date_after_copying(project):
    res = run_snakemake(project, "--dry-run")
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr


def test_changing_a_six_month_answer_reruns_exactly_its_downstream_jobs(project, built_project):
    raw = project / "data" / "raw"
    answered = [r for r in rh.form_rows(raw, ["hads_1"], event="month6") if r["hads_1"] != ""]
    who, value = answered[0]["record_id"], answered[0]["hads_1"]
    rh.set_value(raw, who, "month6", "hads_1", "0" if value != "0" else "3")
    res = run_snakemake(project)
    assert res.returncode == 0, res.stderr[-3000:]
    # Downstream of the records export: its validation, the analysis dataset once, and
    # what reads the validated data (every table and figure, the values, the comparison,
    # the data-quality report, the report); not the audit of the paper's numbers, which
    # reads no data.
    assert jobs_run(res.stderr) == {
        "check_data",
        "validate",
        "analysis",
        "table[table=table2]",
        "table[table=table3]",
        "table[table=table4]",
        "table[table=table5]",
        "table[table=feasibility_metrics]",
        "figure[figure=consort]",
        "figure[figure=timeline]",
        "figure[figure=completeness]",
        "values",
        "reproduction",
        "report_sources",
        "render",
        *QUALITY_JOBS,
        "all",
    }
    # what does not depend on a 6-month answer comes out byte for byte as it was
    unchanged = [
        "tables/table2.html",
        "tables/table2.csv",
        "tables/table4.html",
        "tables/table5.csv",
        "figures/consort.svg",
        "figures/timeline.svg",
        "figures/consort.csv",
        "reproduction/audit.csv",
    ]
    for f in unchanged:
        assert (results_of(project) / f).read_bytes() == (results_of(built_project) / f).read_bytes(), f
    assert (results_of(project) / "reproduction" / "audit.csv").stat().st_mtime == (
        results_of(built_project) / "reproduction" / "audit.csv"
    ).stat().st_mtime
    changed = (results_of(project) / "tables/table3.csv").read_text()
    assert changed != (results_of(built_project) / "tables/table3.csv").read_text()


def test_editing_a_table_kind_reruns_its_tables_and_what_reads_them(project):
    module = project / "workflow" / "feasibility" / "tables" / "metrics.py"
    module.write_text(module.read_text() + "\n# edited\n")
    res = run_snakemake(project, "--dry-run")
    assert res.returncode == 0, res.stderr[-2000:]
    assert jobs_run(res.stdout + res.stderr) == {
        "table[table=feasibility_metrics]",
        "values",
        "reproduction",
        "report_sources",
        "render",
        "all",
    }
    # the categorical kind is also the engine of change and counts tables (they import it)
    module.write_text(module.read_text().replace("\n# edited\n", ""))
    kind = project / "workflow" / "feasibility" / "tables" / "categorical.py"
    kind.write_text(kind.read_text() + "\n# edited\n")
    res = run_snakemake(project, "--dry-run")
    ran = jobs_run(res.stdout + res.stderr)
    assert {"table[table=table3]", "table[table=table4]", "table[table=table5]"} <= ran
    assert not {"table[table=table2]", "analysis"} & ran


def test_changing_a_config_parameter_reruns_the_jobs_that_use_it(project):
    config = project / "config" / "config.yaml"
    text = config.read_text()
    assert "parameters:" in text
    edited = re.sub(
        r"(\n  case_management_cost_per_hour_gbp:\n    value:\s*)([0-9.]+)",
        lambda m: m[1] + str(float(m[2]) + 1),
        text,
    )
    assert edited != text, "the config has no case_management_cost_per_hour_gbp to change"
    config.write_text(edited)
    res = run_snakemake(project, "--dry-run")
    assert res.returncode == 0, res.stderr[-2000:]
    ran = jobs_run(res.stdout + res.stderr)
    assert "table[table=feasibility_metrics]" in ran
    # the cost is a parameter of one table: not of the analysis dataset, nor another table
    assert not {"analysis", "table[table=table2]", "figure[figure=consort]"} & ran


def reference_outputs(project: Path) -> dict[str, str]:
    """Checksums of every result a reader sees (logs and the report's build copy aside)."""
    return {
        k: v
        for k, v in checksums_tree(results_of(project)).items()
        if not k.startswith(("logs/", "report/build/"))
    }


# One path through the workflow (validation, the analysis checkpoint, a table, a figure): each
# job a process of its own, submitted through the executor plugin (the whole build this way
# takes a minute and a half, every job importing pandas again).
CLUSTER_TARGETS = [
    target("tables/table2.csv"),
    target("tables/table2.html"),
    target("figures/consort.svg"),
    target("figures/consort.csv"),
]


@pytest.mark.slow
def test_cluster_executor_gives_the_same_outputs_as_a_local_run(tmp_path, built_project):
    proj = tmp_path / "proj"
    shutil.copytree(
        built_project, proj, symlinks=True, ignore=shutil.ignore_patterns("results", ".snakemake")
    )
    res = run_snakemake(
        proj,
        *CLUSTER_TARGETS,
        "--executor",
        "cluster-generic",
        "--cluster-generic-submit-cmd",
        str(HERE / "cluster" / "submit.sh"),
        "--jobs",
        "4",
        "--latency-wait",
        "10",
        timeout=900,
    )
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    out = res.stdout + res.stderr
    assert "Submitted job" in out and "external jobid 'local-" in out
    assert {"validate", "analysis", "table", "figure"} <= {j.split("[")[0] for j in jobs_run(res.stderr)}
    for path in CLUSTER_TARGETS:
        assert (proj / path).read_bytes() == (built_project / path).read_bytes(), path


# ---------------------------------------------------------------------------- interruption
# One output of each rule; the run is killed while that job is writing it.
INTERRUPT_AT = [
    ("validate", target("validation/passed.json")),
    ("analysis", target("analysis/timepoints.parquet")),
    ("table", target("tables/table3.html")),
    ("figure", target("figures/consort.png")),  # after its SVG: a job half done
    ("values", target("values/values.json")),
    ("audit", target("reproduction/audit.csv")),
    ("reproduction", target("reproduction/comparison.csv")),
    ("report_sources", target("report/build/_generated/")),
    ("render", target("report/feasibility.pdf")),
]
# What a build that reaches each rule has not made yet: removed first, so that the run
# starts there as a cold build would (and not the whole build again for each rule).
LATER = {
    "validate": [
        "validation/passed.json",
        "validated",
        "analysis",
        "tables",
        "figures",
        "values",
        "reproduction",
        "quality",
        "report",
    ],
    "analysis": [
        "analysis",
        "tables",
        "figures",
        "values",
        "reproduction",
        "report/build",
        "report/feasibility.html",
        "report/feasibility.pdf",
    ],
    "table": [
        "tables",
        "values",
        "reproduction",
        "report/build",
        "report/feasibility.html",
        "report/feasibility.pdf",
    ],
    "figure": ["figures", "report/build", "report/feasibility.html", "report/feasibility.pdf"],
    "values": ["values", "reproduction", "report/build", "report/feasibility.html", "report/feasibility.pdf"],
    "audit": ["reproduction", "report/build", "report/feasibility.html", "report/feasibility.pdf"],
    "reproduction": [
        "reproduction/comparison.csv",
        "report/build",
        "report/feasibility.html",
        "report/feasibility.pdf",
    ],
    "report_sources": ["report/build", "report/feasibility.html", "report/feasibility.pdf"],
    "render": ["report/feasibility.html", "report/feasibility.pdf"],
}


def start_paused(
    proj: Path, fragment: str, *args: str, seconds: float = 600
) -> tuple[subprocess.Popen, Path]:
    marker = proj / ".paused"
    marker.unlink(missing_ok=True)
    env = dict(
        os.environ,
        PYTHONPATH=str(HERE / "fault_injection"),
        FEASIBILITY_PAUSE_ON=fragment,
        FEASIBILITY_PAUSE_MARKER=str(marker),
        FEASIBILITY_PAUSE_SECONDS=str(seconds),
    )
    proc = subprocess.Popen(
        [SNAKEMAKE, *args],
        cwd=proj,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the run never reached {fragment}:\n{proc.stdout.read()[-3000:]}")
        time.sleep(0.05)
    return proc, marker


@pytest.mark.parametrize(
    "rule,fragment",
    [
        pytest.param(r, f, id=r, marks=[pytest.mark.slow])  # each builds again: not in the quick run
        for r, f in INTERRUPT_AT
    ],
)
def test_a_build_killed_in_any_rule_reruns_to_identical_outputs(project, built_project, rule, fragment):
    expected = reference_outputs(built_project)
    for rel in LATER[rule]:  # a build that has got as far as `rule`
        path = results_of(project) / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    proc, _ = start_paused(project, fragment)  # ... killed while `rule` writes
    os.killpg(proc.pid, signal.SIGKILL)  # power cut: no clean-up at all
    proc.wait()
    if not fragment.endswith("/"):
        assert not (project / fragment).exists(), f"{rule}: a half-written {fragment} is in place"
    locked = run_snakemake(project)
    assert locked.returncode != 0 and "cannot be locked" in locked.stdout + locked.stderr, rule
    assert run_snakemake(project, "--unlock").returncode == 0
    res = run_snakemake(project)
    assert res.returncode == 0, f"{rule}: " + res.stderr[-3000:]
    assert rule in {j.split("[")[0] for j in jobs_run(res.stderr)}, f"{rule} was not rerun"
    assert reference_outputs(project) == expected, f"outputs differ after a kill in {rule}"
    assert not list((results_of(project)).rglob("*.part")), f"{rule}: temporary files left behind"


@pytest.mark.slow  # two whole builds at once
def test_a_second_run_in_the_same_folder_is_refused_and_neither_is_corrupted(project, built_project):
    first, _ = start_paused(project, target("tables/table2.html"), "--forcerun", "table", seconds=5)
    second = run_snakemake(project)
    out = second.stdout + second.stderr
    assert second.returncode != 0
    assert "Directory cannot be locked" in out
    rest, _ = first.communicate(timeout=300)
    assert first.returncode == 0, rest[-3000:]
    assert reference_outputs(project) == reference_outputs(built_project)


# ------------------------------------------------------- the verdict and the data (issue 20.3, 20.6)
def _bad_export(project: Path) -> None:
    """A failing answer written into the records export under its old modification time."""
    records = project / "data" / "raw" / "records.csv"
    st = records.stat()
    answered = [r for r in rh.form_rows(records.parent, ["hads_5"], event="month6") if r["hads_5"] != ""]
    rh.set_value(records.parent, answered[0]["record_id"], "month6", "hads_5", "7")
    os.utime(records, ns=(st.st_atime_ns, st.st_mtime_ns))


def _vouches(passed: Path) -> bool:
    """Whether a success record stands (not removed, not replaced by a withdrawal)."""
    return passed.exists() and json.loads(passed.read_text()).get("outcome") == "passed"


def _no_report(project: Path, out: str) -> None:
    """No success record and nothing only passing data give; the validated tables (and the
    data-quality report, when asked for) only as validation's check of the bad data as they
    are now (issue 25.2)."""
    results = results_of(project)
    assert not _vouches(results / "validation" / "passed.json"), out[-3000:]
    left = [d for d in ("analysis", "tables", "figures", "values", "reproduction") if (results / d).exists()]
    left += [p.name for p in (results / "report").glob("*") if "quality" not in p.name]
    assert not left, f"left: {left}\n{out[-3000:]}"
    if (results / "validated").exists():
        checked = json.loads((results / "validation" / "checked.json").read_text())
        assert (
            checked["outcome"] == "failed"
            and checked["inputs"]["data/raw/records.csv"]
            == hashlib.sha256((project / "data" / "raw" / "records.csv").read_bytes()).hexdigest()
        )
    assert "**Passed**" not in (results / "validation" / "report.md").read_text()


@pytest.mark.slow  # four runs, each validating again
def test_restored_results_never_turn_bad_data_into_a_report(project, tmp_path):
    """Bad data fail validation; the earlier results/validation/ and results/validated/ put
    back (a backup, a CI cache, `git checkout results/`) give no report, whatever the
    rerun triggers or the target."""
    backup = tmp_path / "backup"
    for name in ("validation", "validated"):
        shutil.copytree(results_of(project) / name, backup / name)
    _bad_export(project)
    res = run_snakemake(project)
    assert res.returncode != 0
    for args in (["--rerun-triggers", "mtime"], ["results/feasibility/tables/table2.csv"], []):
        for name in ("validation", "validated"):
            shutil.rmtree(results_of(project) / name, ignore_errors=True)
            shutil.copytree(backup / name, results_of(project) / name)
        res = run_snakemake(project, *args)
        out = res.stdout + res.stderr
        assert res.returncode != 0, f"snakemake {' '.join(args)} succeeded:\n{out[-3000:]}"
        assert "records.csv is not the file that passed validation" in out, out[-3000:]
        assert "Validation failed: 1 failure(s)" in out, out[-3000:]
        _no_report(project, out)


def _chattr(flag: str, *paths: Path) -> bool:
    try:
        return subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True).returncode == 0
    except OSError:
        return False


def test_a_read_only_results_folder_withdraws_what_it_can_and_says_what_it_cannot(project):
    """New data, and results/ that cannot be changed (immutable folders: as root, chmod would
    not stop a write): the run stops before any job, the old report and success record are
    overwritten in place with a withdrawal note, and the console names them."""
    report, validation = results_of(project) / "report", results_of(project) / "validation"
    _bad_export(project)
    if not _chattr("+i", report, validation):
        pytest.skip("chattr +i (an immutable folder) is not available here")
    try:
        res = run_snakemake(project)
    finally:
        _chattr("-i", report, validation)
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "Could not withdraw" in out and "results/feasibility/report/" in out, out[-3000:]
    assert "Traceback" not in out
    assert (report / "feasibility.html").read_text().startswith("Withdrawn:")
    assert (report / "feasibility-quality.pdf").read_bytes().startswith(b"Withdrawn:")
    assert json.loads((validation / "passed.json").read_text())["outcome"] == "withdrawn"
    assert "**Passed**" not in (validation / "report.md").read_text()
    assert not (results_of(project) / "validated").exists()


def test_an_error_while_the_job_graph_is_built_withdraws_the_report(project):
    """Snakemake calls onerror only for failed jobs; an error before any job (here a target
    no rule makes) withdraws the report all the same."""
    res = run_snakemake(project, "results/feasibility/tables/no_such_table.txt")
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "no_such_table" in out
    assert not (results_of(project) / "report").exists(), out[-3000:]
    assert (results_of(project) / "validation" / "passed.json").exists()  # it still vouches for the data


@pytest.mark.slow  # a build interrupted in validation
def test_a_build_killed_in_validation_leaves_no_report_and_says_validation_did_not_finish(project):
    _bad_export(project)
    # killed while it writes report.md for the first time: report.json already says the run
    # has not finished (both are written before the data are read, and again at the end)
    proc, _ = start_paused(project, "results/feasibility/validation/report.md")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    results = results_of(project)
    assert json.loads((results / "validation" / "report.json").read_text())["outcome"] == "did not finish"
    md = results / "validation" / "report.md"
    assert not md.exists() or "**Passed**" not in md.read_text()
    assert not _vouches(results / "validation" / "passed.json")
    assert not (results / "report").exists()
    assert run_snakemake(project, "--unlock").returncode == 0
    res = run_snakemake(project)
    assert res.returncode != 0 and "Validation failed: 1 failure(s)" in res.stdout + res.stderr
    assert md.read_text().startswith("# Validation report\n\n**Failed: 1 failure(s)**")
    _no_report(project, res.stdout + res.stderr)


@pytest.mark.slow  # a render, paused
def test_a_download_changed_while_the_run_goes_on_withdraws_what_it_built(project):
    """The success record is checked again when the run ends: a download changed after
    validation (here while the report renders) leaves no report, and the run fails."""
    proc, _ = start_paused(
        project, "results/feasibility/report/feasibility.pdf", "--forcerun", "render", seconds=10
    )
    _bad_export(project)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode != 0, out[-3000:]
    assert "records.csv is not the file that passed validation" in out and "changed while the run" in out
    results = results_of(project)
    assert not (results / "report").exists() and not _vouches(results / "validation" / "passed.json")
