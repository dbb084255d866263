"""The analysis as configuration: derived variables, scores, flow and tables from declarations.

Public API::

    from feasibility.analysis import StudyData, load_spec, Analysis, build_table

    study = StudyData.read("results/validated")        # <form>.parquet + codebook.json
    spec = load_spec(config)                           # the study file's analysis sections
    analysis = Analysis(study, spec)
    table = build_table(analysis, "table2", small_cell_threshold=None)
    table.cells                                        # tidy cells (tables.common.CELL_COLUMNS)
    table.gt                                           # one great_tables.GT

Modules: ``study`` (the validated data and codebook), ``expressions`` (the expression
language), ``spec`` (the declaration, checked against
``schemas/config.analysis.schema.yaml``), ``dataset`` (values by record and time point,
scores, derived variables), ``tables`` (what every table kind shares); the kinds are
``feasibility.tables.{baseline, change, categorical, counts, metrics}``.
"""
from __future__ import annotations

from feasibility.analysis.dataset import Analysis
from feasibility.analysis.expressions import ExpressionError, parse
from feasibility.analysis.spec import AnalysisSpec, load_spec, load_spec_file
from feasibility.analysis.study import Codebook, StudyData
from feasibility.analysis.tables import TableResult, build_table

__all__ = ["Analysis", "AnalysisSpec", "Codebook", "ExpressionError", "StudyData",
           "TableResult", "build_table", "load_spec", "load_spec_file", "parse", "build_tables"]


def build_tables(analysis: Analysis, small_cell_threshold: int | None = None
                 ) -> dict[str, TableResult]:
    """Every declared table, in declaration order."""
    return {tid: build_table(analysis, tid, small_cell_threshold)
            for tid in analysis.spec.tables}
