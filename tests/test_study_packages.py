"""Each study's own code lives in its study package (feasibility/studies/<study>/), which no
generic module imports: a study file names its package (study.package) and the pipeline
loads it by name. The generic audit and labels serve any study with published values."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from feasibility import audit, publication, reproduction
from feasibility.narrative import render_value

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "workflow" / "feasibility"
STUDIES = "feasibility.studies"


def _imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative imports made absolute."""
    parts = ["feasibility", *path.relative_to(PKG).with_suffix("").parts]
    package = parts[:-1]  # a module's package; an __init__.py's is its own
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def test_no_generic_module_imports_a_study_package():
    generic = [p for p in sorted(PKG.rglob("*.py")) if "studies" not in p.relative_to(PKG).parts]
    assert len(generic) > 50
    wrong = [
        f"{p.relative_to(ROOT)}:{line}: {module}"
        for p in generic
        for line, module in _imported(p)
        if module == STUDIES or module.startswith(STUDIES + ".")
    ]
    assert not wrong, "generic modules import a study package:\n" + "\n".join(wrong)


def test_the_walk_sees_relative_and_absolute_imports_of_a_study(tmp_path, monkeypatch):
    """The check itself: a generic module importing the paper's CRF either way is found."""
    fake = PKG / "figures" / "common.py"
    source = fake.read_text(encoding="utf-8")
    for line in (
        "from ..studies.pilot2020 import crf",
        "import feasibility.studies.pilot2020.crf",
        "from feasibility.studies import pilot2020",
    ):
        monkeypatch.setattr(Path, "read_text", lambda self, encoding=None, _l=line: source + _l + "\n")
        assert any(m.startswith(STUDIES) for _, m in _imported(fake)), line


def test_a_data_folder_holds_data_only():
    for folder in (ROOT / "data").iterdir():
        if folder.is_dir():
            assert not list(folder.glob("*.py")), folder


def test_the_paper_names_its_package_and_the_trial_none():
    paper = yaml.safe_load((ROOT / "config/config.yaml").read_text(encoding="utf-8"))
    trial = yaml.safe_load((ROOT / "config/studies/full-trial.yaml").read_text(encoding="utf-8"))
    assert publication.load(paper).__name__ == "feasibility.studies.pilot2020"
    assert publication.load(trial) is publication


PUBLISHED = """
outcomes:
  n: 10
  granularity: 1
  range: [0, 10]
  score:
    mean_sd: [4.5, 2.0]
  bad:
    mean_sd: [4.55, 2.0]      # no mean of 10 whole numbers prints 4.55
  wide:
    mean_sd: [5.0, 9.0]       # SD above the largest for 0-10 with mean 5
  women:
    n_pct: [3, 30]
  men:
    n_pct: [7, 71]            # 7/10 is 70%
days:
  median_iqr: [12, 3, 10]     # median above its upper quartile
change:
  ci: [1.0, -1.0, 3.0]
"""


def test_the_generic_audit_checks_any_published_values_by_shape():
    published = yaml.safe_load(PUBLISHED)
    rows = audit.audit_published(published, {"instruments": {}})
    verdict = {(k, c): v for k, c, v in zip(rows["key"], rows["check"], rows["verdict"])}
    assert verdict[("outcomes.score.mean_sd", "GRIM mean")] == audit.CONSISTENT
    assert verdict[("outcomes.score.mean_sd", "GRIMMER SD")] == audit.CONSISTENT
    assert verdict[("outcomes.bad.mean_sd", "GRIM mean")] == audit.INCONSISTENT
    assert verdict[("outcomes.wide.mean_sd", "SD within maximum for range, mean and n")] == audit.INCONSISTENT
    assert verdict[("outcomes.women.n_pct", "percentage of n")] == audit.CONSISTENT
    assert verdict[("outcomes.men.n_pct", "percentage of n")] == audit.INCONSISTENT
    assert verdict[("days.median_iqr", "median within IQR")] == audit.INCONSISTENT
    assert verdict[("change.ci", "CI centred on estimate")] == audit.CONSISTENT
    assert set(rows["verdict"]) <= set(audit.VERDICTS)


def test_the_generic_language_labels_and_prints_any_published_values():
    published = yaml.safe_load(PUBLISHED)
    assert publication.location("outcomes.score.mean_sd") == "Outcomes · Score · Mean sd"
    assert publication.printed("outcomes.score.mean_sd", [4.5, 2.0]) == "4.5 (2.0)"
    assert publication.printed("days.median_iqr", [12, 3, 10]) == "12 (3 to 10)"
    assert publication.printed("outcomes.men.n_pct", [7, 71]) == "7 (71)"
    values = {
        "score": {
            "kind": "mean_sd",
            "parts": {"mean": 4.54, "sd": 2.0},
            "decimals": {"mean": 2, "sd": 1},
            "published": {"outcomes.score.mean_sd": ["mean", "sd"]},
            "paper": {"outcomes.score.mean_sd": [4.5, 2.0]},
        }
    }
    rows = audit.audit_published(published, {"instruments": {}})
    comparison = reproduction.compare(published, values, rows)
    score = comparison.set_index("key").loc["outcomes.score.mean_sd"]
    assert (score["location"], score["published"], score["reproduced"], score["status"]) == (
        "Outcomes · Score · Mean sd",
        "4.5 (2.0)",
        "4.5 (2.0)",
        reproduction.MATCH,
    )
    assert render_value(values["score"], "mean") == "4.54"


def test_synth_without_a_study_generator_says_so(capsys):
    from feasibility.synth.__main__ import main

    assert main(["--config", str(ROOT / "config/studies/full-trial.yaml"), "--out", "unused"]) == 1
    err = capsys.readouterr().err
    assert "names no study package with a synthetic generator (study.package)" in err
    assert "feasibility dummy" in err and "Traceback" not in err


def test_a_study_package_that_cannot_be_imported_stops_the_run(tmp_path):
    import subprocess
    import sys

    trial = ROOT / "data" / "full-trial"
    study = tmp_path / "wing-bad-package.yaml"
    study.write_text(
        yaml.safe_dump(
            {
                "study": {"title": "A study", "package": "no_such_study_package"},
                "redcap": {
                    "records": str(trial / "records.csv"),
                    "dictionary": str(trial / "data_dictionary.csv"),
                    "instrument_designations": str(trial / "instrument_designations.csv"),
                    "events": str(trial / "events.csv"),
                    "allow_paths_outside": True,
                },
            }
        )
    )
    run = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-c1", "--configfile", str(study)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode != 0
    assert "study.package: 'no_such_study_package' cannot be imported" in run.stderr
    assert str(study) in run.stderr or study.name in run.stderr
    assert "Traceback" not in run.stderr


def test_the_steps_that_use_the_study_package_rerun_when_its_code_changes(tmp_path):
    """The package is loaded by name, so no import names it: the rules add its files
    (study_code()) to the code inputs of the steps that use it, and only those."""
    import re

    from projectcopy import copy_project, run_snakemake

    project = copy_project(tmp_path)
    run = run_snakemake(project, "-n", "-c1", "--forceall", "results/feasibility/report/feasibility.html")
    assert run.returncode == 0, run.stderr[-2000:]
    inputs = {m[1]: m[2] for m in re.finditer(r"(?:local)?rule (\w+):\n    input: ([^\n]*)", run.stdout)}
    package = "workflow/feasibility/studies/pilot2020/"
    using = {rule for rule, files in inputs.items() if package in files}
    assert using == {"audit", "values", "reproduction", "report_sources"}, using
    for rule in using:
        assert f"{package}paper.py" in inputs[rule] and f"{package}audit.py" in inputs[rule]
        assert f"{package}synth/" not in inputs[rule]
