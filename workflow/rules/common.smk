# Helpers shared by the rules: paths and the package's entry points.
import os
from pathlib import Path

from feasibility import crf
from feasibility import pipeline as steps

RAW = config["paths"]["raw"]
# Relative to the working directory, so that a project folder moved or copied elsewhere
# stays up to date (Snakemake records the set of input paths of every job).
BASE = Path(os.path.relpath(workflow.basedir))
PKG = BASE / "workflow" / "feasibility"
EXPORTS = list(crf.EXPORTS)
TIMEPOINTS = ["baseline", "week6", "week14", "month6"]
TABLES = ["table2", "table3", "table4", "table5", "feasibility_metrics"]
FIGURES = ["consort", "timeline", "completeness"]


def raw(export):
    """The export's raw file; none when it is missing, so that the changed set of inputs
    reruns its validation, which reports the missing file (Snakemake would otherwise
    keep an earlier result and call it up to date)."""
    path = f"{RAW}/{crf.EXPORTS[export].file}"
    return path if os.path.exists(path) else []


def provenance():
    """The data folder's provenance file, left there by a data generator (real exports have
    none): the tables' source notes and the report's data statement read it. None when
    absent, and its appearing or disappearing reruns what reads it."""
    path = f"{RAW}/provenance.json"
    return path if os.path.exists(path) else []


def validated(export):
    return f"results/validated/{export}.parquet"


SCHEMAS = BASE / "schemas"


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
            src, dst = src[key], dst.setdefault(key, {})
        if leaf in src:
            dst[leaf] = src[leaf]
    return out


def on_error():
    steps.on_error("results", RAW)
