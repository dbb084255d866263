"""Fixtures of the analysis tests: the paper's validated-data interface (built once from
today's pipeline, tests/analysis/legacy.py) and its declaration."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

PAPER_YAML = ROOT / "config" / "analysis.paper.yaml"


@pytest.fixture(scope="session")
def paper_interface(tmp_path_factory) -> Path:
    """``results/validated/`` as the input layer will write it, from today's snakemake
    validate on the shipped data (about 5 s, once per session)."""
    import legacy
    return legacy.build_interface(tmp_path_factory.mktemp("paper"))


@pytest.fixture()
def paper_config() -> dict:
    """A fresh copy of the paper's analysis declaration (tests may change it)."""
    return yaml.safe_load(PAPER_YAML.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def paper_study(paper_interface):
    from feasibility.analysis import StudyData
    return StudyData.read(paper_interface)
