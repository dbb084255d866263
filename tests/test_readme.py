"""Every command the README shows works as written in a fresh shell after its set-up
command (the virtual environment not activated, not on PATH), and the `feasibility`
console script does what it says (issue 12.7)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from projectcopy import ROOT, copy_project

README = (ROOT / "README.md").read_text(encoding="utf-8")
SETUP = 'python3 -m venv .venv && .venv/bin/pip install -e ".[test]"'
VENV_BIN = Path(sys.executable).parent


def readme_commands() -> list[str]:
    """Commands in indented code blocks, and inline commands that start with .venv/bin/."""
    block = [ln.strip() for ln in re.findall(r"(?m)^(?: {4}|\t)(\S.*)$", README)]
    block = [
        ln
        for ln in block
        if re.match(r"(\.venv/|python3? |pip |snakemake|feasibility|pytest)", ln)
        and not ln.split()[0].endswith(":")
    ]  # a YAML example, not a command
    inline = re.findall(r"`(\.venv/bin/[^`]+)`", README)
    return list(dict.fromkeys(block + inline))


def fresh_shell_env() -> dict[str, str]:
    """The environment of a new shell: no virtual environment on PATH or activated."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if Path(p).resolve() != VENV_BIN.resolve()
    )
    return env


def test_every_command_uses_the_virtual_environment_explicitly():
    commands = readme_commands()
    assert SETUP + " && .venv/bin/snakemake" in commands
    assert ".venv/bin/python -m pytest -n 2" in commands
    assert '.venv/bin/python -m pytest -n 2 -m "not slow"' in commands
    for cmd in commands:
        for part in re.split(r"\s*&&\s*", cmd):
            if part.startswith("python3 -m venv"):
                continue
            assert part.startswith(".venv/bin/"), f"{cmd!r}: not runnable in a fresh shell"
            exe = part.split()[0].removeprefix(".venv/bin/")
            assert (VENV_BIN / exe).exists(), f"{cmd!r}: the set-up makes no .venv/bin/{exe}"


@pytest.mark.parametrize("sub", ["", "validate", "build", "synth"])
def test_feasibility_help(sub):
    res = subprocess.run(
        [str(VENV_BIN / "feasibility"), *([sub] if sub else []), "--help"],
        capture_output=True,
        text=True,
        env=fresh_shell_env(),
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "usage: feasibility" in res.stdout
    if sub in ("validate", "build"):
        assert "--configfile STUDY.yaml" in res.stdout and "passed to Snakemake" in res.stdout
    if sub == "synth":
        assert "--n N" in res.stdout and "--out OUT" in res.stdout


def test_feasibility_outside_a_project_says_so(tmp_path):
    res = subprocess.run(
        [str(VENV_BIN / "feasibility"), "validate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=fresh_shell_env(),
        timeout=60,
    )
    assert res.returncode == 2 and "no Snakefile in" in res.stderr


@pytest.mark.slow
def test_readme_commands_run_as_written_in_a_fresh_shell(tmp_path):
    """Each command, in a copy of the project where .venv is this environment: Snakemake
    commands as dry runs, pytest commands collecting only, the generator for real."""
    proj = tmp_path / "proj"
    proj.mkdir()
    copy_project(proj)
    (proj / ".venv").symlink_to(VENV_BIN.parent)
    study = tmp_path / "study" / "study.yaml"
    shutil.copytree(ROOT / "data" / "raw", study.parent / "exports")
    shutil.copy(ROOT / "config" / "published_values.yaml", study.parent / "published_values.yaml")
    block = re.search(r"(?m)^ {4}study: .*\n(?: {4}.*\n)+", README)[0]
    study.write_text("\n".join(line[4:] for line in block.splitlines()) + "\n")
    ran = 0
    for cmd in readme_commands():
        if cmd.startswith(("python3 -m venv", ".venv/bin/pip install")) or "profiles/slurm" in cmd:
            continue  # the set-up (CI runs it from a clean clone); SLURM needs its plugin
        cmd = cmd.replace("path/to/study.yaml", str(study)).replace("DIR", str(tmp_path / "gen"))
        if cmd.startswith(
            (".venv/bin/snakemake", ".venv/bin/feasibility validate", ".venv/bin/feasibility build")
        ):
            if "--unlock" in cmd:
                continue
            cmd += " --dry-run"
        elif " -m pytest" in cmd:
            cmd += f" --collect-only -q --rootdir {ROOT} {ROOT / 'tests' / 'test_readme.py'}"
        elif "benchmarks/" in cmd:  # half an hour: their --help only
            cmd = cmd.split(" [")[0].split(" --n")[0].replace("tests/", f"{ROOT}/tests/") + " --help"
        res = subprocess.run(
            ["bash", "-c", cmd], cwd=proj, capture_output=True, text=True, env=fresh_shell_env(), timeout=300
        )
        assert res.returncode == 0, f"{cmd}:\n{(res.stdout + res.stderr)[-3000:]}"
        ran += 1
    assert ran >= 8
    assert (tmp_path / "gen" / "records.csv").exists()  # the generator ran
    assert (tmp_path / "gen" / "trial" / "records.csv").exists()  # the dummy-data generator ran
    assert shlex.split(SETUP)[0] == "python3"
