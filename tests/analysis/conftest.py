"""Fixtures of the analysis tests: the paper's validated data (its REDCap downloads
validated once per session, as rule validate does: tests/paperdata.py) and its study file,
config/config.yaml."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

PAPER_YAML = ROOT / "config" / "config.yaml"


@pytest.fixture(scope="session")
def paper_interface(tmp_path_factory) -> Path:
    """The validated data (``results/validated``) of the shipped downloads: one
    ``<form>.parquet`` per instrument, ``codebook.json``, ``missing_codes.parquet`` (about
    1 s, once per session)."""
    import paperdata

    return paperdata.write_validated(tmp_path_factory.mktemp("paper") / "validated")


@pytest.fixture()
def paper_config() -> dict:
    """A fresh copy of the paper's study file as written (tests may change it)."""
    return yaml.safe_load(PAPER_YAML.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def _paper_config_checked() -> dict:
    from feasibility.config import load_study

    return load_study(PAPER_YAML)


@pytest.fixture()
def paper_config_checked(_paper_config_checked) -> dict:
    """A fresh copy of the paper's study file as the workflow reads it: checked against
    the schema, paths resolved, defaults filled in."""
    return copy.deepcopy(_paper_config_checked)


@pytest.fixture(scope="session")
def paper_provenance():
    from feasibility.provenance import read_provenance

    return read_provenance(ROOT / "data" / "raw")


@pytest.fixture(scope="session")
def paper_study(paper_interface):
    from feasibility.analysis import StudyData

    return StudyData.read(paper_interface)
