"""Test utility: the paper's per-form interface from today's validation, as the workflow
builds it (the temporary rule ``forms_interface``, ``feasibility.analysis.legacy``).

It runs ``snakemake validate`` in a temporary copy of the project and writes
``<form>.parquet``, ``codebook.json`` and ``missing_codes.parquet`` from its twelve
``results/validated/<export>.parquet`` with ``feasibility.analysis.legacy.write_interface``.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from feasibility.analysis.legacy import write_interface

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
PROJECT = ["Snakefile", "config", "profiles", "workflow", "schemas", "report"]


def copy_project(dest: Path, raw: Path | None = None) -> Path:
    """The project's workflow files copied to ``dest``, with ``raw`` (default: the shipped
    ``data/raw``) as its ``data/raw``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROJECT:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, dest / name)
    shutil.copytree(raw or ROOT / "data" / "raw", dest / "data" / "raw")
    return dest


def validate_today(workdir: Path, raw: Path | None = None, timeout: int = 3600) -> Path:
    """Run ``snakemake validate`` in a copy of the project under ``workdir``; return the
    copy (its ``results/validated/`` and ``data/raw/``)."""
    project = copy_project(workdir, raw)
    res = subprocess.run([SNAKEMAKE, "validate", "--quiet"], cwd=project, capture_output=True,
                         text=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError(f"snakemake validate failed:\n{res.stderr[-4000:]}")
    return project


def build_interface(workdir: Path, raw: Path | None = None) -> Path:
    """``snakemake validate`` on ``raw`` (default: the shipped data) in a copy under
    ``workdir``, then the interface written to ``workdir/validated``."""
    project = validate_today(workdir / "project", raw)
    return write_interface(project / "results" / "validated",
                           project / "data" / "raw" / "data_dictionary.csv",
                           workdir / "validated")


if __name__ == "__main__":      # python tests/analysis/legacy.py OUT [RAW]
    import tempfile

    target = Path(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        built = build_interface(Path(tmp), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(built, target)
    print(f"wrote the validated-data interface to {target}")
