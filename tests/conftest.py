"""Shared fixtures: a throwaway copy of the project to run Snakemake in."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from projectcopy import copy_project, run_snakemake


def shared_dir(tmp_path_factory, name: str, make) -> Path:
    """A folder made once per test run by ``make(folder)`` and shared by every pytest-xdist
    worker (the first to ask makes it while the others wait for it; a worker that finds it
    unmade, as after a failed attempt, makes it again). Read-only for the tests: one that
    must change it copies it (``shutil.copytree(..., symlinks=True)`` or ``cp -a``)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder, done = base / f"shared-{name}", base / f"shared-{name}.done"
    with open(base / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                if folder.exists():
                    shutil.rmtree(folder)
                folder.mkdir()
                make(folder)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


def _build(proj: Path) -> None:
    copy_project(proj)
    res = run_snakemake(proj, timeout=900)  # one build for the whole run: room for a loaded machine
    assert res.returncode == 0, res.stderr[-3000:]


@pytest.fixture(scope="session")
def built_project(tmp_path_factory) -> Path:
    """The project copied and built once with `snakemake` (shared by read-only tests, and
    by the workers of a `-n 2` run: one build per run)."""
    return shared_dir(tmp_path_factory, "built", _build)


# The longest tests start first, so that with `-n 2` neither worker is left with one of
# them at the end (the cluster run alone takes minutes: one process per job).
LONGEST_FIRST = (
    "test_cluster_executor_gives_the_same_outputs_as_a_local_run",
    "test_a_build_killed_in_any_rule_reruns_to_identical_outputs",
    "test_generator_regenerates_the_shipped_exports_byte_for_byte",
    # the longest of the quick subset (`--durations`, measured under load)
    "test_configfile_does_not_merge_with_the_default_study",
    "test_the_saved_analysis_dataset_gives_the_same_tables_and_flow",
    "test_configfile_runs_that_study_instead_of_the_default_one",
    "test_lint_is_clean",
    "test_the_saved_analysis_dataset_gives_the_same_figures_byte_for_byte",
    "test_snakemake_schemas_writes_each_instruments_pandera_schema",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.originalname, len(rank)))
