"""Two clean builds of the same data are byte-identical (issue 6: a reproducible report).

The second build runs in another fresh copy at a different, deeper path, in another time
zone, locale and string-hash seed, so that an absolute path, the local clock or a set's
iteration order leaking into an output shows up as a difference.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from projectcopy import copy_project, results_of, run_snakemake

# Every output that is published or read by a later step; logs are not outputs.
COMPARED = [
    "tables/*",
    "figures/*",
    "reproduction/*",
    "values/*",
    "analysis/*",
    "validated/*",
    "validation/report.*",
    "report/feasibility.html",
    "report/feasibility.pdf",
    "report/build/_generated/*",
    "quality/*/*",
    "report/feasibility-quality.html",
    "report/feasibility-quality.pdf",
]


def outputs(project: Path) -> dict[str, bytes]:
    results = results_of(project)
    return {
        p.relative_to(results).as_posix(): p.read_bytes()
        for pattern in COMPARED
        for p in sorted(results.glob(pattern))
        if p.is_file()
    }


def first_difference(a: bytes, b: bytes) -> str:
    """Where two versions of a file part: the first differing lines, or the byte offset."""
    try:
        lines = difflib.unified_diff(a.decode().splitlines(), b.decode().splitlines(), lineterm="", n=0)
        return "\n".join(list(lines)[2:8])
    except UnicodeDecodeError:
        at = (
            next(i for i, (x, y) in enumerate(zip(a, b)) if x != y)
            if len(a) == len(b)
            else min(len(a), len(b))
        )
        return f"bytes differ from offset {at}: {a[at : at + 60]!r} vs {b[at : at + 60]!r}"


@pytest.fixture(scope="module")
def second_build(built_project, tmp_path_factory, monkeypatch_module) -> Path:
    """A second build; ``built_project`` (the first) is made before the environment changes."""
    dest = tmp_path_factory.mktemp("second") / "elsewhere" / "deeper"
    dest.mkdir(parents=True)
    proj = copy_project(dest)
    monkeypatch_module.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: another calendar day
    monkeypatch_module.setenv("LC_ALL", "C.UTF-8")
    monkeypatch_module.setenv("PYTHONHASHSEED", "4242")
    res = run_snakemake(proj)
    assert res.returncode == 0, res.stderr[-3000:]
    return proj


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.slow  # runs the whole workflow again (quick run: -m "not slow")
def test_two_clean_builds_are_byte_identical(built_project, second_build):
    first, second = outputs(built_project), outputs(second_build)
    for must in (
        "report/feasibility.html",
        "report/feasibility.pdf",
        "tables/table2.csv",
        "figures/consort.svg",
        "figures/timeline.png",
        "analysis/timepoints.parquet",
        "validated/codebook.json",
        "reproduction/comparison.csv",
    ):
        assert must in first, must
    assert sorted(first) == sorted(second)
    differ = {
        name: first_difference(first[name], second[name]) for name in first if first[name] != second[name]
    }
    assert not differ, "\n\n".join(f"{name}:\n{where}" for name, where in differ.items())


@pytest.mark.slow  # runs the whole workflow again (quick run: -m "not slow")
def test_no_output_names_the_build_folder(built_project, second_build):
    for project in (built_project, second_build):
        for name, data in outputs(project).items():
            assert str(project).encode() not in data, name
