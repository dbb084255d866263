"""The ``feasibility`` command: thin wrappers over Snakemake and the data generators.

    feasibility validate [--configfile STUDY.yaml] [SNAKEMAKE OPTIONS]   check the exports
    feasibility build    [--configfile STUDY.yaml | --all] [SNAKEMAKE OPTIONS]   build the reports
    feasibility schemas  [--configfile STUDY.yaml] [SNAKEMAKE OPTIONS]   each form's Pandera schema
    feasibility studies                                                 the study files it knows
    feasibility synth    [--n N] [--out DIR] ...     the paper's synthetic downloads
    feasibility dummy    --study STUDY.yaml --out DIR ...   dummy data for any study file
    feasibility pull     [--configfile STUDY.yaml] [--force]   pull from REDCap's API

``validate``, ``build`` and ``schemas`` run Snakemake in the project folder (the working
directory, or ``--directory``), with Snakemake from this installation, so they work
without the virtual environment on PATH. The study file is checked first: a problem is
said once (file, line, key) and nothing runs. Any option they do not know goes to
Snakemake unchanged (``--cores 1``, ``--dry-run``, ``--config report="{backend: pandoc}"``
...). The exit status is Snakemake's. ``pull`` does what ``snakemake pull`` does (a new
snapshot of the project under ``data/<study id>/pulls/``), in this process.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

EPILOG = (
    "Other options are passed to Snakemake unchanged, e.g. --cores 1, --dry-run, "
    '--config report="{backend: pandoc}". See `snakemake --help`.'
)
COMMANDS = ("validate", "build", "schemas", "studies", "synth", "dummy", "pull")


def snakemake_command() -> list[str]:
    """Snakemake of this Python installation (the virtual environment's)."""
    exe = Path(sys.executable).with_name("snakemake")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "snakemake"]


def study_files(folder: Path) -> list[Path]:
    """The study files of a project: the paper's (config/config.yaml), then every file of
    config/studies/, relative to the project folder."""
    default = Path("config") / "config.yaml"
    others = sorted(p.relative_to(folder) for p in (folder / "config" / "studies").glob("*.yaml"))
    return ([default] if (folder / default).is_file() else []) + others


def _check_study(folder: Path, configfile: Path | None) -> str | None:
    """The study's id, or None after printing why its study file cannot be used."""
    from .config import RESULTS, ConfigError, guess_study_id, load_study, study_id

    study = Path(configfile) if configfile else Path("config") / "config.yaml"
    path = study if study.is_absolute() else Path(folder) / study
    try:
        return study_id(load_study([path]))
    except ConfigError as error:
        sid = guess_study_id([path])
        if sid:  # as the workflow does: this study's reports withdrawn
            from .pipeline import withdraw

            withdraw(str(Path(folder) / RESULTS / sid))
        print(f"feasibility: {error}", file=sys.stderr)
        return None


def _run_snakemake(
    target: list[str], args: argparse.Namespace, extra: list[str], configfile: Path | None = None
) -> int:
    configfile = configfile or args.configfile
    folder = Path(args.directory or Path.cwd())
    if not (folder / "Snakefile").is_file() and "--snakefile" not in extra and "-s" not in extra:
        print(
            f"feasibility: no Snakefile in {folder.resolve()}; run this in the project "
            "folder or give --directory",
            file=sys.stderr,
        )
        return 2
    if "--config" not in extra and _check_study(folder, configfile) is None:
        return 1  # said once, before Snakemake (and its traceback)
    cmd = snakemake_command() + target
    if configfile:
        cmd += ["--configfile", str(configfile)]
    cmd += extra
    return subprocess.run(cmd, cwd=folder).returncode


def _build_all(args: argparse.Namespace, extra: list[str]) -> int:
    """Every study of the project, one after another (each its own folder of results);
    the exit status is 0 only when every study was built."""
    folder = Path(args.directory or Path.cwd())
    failed = []
    for study in study_files(folder):
        print(f"feasibility: building {study}", file=sys.stderr, flush=True)
        if _run_snakemake([], args, extra, configfile=study) != 0:
            failed.append(str(study))
    if failed:
        print(
            f"feasibility: {len(failed)} stud{'y' if len(failed) == 1 else 'ies'} failed: "
            + ", ".join(failed),
            file=sys.stderr,
        )
        return 1
    return 0


def _studies(args: argparse.Namespace) -> int:
    """List the study files: id, file, folder of results, title (or the problem)."""
    from .config import ConfigError, load_study, study_id

    folder = Path(args.directory or Path.cwd())
    files = study_files(folder)
    if not files:
        print(f"feasibility: no study files in {folder.resolve()}/config", file=sys.stderr)
        return 2
    status, rows = 0, []
    for study in files:
        try:
            config = load_study([folder / study])
        except ConfigError as error:
            lines = str(error).splitlines()
            rows.append(("?", str(study), "", f"not valid: {lines[min(1, len(lines) - 1)].strip()}"))
            status = 1
            continue
        sid = study_id(config)
        rows.append((sid, str(study), f"results/{sid}/", config["study"]["title"]))
    ids = [r[0] for r in rows if r[0] != "?"]
    for sid in sorted({i for i in ids if ids.count(i) > 1}):
        print(
            f"feasibility: {ids.count(sid)} study files have the id {sid} and would share results/{sid}/: "
            "give each its own study.id",
            file=sys.stderr,
        )
        status = 1
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[3])
    return status


def _add_snakemake_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--configfile",
        type=Path,
        metavar="STUDY.yaml",
        help="the study file to run instead of config/config.yaml (the paper's); its "
        "paths are relative to its own folder; its results go to results/<its id>/",
    )
    p.add_argument(
        "--directory",
        "-d",
        type=Path,
        metavar="DIR",
        help="the project folder (default: the working directory)",
    )


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="feasibility",
        allow_abbrev=False,
        description="Validate a study's REDCap downloads and build its reports (Snakemake workflow). "
        "Each study's outputs are in results/<id>/, its id being study.id of its study "
        "file (default: the file's name). `feasibility COMMAND --help` describes each command.",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}")
    v = sub.add_parser(
        "validate",
        epilog=EPILOG,
        allow_abbrev=False,
        help="check the REDCap downloads against the project's data dictionary (snakemake validate)",
        description="Check the study's REDCap downloads against its data dictionary and rules: writes "
        "results/<id>/validation/report.md and the list of every failure; "
        "exits non-zero when any check fails.",
    )
    _add_snakemake_options(v)
    b = sub.add_parser(
        "build",
        epilog=EPILOG,
        allow_abbrev=False,
        help="validate, then build the reports (snakemake)",
        description="Validate the downloads and build the reports "
        "(results/<id>/report/<id>.html and .pdf, <id>-quality.html and .pdf); "
        "only what the changes since the last build touch is rebuilt.",
    )
    _add_snakemake_options(b)
    b.add_argument(
        "--all",
        action="store_true",
        help="build every study: config/config.yaml, then each file of config/studies/, one "
        "after another, each into its own results/<id>/; a failed study does not stop "
        "the others (exit status 1 when any failed)",
    )
    s = sub.add_parser(
        "schemas",
        epilog=EPILOG,
        allow_abbrev=False,
        help="write each form's Pandera schema (snakemake schemas)",
        description="Write the Pandera schema of every instrument, from the project's "
        "metadata, to results/<id>/schemas/<form>.yaml (no records are read).",
    )
    _add_snakemake_options(s)
    st = sub.add_parser(
        "studies",
        allow_abbrev=False,
        help="list the study files of the project, with their ids and folders",
        description="List the project's study files (config/config.yaml and "
        "config/studies/*.yaml): id, file, folder of results, title; a file "
        "that is not valid is named with its first problem (exit status 1).",
    )
    st.add_argument(
        "--directory",
        "-d",
        type=Path,
        metavar="DIR",
        help="the project folder (default: the working directory)",
    )
    p = sub.add_parser(
        "pull",
        allow_abbrev=False,
        help="pull the study's REDCap downloads from its API into a new snapshot (snakemake pull)",
        description="Fetch the records export, data dictionary, designations, events, repeats, "
        "project information and project XML from the REDCap API named by the study "
        "file's redcap.api section into data/<study id>/pulls/<time>/ (with "
        "provenance.json); the study then builds from the latest pull. The token comes "
        "from redcap.api.token_env or token_file, never from the command line.",
    )
    _add_snakemake_options(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="make a new snapshot even when the project has not changed since the latest pull",
    )
    sub.add_parser(
        "synth",
        add_help=False,
        help="generate the paper's synthetic REDCap downloads (see feasibility synth --help)",
    )
    sub.add_parser(
        "dummy",
        add_help=False,
        help="generate dummy REDCap data for any study file (see feasibility dummy --help)",
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "synth":
        from .synth.__main__ import main as synth_main

        return synth_main(argv[1:], prog="feasibility synth")
    if argv and argv[0] == "dummy":
        from .synth.dummy import main as dummy_main

        return dummy_main(argv[1:], prog="feasibility dummy")
    if argv and argv[0] == "pull":
        return _pull(parser().parse_args(argv))
    args, extra = parser().parse_known_args(argv)
    if args.command == "studies":
        return _studies(args)
    if args.command == "build" and args.all:
        if args.configfile:
            print("feasibility: build --all builds every study file; give no --configfile", file=sys.stderr)
            return 2
        return _build_all(args, extra)
    target = {"validate": ["validate"], "schemas": ["schemas"]}.get(args.command, [])
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
