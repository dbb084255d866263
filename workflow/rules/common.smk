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

from snakemake.exceptions import WorkflowError

from feasibility import pipeline as steps
from feasibility.config import ConfigError, check_inputs, load_study, relative_to_cwd

# Relative to the working directory, so that a project folder moved or copied elsewhere
# stays up to date (Snakemake records the set of input paths of every job).
BASE = Path(os.path.relpath(workflow.basedir))
PKG = BASE / "workflow" / "feasibility"
SCHEMAS = BASE / "schemas"
STUDY_FILES = ([relative_to_cwd(p) for p in workflow.config_settings.configfiles]
               or [str(BASE / "config" / "config.yaml")])
try:
    _study = load_study(STUDY_FILES, overrides=dict(workflow.config_settings.config))
except ConfigError as error:
    if workflow.is_main_process:
        steps.withdraw("results")         # a run that fails leaves no report
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_study)
if workflow.is_main_process:
    print(f"Study: {', '.join(STUDY_FILES)}", file=sys.stderr)

# The study's REDCap downloads: key (records, dictionary, instrument_designations,
# events, project_xml) -> path.
REDCAP = steps.redcap_files(config)
VALIDATION = steps.ValidationPaths()
# The success record, an input of every later step. As ancient(), a rerun of validation
# does not by itself rerun those steps (each reruns when the data it reads change), but
# none can run, whatever the target, until validation has passed on the data as they
# are now (validate's params hold the SHA-256 of every input file).
VALIDATED = ancient(VALIDATION.passed)
FORMS = "results/validated"        # one tidy table per instrument + codebook.json (DESIGN.md)


def declares_analysis(study):
    """Whether the study declares the analysis its main report needs. Until the analysis
    rules read the study file's declarations (issue 16), the workflow builds the main
    report of the paper's study only: one with `feasibility` assumptions and a
    published-values file. Any other study gets validation and the data-quality report."""
    return bool(study.get("feasibility")) and bool((study.get("paths") or {}).get("published_values"))


MAIN_REPORT = declares_analysis(config)
TIMEPOINTS = ["baseline", "week6", "week14", "month6"]
TABLES = ["table2", "table3", "table4", "table5", "feasibility_metrics"]
FIGURES = ["consort", "timeline", "completeness"]


# Maintenance commands need no data (a folder locked by a killed run must be unlockable).
MAINTENANCE = {"--unlock", "--cleanup-metadata", "--cm", "--list-rules", "--list", "-l",
               "--lint", "--cleanup-shadow", "--list-target-rules", "--lt"}
if not MAINTENANCE & set(sys.argv[1:]):
    _problems = check_inputs(steps.study_inputs(config), config["validation"]["max_file_mb"] * 1e6)
    if _problems:
        if workflow.is_main_process:
            steps.withdraw("results")
        raise WorkflowError(
            f"The study {', '.join(STUDY_FILES)} names inputs that cannot be used; nothing was run:\n"
            + "\n".join(f"  {p}" for p in _problems))
    # SHA-256 of every input file, as it is now (each a regular file, checked above).
    DATA = steps.fingerprint(REDCAP)
else:
    DATA = {}


def provenance():
    """The provenance file a data generator leaves beside the records export (real exports
    have none): the tables' source notes and the report's data statement read it. None
    when absent, and its appearing or disappearing reruns what reads it."""
    path = str(Path(REDCAP["records"]).parent / "provenance.json")
    return path if os.path.exists(path) else []


# TEMPORARY (phase B): the analysis rules that have not moved to the analysis library read
# the paper's twelve exports, rebuilt from the per-form tables by the rule legacy_exports
# (workflow/rules/validate.smk) under results/legacy/. Delete with that rule (issue 16).
LEGACY = "results/legacy"


def validated(export):
    """One of the paper's twelve exports, as the old validation typed it (the shim)."""
    return f"{LEGACY}/{export}.parquet"


def mapping_table():
    """The EQ-5D mapping table the study names, a declared input (none for a value set)."""
    eq5d = config["scoring"]["eq5d_index"]
    return [eq5d["mapping_table"]] if eq5d["method"] == "mapping_table" else []


def code(*modules):
    """Package source files a rule runs, so that editing them reruns the rule."""
    files = []
    for m in modules:
        path = SCHEMAS / m[len("schemas/"):] if m.startswith("schemas/") else PKG / m
        files += sorted(str(p) for p in path.glob("*.py")) if path.is_dir() else [str(path)]
    return files


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
    steps.on_error(REDCAP, VALIDATION_SETTINGS)
