"""Shared fixtures: a throwaway copy of the project to run Snakemake in."""
from __future__ import annotations

from pathlib import Path

import pytest

from projectcopy import copy_project, run_snakemake


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
