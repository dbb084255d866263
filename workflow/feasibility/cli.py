"""The ``feasibility`` command: thin wrappers over Snakemake and the data generator.

    feasibility validate [--configfile STUDY.yaml] [SNAKEMAKE OPTIONS]   check the exports
    feasibility build    [--configfile STUDY.yaml] [SNAKEMAKE OPTIONS]   build the report
    feasibility synth    [--n N] [--out DIR] ...                          generate data
    feasibility pull     [--configfile STUDY.yaml] [--force]              pull from REDCap's API

``validate`` and ``build`` run Snakemake in the project folder (the working directory,
or ``--directory``), with Snakemake from this installation, so they work without the
virtual environment on PATH. Any option they do not know goes to Snakemake unchanged
(``--cores 1``, ``--dry-run``, ``--config report="{backend: pandoc}"`` ...). The exit
status is Snakemake's. ``pull`` does what ``snakemake pull`` does (a new snapshot of the
project under ``data/<study id>/pulls/``), in this process.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

EPILOG = ("Other options are passed to Snakemake unchanged, e.g. --cores 1, --dry-run, "
          "--config report=\"{backend: pandoc}\". See `snakemake --help`.")


def snakemake_command() -> list[str]:
    """Snakemake of this Python installation (the virtual environment's)."""
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def _run_snakemake(target: list[str], args: argparse.Namespace, extra: list[str]) -> int:
    cmd = snakemake_command() + target
    if args.configfile:
        cmd += ["--configfile", str(args.configfile)]
    cmd += extra
    folder = args.directory or Path.cwd()
    if not (Path(folder) / "Snakefile").is_file() and "--snakefile" not in extra and "-s" not in extra:
        print(f"feasibility: no Snakefile in {Path(folder).resolve()}; run this in the project "
              "folder or give --directory", file=sys.stderr)
        return 2
    return subprocess.run(cmd, cwd=folder).returncode


def _add_snakemake_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--configfile", type=Path, metavar="STUDY.yaml",
                   help="the study file to run instead of config/config.yaml; its paths are "
                        "relative to its own folder")
    p.add_argument("--directory", "-d", type=Path, metavar="DIR",
                   help="the project folder (default: the working directory)")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="feasibility", allow_abbrev=False,
        description="Validate a study's REDCap downloads and build its reports (Snakemake workflow).")
    sub = ap.add_subparsers(dest="command", required=True, metavar="{validate,build,synth,pull}")
    v = sub.add_parser("validate", epilog=EPILOG, allow_abbrev=False,
                       help="check the REDCap downloads against the project's data dictionary (snakemake validate)",
                       description="Check the study's REDCap downloads against its data dictionary and rules: writes "
                                   "results/validation/report.md and the list of every failure; "
                                   "exits non-zero when any check fails.")
    _add_snakemake_options(v)
    b = sub.add_parser("build", epilog=EPILOG, allow_abbrev=False,
                       help="validate, then build the report (snakemake)",
                       description="Validate the downloads and build the reports "
                                   "(results/report/feasibility.* and quality.*); only what the "
                                   "changes since the last build touch is rebuilt.")
    _add_snakemake_options(b)
    p = sub.add_parser("pull", allow_abbrev=False,
                       help="pull the study's REDCap downloads from its API into a new snapshot (snakemake pull)",
                       description="Fetch the records export, data dictionary, designations, events, repeats, "
                                   "project information and project XML from the REDCap API named by the study "
                                   "file's redcap.api section into data/<study id>/pulls/<time>/ (with "
                                   "provenance.json); the study then builds from the latest pull. The token comes "
                                   "from redcap.api.token_env or token_file, never from the command line.")
    _add_snakemake_options(p)
    p.add_argument("--force", action="store_true",
                   help="make a new snapshot even when the project has not changed since the latest pull")
    sub.add_parser("synth", add_help=False,
                   help="generate the paper's synthetic REDCap downloads (python -m feasibility.synth; see synth --help)")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "synth":
        from .synth.__main__ import main as synth_main

        return synth_main(argv[1:], prog="feasibility synth")
    if argv and argv[0] == "pull":
        return _pull(parser().parse_args(argv))
    args, extra = parser().parse_known_args(argv)
    target = ["validate"] if args.command == "validate" else []
    return _run_snakemake(target, args, extra)


def _pull(args: argparse.Namespace) -> int:
    import os

    from .config import DEFAULT_STUDY, ConfigError, load_study
    from .pull import PullError, pull

    if args.directory:
        os.chdir(args.directory)
    study = args.configfile or DEFAULT_STUDY
    try:
        config = load_study(study, pulling=True)
        pull(config, study, force=args.force)
    except (ConfigError, PullError) as err:
        print(f"feasibility pull: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
