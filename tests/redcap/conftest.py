"""Writable copies of the fixture projects (tests/fixtures/redcap)."""

from __future__ import annotations

from pathlib import Path

import pytest
from redcap_helpers import CLASSIC, LAB, LONG, XML, copy_fixture


@pytest.fixture
def classic(tmp_path) -> Path:
    return copy_fixture(CLASSIC, tmp_path)


@pytest.fixture
def long(tmp_path) -> Path:
    return copy_fixture(LONG, tmp_path)


@pytest.fixture
def pilot(tmp_path) -> Path:
    return copy_fixture(XML, tmp_path)


@pytest.fixture
def lab(tmp_path) -> Path:
    return copy_fixture(LAB, tmp_path)
