"""Fixture projects validated once per session (quality_helpers.validated)."""

from __future__ import annotations

import pytest
from quality_helpers import validated

from feasibility.quality import QualityData


@pytest.fixture(scope="session")
def fixture_data(tmp_path_factory):
    cache: dict[str, QualityData] = {}

    def get(name: str) -> QualityData:
        if name not in cache:
            cache[name] = validated(name, tmp_path_factory.mktemp(name))
        return cache[name]

    return get


@pytest.fixture
def classic(fixture_data) -> QualityData:
    return fixture_data("classic")


@pytest.fixture
def long(fixture_data) -> QualityData:
    return fixture_data("long")


@pytest.fixture
def pilot(fixture_data) -> QualityData:
    return fixture_data("pilot")


@pytest.fixture
def lab(fixture_data) -> QualityData:
    return fixture_data("lab")
