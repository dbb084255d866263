"""Fixtures of the full trial's tests: its study file, its project, a small generated
cohort validated and analysed through the libraries (once per session)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "analysis"))  # minimal.py: a hand-made 2-arm project
sys.path.insert(0, str(HERE.parent / "redcap"))  # redcap_helpers.py: the fixture projects

from trial_helpers import STUDY  # noqa: E402


@pytest.fixture(scope="session")
def study() -> dict:
    return yaml.safe_load(STUDY.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def project(study):
    from feasibility.synth.dummy import study_project

    return study_project(study, STUDY.parent)


@pytest.fixture(scope="session")
def cohort(tmp_path_factory, study):
    """A small trial cohort made by the generator's command line: its export, validated
    data and analysis (n = 160 screened, about 95 randomised)."""
    import trial_helpers

    return trial_helpers.Cohort.make(tmp_path_factory.mktemp("cohort"), study, n=160, seed=11)
