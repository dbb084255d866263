# Helpers shared by the rules: paths and the package's entry points.
from pathlib import Path

from feasibility import crf
from feasibility import pipeline as steps

RAW = config["paths"]["raw"]
PKG = Path(workflow.basedir) / "workflow" / "feasibility"
EXPORTS = list(crf.EXPORTS)
TIMEPOINTS = ["baseline", "week6", "week14", "month6"]
TABLES = ["table2", "table3", "table4", "table5", "feasibility_metrics"]
FIGURES = ["consort", "timeline", "completeness"]


def raw(export):
    return f"{RAW}/{crf.EXPORTS[export].file}"


def validated(export):
    return f"results/validated/{export}.parquet"


SCHEMAS = Path(workflow.basedir) / "schemas"


def code(*modules):
    """Package source files a rule runs, so that editing them reruns the rule."""
    files = []
    for m in modules:
        path = SCHEMAS / m[len("schemas/"):] if m.startswith("schemas/") else PKG / m
        files += sorted(str(p) for p in path.glob("*.py")) if path.is_dir() else [str(path)]
    return files


def on_error():
    steps.on_error("results", RAW)
