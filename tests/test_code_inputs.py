"""Each rule's code inputs come from the package's import graph (issue 22.6): editing a
module a step imports, however deep, reruns that step (and what reads its outputs) and
nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from feasibility.imports import SOURCE, closure, step_modules
from feasibility.report_sections import report_inputs
from projectcopy import ROOT, jobs_run, run_snakemake


def test_a_step_runs_what_its_entry_point_imports_and_nothing_else():
    figure = step_modules("figure")
    # pipeline.figure -> figures.build -> figures.completeness -> figures.data, three imports deep
    assert {"feasibility.figures.build", "feasibility.figures.data", "feasibility.analysis.flow"} <= figure
    validate = step_modules("validate")
    assert {"feasibility.redcap.logic.syntax", "feasibility.redcap.tidy", "feasibility.io"} <= validate
    # validation runs no analysis, no figure and no report code; rendering runs no analysis
    assert not {
        m
        for m in validate
        if m.startswith(("feasibility.analysis", "feasibility.figures", "feasibility.report_content"))
    }
    assert not {m for m in step_modules("render") if m.startswith("feasibility.analysis")}
    # a module loaded by name is named besides: a table's kind, with what it imports
    assert "feasibility.analysis.compare" in closure(["feasibility.tables.baseline"])
    with pytest.raises(KeyError, match="no entry point 'nonesuch'"):
        step_modules("nonesuch")


@pytest.fixture
def project(built_project, tmp_path) -> Path:
    """A private copy of the built default study (results, .snakemake metadata and all)."""
    dest = tmp_path / "proj"
    shutil.copytree(built_project, dest, symlinks=True)
    return dest


def test_editing_a_deep_module_reruns_exactly_the_steps_that_import_it(project):
    """figures/data.py is imported only through the figure step (pipeline.figure ->
    figures.build -> figures.completeness -> figures.data): editing it reruns every figure
    the report shows, then the report; no validation, analysis, table or quality job."""
    deep = project / "workflow" / "feasibility" / "figures" / "data.py"
    assert deep.relative_to(project / "workflow" / "feasibility") == (
        SOURCE / "figures" / "data.py"
    ).relative_to(SOURCE)
    deep.write_text(deep.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    res = run_snakemake(project, "--dry-run")
    assert res.returncode == 0, (res.stdout + res.stderr)[-3000:]
    study = yaml.safe_load((ROOT / "config" / "config.yaml").read_text(encoding="utf-8"))
    figures = report_inputs(study)["figure"]
    assert figures, "the default study's report shows no figure"
    assert jobs_run(res.stdout + res.stderr) == (
        {f"figure[figure={f}]" for f in figures} | {"report_sources", "render", "all"}
    )
