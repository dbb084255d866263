"""The analysis is configuration (issue 16.4, 16.5): on copies of the default study, adding
a table row, an instrument or a time point is a change to the study file only, and reruns
only the jobs it touches; a study without a published-values file skips the audit and the
reproduction cleanly, and one with its own published values gets them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import records_helpers as rh
from projectcopy import ROOT, copy_project, jobs_run, results_of, run_snakemake

# what every change to the tables reruns after them: the named values (they read the cells),
# the comparison with the paper, and the report
AFTER_TABLES = {"values", "reproduction", "report_sources", "render", "all"}


@pytest.fixture
def project(built_project, tmp_path) -> Path:
    """A private copy of the built default study (results, .snakemake metadata and all)."""
    dest = tmp_path / "proj"
    shutil.copytree(built_project, dest, symlinks=True)
    return dest


def edit_study(project: Path, change) -> dict:
    """Apply ``change`` to the copy's study file (config/config.yaml) and write it back."""
    path = project / "config" / "config.yaml"
    study = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(study)
    path.write_text(yaml.safe_dump(study, sort_keys=False, allow_unicode=True, width=100), encoding="utf-8")
    return study


def dry_run(project: Path) -> set[str]:
    res = run_snakemake(project, "--dry-run")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    return jobs_run(res.stdout + res.stderr)


def cells(project: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(results_of(project) / "tables" / f"{table}.csv", dtype=str, keep_default_na=False)


def unchanged(project: Path, built: Path, *files: str) -> list[str]:
    """The files of ``files`` whose bytes differ between the copy and the build."""
    return [
        f for f in files if (results_of(project) / f).read_bytes() != (results_of(built) / f).read_bytes()
    ]


def test_rewriting_the_study_file_without_changing_it_reruns_nothing(project):
    edit_study(project, lambda s: None)  # the same declarations, written another way
    assert dry_run(project) == set()


def add_row(study: dict) -> None:
    study["tables"]["table2"]["rows"][0]["variables"].append(
        {"variable": "dem_prev_worked", "type": "dichotomous", "label": "Previously worked, n (%)"}
    )


def test_a_new_table_row_reruns_that_table_only(project):
    edit_study(project, add_row)
    assert dry_run(project) == {"table[table=table2]"} | AFTER_TABLES


@pytest.mark.slow
def test_a_new_table_row_adds_its_cells_and_changes_no_other_output(project, built_project):
    edit_study(project, add_row)
    res = run_snakemake(project)
    assert res.returncode == 0, res.stderr[-3000:]
    assert jobs_run(res.stderr) == {"table[table=table2]"} | AFTER_TABLES
    # by hand from the raw export: the enrolled who had previously worked, of all 31
    rows = rh.form_rows(project / "data" / "raw", ["dem_prev_worked"], event="baseline")
    worked = sum(r["dem_prev_worked"] == "1" for r in rows)
    row = cells(project, "table2").set_index("row_label").loc["Previously worked, n (%)"]
    assert (row["n"], row["denominator"], row["text"]) == (
        str(worked),
        "31",
        f"{worked} ({round(100 * worked / 31)})",
    )
    before, after = cells(built_project, "table2"), cells(project, "table2")
    assert (
        after.drop(after.index[after["row_label"] == "Previously worked, n (%)"])
        .reset_index(drop=True)
        .equals(before)
    )
    assert (
        unchanged(
            project,
            built_project,
            "tables/table3.csv",
            "tables/table4.html",
            "tables/feasibility_metrics.html",
            "figures/consort.svg",
            "reproduction/comparison.csv",
        )
        == []
    )
    assert "Previously worked" in (results_of(project) / "report/feasibility.html").read_text()


def add_instrument(study: dict) -> None:
    # the HADS scored a second time, without imputation, under other names, and a row of it
    study["instruments"]["hads_complete"] = {
        "scorer": "hads",
        "form": "health_questionnaire",
        "parameters": {"missing_items": {"max_missing": 0, "method": "none"}},
        "rename": {"hads_anxiety": "anxiety_complete", "hads_depression": "depression_complete"},
        "labels": {"hads_anxiety": "HADS anxiety, complete answers"},
    }
    study["tables"]["table2"]["rows"][-1]["variables"].append({"variable": "anxiety_complete"})


def run(project: Path) -> set[str]:
    res = run_snakemake(project)
    assert res.returncode == 0, res.stderr[-3000:]
    return jobs_run(res.stderr)


def test_a_change_to_the_analysis_reruns_nothing_before_it(project):
    """A dry run lists the analysis and, until that checkpoint has run, what comes after it
    (the run itself reruns only the tables whose part of the analysis changed: below);
    never the validation or the audit."""
    edit_study(project, add_instrument)
    ran = dry_run(project)
    assert "analysis" in ran and "table[table=table2]" in ran
    assert not {"validate", "audit"} & ran


@pytest.mark.slow
def test_a_new_instrument_reruns_the_analysis_and_the_table_that_shows_it(project, built_project):
    edit_study(project, add_instrument)
    # the analysis dataset gains its scores; the other tables read nothing of it (today's figures, which a dry run before the analysis checkpoint
    # lists, may run again: they come out byte for byte as they were)
    ran = run(project)
    assert {"analysis", "table[table=table2]"} | AFTER_TABLES <= ran
    assert not {f"table[table={t}]" for t in ("table3", "table4", "table5", "feasibility_metrics")} & ran
    assert not {"validate", "audit"} & ran
    table2 = cells(project, "table2").set_index("row_label")
    assert "HADS anxiety, complete answers" in table2.index
    # the imputed HADS anxiety row stays as it was; one participant had an item blank at
    # baseline (Appendix C), so the complete-answers score has one fewer and a missing row
    imputed = table2.loc["HADS anxiety"]
    complete = table2.loc["HADS anxiety, complete answers"]
    assert int(complete["n"]) == int(imputed["n"]) - 1
    assert table2.loc["HADS anxiety, complete answers: missing", "n"] == "1"
    records = pd.read_parquet(results_of(project) / "analysis" / "timepoints.parquet")
    assert {"anxiety_complete", "depression_complete"} <= set(records.columns)
    assert (
        unchanged(
            project,
            built_project,
            "tables/table3.csv",
            "tables/table5.html",
            "figures/completeness.svg",
            "figures/consort.svg",
        )
        == []
    )


@pytest.mark.slow
def test_a_new_time_point_reruns_the_analysis_and_no_table_that_does_not_show_it(project, built_project):
    """A 12-month follow-up declared (its event in the schedule): the analysis dataset is
    made again for every time point and the methods name it; no table shows it, so none
    reruns. (A column at a new time point: tests/analysis/test_paper_declaration.py, on
    an interface that holds such an event.)"""

    def add(study):
        study["timepoints"]["schedule"]["month12"] = {"event": "month12_arm_1", "label": "12 months"}

    edit_study(project, add)
    ran = run(project)
    assert {"analysis", "report_sources", "render"} <= ran
    assert not {j for j in ran if j.startswith("table[")}
    methods = (results_of(project) / "report/build/_generated/timepoints.md").read_text()
    assert methods.startswith("Time points: baseline, 6 weeks, 14 weeks, 6 months and 12 months")
    assert (
        unchanged(project, built_project, "tables/table3.csv", "values/values.json", "figures/timeline.svg")
        == []
    )


@pytest.mark.slow
def test_a_changed_derived_variable_reruns_the_tables_that_read_it(project, built_project):
    def change(study):
        # case-management hours as whole hours: the feasibility metrics read it, Tables
        # 2-5 do not
        study["derived"]["cm_hours"]["expr"] = "round(cm_total_minutes / 60)"

    edit_study(project, change)
    ran = run(project)
    assert {"analysis", "table[table=feasibility_metrics]"} <= ran
    assert (
        not {"table[table=table2]", "table[table=table3]", "table[table=table4]", "table[table=table5]"} & ran
    )
    # whole hours per person: the total is a whole number now (it was 170.6)
    metrics = cells(project, "feasibility_metrics").set_index("row_label")
    assert metrics.loc["Total hours", "text"].endswith(".0")


@pytest.mark.slow
def test_without_published_values_the_audit_and_the_reproduction_are_skipped(project):
    edit_study(project, lambda s: s["paths"].update(published_values=None))
    shutil.rmtree(results_of(project) / "reproduction")
    res = run_snakemake(project)
    assert res.returncode == 0, res.stderr[-3000:]
    ran = jobs_run(res.stderr)
    assert not {"audit", "reproduction"} & ran and "values" in ran
    assert not (results_of(project) / "reproduction").exists()
    values = json.loads((results_of(project) / "values" / "values.json").read_text())["values"]
    assert not any("paper" in v for v in values.values())  # nothing to compare with
    html = (results_of(project) / "report" / "feasibility.html").read_text()
    assert "Appendix A" not in html and "Appendix B" not in html and "paper: " not in html
    assert "Appendix C: Data validation" in html


@pytest.mark.slow
def test_a_study_with_its_own_published_values_is_audited_and_compared(tmp_path):
    """Another study (the paper's data, one table, no named values, the default report)
    whose published-values file holds only that table's numbers."""
    (tmp_path / "other").mkdir()
    proj = copy_project(tmp_path / "other")
    study = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    study["tables"] = {"table5": study["tables"]["table5"]}
    study["values"] = {}
    study["figures"] = {}
    study["report"] = {"title": "Job outcomes"}
    published = yaml.safe_load((ROOT / "config" / "published_values.yaml").read_text())
    (proj / "config" / "other.yaml").write_text(
        yaml.safe_dump({**study, "paths": {"published_values": "other_values.yaml"}}, sort_keys=False)
    )
    (proj / "config" / "other_values.yaml").write_text(
        yaml.safe_dump({"table5_jobs": published["table5_jobs"]}, sort_keys=False)
    )
    res = run_snakemake(proj, "--configfile", "config/other.yaml")
    assert res.returncode == 0, res.stderr[-3000:]
    ran = jobs_run(res.stderr)
    assert {"audit", "reproduction", "table[table=table5]"} <= ran
    assert not {"figure[figure=consort]", "table[table=table2]"} & ran
    comparison = pd.read_csv(results_of(proj) / "reproduction" / "comparison.csv")
    assert comparison["key"].str.startswith("table5_jobs.").all() and len(comparison) == 6
    assert (comparison["status"] == "match").all(), comparison.to_string()
    html = (results_of(proj) / "report" / "feasibility.html").read_text()
    assert "Job outcomes" in html and "Appendix A: Reproduction against the publication" in html
