"""Shared fixtures: a throwaway copy of the project to run Snakemake in."""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """The project copied and built once with `snakemake` (shared by read-only tests)."""
    proj = copy_project(tmp_path_factory.mktemp("built"))
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    return proj


# The longest tests start first, so that with `-n 2` neither worker is left with one of
# them at the end (the cluster run alone takes minutes: one process per job).
LONGEST_FIRST = ("test_cluster_executor_gives_the_same_outputs_as_a_local_run",
                 "test_a_build_killed_in_any_rule_reruns_to_identical_outputs",
                 "test_generator_regenerates_the_shipped_exports_byte_for_byte")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.originalname, len(rank)))
