"""The analysis as configuration: derived variables, scores, flow and tables from declarations.

Public API::

    from feasibility.analysis import StudyData, load_spec, Analysis
    from feasibility.tables.registry import build_table

    study = StudyData.read("results/<id>/validated")   # <form>.parquet + codebook.json
    spec = load_spec(config)                           # the study file's analysis sections
    analysis = Analysis(study, spec)
    table = build_table(analysis, "table2", small_cell_threshold=None)
    table.cells                                        # tidy cells (tables.common.CELL_COLUMNS)
    table.gt                                           # one great_tables.GT

Modules: ``study`` (the validated data and codebook), ``expressions`` (the expression
language), ``spec`` (the declaration, checked against
``schemas/config.schema.yaml``), ``dataset`` (values by record and time point,
scores, derived variables). The tables are made from it by ``feasibility.tables`` (the
registry of table kinds, ``feasibility.tables.registry``), which this package never imports.
"""

from __future__ import annotations

from importlib import import_module

# Names are imported when first used (PEP 562), so that the workflow can read a study's
# declaration (``spec``) when it starts without importing great-tables or the dataset.
# The modules are named in full, so that the package's import graph (feasibility.imports)
# sees them.
_WHERE = {
    "Analysis": "feasibility.analysis.dataset",
    "ExpressionError": "feasibility.analysis.expressions",
    "parse": "feasibility.analysis.expressions",
    "AnalysisSpec": "feasibility.analysis.spec",
    "load_spec": "feasibility.analysis.spec",
    "load_spec_file": "feasibility.analysis.spec",
    "Codebook": "feasibility.analysis.study",
    "StudyData": "feasibility.analysis.study",
}

__all__ = [
    "Analysis",
    "AnalysisSpec",
    "Codebook",
    "ExpressionError",
    "StudyData",
    "load_spec",
    "load_spec_file",
    "parse",
]


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'feasibility.analysis' has no attribute {name!r}")
