# The study, checked before any job; helpers shared by the rules.
#
# `snakemake` runs the default study, config/config.yaml beside this Snakefile;
# `snakemake --configfile STUDY.yaml` runs STUDY.yaml instead (nothing of the default
# study applies); `--config key=value` goes on top of either. The study is checked
# against schemas/config.schema.yaml and completed with its defaults, then every input
# it names is checked (exists, is a regular file, is not too large): a problem stops the
# run here, before any job, naming the path, key or value.
import os
import sys
from pathlib import Path

from feasibility import pipeline as steps
from feasibility.analysis.spec import check_declarations
from feasibility.config import ConfigError, check_inputs, input_roots, load_study, relative_to_cwd
from feasibility.config import RESULTS as RESULTS_ROOT, guess_study_id, study_id, study_results
from feasibility.imports import closure, files_of, step_modules
from feasibility.report_sections import report_inputs

# Relative to the working directory, so that a project folder moved or copied elsewhere
# stays up to date (Snakemake records the set of input paths of every job).
BASE = Path(os.path.relpath(workflow.basedir))
PKG = BASE / "workflow" / "feasibility"
SCHEMAS = BASE / "schemas"
STUDY_FILES = [relative_to_cwd(p) for p in workflow.config_settings.configfiles] or [
    str(BASE / "config" / "config.yaml")
]
# `snakemake pull` (rule pull, workflow/rules/pull.smk) needs no downloads yet.
PULLING = "pull" in sys.argv[1:]
try:
    _study = load_study(STUDY_FILES, overrides=dict(workflow.config_settings.config), pulling=PULLING)
except ConfigError as error:
    # a run that fails leaves no report: this study's (results/<id>/, when its id can be
    # told), never another study's
    _id = guess_study_id(STUDY_FILES, dict(workflow.config_settings.config))
    if workflow.is_main_process and _id:
        steps.withdraw(f"{RESULTS_ROOT}/{_id}")
    # one message naming file, line and key; no traceback (the file is at fault, not the code)
    print(str(error), file=sys.stderr, flush=True)
    raise SystemExit(1)
config.clear()
config.update(_study)
# Every output of the study lives under results/<id>/ (the study's id: study.id, by
# default the study file's name): studies side by side never touch each other's files.
STUDY = study_id(config)
RESULTS = study_results(config)


def R(path):
    """The path of an output of this study: results/<id>/<path>."""
    return f"{RESULTS}/{path}"


if workflow.is_main_process:
    print(f"Study: {', '.join(STUDY_FILES)} (id {STUDY}: its results in {RESULTS}/)", file=sys.stderr)

# The study's REDCap downloads: key (records, dictionary, instrument_designations,
# events, project_xml) -> path.
REDCAP = steps.redcap_files(config)
PUBLISHED = config["paths"]["published_values"]  # None: no audit, no reproduction
VALIDATION = steps.ValidationPaths(R("validation"))
# The success record, an input of every later step. As ancient(), a rerun of validation
# does not by itself rerun those steps (each reruns when the data it reads change), but
# none can run, whatever the target, until validation has passed on the data as they
# are now (validate's params hold the SHA-256 of every input file).
VALIDATED = ancient(VALIDATION.passed)
# The record of validation's check (passed or failed): what the data-quality report and the
# query list need, built whatever the severities (issue 25.2).
CHECKED = ancient(VALIDATION.checked)
# One tidy table per instrument, codebook.json and missing_codes.parquet (docs/design.md,
# "Validated data"), written by rule validate; what the analysis and the figures read.
FORMS = R("validated")


def declares_analysis(study):
    """Whether the study declares an analysis for a main report (tables, or figures). A
    study file that names only its REDCap downloads gets validation and the data-quality
    report."""
    return bool(study.get("tables")) or bool(study.get("figures"))


MAIN_REPORT = declares_analysis(config)


# Maintenance commands need no data (a folder locked by a killed run must be unlockable).
MAINTENANCE = {
    "--unlock",
    "--cleanup-metadata",
    "--cm",
    "--list-rules",
    "--list",
    "-l",
    "--lint",
    "--cleanup-shadow",
    "--list-target-rules",
    "--lt",
}
if not MAINTENANCE & set(sys.argv[1:]) and not PULLING:
    _problems = check_inputs(
        steps.study_inputs(config),
        config["validation"]["max_file_mb"] * 1e6,
        roots=input_roots(config, STUDY_FILES),
    )
    if _problems:
        if workflow.is_main_process:
            steps.withdraw(RESULTS)
        print(
            f"The study {', '.join(STUDY_FILES)} names inputs that cannot be used; nothing was run:\n"
            + "\n".join(f"  {p}" for p in _problems),
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(1)
    # SHA-256 of every input file, as it is now (each a regular file, checked above).
    DATA = steps.fingerprint(REDCAP)
    if workflow.is_main_process and not steps.locked():
        # every error withdraws the report; a success record that does not vouch for the data
        # and the validated tables as they are now is withdrawn, whatever the rerun triggers
        steps.guard(REDCAP, steps.validation_settings(config), RESULTS)
        if steps.check_verdict(REDCAP, steps.validation_settings(config), FORMS, RESULTS):
            print(
                "Results that do not describe the data as they are now could not be withdrawn "
                "(named above); nothing was run",
                file=sys.stderr,
                flush=True,
            )
            raise SystemExit(1)
else:
    DATA = {}
if MAIN_REPORT:  # the declarations read as the analysis reads them: an error names its file and line
    try:
        check_declarations(config, STUDY_FILES)
    except ConfigError as error:
        if workflow.is_main_process:
            steps.withdraw(RESULTS)  # a run that fails leaves no report
        print(str(error), file=sys.stderr, flush=True)
        raise SystemExit(1)


def provenance():
    """The provenance file a data generator leaves beside the records export (real exports
    have none): the tables' source notes and the report's data statement read it. None
    when absent, and its appearing or disappearing reruns what reads it."""
    if "records" not in REDCAP:  # `snakemake pull` before the first pull: no export yet
        return []
    path = str(Path(REDCAP["records"]).parent / "provenance.json")
    return path if os.path.exists(path) else []


def mapping_tables():
    """The lookup tables the study's instruments are scored with (an EQ-5D mapping table),
    declared inputs (none for a value set)."""
    return sorted(steps.mapping_tables(config).values())


def interface():
    """The validated data as the analysis reads them (the folder the rule validate writes)."""
    return [FORMS]


def code(step, *modules):
    """The package's source files that the step ``step`` runs, so that editing any of them
    reruns that step and nothing else. They are the entry point ``feasibility.pipeline.<step>``
    and every module it imports, directly or not, read from the package's import graph
    (``feasibility.imports.step_modules``; docs/design.md, "Thin rules"); ``modules``:
    modules the step loads by name besides (a table's kind), with all they import."""
    found = step_modules(step, PKG) | closure(modules, PKG)
    return [str(path) for path in files_of(found, PKG)]


def config_subset(cfg, paths):
    """The parts of ``cfg`` named by dotted ``paths``, nested as in ``cfg``."""
    out = {}
    for path in paths:
        *parents, leaf = path.split(".")
        src, dst = cfg, out
        for key in parents:
            if key not in src:
                break
            src, dst = src[key], dst.setdefault(key, {})
        else:
            if leaf in src:
                dst[leaf] = src[leaf]
    return out


# The settings validation checks the data with: recorded in its report and the success
# record; a change reruns validation.
VALIDATION_SETTINGS = steps.validation_settings(config)


def on_error():
    if PULLING:  # a failed pull leaves the reports of the pull before it as they were
        return
    steps.on_error(REDCAP, VALIDATION_SETTINGS, RESULTS)


def on_success():
    steps.on_success(REDCAP, VALIDATION_SETTINGS, RESULTS)


def require_passed():
    """First line of every step that reads validated data: the downloads and the validated
    tables are, byte for byte, those that passed validation (steps.require_passed)."""
    steps.require_passed(REDCAP, VALIDATION_SETTINGS, FORMS, VALIDATION.passed)


def require_checked():
    """First line of every step of the data-quality report: the downloads and the validated
    tables are, byte for byte, those validation checked (passed or not)."""
    steps.require_checked(REDCAP, VALIDATION_SETTINGS, FORMS, VALIDATION.checked)


# ------------------------------------------------------------------ analysis and report
# The analysis dataset (rule analysis) and what the declared report shows and reads.
ANALYSIS = R("analysis")
ANALYSIS_FILES = [
    f"{ANALYSIS}/{name}"
    for name in ("records.parquet", "timepoints.parquet", "scoring_log.parquet", "variables.json")
]


def analysis_dataset(wildcards):
    """The analysis dataset as a table job reads it: after the analysis checkpoint, and
    ancient (a table reruns for its own reasons: its params, data, code; not because the
    analysis ran for another table)."""
    return [ancient(f) for f in checkpoints.analysis.get().output]


SHOWN = report_inputs(config)  # the tables, figures and blocks the sections show
REPORT_INPUTS = {
    "values": R("values/values.json"),
    "validation": VALIDATION.passed,  # the success record: files, SHA-256s, records
    "scoring_log": f"{ANALYSIS}/scoring_log.parquet",
    "analysis_variables": f"{ANALYSIS}/variables.json",  # the missing-data codes set aside
    **(
        {"comparison": R("reproduction/comparison.csv"), "audit": R("reproduction/audit.csv")}
        if PUBLISHED
        else {}
    ),
}


def report_files(input):
    """What report_sources hands to the package: each input by what it is."""
    return {
        **{k: input[k] for k in REPORT_INPUTS},
        "tables": dict(zip(SHOWN["table"], input.tables)),
        "figures": dict(zip(SHOWN["figure"], input.figures)),
        "provenance": input.provenance or None,
    }


# The study's own code (study.package: the paper's labels and audit), loaded here at the
# edge by name; its source files are code inputs of the rules that use it.
STUDY_PACKAGE = (config.get("study") or {}).get("package")
if STUDY_PACKAGE:
    try:
        from feasibility.publication import named as _named

        _named(STUDY_PACKAGE)
    except ImportError as error:
        if workflow.is_main_process:
            steps.withdraw(RESULTS)  # a run that fails leaves no report
        print(
            f"{STUDY_FILES[-1]}: study.package: {STUDY_PACKAGE!r} cannot be imported "
            f"({error}); name an installed Python package, or leave the key out",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(1)


def study_code():
    """The source files of the study file's package (none without one)."""
    if not STUDY_PACKAGE:
        return []
    if STUDY_PACKAGE.startswith(
        "feasibility."
    ):  # this project's own: every module of it, with all they import
        from feasibility.imports import module_files

        # the package's own modules (not its generators in subpackages), with all they import
        modules = module_files(PKG)
        folder = modules[STUDY_PACKAGE].parent
        inside = [m for m, path in modules.items() if path.parent == folder]
        found = files_of(closure(inside, PKG), PKG)
        return [str(path) for path in found if not path.is_relative_to(folder) or path.parent == folder]
    import importlib.util

    spec = importlib.util.find_spec(STUDY_PACKAGE)
    files = Path(spec.origin).parent.glob("*.py") if spec.submodule_search_locations else [Path(spec.origin)]
    return sorted(str(p) for p in files)
