"""What the tests share: a throwaway copy of the project, Snakemake runs in it, checksums.

A module of its own (not ``conftest``), so that test folders with their own ``conftest.py``
(tests/redcap, tests/analysis, ...) cannot shadow it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
COPY = ["Snakefile", "config", "profiles", "workflow", "schemas", "report", "data"]


def copy_project(dest: Path) -> Path:
    for name in COPY:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def run_snakemake(cwd: Path, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*"))}


def checksums_tree(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``, keyed by its path relative to ``folder``."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def jobs_run(output: str) -> set[str]:
    """The jobs a Snakemake run started (or a dry run would start), as 'rule[wildcards]'."""
    import re

    jobs = set()
    for block in re.split(r"\n(?=(?:local)?(?:rule|checkpoint) \w+:\n)", output):
        m = re.match(r"(?:local)?(?:rule|checkpoint) (\w+):\n", block)
        if not m:
            continue
        wc = re.search(r"^    wildcards: (.*)$", block, re.MULTILINE)
        jobs.add(f"{m[1]}[{wc[1]}]" if wc else m[1])
    return jobs


# Each study's outputs are under results/<id>/ (study.id of its study file): the paper's
# study (config/config.yaml) is `feasibility`, the full trial's `full-trial`. Its reports
# are report/<id>.html and .pdf and report/<id>-quality.html and .pdf there.
PAPER, TRIAL = "feasibility", "full-trial"


def results_of(project: Path, study: str = PAPER) -> Path:
    """A study's folder of results in a project (copy): ``results/<id>``."""
    return Path(project) / "results" / study


def target(rel: str, study: str = PAPER) -> str:
    """A Snakemake target of a study, relative to the project: ``results/<id>/<rel>``."""
    return f"results/{study}/{rel}"
