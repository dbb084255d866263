"""How the workflow behaves as a workflow: incremental rebuilds, rerun triggers, cluster
execution, interrupted builds and concurrent runs (issues 7 and 8).

Each test works on its own copy of the project, built once by the ``fresh_build``
fixture; outputs are compared byte for byte with the session's reference build.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

from projectcopy import SNAKEMAKE, checksums_tree, run_snakemake

HERE = Path(__file__).resolve().parent
def jobs_run(output: str) -> set[str]:
    """The jobs a Snakemake run started (or a dry run would start), as 'rule[wildcards]'."""
    jobs = set()
    for block in re.split(r"\n(?=(?:local)?rule \w+:\n)", output):
        m = re.match(r"(?:local)?rule (\w+):\n", block)
        if not m:
            continue
        wc = re.search(r"^    wildcards: (.*)$", block, re.MULTILINE)
        jobs.add(f"{m[1]}[{wc[1]}]" if wc else m[1])
    return jobs


@pytest.fixture
def project(built_project, tmp_path) -> Path:
    """A private copy of the built project (results, .snakemake metadata and all)."""
    dest = tmp_path / "proj"
    shutil.copytree(built_project, dest, symlinks=True)
    # copytree keeps modification times (copy2), so the copy is up to date as built
    return dest


def set_cell(path: Path, record: str, column: str, value: str) -> str:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    i = df.index[df["record_id"] == record][0]
    old, df.at[i, column] = df.at[i, column], value
    df.to_csv(path, index=False, lineterminator="\n")
    return old


def test_a_build_is_up_to_date_after_copying(project):
    res = run_snakemake(project, "--dry-run")
    assert res.returncode == 0 and "Nothing to be done" in res.stdout + res.stderr


def test_changing_a_six_month_answer_reruns_exactly_its_downstream_jobs(project, built_project):
    raw = project / "data" / "raw" / "questionnaires_month6.csv"
    month6 = pd.read_csv(raw, dtype=str, keep_default_na=False)
    record = month6.loc[month6["hads_1"] != "", "record_id"].iloc[0]
    old = set_cell(raw, record, "hads_1", "0" if month6.loc[month6["record_id"] == record, "hads_1"].iloc[0] != "0" else "3")
    assert old != ""
    res = run_snakemake(project)
    assert res.returncode == 0, res.stderr[-3000:]
    # Downstream of questionnaires_month6 only: its validation, the 6-month scores, the
    # analysis dataset, the tables that read 6-month scores (Table 3 through the
    # analysis dataset; Table 5 and the metrics directly), the figures (each reads the
    # validated forms and the analysis dataset as a whole: results/forms, results/analysis),
    # the reproduction check and the report. Not Table 2 or 4.
    assert jobs_run(res.stderr) == {
        "validate_export[export=questionnaires_month6]", "validate", "score[timepoint=month6]",
        "analysis_dataset", "table[table=table3]", "table[table=table5]",
        "table[table=feasibility_metrics]", "forms_interim", "analysis_interim",
        "figure[figure=consort]", "figure[figure=timeline]", "figure[figure=completeness]",
        "values", "reproduction", "report_sources", "render", "all"}
    unchanged = ["tables/table2.html", "tables/table4.html", "derived/participants_core.parquet"]
    for f in unchanged:
        assert (project / "results" / f).stat().st_mtime == (built_project / "results" / f).stat().st_mtime, f


def test_editing_a_table_module_reruns_that_table_and_what_reads_it(project):
    module = project / "workflow" / "feasibility" / "tables" / "table4.py"
    module.write_text(module.read_text() + "\n# edited\n")
    res = run_snakemake(project, "--dry-run")
    assert res.returncode == 0, res.stderr[-2000:]
    assert jobs_run(res.stdout + res.stderr) == {"table[table=table4]", "values", "reproduction",
                                                 "report_sources", "render", "all"}


def test_changing_a_config_parameter_reruns_the_jobs_that_use_it(project):
    config = project / "config" / "config.yaml"
    text = config.read_text()
    assert "feasibility:" in text
    edited = re.sub(r"(\n  case_management_cost_per_hour_gbp:\s*)([0-9.]+)", lambda m: m[1] + str(float(m[2]) + 1), text)
    assert edited != text, "the config has no case_management_cost_per_hour_gbp to change"
    config.write_text(edited)
    res = run_snakemake(project, "--dry-run")
    assert res.returncode == 0, res.stderr[-2000:]
    ran = jobs_run(res.stdout + res.stderr)
    assert "table[table=feasibility_metrics]" in ran
    assert not {"table[table=table2]", "figure[figure=consort]", "participants"} & ran


def reference_outputs(project: Path) -> dict[str, str]:
    """Checksums of every result a reader sees (logs and the report's build copy aside)."""
    return {k: v for k, v in checksums_tree(project / "results").items()
            if not k.startswith(("logs/", "report/build/"))}


@pytest.mark.slow
def test_cluster_executor_gives_the_same_outputs_as_a_local_run(tmp_path, built_project):
    proj = tmp_path / "proj"
    shutil.copytree(built_project, proj, symlinks=True, ignore=shutil.ignore_patterns("results", ".snakemake"))
    res = run_snakemake(proj, "--executor", "cluster-generic",
                        "--cluster-generic-submit-cmd", str(HERE / "cluster" / "submit.sh"),
                        "--jobs", "4", "--latency-wait", "10", timeout=900)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    out = res.stdout + res.stderr
    assert "Submitted job" in out and "external jobid 'local-" in out
    assert reference_outputs(proj) == reference_outputs(built_project)


# ---------------------------------------------------------------------------- interruption
# One output of each rule; the run is killed while that job is writing it.
INTERRUPT_AT = [
    ("validate_export", "results/validated/questionnaires_week14.parquet"),
    ("validate", "results/validation/passed.json"),
    ("participants", "results/derived/participants_core.parquet"),
    ("score", "results/derived/scores_week6.parquet"),
    ("analysis_dataset", "results/derived/scores.parquet"),
    ("table", "results/tables/table3.html"),
    ("figure", "results/figures/consort.png"),   # after its SVG: a job half done
    ("audit", "results/reproduction/audit.csv"),
    ("reproduction", "results/reproduction/comparison.csv"),
    ("report_sources", "results/report/build/_generated/"),
    ("render", "results/report/feasibility.pdf"),
]
QUICK_INTERRUPT = "validate"        # the quick run kills this one; the rest are slow
# What a build that reaches each rule has not made yet: removed first, so that the run
# starts there as a cold build would (and not the whole build again for each rule).
LATER = {
    "validate_export": ["validated", "validation", "derived", "tables", "figures", "reproduction", "report"],
    "validate": ["validation/passed.json", "derived", "tables", "figures", "reproduction", "report"],
    "participants": ["derived", "tables", "figures", "reproduction", "report"],
    "score": ["derived", "tables", "figures", "reproduction", "report"],
    "analysis_dataset": ["derived/scores.parquet", "derived/participants.parquet",
                         "derived/imputation_counts.csv", "tables", "reproduction", "report"],
    "table": ["tables", "reproduction", "report"],
    "figure": ["figures", "report"],
    "audit": ["reproduction", "report"],
    "reproduction": ["reproduction/comparison.csv", "report"],
    "report_sources": ["report"],
    "render": ["report/feasibility.html", "report/feasibility.pdf"],
}


def start_paused(proj: Path, fragment: str, *args: str, seconds: float = 600) -> tuple[subprocess.Popen, Path]:
    marker = proj / ".paused"
    marker.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=str(HERE / "fault_injection"), FEASIBILITY_PAUSE_ON=fragment,
               FEASIBILITY_PAUSE_MARKER=str(marker), FEASIBILITY_PAUSE_SECONDS=str(seconds))
    proc = subprocess.Popen([SNAKEMAKE, *args], cwd=proj, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 180
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the run never reached {fragment}:\n{proc.stdout.read()[-3000:]}")
        time.sleep(0.05)
    return proc, marker


@pytest.mark.parametrize("rule,fragment", [
    pytest.param(r, f, id=r, marks=[] if r == QUICK_INTERRUPT else [pytest.mark.slow])
    for r, f in INTERRUPT_AT])
def test_a_build_killed_in_any_rule_reruns_to_identical_outputs(project, built_project, rule, fragment):
    expected = reference_outputs(built_project)
    for rel in LATER[rule]:                           # a build that has got as far as `rule`
        path = project / "results" / rel
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    proc, _ = start_paused(project, fragment)         # ... killed while `rule` writes
    os.killpg(proc.pid, signal.SIGKILL)               # power cut: no clean-up at all
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
    assert not list((project / "results").rglob("*.part")), f"{rule}: temporary files left behind"


def test_a_second_run_in_the_same_folder_is_refused_and_neither_is_corrupted(project, built_project):
    first, _ = start_paused(project, "results/tables/table2.html", "--forcerun", "table", seconds=5)
    second = run_snakemake(project)
    out = second.stdout + second.stderr
    assert second.returncode != 0
    assert "Directory cannot be locked" in out
    rest, _ = first.communicate(timeout=300)
    assert first.returncode == 0, rest[-3000:]
    assert reference_outputs(project) == reference_outputs(built_project)
